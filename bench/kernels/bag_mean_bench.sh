#!/usr/bin/env bash
# Builds bench/kernels/bag_mean_bench.c against the engine's bag kernels and runs it:
#   bench/kernels/bag_mean_bench.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$here/../../Sources/CKernels
out=${TMPDIR:-/tmp}/textmodel-bag-mean-bench
clang -O2 -I "$src/include" "$here/bag_mean_bench.c" "$src/bag_mean.c" "$src/bag_mean_int8.c" "$src/lstm_cell.c" -lm -o "$out"
echo "load $(cut -d' ' -f1-3 /proc/loadavg)"
"$out"
