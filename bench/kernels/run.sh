#!/usr/bin/env bash
# Builds bench/kernels/kernels.c against OpenBLAS and the engine's CKernels and runs it:
#   bench/kernels/run.sh [H]        (H: hidden width, default 128 as in lstm.json)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$here/../../Sources/CKernels
out=${TMPDIR:-/tmp}/textmodel-kernels-bench
clang -O2 -I "$src/include" $(pkg-config --cflags openblas) "$here/kernels.c" "$src/recurrent_gemm.c" "$src/recurrent_gemm_avx2.c" "$src/lstm_cell.c" \
  $(pkg-config --libs openblas) -lpthread -o "$out"
OPENBLAS_NUM_THREADS=2 "$out" "$@"
