#!/usr/bin/env bash
# Builds the release library: .build/release/libtextmodel.so, with the Swift runtime
# linked in statically (ldd shows only libc, libstdc++, libm, libjson-c and OpenBLAS).
set -euo pipefail
cd "$(dirname "$0")/.."
# -gdwarf-4: clang writes DWARF 5 debug info for the C targets by default, which
# valgrind 3.19 (Debian 12) cannot read ("Possibly corrupted debuginfo file"), so every
# valgrind run of the C tests would stop before starting.
swift build -c release -Xswiftc -static-stdlib -Xcc -gdwarf-4 "$@"
echo "built $(pwd)/.build/release/libtextmodel.so"
