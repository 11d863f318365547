#!/usr/bin/env bash
# tests/c/run.sh - builds the C example (bindings/c) and the C tests (tests/c), runs them,
# then runs them again under valgrind with small inputs, then the tests built with
# AddressSanitizer + UBSan (all of them) and ThreadSanitizer (the concurrency tests),
# with small inputs, first against the normal library, then against libraries built
# with the sanitizers themselves (the error catalogue under ASan, test_threads and
# test_stress under TSan), which check the library's own memory accesses too.
# Exits non-zero if anything fails.
#
#   tests/c/run.sh
#
# Environment:
#   LIBDIR      directory holding libtextmodel.so (default: .build/release of this repo)
#   DATA_DIR    labelled data for the example: train.csv, valid.csv, test.csv and
#               {train,valid,test}.ft.txt (default: /work/shared/data/tweets; a small
#               synthetic dataset is generated if it is missing)
#   VALGRIND    0 to skip the valgrind runs
#   SANITIZERS  0 to skip the ASan/UBSan and TSan runs
#   ASAN_LIBDIR, TSAN_LIBDIR  directories of libtextmodel.so built with
#               `swift build --sanitize=address|thread` (default: .build-asan/debug and
#               .build-tsan/debug, which scripts/test.sh's Swift sanitizer runs leave
#               behind; built there if missing)
#   MAKE_JOBS   parallel compile jobs (default 2)
#   VALGRIND_JOBS  valgrind runs at a time (default 2)
set -u

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
LIBDIR=$(cd "${LIBDIR:-$root/.build/release}" 2>/dev/null && pwd) || {
    echo "run.sh: LIBDIR ${LIBDIR:-$root/.build/release} does not exist" >&2
    exit 1
}
DATA_DIR=${DATA_DIR:-/work/shared/data/tweets}
VALGRIND=${VALGRIND:-1}
SANITIZERS=${SANITIZERS:-1}
MAKE_JOBS=${MAKE_JOBS:-2}
VALGRIND_JOBS=${VALGRIND_JOBS:-2}

if [ ! -f "$LIBDIR/libtextmodel.so" ]; then
    echo "run.sh: $LIBDIR/libtextmodel.so not found (build the library first)" >&2
    exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/tm-run.XXXXXX")
trap 'rm -rf "$work"' EXIT
failures=()
started=$SECONDS

# step NAME COMMAND...: runs a command, prints PASS/FAIL with its time, records failures.
step() {
    local name=$1
    shift
    local t0=$SECONDS rc
    echo
    echo "=== $name"
    "$@"
    rc=$?
    if [ "$rc" -eq 0 ]; then
        echo "--- PASS $name ($((SECONDS - t0)) s)"
    else
        echo "--- FAIL $name (exit $rc, $((SECONDS - t0)) s)"
        failures+=("$name")
    fi
}

# queued_step NAME COMMAND...: step, started in the background with at most
# $VALGRIND_JOBS running; its output goes to a file, which queued_steps_done prints (in
# the order the steps were queued) once all have finished, recording their failures.
# Valgrind runs a program's threads one at a time, so one run uses one core: its runs
# (most of this script's time) go two at a time on a 2-core machine.
queued=0
queued_running=0
queued_step() {
    if [ "$queued_running" -ge "$VALGRIND_JOBS" ]; then
        wait -n
        queued_running=$((queued_running - 1))
    fi
    queued=$((queued + 1))
    (failures=(); step "$@"; [ ${#failures[@]} -eq 0 ] || echo "$1" >"$work/queued.$queued.failed") \
        >"$work/queued.$queued.out" 2>&1 &
    queued_running=$((queued_running + 1))
}
queued_steps_done() {
    local i
    wait
    for ((i = 1; i <= queued; i++)); do
        cat "$work/queued.$i.out"
        [ -f "$work/queued.$i.failed" ] && failures+=("$(cat "$work/queued.$i.failed")")
    done
    queued=0
    queued_running=0
    rm -f "$work"/queued.*
}

# vg COMMAND...: runs a command under valgrind; prints the summary, and the whole log if
# valgrind found errors.
vg_count=0
vg() {
    vg_count=$((vg_count + 1))
    local log="$work/valgrind.$BASHPID.$vg_count.log" rc
    # --fair-sched=yes: valgrind runs one thread at a time, and its default lock can
    # starve a thread for good; test_stress's main thread (which must wake up to say
    # stop) was once starved for 7 minutes while a dozen predicting threads ran.
    valgrind --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite \
        --fair-sched=yes --log-file="$log" "$@"
    rc=$?
    grep -E "ERROR SUMMARY|definitely lost" "$log" | sed 's/^==[0-9]*== /valgrind: /'
    if ! grep -q "ERROR SUMMARY: 0 errors" "$log"; then
        echo "valgrind log:"
        cat "$log"
    elif [ "$rc" -ne 0 ]; then
        echo "(valgrind found no memory errors or leaks; the program's own checks failed)"
    fi
    return "$rc"
}

# vg_failing PATTERN COMMAND...: the command must fail with exit status 1 (its own error
# path) printing PATTERN, and valgrind must find no errors or definite leaks on the way.
vg_failing() {
    local pattern=$1
    shift
    vg_count=$((vg_count + 1))
    local log="$work/valgrind.$BASHPID.$vg_count.log" out="$work/out.$BASHPID.$vg_count" rc
    valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
        --fair-sched=yes --log-file="$log" "$@" >"$out" 2>&1
    rc=$?
    grep -- "$pattern" "$out"
    grep -E "ERROR SUMMARY|definitely lost" "$log" | sed 's/^==[0-9]*== /valgrind: /'
    if [ "$rc" -ne 1 ]; then
        echo "expected exit status 1, got $rc"
        cat "$out" "$log"
        return 1
    fi
    if ! grep -q -- "$pattern" "$out"; then
        echo "expected the output to contain: $pattern"
        cat "$out"
        return 1
    fi
    return 0
}

# expect_failure PATTERN COMMAND...: the command must exit non-zero and print PATTERN.
expect_failure() {
    local pattern=$1 out rc
    shift
    out=$("$@" 2>&1)
    rc=$?
    echo "$out" | tail -n 3
    if [ "$rc" -eq 0 ]; then
        echo "expected a non-zero exit"
        return 1
    fi
    if ! grep -q -- "$pattern" <<<"$out"; then
        echo "expected the output to contain: $pattern"
        return 1
    fi
    return 0
}

# san COMMAND...: runs a sanitizer build; fails on a non-zero exit status or on any
# sanitizer report in the output (a report in a forked child need not change the
# parent's status). Prints the tail of the output, or all of it on failure.
san_count=0
san() {
    san_count=$((san_count + 1))
    local log="$work/san.$san_count.log" rc
    "$@" >"$log" 2>&1
    rc=$?
    if grep -qE "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|WARNING: ThreadSanitizer" \
        "$log"; then
        cat "$log"
        echo "(sanitizer report above)"
        return 1
    fi
    if [ "$rc" -ne 0 ]; then
        cat "$log"
        return "$rc"
    fi
    tail -n 2 "$log"
    return 0
}

# san_probe PATTERN COMMAND...: a program with a deliberate bug must fail and its
# sanitizer must report it (PATTERN): proves that a sanitizer report fails a run.
san_probe() {
    local pattern=$1 out rc
    shift
    out=$("$@" 2>&1)
    rc=$?
    if [ "$rc" -eq 0 ]; then
        echo "$out"
        echo "expected a non-zero exit: the sanitizer did not fail the run"
        return 1
    fi
    if ! grep -q -- "$pattern" <<<"$out"; then
        echo "$out"
        echo "expected the output to contain: $pattern"
        return 1
    fi
    grep -m1 -- "$pattern" <<<"$out"
    echo "(exit status $rc, as expected)"
    return 0
}

# instrumented_lib KIND DIR: makes sure DIR holds a libtextmodel.so built with
# --sanitize=KIND (building it with SwiftPM, debug, in DIR's scratch path if missing)
# and that it really is instrumented: it must call into the sanitizer runtime.
instrumented_lib() {
    local kind=$1 dir=$2 symbol
    case $kind in address) symbol=__asan_report_load ;; thread) symbol=__tsan_read ;; esac
    if [ ! -f "$dir/libtextmodel.so" ]; then
        (cd "$root" && swift build --sanitize="$kind" --scratch-path "$(dirname "$dir")") || return 1
    fi
    if ! nm -D "$dir/libtextmodel.so" | grep -q " U $symbol"; then
        echo "$dir/libtextmodel.so is not built with --sanitize=$kind (no $symbol)"
        return 1
    fi
    echo "$dir/libtextmodel.so: instrumented ($symbol)"
}

# The error catalogue against an ASan-instrumented library, the concurrency tests
# against a TSan-instrumented one; a probe whose Hogwild training races inside the
# library proves TSan sees the library's own accesses.
sanitized_library_runs() {
    local asan_dir=${ASAN_LIBDIR:-$root/.build-asan/debug} tsan_dir=${TSAN_LIBDIR:-$root/.build-tsan/debug}
    if step "asan library: build" instrumented_lib address "$asan_dir" &&
        step "asan library: build tests/c" make -s -C "$here" ASAN_LIBDIR="$asan_dir" asan-lib; then
        export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:detect_stack_use_after_return=1
        export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
        step "asan library: test_errors --quick" san "$here/build/asan-lib/test_errors" --quick
        unset ASAN_OPTIONS UBSAN_OPTIONS
    fi
    if step "tsan library: build" instrumented_lib thread "$tsan_dir" &&
        step "tsan library: build tests/c" make -s -C "$here" TSAN_LIBDIR="$tsan_dir" tsan-lib; then
        export TSAN_OPTIONS=halt_on_error=0:second_deadlock_stack=1:suppressions=$here/tsan.supp
        # The pattern is a stack frame inside the library: only an instrumented library
        # makes TSan report one.
        step "tsan library: Hogwild's race inside the library is reported" san_probe \
            "libtextmodel.so+0x" \
            "$here/build/tsan-lib/lib_race_probe"
        step "tsan library: test_threads --quick" san "$here/build/tsan-lib/test_threads" --quick
        step "tsan library: test_stress --quick" san "$here/build/tsan-lib/test_stress" --quick
        unset TSAN_OPTIONS
    fi
}

# ------------------------------------------------------------------- build

step "build bindings/c" make -s -C "$root/bindings/c" -j"$MAKE_JOBS" LIBDIR="$LIBDIR"
step "build tests/c" make -s -C "$here" -j"$MAKE_JOBS" LIBDIR="$LIBDIR"
if [ ${#failures[@]} -ne 0 ]; then
    echo
    echo "run.sh: build failed"
    exit 1
fi
classify=$root/bindings/c/build/classify
config=$root/bindings/c/example_config.json

# -------------------------------------------------------------------- data

# Full data for the native example run, and a few hundred lines for valgrind.
if [ -f "$DATA_DIR/train.csv" ] && [ -f "$DATA_DIR/train.ft.txt" ]; then
    train=$DATA_DIR/train.csv valid=$DATA_DIR/valid.csv test=$DATA_DIR/test.csv
    head -n 300 "$DATA_DIR/train.ft.txt" >"$work/small_train.txt"
    head -n 100 "$DATA_DIR/valid.ft.txt" >"$work/small_valid.txt"
    head -n 100 "$DATA_DIR/test.ft.txt" >"$work/small_test.txt"
else
    echo "run.sh: $DATA_DIR not found; using a synthetic dataset"
    synth() { # synth ROWS SEED > file (fastText lines)
        awk -v n="$1" -v seed="$2" 'BEGIN {
            srand(seed)
            split("good great love happy thanks", pos, " ")
            split("bad awful hate late lost", neg, " ")
            split("the a flight crew today my seat bag", fill, " ")
            for (i = 0; i < n; i++) {
                c = int(rand() * 2); line = c ? "__label__positive" : "__label__negative"
                for (w = 0; w < 6; w++)
                    line = line " " (w == 2 ? (c ? pos[int(rand() * 5) + 1] : neg[int(rand() * 5) + 1]) : fill[int(rand() * 8) + 1])
                print line
            }
        }'
    }
    synth 3000 1 >"$work/train.txt"
    synth 300 2 >"$work/valid.txt"
    synth 300 3 >"$work/test.txt"
    train=$work/train.txt valid=$work/valid.txt test=$work/test.txt
    head -n 300 "$work/train.txt" >"$work/small_train.txt"
    head -n 100 "$work/valid.txt" >"$work/small_valid.txt"
    head -n 100 "$work/test.txt" >"$work/small_test.txt"
fi

# ------------------------------------------------------------ native runs

step "test_header_cpp" "$here/build/test_header_cpp"
step "test_errors" "$here/build/test_errors"
step "test_threads" "$here/build/test_threads"
step "test_determinism" "$here/build/test_determinism"
step "test_roundtrip" "$here/build/test_roundtrip"
step "test_memory" "$here/build/test_memory"
step "test_stress" "$here/build/test_stress"
step "test_crash_safety" "$here/build/test_crash_safety"
step "test_thread_exit (10,000 threads, heap and RSS flat)" "$here/build/test_thread_exit"
step "test_explain" "$here/build/test_explain"
step "test_autotune" "$here/build/test_autotune"
step "test_quantize" "$here/build/test_quantize"
step "test_distributed" "$here/build/test_distributed"
step "test_privacy" "$here/build/test_privacy"
step "test_predict_one" "$here/build/test_predict_one"
# Native only: it defines malloc itself, which valgrind and the sanitizers replace.
step "test_no_alloc (warm tm_model_predict_one: zero allocations)" "$here/build/test_no_alloc"
step "classify (example, 1 epoch)" "$classify" --set training.epochs=1 \
    "$config" "$train" "$valid" "$test" "$work/example.tmmodel"
step "classify rejects an unknown config key" expect_failure "model.hidden_sizee" \
    "$classify" --set model.hidden_sizee=3 "$config" "$train" "$valid" "$test" "$work/x.tmmodel"
step "classify reports a missing file" expect_failure "TM_ERR_IO" \
    "$classify" "$config" "$work/missing.csv" - "$test" "$work/x.tmmodel"

# ------------------------------------------------------------ valgrind runs

if [ "$VALGRIND" != 0 ]; then
    if ! command -v valgrind >/dev/null; then
        echo "run.sh: valgrind not found" >&2
        failures+=("valgrind missing")
    else
        tiny=(--set model.embedding_dim=8 --set model.hidden_dim=8 --set training.epochs=1
              --set training.threads=1 --set tokenizer.min_freq=1)
        queued_step "valgrind test_header_cpp" vg "$here/build/test_header_cpp"
        queued_step "valgrind test_errors --quick" vg "$here/build/test_errors" --quick
        queued_step "valgrind test_threads --quick" vg "$here/build/test_threads" --quick
        queued_step "valgrind test_determinism --quick" vg "$here/build/test_determinism" --quick
        queued_step "valgrind test_roundtrip --quick" vg "$here/build/test_roundtrip" --quick
        queued_step "valgrind test_memory --quick" vg "$here/build/test_memory" --quick
        queued_step "valgrind test_stress --quick" vg "$here/build/test_stress" --quick
        queued_step "valgrind test_crash_safety --quick" vg "$here/build/test_crash_safety" --quick
        queued_step "valgrind test_thread_exit --quick" vg "$here/build/test_thread_exit" --quick
        queued_step "valgrind test_explain --quick" vg "$here/build/test_explain" --quick
        queued_step "valgrind test_autotune --quick" vg "$here/build/test_autotune" --quick
        queued_step "valgrind test_quantize --quick" vg "$here/build/test_quantize" --quick
        queued_step "valgrind test_distributed --quick" vg "$here/build/test_distributed" --quick
        queued_step "valgrind test_privacy --quick" vg "$here/build/test_privacy" --quick
        queued_step "valgrind test_predict_one --quick" vg "$here/build/test_predict_one" --quick
        queued_step "valgrind classify (tiny)" vg "$classify" "${tiny[@]}" "$config" \
            "$work/small_train.txt" "$work/small_valid.txt" "$work/small_test.txt" \
            "$work/small.tmmodel" "thanks, great crew" "my bag is lost" ""
        queued_step "valgrind classify (config error path)" vg_failing "TM_ERR_CONFIG" "$classify" \
            --set model.hidden_dim=-1 "$config" "$work/small_train.txt" - \
            "$work/small_test.txt" "$work/x.tmmodel"
        queued_step "valgrind classify (data error path)" vg_failing "TM_ERR_IO" "$classify" "${tiny[@]}" \
            "$config" "$work/small_train.txt" - "$work/missing.txt" "$work/x.tmmodel"
        queued_steps_done
    fi
fi

# ----------------------------------------------------------- sanitizer runs

# The tests are instrumented; libtextmodel.so is the normal build. ASan/LSan intercept
# every malloc/free of the library too, so its leaks and bad frees are caught; TSan sees
# the library's pthread calls but not its own memory accesses (see Makefile).
if [ "$SANITIZERS" != 0 ]; then
    step "build tests/c (asan, tsan)" make -s -C "$here" -j"$MAKE_JOBS" LIBDIR="$LIBDIR" asan tsan
    if [ -x "$here/build/asan/leak_probe" ] && [ -x "$here/build/tsan/race_probe" ]; then
        export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:detect_stack_use_after_return=1
        export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
        export TSAN_OPTIONS=halt_on_error=0:second_deadlock_stack=1:suppressions=$here/tsan.supp
        step "asan: a deliberate leak fails the run" san_probe "LeakSanitizer: detected memory leaks" \
            "$here/build/asan/leak_probe"
        step "asan test_header_cpp" san "$here/build/asan/test_header_cpp"
        for t in test_errors test_threads test_determinism test_roundtrip test_stress \
                 test_crash_safety test_memory test_explain test_autotune test_quantize \
                 test_distributed test_privacy test_predict_one; do
            step "asan $t --quick" san "$here/build/asan/$t" --quick
        done
        step "tsan: a deliberate race fails the run" san_probe "ThreadSanitizer: data race" \
            "$here/build/tsan/race_probe"
        step "tsan test_threads --quick" san "$here/build/tsan/test_threads" --quick
        step "tsan test_stress --quick" san "$here/build/tsan/test_stress" --quick
        unset ASAN_OPTIONS UBSAN_OPTIONS TSAN_OPTIONS
    fi
    sanitized_library_runs
fi

echo
if [ ${#failures[@]} -eq 0 ]; then
    echo "run.sh: all passed ($((SECONDS - started)) s)"
    exit 0
fi
echo "run.sh: ${#failures[@]} failed ($((SECONDS - started)) s):"
printf '  %s\n' "${failures[@]}"
exit 1
