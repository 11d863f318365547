/* Microbenchmark of the 2-d nearest-centroid searches (issue 12, PQ with dsub = 2): the
 * sorted search (nearest_centroid.c) against the grid (nearest_grid.c) on Gaussian points
 * (σ 0.14, or heavy-tailed with a third argument 1), 256 centroids drawn from the points;
 * prints build µs, ns per point (thread CPU time) and mismatches against the sorted and
 * the full search (the first 20,000 points).
 *
 *   K=Sources/CKernels; B=bench/kernels; for f in $B/nearest_grid $K/nearest_centroid $K/lstm_cell; do
 *     clang -O2 -I$K/include -I$K -I$B -c $f.c -o /tmp/$(basename $f).o; done
 *   clang -O2 -I$K/include -I$B $B/nearest_grid_bench.c /tmp/nearest_grid.o /tmp/nearest_centroid.o \
 *     /tmp/lstm_cell.o -lm -o /tmp/nearest_grid_bench && /tmp/nearest_grid_bench 8192 16
 */
#include "textmodel_kernels.h"
#include "nearest_grid.h"
#include <stdio.h>
#include <stdlib.h>
#include <math.h>
#include <time.h>
#include <string.h>
#pragma clang fp contract(off)
static unsigned long long s = 88172645463325252ULL;
static double urand(void){ s ^= s<<13; s ^= s>>7; s ^= s<<17; return (s>>11)*(1.0/9007199254740992.0);}
static double gauss(void){ double u=urand()+1e-300, v=urand(); return sqrt(-2*log(u))*cos(2*M_PI*v);}
static int full(const float *c, long k, float x, float y){ int b=0; float bd=INFINITY; for(long i=0;i<k;i++){float dx=c[2*i]-x, dy=c[2*i+1]-y; float d=dx*dx+dy*dy; if(d<bd){bd=d;b=i;}} return b;}
static double now(void){struct timespec t; clock_gettime(CLOCK_THREAD_CPUTIME_ID,&t); return t.tv_sec+t.tv_nsec*1e-9;}

int main(int argc,char**argv){
  long k=256, n=atol(argv[1]), g=atol(argv[2]); int heavy=argc>3?atoi(argv[3]):0;
  float *pts=malloc(n*2*4), *cen=malloc(k*2*4);
  for(long i=0;i<2*n;i++){ double v=gauss()*0.14; if(heavy) v/= sqrt(-2*log(urand()+1e-300))*0.7; pts[i]=v;}
  for(long i=0;i<k;i++){ long j=(long)(urand()*n); cen[2*i]=pts[2*j]; cen[2*i+1]=pts[2*j+1];}
  /* sorted arrays for the existing search */
  long padded=(k+7)/8*8; float xs[264], ys[264]; int ids[264]; int ord[256];
  for(int i=0;i<k;i++) ord[i]=i;
  for(int i=1;i<k;i++){int c=ord[i],j=i; while(j>0&&(cen[2*c]<cen[2*ord[j-1]]||(cen[2*c]==cen[2*ord[j-1]]&&c<ord[j-1]))){ord[j]=ord[j-1];j--;} ord[j]=c;}
  for(int i=0;i<padded;i++){ if(i<k){xs[i]=cen[2*ord[i]];ys[i]=cen[2*ord[i]+1];ids[i]=ord[i];} else {xs[i]=INFINITY;ys[i]=0;ids[i]=0x7fffffff;}}
  int *o1=malloc(n*4),*o2=malloc(n*4);
  void *ws=aligned_alloc(64,(tm_plane_grid_bytes(k,g)+63)/64*64);
  tm_plane_grid_init(ws,k,g);
  double t0=now(); int reps=20; for(int r=0;r<reps;r++) tm_plane_grid_build(ws,cen); double tb=(now()-t0)/reps;
  t0=now(); for(int r=0;r<5;r++) tm_nearest2_sorted_avx2(xs,ys,ids,k,pts,2,n,o1); double ts=(now()-t0)/5;
  t0=now(); for(int r=0;r<5;r++) tm_plane_grid_nearest(ws,pts,2,n,o2); double tg=(now()-t0)/5;
  long bad=0, badf=0; for(long i=0;i<n;i++){ if(o1[i]!=o2[i]) bad++; if(i<20000 && full(cen,k,pts[2*i],pts[2*i+1])!=o2[i]) badf++;}
  long used = *((long*)ws+4);
  printf("n %ld g %ld: build %.1f us, sorted %.1f ns/pt, grid %.1f ns/pt, blocks %ld (%.2f/cell), mismatches %ld, vs full %ld\n", n,g,tb*1e6, ts/n*1e9, tg/n*1e9, used, (double)used/(g*g), bad, badf);
}
