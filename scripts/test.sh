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

# CI has 2 cores, and some phases keep only one busy: an optimised Swift build compiles a
# module in one process, and valgrind runs one thread at a time. Work that depends on
# nothing running then goes beside them: background NAME COMMAND... starts COMMAND with
# its output in a log; background_done NAME waits for it, prints its log and its time,
# and fails the script if it failed. A failing script stops the background jobs.
background_dir=$(mktemp -d)
declare -A background_pid=()
background_stop() {
  local pid
  for pid in "${background_pid[@]}"; do kill -- "-$pid" 2>/dev/null || true; done
  rm -rf "$background_dir"
}
trap background_stop EXIT
background() {
  local name=$1
  shift
  echo "   (started in the background: $name; its log follows when it is waited for)"
  # setsid: a process group of its own, which background_stop can end with its children.
  setsid bash -c 'started=$SECONDS; "$@"; rc=$?; echo $((SECONDS - started)) >"$0.seconds"; exit $rc' \
    "$background_dir/$name" "$@" >"$background_dir/$name.log" 2>&1 &
  background_pid[$name]=$!
}
background_done() {
  local name=$1 rc=0
  wait "${background_pid[$name]}" || rc=$?
  unset "background_pid[$name]"
  echo "-- background job $name: exit $rc, $(cat "$background_dir/$name.seconds" 2>/dev/null || echo '?') s; its log:"
  cat "$background_dir/$name.log"
  if [ "$rc" -ne 0 ]; then
    echo "background job $name failed (exit $rc)" >&2
    exit 1
  fi
}

scripts/install-deps.sh
# The Swift builds the later phases test, started now, beside build.sh (a whole-module
# -O build: one compiler process for most of its time): the ASan build of the whole suite
# (debug: a compiler process per core), and the optimised test build (the allocation
# counts) followed by the fuzz targets' build (whole-module -O builds, one after the
# other). Each phase below waits for the build it tests.
asan=(--sanitize=address --scratch-path .build-asan)
tsan=(--sanitize=thread --scratch-path .build-tsan)
reltests=(-c release -Xswiftc -enable-testing --scratch-path .build-reltests)
background asan-build swift build --build-tests "${asan[@]}"
background optimised-builds bash -c 'swift build --build-tests "${@:2}" && FUZZ_BUILD_ONLY=1 "$1"' \
  _ fuzz/run.sh "${reltests[@]}"
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

# The Swift suite runs twice: whole under AddressSanitizer here, and optimised (only the
# allocation counts, which need -O) after the C tests, when its build started above is
# done. A plain debug run would repeat the ASan run's tests without its checks (3 minutes
# of CI), so there is none.
# Sanitizer builds use their own scratch folders. LeakSanitizer is off for the Swift
# run: its only reports are XCTest's own test-case objects, which XCTest never frees
# (no frame in Sources/); the library's leaks are checked by valgrind and ASan on the C
# tests instead.
phase "Swift tests under AddressSanitizer (the whole suite, debug build)"
# --parallel: each test runs in a process of its own, two at a time (the tests write only
# to their own temporary folders); most run on one thread.
background_done asan-build
# The TSan build goes beside the ASan run.
background tsan-build swift build --build-tests "${tsan[@]}"
ASAN_OPTIONS=detect_leaks=0 swift test "${asan[@]}" --skip-build --parallel
phase "Swift concurrency tests under ThreadSanitizer"
# HogwildRaceTests stay out on purpose: Hogwild training races on the weights by design.
# The classes that run threads (training, prediction, checkpoints written during
# multi-threaded training, CNN thread-count checks, capped prediction workers), ~40 s;
# RecurrentTests (17 s more under TSan) runs the same Parallel/WorkspacePool code.
background_done tsan-build
swift test "${tsan[@]}" --skip-build --parallel \
  --filter "NetworkTests|TrainingTests|PredictionThreadsTests|CNNTests|CheckpointTests|ResourceLimitTests"

phase "C tests (native, valgrind, ASan/UBSan, TSan)"
# The sanitizer builds above leave .build-asan/debug and .build-tsan/debug/libtextmodel.so
# (instrumented); run.sh runs the error catalogue and the concurrency tests against them.
tests/c/run.sh

phase "Swift allocation counts (release build)"
# AllocationFreeTests count heap allocations of optimised code, as it ships (debug builds
# allocate closure contexts that -O keeps on the stack; the class skips itself there).
background_done optimised-builds
swift test "${reltests[@]}" --skip-build --filter AllocationFreeTests

phase "fuzzing (libFuzzer + ASan, ${FUZZ_SECONDS:-15} s per target, two targets at a time)"
# The targets were built in the background above.
FUZZ_NO_BUILD=1 FUZZ_SECONDS="${FUZZ_SECONDS:-15}" fuzz/run.sh

phase "Python package: pip install into a fresh virtual environment, binding tests there"
# The package as users get it: pip bundles the built library (no copy step, no
# TEXTMODEL_LIBRARY), and the tests import the installed package, not the source tree.
# --system-site-packages for numpy and pytest; --without-pip so the environment runs the
# system's pip and setuptools (the bundled setuptools of a new venv cannot build wheels).
repo="$(pwd)"
venv_dir="$(mktemp -d)"
python3 -m venv --system-site-packages --without-pip "$venv_dir/venv"
"$venv_dir/venv/bin/python" -m pip install -q --no-build-isolation ./bindings/python
# The layering, packaging, CLI and README tests run beside these and the acceptance runs
# (they use one core most of the time: a whole-module -O build of the Swift consumer, a
# valgrind run, one pytest process; so do most binding tests). They start after the pip
# install above, because their README blocks pip-install the package through the same
# bindings/python/build.
# tests/docs runs every code block of README.md and bindings/*/README.md, and builds and
# runs examples/swift-consumer (the Swift quick start) against this package.
background layout-packaging-cli-docs env TEXTMODEL_LIBRARY="$(pwd)/.build/release/libtextmodel.so" \
  python3 -m pytest -q -rs -p no:cacheprovider tests/layout tests/packaging tests/cli tests/docs
(cd "$venv_dir" && TEXTMODEL_TEST_INSTALLED=1 "$venv_dir/venv/bin/python" -m pytest -q -p no:cacheprovider "$repo/bindings/python/tests")
rm -rf "$venv_dir"

phase "acceptance runs (example configs; tweets corpus when present)"
# -rP prints each passing run's figures (accuracy, seconds) into the log.
TEXTMODEL_LIBRARY="$(pwd)/.build/release/libtextmodel.so" python3 -m pytest -q -rP -p no:cacheprovider tests/acceptance

phase "layering, packaging (exports, install, pkg-config, valgrind), CLI, README blocks, Swift consumer"
# Started beside the binding tests; this phase's time is what was left of it after the
# acceptance runs (its own time is in the line below).
background_done layout-packaging-cli-docs

phase "all tests passed"
