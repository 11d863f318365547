// libFuzzer's driver entry point (compiler-rt, LLVM >= 12). SwiftPM links executables
// with `--defsym main=<Module>_main`, so each fuzz target defines <Module>_main and
// hands control to libFuzzer through this function (see FuzzSupport.runLibFuzzer).
#ifndef CFUZZERDRIVER_H
#define CFUZZERDRIVER_H
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerRunDriver(int *argc, char ***argv,
                        int (*UserCb)(const uint8_t *Data, size_t Size));

#endif
