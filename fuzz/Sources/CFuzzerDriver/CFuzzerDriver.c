// Declarations only (see include/CFuzzerDriver.h); libFuzzer itself comes from
// `-sanitize=fuzzer` at link time.
#include "CFuzzerDriver.h"
