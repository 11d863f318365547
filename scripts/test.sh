#!/usr/bin/env bash
# Every test: the shipped library's dependencies (ldd: no Swift runtime), the main job
# (scripts/demo.sh), the Swift unit tests (all under ASan, the allocation counts in an
# optimised build, the threaded ones under TSan), the C tests (with valgrind and
# sanitizers), a bounded fuzzing run of every fuzz target, the Python binding tests (in a
# fresh virtual environment the package is pip-installed into), the packaging, CLI and
# README-block tests, and the acceptance run on ../shared/data/tweets when present.
set -euo pipefail
cd "$(dirname "$0")/.."

# phase NAME: prints how long the previous phase took, so a slow CI run shows where.
phase_start=$SECONDS
phase() {
  echo "   (previous phase: $((SECONDS - phase_start)) s; total $SECONDS s)"
  phase_start=$SECONDS
  echo "== $1"
}

scripts/install-deps.sh
scripts/build.sh

phase "shipped library: no Swift runtime dependency"
# build.sh links the Swift runtime in statically, so hosts without a Swift toolchain can
# load the library: it must need no libswift* or libFoundation*, and nothing missing.
deps=$(ldd .build/release/libtextmodel.so)
echo "$deps"
if grep -E 'libswift|libFoundation|not found' <<<"$deps"; then
  echo "libtextmodel.so needs the libraries above; it must need only libc, libstdc++, libm, json-c and OpenBLAS" >&2
  exit 1
fi
# The command-line tool links the engine and the Swift runtime statically too.
if ldd .build/release/textmodel | grep -E 'libswift|libFoundation|not found'; then
  echo ".build/release/textmodel needs the Swift libraries above" >&2
  exit 1
fi

phase "main job (scripts/demo.sh)"
# README's main job, so that CI runs it as users will (about 5 s after the build).
scripts/demo.sh

# The Swift suite runs twice: once optimised (only the allocation counts, which need -O),
# and whole under AddressSanitizer. A plain debug run would repeat the ASan run's tests
# without its checks (3 minutes of CI), so there is none.
phase "Swift allocation counts (release build)"
# AllocationFreeTests count heap allocations of optimised code, as it ships (debug builds
# allocate closure contexts that -O keeps on the stack; the class skips itself there).
swift test -c release -Xswiftc -enable-testing --scratch-path .build-reltests --filter AllocationFreeTests

# Sanitizer builds use their own scratch folders. LeakSanitizer is off for the Swift
# run: its only reports are XCTest's own test-case objects, which XCTest never frees
# (no frame in Sources/); the library's leaks are checked by valgrind and ASan on the C
# tests instead.
phase "Swift tests under AddressSanitizer (the whole suite, debug build)"
ASAN_OPTIONS=detect_leaks=0 swift test --sanitize=address --scratch-path .build-asan
phase "Swift concurrency tests under ThreadSanitizer"
# HogwildRaceTests stay out on purpose: Hogwild training races on the weights by design.
# The classes that run threads (training, prediction, checkpoints written during
# multi-threaded training, CNN thread-count checks, capped prediction workers), ~40 s;
# RecurrentTests (17 s more under TSan) runs the same Parallel/WorkspacePool code.
swift test --sanitize=thread --scratch-path .build-tsan \
  --filter "NetworkTests|TrainingTests|PredictionThreadsTests|CNNTests|CheckpointTests|ResourceLimitTests"

phase "C tests (native, valgrind, ASan/UBSan, TSan)"
# The sanitizer builds above leave .build-asan/debug and .build-tsan/debug/libtextmodel.so
# (instrumented); run.sh runs the error catalogue and the concurrency tests against them.
tests/c/run.sh

phase "fuzzing (libFuzzer + ASan, ${FUZZ_SECONDS:-15} s per target, two targets at a time)"
FUZZ_SECONDS="${FUZZ_SECONDS:-15}" fuzz/run.sh

phase "Python package: pip install into a fresh virtual environment, binding tests there"
# The package as users get it: pip bundles the built library (no copy step, no
# TEXTMODEL_LIBRARY), and the tests import the installed package, not the source tree.
# --system-site-packages for numpy and pytest; --without-pip so the environment runs the
# system's pip and setuptools (the bundled setuptools of a new venv cannot build wheels).
repo="$(pwd)"
venv_dir="$(mktemp -d)"
python3 -m venv --system-site-packages --without-pip "$venv_dir/venv"
"$venv_dir/venv/bin/python" -m pip install -q --no-build-isolation ./bindings/python
(cd "$venv_dir" && TEXTMODEL_TEST_INSTALLED=1 "$venv_dir/venv/bin/python" -m pytest -q -p no:cacheprovider "$repo/bindings/python/tests")
rm -rf "$venv_dir"

phase "layering, packaging (exports, install, pkg-config, valgrind), CLI, README blocks, Swift consumer"
# tests/docs runs every code block of README.md and bindings/*/README.md, and builds and
# runs examples/swift-consumer (the Swift quick start) against this package.
TEXTMODEL_LIBRARY="$(pwd)/.build/release/libtextmodel.so" python3 -m pytest -q -rs -p no:cacheprovider \
  tests/layout tests/packaging tests/cli tests/docs

phase "acceptance runs (example configs; tweets corpus when present)"
# -rP prints each passing run's figures (accuracy, seconds) into the log.
TEXTMODEL_LIBRARY="$(pwd)/.build/release/libtextmodel.so" python3 -m pytest -q -rP -p no:cacheprovider tests/acceptance

phase "all tests passed"
