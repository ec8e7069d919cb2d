#!/usr/bin/env bash
# Runs every cargo-fuzz target of fuzz/ for a bounded time, one after another, one job each.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]      (default: 30 s, every target)
#
# Installs cargo-fuzz (pinned) when missing. Works on a stable toolchain: cargo-fuzz passes
# unstable rustc flags (-Zsanitizer=address, sancov passes), which stable accepts with
# RUSTC_BOOTSTRAP=1; the AddressSanitizer runtime ships with stable's rust-std on Linux.
# Seeds come from fuzz/corpus/<target>/ and are only read: inputs found during the run go to a
# scratch corpus (LCWS_FUZZ_WORK, default a temporary folder), crashes to
# fuzz/artifacts/<target>/. Fails on the first crash, leak, timeout or out-of-memory.
# Prints, per target, the executions done and the rate.
#
# Environment: LCWS_JOBS (build jobs, default 2), LCWS_FUZZ_WORK (keep the grown corpus there),
# LCWS_FUZZ_ARGS (extra libFuzzer flags), LCWS_FUZZ_RUNS (stop a target after this many
# executions; SECONDS_PER_TARGET 0 then means no time limit), LCWS_FUZZ_SANITIZER (address by
# default; "none" runs about 5x faster and is what the long runs use: the code under test is safe
# Rust, so ASan has nothing of ours to watch, while debug assertions stay on either way). A
# sanitizer other than address builds into fuzz/target/<sanitizer>/ so both builds coexist.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export PATH="$HOME/.cargo/bin:$PATH"

CARGO_FUZZ_VERSION=0.13.2
secs=${1:-30}
shift || true
jobs=${LCWS_JOBS:-2}
export CARGO_BUILD_JOBS=$jobs

if ! cargo fuzz --version 2>/dev/null | grep -q " $CARGO_FUZZ_VERSION\$"; then
    echo "installing cargo-fuzz $CARGO_FUZZ_VERSION"
    cargo install cargo-fuzz --version "$CARGO_FUZZ_VERSION" --locked -j"$jobs"
fi
if ! rustc --version | grep -q nightly; then
    export RUSTC_BOOTSTRAP=1
fi

if [ $# -gt 0 ]; then
    targets=("$@")
else
    mapfile -t targets < <(cargo fuzz list)
fi

sanitizer=${LCWS_FUZZ_SANITIZER:-address}
build_flags=(-a -s "$sanitizer")
if [ "$sanitizer" != address ]; then
    build_flags+=(--target-dir "fuzz/target/$sanitizer")
fi
limit=(-max_total_time="$secs")
if [ -n "${LCWS_FUZZ_RUNS:-}" ]; then
    limit+=(-runs="$LCWS_FUZZ_RUNS")
fi

work=${LCWS_FUZZ_WORK:-}
if [ -z "$work" ]; then
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
fi
mkdir -p "$work"

# -a: debug assertions on (integer overflow panics too); release optimisation; ASan by default.
echo "building ${#targets[@]} fuzz targets ($(rustc --version), sanitizer $sanitizer)"
if [ $# -gt 0 ]; then
    for t in "${targets[@]}"; do cargo fuzz build "${build_flags[@]}" "$t"; done
else
    cargo fuzz build "${build_flags[@]}"
fi

summary=()
failed=0
for t in "${targets[@]}"; do
    mkdir -p "$work/$t" "fuzz/corpus/$t"
    log="$work/$t.log"
    printf '\n== fuzz %s (%s s%s)\n' "$t" "$secs" "${LCWS_FUZZ_RUNS:+, at most $LCWS_FUZZ_RUNS runs}"
    # shellcheck disable=SC2086
    if cargo fuzz run "${build_flags[@]}" "$t" "$work/$t" "fuzz/corpus/$t" -- \
        "${limit[@]}" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        ${LCWS_FUZZ_ARGS:-} >"$log" 2>&1; then
        status=ok
    else
        status=FAILED
        failed=1
        tail -n 60 "$log"
    fi
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
    units=$(find "$work/$t" -type f | wc -l)
    line=$(printf '%-16s %-6s %12s execs %8s exec/s  %6s new inputs' \
        "$t" "$status" "${execs:-?}" "${rate:-?}" "$units")
    echo "$line"
    summary+=("$line")
    if [ "$failed" = 1 ]; then
        break
    fi
done

printf '\n== fuzz summary (%s s per target)\n' "$secs"
printf '%s\n' "${summary[@]}"
n_failed=$(printf '%s\n' "${summary[@]}" | grep -c ' FAILED ' || true)
n_passed=$(( ${#summary[@]} - n_failed ))
if [ "$failed" = 1 ]; then
    echo "fuzzing found a failure: see the log above and fuzz/artifacts/"
    echo "fuzz: $n_passed passed, $n_failed failed"
    exit 1
fi
echo "fuzz: $n_passed passed, 0 failed"
