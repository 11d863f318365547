/* Counts the heap allocations of a stretch of code, for tests that show a training step
 * or a prediction call allocates nothing. The test executable defines malloc and its
 * relatives (forwarding to glibc's own), so every allocation in the process, the
 * library's, the Swift runtime's and libstdc++'s alike, passes through the count.
 * Test-only: nothing here is part of the shipped library. */
#ifndef ALLOCATION_COUNTER_H
#define ALLOCATION_COUNTER_H

#include <stdbool.h>
#include <stddef.h>

/* False in sanitizer builds: ASan and TSan bring their own malloc, so this one is not
 * defined there and nothing is counted. */
bool tm_test_allocation_counting_available(void);

/* Starts counting allocations on every thread (from zero). */
void tm_test_allocations_begin(void);

/* Stops counting and returns the allocations (malloc, calloc, realloc, aligned_alloc,
 * posix_memalign, memalign) made since tm_test_allocations_begin. */
size_t tm_test_allocations_end(void);

/* The size asked for by the first allocation counted since tm_test_allocations_begin,
 * or 0: a hint for the failure message of a test. */
size_t tm_test_first_allocation_size(void);

#endif
