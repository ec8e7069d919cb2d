#!/usr/bin/env bash
# litecore-ws with a real LiteCore (an install prefix: include/c4.h, include/fleece/,
# lib/libLiteCore.so), one step per ctest entry (tests/c/CMakeLists.txt, litecore_real_*):
#
#   run.sh glue OPT       include/litecore_ws_c4.h: glue_real.c built as C11 and as C++17 with
#                         -Wall -Wextra -Werror -pedantic at -OPT, with gcc/g++ and clang/clang++
#                         (those installed), linked with libLiteCore.so and litecore-ws, and run.
#   run.sh examples OPT   the C examples (and the Qt one when Qt6 Core is there) built the way
#                         README says, `cmake -DLITECORE_ROOT=...`, in a fresh build directory
#                         at -OPT with -Werror (tests and nothing else: LCWS_BUILD_TESTS=OFF);
#                         then each binary is started with no arguments (usage, exit 2) with
#                         LD_BIND_NOW=1, so every symbol resolves against the real library.
#   run.sh replicate_401 OPT   runs that build's `replicate` against the SG stand-in with a wrong
#                         password (tests/c/examples/run_example.py --litecore): LiteCore's
#                         replicator must stop with {WebSocket, 401}. The stand-in speaks no BLIP,
#                         so only the HTTP-level refusal can be tested here, not a replication.
#   run.sh p2p_sync OPT   runs that build's `p2p_sync` (litecore-ws's listener serving one real
#                         database over wss, the other replicating with it, the certificate pinned)
#                         in a fresh directory and checks its output: 2 documents pushed, 3 pulled,
#                         5 in each database, one document each way, exit status 0.
#   run.sh qt_serve OPT   runs that build's `qt_replicate --serve` (when Qt6 Core was found; else
#                         skipped) and replicates into it from a Python peer pinning its certificate
#                         (examples-c/qt/run_qt_serve_real.py): fingerprint, 2 documents pushed and
#                         shown by the app, SIGINT stops it with exit status 0.
#
# OPT is O0 or O2. Exit status: 0 passed, 1 failed, 77 skipped (no LiteCore: ctest reports it
# skipped, never passed). Every command is printed before it runs.
#
# Environment (tests/c/CMakeLists.txt sets these from the configured build):
#   LCWS_LITECORE_ROOT   the LiteCore prefix; empty: none (skipped); unset: ../shared/litecore next to
#                        the repository when it exists
#   LCWS_LIB_DIR         directory with liblitecore_ws.so (default: <repo>/target/release)
#   LCWS_CARGO_TARGET_DIR, LCWS_CARGO_PROFILE   passed on to the examples' CMake build
#   REAL_LC_OUT          output directory (default: <repo>/build/real_litecore)
#   REAL_LC_CC, REAL_LC_CXX    compilers of the examples' build (default: cc, c++)
#   PYTHON               python3 for replicate_401 (default: python3)
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
mode=${1:?usage: run.sh glue|examples|replicate_401|p2p_sync|qt_serve O0|O2}
opt=${2:?usage: run.sh glue|examples|replicate_401|p2p_sync|qt_serve O0|O2}
case $opt in O0 | O2) ;; *) echo "run.sh: OPT must be O0 or O2" >&2; exit 1 ;; esac

# Set (also to empty: no LiteCore) or, when unset, ../shared/litecore if it exists.
if [ "${LCWS_LITECORE_ROOT+set}" = set ]; then
    lc=$LCWS_LITECORE_ROOT
elif [ -d "$root/../shared/litecore" ]; then
    lc=$(cd "$root/../shared/litecore" && pwd)
else
    lc=
fi
if [ -z "$lc" ]; then
    echo "skipped: no LiteCore (set LCWS_LITECORE_ROOT to a LiteCore install prefix: include/c4.h, include/fleece/, lib/libLiteCore.so)"
    exit 77
fi
for f in include/c4.h include/fleece/Fleece.h lib/libLiteCore.so; do
    if [ ! -e "$lc/$f" ]; then
        echo "skipped: LCWS_LITECORE_ROOT=$lc has no $f (a LiteCore install prefix has include/c4.h, include/fleece/, lib/libLiteCore.so)"
        exit 77
    fi
done
echo "LiteCore: $lc"

lib_dir=${LCWS_LIB_DIR:-$root/target/release}
out=${REAL_LC_OUT:-$root/build/real_litecore}
passed=0
failed=0
failures=()

# step NAME CMD...: prints and runs one step, records the result.
step() {
    local name=$1
    shift
    echo "+ $*"
    if "$@"; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        failures+=("$name")
        echo "FAILED: $name" >&2
    fi
}

finish() {
    echo
    echo "$mode -$opt: $passed step(s) passed, $failed failed"
    for f in "${failures[@]+"${failures[@]}"}"; do echo "  FAILED: $f"; done
    [ "$failed" -eq 0 ]
    exit $?
}

# usage_exit BIN [ARGS]: started without arguments (or with ARGS), BIN prints its usage and exits 2.
usage_exit() {
    LD_BIND_NOW=1 "$@" >/dev/null 2>&1
    local rc=$?
    [ "$rc" -eq 2 ] || echo "$1: exit status $rc, expected 2 (usage)" >&2
    [ "$rc" -eq 2 ]
}

case $mode in
glue)
    if [ ! -e "$lib_dir/liblitecore_ws.so" ]; then
        echo "run.sh: $lib_dir/liblitecore_ws.so not found (set LCWS_LIB_DIR)" >&2
        exit 1
    fi
    d="$out/glue-$opt"
    rm -rf "$d"
    mkdir -p "$d"
    # LiteCore's headers as system headers (-isystem), as an app includes a third-party library:
    # the warning flags then apply to litecore-ws's glue header and this program, not to LiteCore's
    # headers, which trip gcc's -Wall (#pragma mark), gcc's -Wattributes and clang's -pedantic
    # (nullability specifiers) on their own.
    flags=(-Wall -Wextra -Werror -pedantic "-$opt" -I"$root/include" -isystem "$lc/include")
    link=(-L"$lc/lib" -lLiteCore -L"$lib_dir" -llitecore_ws -ldl -Wl,-rpath,"$lc/lib:$lib_dir")
    ran=0
    for pair in gcc:g++ clang:clang++; do
        cc=${pair%%:*}
        cxx=${pair##*:}
        if ! command -v "$cc" >/dev/null || ! command -v "$cxx" >/dev/null; then
            echo "(no $cc/$cxx: not built with it)"
            continue
        fi
        ran=1
        step "build C11 $cc" "$cc" -std=c11 "${flags[@]}" "$here/glue_real.c" "${link[@]}" -o "$d/glue_real_c_$cc"
        step "run C11 $cc" "$d/glue_real_c_$cc"
        step "build C++17 $cxx" "$cxx" -std=c++17 "${flags[@]}" -x c++ "$here/glue_real.c" -x none "${link[@]}" \
            -o "$d/glue_real_cpp_$cxx"
        step "run C++17 $cxx" "$d/glue_real_cpp_$cxx"
    done
    [ "$ran" = 1 ] || { echo "run.sh: no C compiler pair found" >&2; exit 1; }
    finish
    ;;
examples)
    d="$out/examples-$opt"
    rm -rf "$d"
    mkdir -p "$out" # the configure log goes next to $d (the glue step may not have run yet)
    if [ "$opt" = O0 ]; then
        type_flags=(-DCMAKE_BUILD_TYPE=Debug "-DCMAKE_C_FLAGS_DEBUG=-g -O0" "-DCMAKE_CXX_FLAGS_DEBUG=-g -O0")
    else
        type_flags=(-DCMAKE_BUILD_TYPE=Release "-DCMAKE_C_FLAGS_RELEASE=-O2 -DNDEBUG" "-DCMAKE_CXX_FLAGS_RELEASE=-O2 -DNDEBUG")
    fi
    cargo_flags=()
    [ -n "${LCWS_CARGO_TARGET_DIR:-}" ] && cargo_flags+=("-DLCWS_CARGO_TARGET_DIR=$LCWS_CARGO_TARGET_DIR")
    [ -n "${LCWS_CARGO_PROFILE:-}" ] && cargo_flags+=("-DLCWS_CARGO_PROFILE=$LCWS_CARGO_PROFILE")
    echo "+ cmake -S $root -B $d -DLITECORE_ROOT=$lc -DLCWS_BUILD_TESTS=OFF ${type_flags[*]} ..."
    if ! CC=${REAL_LC_CC:-cc} CXX=${REAL_LC_CXX:-c++} cmake -S "$root" -B "$d" -DLITECORE_ROOT="$lc" \
        -DLCWS_BUILD_TESTS=OFF -DLCWS_BUILD_EXAMPLES=ON "${type_flags[@]}" \
        -DCMAKE_C_FLAGS=-Werror -DCMAKE_CXX_FLAGS=-Werror "${cargo_flags[@]}" >"$d.configure.log" 2>&1; then
        cat "$d.configure.log"
        echo "FAILED: configure" >&2
        exit 1
    fi
    grep 'litecore-ws examples' "$d.configure.log"
    step "LiteCore found by CMake" grep -q 'building replicate, session_login, p2p_sync' "$d.configure.log"
    step build cmake --build "$d" -j2
    for ex in replicate session_login p2p_sync; do
        step "$ex built" test -x "$d/examples-c/$ex"
        step "$ex links libLiteCore" sh -c "readelf -d '$d/examples-c/$ex' | grep -q 'NEEDED.*libLiteCore'"
        # p2p_sync runs without arguments; a bad one gives its usage.
        if [ "$ex" = p2p_sync ]; then
            step "$ex loads (usage)" usage_exit "$d/examples-c/$ex" --help
        else
            step "$ex loads (usage)" usage_exit "$d/examples-c/$ex"
        fi
    done
    if grep -q 'building qt_replicate' "$d.configure.log"; then
        step "qt_replicate built" test -x "$d/examples-c/qt/qt_replicate"
        step "qt_replicate loads (usage)" usage_exit "$d/examples-c/qt/qt_replicate"
        step "qt_replicate --serve loads (usage)" usage_exit "$d/examples-c/qt/qt_replicate" --serve
    else
        echo "(Qt6 Core not found: qt_replicate not built)"
    fi
    finish
    ;;
replicate_401)
    bin="$out/examples-$opt/examples-c/replicate"
    if [ ! -x "$bin" ]; then
        echo "run.sh: $bin is missing: litecore_real_examples_$opt did not build it" >&2
        exit 1
    fi
    step "replicate, wrong password" "${PYTHON:-python3}" "$root/tests/c/examples/run_example.py" \
        replicate_wrong_password --litecore --peers-dir "$root/tests/peers" --bin "$bin"
    finish
    ;;
p2p_sync)
    bin="$out/examples-$opt/examples-c/p2p_sync"
    if [ ! -x "$bin" ]; then
        echo "run.sh: $bin is missing: litecore_real_examples_$opt did not build it" >&2
        exit 1
    fi
    d="$out/p2p_sync-$opt"
    rm -rf "$d"
    mkdir -p "$d"
    echo "+ $bin $d"
    timeout 120 "$bin" "$d" >"$d.out" 2>&1
    rc=$?
    cat "$d.out"
    step "p2p_sync exit status 0 (got $rc)" test "$rc" -eq 0
    # has TEXT: the output has a line containing TEXT (fixed string).
    has() { grep -qF -- "$1" "$d.out"; }
    step "served over wss on 127.0.0.1" has "listening: wss://127.0.0.1:"
    step "the generated certificate" sh -c "grep -qE '^certificate: [0-9]{3,} bytes \(DER\), generated' '$d.out'"
    step "2 documents pushed" has "pushed 2 documents to the served database (first: peer-"
    step "3 documents pulled" has "pulled 3 documents from the served database (first: served-"
    step "5 documents on each side" has "served.cblite2 now has 5 documents, peer.cblite2 5"
    step "a document of the peer in the served database" has 'served.cblite2 has peer-1: {"text": "hello from the peer"}'
    step "a document of the served database in the peer" has 'peer.cblite2 has served-1: {"text": "hello from the served database"}'
    step "the listener's connection ended" has "listener: 0 connection(s) left, 0 active"
    step "finished" has "p2p sync finished: both databases have all 5 documents"
    step "the databases were kept in DIR" test -d "$d/served.cblite2" -a -d "$d/peer.cblite2"
    finish
    ;;
qt_serve)
    if ! grep -q 'building qt_replicate' "$out/examples-$opt.configure.log" 2>/dev/null; then
        echo "skipped: qt_replicate was not built by litecore_real_examples_$opt (Qt6 Core not found?)"
        exit 77
    fi
    bin="$out/examples-$opt/examples-c/qt/qt_replicate"
    d="$out/qt_serve-$opt"
    rm -rf "$d"
    step "qt_replicate --serve, a peer replicating into it" "${PYTHON:-python3}" "$root/examples-c/qt/run_qt_serve_real.py" \
        --bin "$bin" --lcws "$lib_dir/liblitecore_ws.so" --litecore "$lc/lib/libLiteCore.so" --workdir "$d"
    finish
    ;;
*)
    echo "run.sh: unknown step $mode (glue, examples, replicate_401, p2p_sync, qt_serve)" >&2
    exit 1
    ;;
esac
