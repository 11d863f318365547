#!/usr/bin/env bash
# Builds the release library: .build/release/libtextmodel.so, with the Swift runtime
# linked in statically (ldd shows only libc, libstdc++, libm, libjson-c and OpenBLAS).
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release -Xswiftc -static-stdlib "$@"
echo "built $(pwd)/.build/release/libtextmodel.so"
