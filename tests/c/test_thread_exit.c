/*
 * test_thread_exit.c - the thread-local last-error message is freed when its thread
 * exits. 0.3.0 kept it in a _Thread_local pointer nobody freed: 56 bytes definitely
 * lost per thread, so a service that starts threads grew without bound.
 *
 * 10,000 threads (8 at a time), each making a call that fails (so it stores a
 * message) and checking it read its own message, then exiting. After a warm-up of
 * 1,000 threads (thread stacks, the Swift runtime's one-time allocations), the bytes
 * malloc has handed out (mallinfo2) and the resident set must stay flat over the other
 * 9,000: the leak made them grow by at least 9,000 x 56 bytes. Under valgrind
 * (--quick: 300 threads) the leak was "definitely lost"; run.sh runs that too.
 *
 *   test_thread_exit [--quick]
 */
#define _GNU_SOURCE

#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

static int failures;

/* One thread: a config error, its message checked, then exit. */
static void *fail_once(void *arg)
{
    tm_model *m = NULL;
    const char *message;
    (void)arg;
    if (tm_model_new("{\"model\": {\"hidden_dim\": -3}}", &m) != TM_ERR_CONFIG || m != NULL)
        return (void *)1;
    message = tm_last_error();
    if (strstr(message, "model.hidden_dim") == NULL)
        return (void *)1;
    return NULL;
}

/* Runs `count` threads, `width` at a time; counts the ones that failed. */
static void run_threads(int count)
{
    enum { WIDTH = 8 };
    pthread_t threads[WIDTH];
    int done = 0;
    while (done < count) {
        int n = count - done < WIDTH ? count - done : WIDTH, i;
        for (i = 0; i < n; i++) {
            if (pthread_create(&threads[i], NULL, fail_once, NULL) != 0) {
                fprintf(stderr, "pthread_create failed after %d threads\n", done + i);
                exit(1);
            }
        }
        for (i = 0; i < n; i++) {
            void *result = NULL;
            pthread_join(threads[i], &result);
            if (result != NULL)
                failures++;
        }
        done += n;
    }
}

/* Resident set size in KiB (/proc/self/status VmRSS), or -1. */
static long rss_kib(void)
{
    char line[256];
    long kib = -1;
    FILE *f = fopen("/proc/self/status", "r");
    if (f == NULL)
        return -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
            break;
    fclose(f);
    return kib;
}

int main(int argc, char **argv)
{
    int quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    int warmup = quick ? 50 : 1000, total = quick ? 300 : 10000;
    size_t heap_before, heap_after;
    long rss_before, rss_after;
    /* The leak was >= 56 bytes (64 with malloc's header) a thread: 504 KB over 9,000. */
    const long max_heap_growth = 64 * 1024, max_rss_growth_kib = 256;

    run_threads(warmup);
    heap_before = mallinfo2().uordblks;
    rss_before = rss_kib();
    run_threads(total - warmup);
    heap_after = mallinfo2().uordblks;
    rss_after = rss_kib();

    printf("test_thread_exit: %d threads, %d failed their call; heap in use %zu -> %zu bytes "
           "(%+ld), RSS %ld -> %ld KiB (%+ld)\n",
           total, failures, heap_before, heap_after, (long)heap_after - (long)heap_before,
           rss_before, rss_after, rss_after - rss_before);
    if (failures != 0) {
        printf("FAIL: %d threads did not see their own error\n", failures);
        return 1;
    }
    /* Under valgrind malloc is valgrind's and the RSS its own; the leak check there is
     * valgrind's. */
    if (!quick) {
        if ((long)heap_after - (long)heap_before > max_heap_growth) {
            printf("FAIL: the heap grew by more than %ld bytes over %d threads\n", max_heap_growth,
                   total - warmup);
            return 1;
        }
        if (rss_before > 0 && rss_after - rss_before > max_rss_growth_kib) {
            printf("FAIL: the RSS grew by more than %ld KiB over %d threads\n", max_rss_growth_kib,
                   total - warmup);
            return 1;
        }
    }
    printf("ok\n");
    return 0;
}
