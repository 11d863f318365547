#!/usr/bin/env bash
# Builds the libtextmodel fuzz targets and runs each for a bounded time.
#
#   fuzz/run.sh                      # every target, 30 s each
#   FUZZ_SECONDS=600 fuzz/run.sh     # longer
#   fuzz/run.sh FuzzCSV FuzzConfig   # some targets only
#
# Environment:
#   FUZZ_SECONDS   seconds per target (default 30)
#   FUZZ_JOBS      targets fuzzed at the same time (default 2)
#   FUZZ_ARGS      extra libFuzzer flags, e.g. "-jobs=2 -workers=2" or "-use_value_profile=1"
#   FUZZ_SCRATCH   SwiftPM scratch path (default <repo>/.build-fuzz; never the main .build)
#   FUZZ_NO_BUILD  set to 1 to reuse the binaries already built
#   FUZZ_BUILD_ONLY  set to 1 to build the binaries and stop (scripts/test.sh builds them
#                  beside other phases, then fuzzes with FUZZ_NO_BUILD=1)
#   FUZZ_KEEP_CORPUS  set to 1 to keep the grown working corpus (path printed)
#
# Each run starts from a temporary copy of fuzz/corpus/<target>, so the committed corpus
# never grows. Crashes, timeouts and OOMs are written to fuzz/artifacts/<target>/ (git
# ignored); the script exits non-zero if any target found one.
set -u -o pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
scratch="${FUZZ_SCRATCH:-$root/.build-fuzz}"
seconds="${FUZZ_SECONDS:-30}"
all_targets=(FuzzConfig FuzzCSV FuzzFastText FuzzModelFile FuzzTokenizer FuzzJSONL FuzzVectors
             FuzzCheckpoint)
if [ $# -gt 0 ]; then targets=("$@"); else targets=("${all_targets[@]}"); fi

if [ "${FUZZ_NO_BUILD:-0}" != 1 ]; then
    echo "== building fuzz targets (scratch: $scratch)"
    # SwiftPM does not notice source files added to or removed from a path dependency
    # (the root package) and would compile a stale file list; dropping the build
    # manifest makes it plan again (a few seconds; compiled objects are reused).
    rm -f "$scratch/release.yaml"
    # -sanitize=fuzzer,address instruments TextModel and the harnesses and links libFuzzer;
    # -parse-as-library because the targets have no top-level code (see FuzzSupport.runLibFuzzer).
    swift build -c release --package-path "$here" --scratch-path "$scratch" \
        -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library -Xswiftc -enable-testing || { echo "build failed" >&2; exit 2; }
fi
[ "${FUZZ_BUILD_ONLY:-0}" = 1 ] && exit 0
bin="$(swift build -c release --package-path "$here" --scratch-path "$scratch" --show-bin-path \
        -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library -Xswiftc -enable-testing)"

work="$(mktemp -d "${TMPDIR:-/tmp}/textmodel-fuzz.XXXXXX")"
if [ "${FUZZ_KEEP_CORPUS:-0}" != 1 ]; then trap 'rm -rf "$work"' EXIT; fi

# Swift's runtime keeps some allocations alive on purpose (metadata caches); leak reports
# are not what these targets look for.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0:allocator_may_return_null=1:handle_abort=1}"
# Swift's own crash backtracer must stay off: under ASan it reports a false
# stack-buffer-underflow in its memory server (CrashHandlerLinux.cpp) and can hang the
# run; libFuzzer prints the stack and saves the input itself.
export SWIFT_BACKTRACE=enable=no

# fuzz_one TARGET: runs one target for $seconds and leaves its summary line, table row
# (name, executions, exec/s, coverage, features, corpus, peak RSS, result) and status in
# $work/TARGET.{line,row,status}. libFuzzer runs on one thread, so FUZZ_JOBS targets
# (default 2, the cores here) run at a time.
fuzz_one() {
    local t=$1 exe="$bin/$1" corpus="$work/$1" artifacts="$here/artifacts/$1" log="$work/$1.log"
    local before after rc execs rate rss cov line result c f k
    [ -x "$exe" ] || { echo "no binary $exe" >&2; echo 2 >"$work/$t.status"; return; }
    mkdir -p "$corpus" "$artifacts"
    cp -R "$here/corpus/$t/." "$corpus/" 2>/dev/null || true
    local dict=()
    [ -f "$here/dictionaries/$t.dict" ] && dict=("-dict=$here/dictionaries/$t.dict")
    before=$(ls "$artifacts" | wc -l)
    "$exe" "$corpus" "${dict[@]}" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -artifact_prefix="$artifacts/" -print_final_stats=1 -print_pcs=0 ${FUZZ_ARGS:-} >"$log" 2>&1
    rc=$?
    after=$(ls "$artifacts" | wc -l)
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    [ -n "$execs" ] || execs=$(grep -oE '^#[0-9]+' "$log" | tail -1 | tr -d '#')
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log" | tail -1)
    cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+/[0-9]+[a-zA-Z]*' "$log" | tail -1)
    line="$t: rc=$rc execs=${execs:-?} exec/s=${rate:-?} ${cov:-cov: ?} peak_rss_mb=${rss:-?}"
    result=ok
    echo 0 >"$work/$t.status"
    if [ $rc -ne 0 ] || [ "$after" -gt "$before" ]; then
        echo 1 >"$work/$t.status"
        result="FINDING rc=$rc"
        line="$line  FINDING (see $artifacts, log $log)"
        grep -E 'ERROR: |Fatal error|invariant violated|SUMMARY|deadly signal|timeout|out-of-memory' "$log" | head -5
        [ "${FUZZ_KEEP_CORPUS:-0}" = 1 ] || cp "$log" "$artifacts/last-run.log"
    fi
    echo "$line"
    echo "$line" >"$work/$t.line"
    read -r c f k <<<"$(sed -E 's/cov: ([0-9]+) ft: ([0-9]+) corp: ([0-9]+).*/\1 \2 \3/' <<<"${cov:-? ? ?}")"
    printf '%-16s %12s %9s %7s %7s %6s %8s  %s\n' "$t" "${execs:-?}" "${rate:-?}" "$c" "$f" "$k" \
        "${rss:-?}" "$result" >"$work/$t.row"
}

running=0
for t in "${targets[@]}"; do
    if [ "$running" -ge "${FUZZ_JOBS:-2}" ]; then
        wait -n
        running=$((running - 1))
    fi
    echo "== $t: ${seconds}s"
    fuzz_one "$t" &
    running=$((running + 1))
done
wait

status=0
summary=()
table=()
for t in "${targets[@]}"; do
    s=$(cat "$work/$t.status" 2>/dev/null || echo 2)
    [ "$s" -gt "$status" ] && status=$s
    [ -f "$work/$t.line" ] && summary+=("$(cat "$work/$t.line")")
    [ -f "$work/$t.row" ] && table+=("$(cat "$work/$t.row")")
done

echo
echo "== summary (${seconds}s per target)"
printf '%s\n' "${summary[@]}"
echo
printf '%-16s %12s %9s %7s %7s %6s %8s  %s\n' target executions exec/s cov ft corpus rss_mb result
printf '%s\n' "${table[@]}"
[ "${FUZZ_KEEP_CORPUS:-0}" = 1 ] && echo "working corpora and logs kept in $work"
exit $status
