#!/usr/bin/env bash
# Builds bench/kernels/kernels.c (recurrent products) and dense.c (CNN, Transformer) against
# OpenBLAS and the engine's CKernels and runs it; with TEXTMODEL_LIBRARY set, then trains
# examples/configs/cnn.json and transformer.json one epoch each on 2 and 1 threads
# (step_flops.py) and gives their whole-step GFLOP/s as a share of the peak just measured:
#   [TEXTMODEL_LIBRARY=.build/release/libtextmodel.so] bench/kernels/run.sh [H]
#   (H: the LSTM's hidden width, default 128 as in lstm.json)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$here/../../Sources/CKernels
out=${TMPDIR:-/tmp}/textmodel-kernels-bench
clang -O2 -I "$src/include" $(pkg-config --cflags openblas) "$here/kernels.c" "$here/dense.c" "$src/recurrent_gemm.c" \
  "$src/recurrent_gemm_avx2.c" "$src/lstm_cell.c" $(pkg-config --libs openblas) -lpthread -o "$out"
OPENBLAS_NUM_THREADS=2 "$out" "$@" | tee "$out.txt"
[ -n "${TEXTMODEL_LIBRARY:-}" ] || exit 0
peaks=$(sed -n 's/^SGEMM peak (OpenBLAS cblas_sgemm 2048^3): 1 thread \([0-9.]*\) GFLOP\/s, 2 threads \([0-9.]*\) GFLOP\/s$/\1 \2/p' "$out.txt")
read -r peak1 peak2 <<<"$peaks"
echo
echo "whole training steps (load $(cut -d' ' -f1-3 /proc/loadavg))"
for config in cnn transformer; do
  for threads in 2 1; do
    peak=$peak2; [ "$threads" = 1 ] && peak=$peak1
    python3 "$here/step_flops.py" "$here/../../examples/configs/$config.json" --threads "$threads" --peak "$peak"
  done
done
