/* Heap-allocation counter for tests (see allocation_counter.h). Defining malloc in the
 * executable interposes it for every shared library the process loads; each definition
 * forwards to glibc's __libc_* entry points, so no dlsym bootstrap is needed. */
#include "allocation_counter.h"

#include <errno.h>
#include <stdint.h>

#if defined(__has_feature)
#  if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(memory_sanitizer)
#    define TM_SANITIZED 1
#  endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#  define TM_SANITIZED 1
#endif

static int counting;
static size_t count;
static size_t first_size;

#ifndef TM_SANITIZED
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);

static void note(size_t size) {
    if (__atomic_load_n(&counting, __ATOMIC_RELAXED)) {
        if (__atomic_fetch_add(&count, 1, __ATOMIC_RELAXED) == 0) {
            __atomic_store_n(&first_size, size, __ATOMIC_RELAXED);
        }
    }
}

void *malloc(size_t size) { note(size); return __libc_malloc(size); }
void *calloc(size_t n, size_t size) { note(n * size); return __libc_calloc(n, size); }
void *realloc(void *p, size_t size) { note(size); return __libc_realloc(p, size); }
void free(void *p) { __libc_free(p); }
void *memalign(size_t alignment, size_t size) { note(size); return __libc_memalign(alignment, size); }
void *aligned_alloc(size_t alignment, size_t size) { note(size); return __libc_memalign(alignment, size); }

int posix_memalign(void **out, size_t alignment, size_t size) {
    if (alignment < sizeof(void *) || (alignment & (alignment - 1)) != 0) return EINVAL;
    note(size);
    void *p = __libc_memalign(alignment, size);
    if (p == NULL) return ENOMEM;
    *out = p;
    return 0;
}

bool tm_test_allocation_counting_available(void) { return true; }
#else
bool tm_test_allocation_counting_available(void) { return false; }
#endif

void tm_test_allocations_begin(void) {
    __atomic_store_n(&count, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&first_size, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&counting, 1, __ATOMIC_SEQ_CST);
}

size_t tm_test_allocations_end(void) {
    __atomic_store_n(&counting, 0, __ATOMIC_SEQ_CST);
    return __atomic_load_n(&count, __ATOMIC_RELAXED);
}

size_t tm_test_first_allocation_size(void) { return __atomic_load_n(&first_size, __ATOMIC_RELAXED); }
