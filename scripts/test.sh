#!/usr/bin/env bash
# Runs every test of litecore-ws:
#   1. fmt, clippy, rustdoc; cargo test of the workspace: Rust unit tests, Fleece vectors,
#      options, the generated-header check, and the `litecore-ws check` command (cli/) end to end;
#   2. the C tests (ctest) against the release library, built Debug (-O0);
#   3. everything that builds (C tests, examples, glue matrix) again in a Release build (-O3, the
#      same -Werror), and its ctest;
#   4. the C tests again with ASan+UBSan (clang);
#   5. the C tests again under valgrind memcheck;
#   6. a bounded run of the fuzz targets (scripts/fuzz.sh, LCWS_FUZZ_SECS s each).
# The litecore_real_* ctests use a real LiteCore when there is one (LCWS_LITECORE_ROOT, default
# ../shared/litecore) and are reported skipped otherwise.
# Needs cargo; scripts/setup.sh installs the rest on Debian when missing.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export PATH="$HOME/.cargo/bin:$PATH"
jobs=${LCWS_JOBS:-2}
./scripts/setup.sh test

section() { printf '\n== %s\n' "$*"; }

section "cargo fmt --check, cargo clippy -D warnings"
cargo fmt --all --check
cargo clippy --locked -j"$jobs" --workspace --all-targets -- -D warnings

section "rustdoc (warnings are errors)"
RUSTDOCFLAGS="-D warnings" cargo doc --locked --workspace --no-deps --document-private-items -j"$jobs"

section "cargo test (the library and cli/)"
cargo test --locked --workspace -j"$jobs"

section "exported symbols (only lcws_*)"
cargo build --locked --release --lib -j"$jobs"
bad=$(nm -D --defined-only target/release/liblitecore_ws.so | awk '{print $3}' | grep -v '^lcws_' || true)
if [ -n "$bad" ]; then echo "unexpected exports:"; echo "$bad"; exit 1; fi
readelf -d target/release/liblitecore_ws.so | grep -q 'SONAME.*liblitecore_ws\.so\.' || { echo "no SONAME"; exit 1; }
echo "ok: $(nm -D --defined-only target/release/liblitecore_ws.so | grep -c ' lcws_') lcws_ symbols, SONAME set"

section "C tests (ctest, Debug)"
cmake -S . -B build/plain -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build build/plain -j"$jobs"
ctest --test-dir build/plain --output-on-failure --no-tests=error

section "C tests (Release)"
# Optimised code warns where -O0 does not (GCC's -Wuse-after-free, -Wmaybe-uninitialized, ...).
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build/release -j"$jobs"
ctest --test-dir build/release --output-on-failure --no-tests=error

section "C tests with ASan+UBSan"
CC=clang CXX=clang++ cmake -S . -B build/asan -DCMAKE_BUILD_TYPE=Debug -DLCWS_SANITIZE=ON >/dev/null
cmake --build build/asan -j"$jobs"
# Prove the sanitizer runtime is really linked in (no `grep -q`: with pipefail, nm's SIGPIPE
# would fail the check exactly when the symbol is found).
asan_syms=$(nm build/asan/tests/c/connect_refused | grep -c __asan_init || true)
[ "$asan_syms" -gt 0 ] || { echo "ASan is not enabled"; exit 1; }
ctest --test-dir build/asan --output-on-failure --no-tests=error

section "C tests under valgrind"
cmake -S . -B build/valgrind -DCMAKE_BUILD_TYPE=Debug -DLCWS_VALGRIND=ON >/dev/null
cmake --build build/valgrind -j"$jobs"
ctest --test-dir build/valgrind --output-on-failure --no-tests=error

# --- Fuzzing: a bounded run of every cargo-fuzz target on the committed corpora. ---
# scripts/fuzz.sh installs cargo-fuzz (pinned) if missing and works on stable; it fails on any
# crash. LCWS_FUZZ_SECS sets the seconds per target (0 skips this section).
fuzz_secs=${LCWS_FUZZ_SECS:-20}
if [ "$fuzz_secs" != 0 ]; then
    section "fuzzing (${fuzz_secs} s per target)"
    ./scripts/fuzz.sh "$fuzz_secs"
fi
