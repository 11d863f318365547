#!/usr/bin/env bash
# Every test: Swift unit tests (also under ASan and TSan), the C tests (with valgrind and
# sanitizers), a bounded fuzzing run of every fuzz target, the Python binding tests and
# the acceptance run on ../shared/data/tweets when that corpus is present.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh

echo "== Swift tests"
swift test

# Sanitizer builds use their own scratch folders. LeakSanitizer is off for the Swift
# run: its only reports are XCTest's own test-case objects, which XCTest never frees
# (no frame in Sources/); the library's leaks are checked by valgrind and ASan on the C
# tests instead.
echo "== Swift tests under AddressSanitizer"
ASAN_OPTIONS=detect_leaks=0 swift test --sanitize=address --scratch-path .build-asan
echo "== Swift concurrency tests under ThreadSanitizer"
swift test --sanitize=thread --scratch-path .build-tsan --filter "NetworkTests|TrainingTests"

echo "== C tests (native, valgrind, ASan/UBSan, TSan)"
tests/c/run.sh

echo "== fuzzing (libFuzzer + ASan, ${FUZZ_SECONDS:-15} s per target)"
FUZZ_SECONDS="${FUZZ_SECONDS:-15}" fuzz/run.sh

echo "== Python tests"
TEXTMODEL_LIBRARY="$(pwd)/.build/release/libtextmodel.so" python3 -m pytest -q -p no:cacheprovider bindings/python/tests tests/acceptance

echo "== all tests passed"
