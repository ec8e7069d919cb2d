#!/usr/bin/env bash
# Builds and runs the tests of include/litecore_ws_c4.h (the LiteCore glue header) against the
# mock LiteCore headers in tests/c/litecore_mock, for several mocked LiteCore versions, with every
# available compiler (gcc/g++ always; clang/clang++ when installed), all with
# -Wall -Wextra -Werror -pedantic:
#
#   1. glue_compile.c (C11) and glue_compile.cpp (C++17): compile only; layout static asserts and
#      a reference to every glue function, the listener glue's too where the headers have
#      collections (3.1+; it must be compiled out for 3.0 and below, and with LCWS_C4_NO_LISTENER);
#      plus variants with each configuration macro set.
#   2. glue_register (C11 and C++17 builds of glue_register.c): links the real litecore-ws library
#      and a mock libLiteCore (mock_litecore_impl.c) and runs; prints "glue_register: ok".
#   3. glue_listener (C11 and C++17 builds of glue_listener.c; versions 3.1 and later): the
#      listener glue (lcws_c4listener_*) against the same library and mock, which plays LiteCore's
#      side of incoming connections (c4socket_fromNative, c4repl_newWithSocket with or without
#      logPrefix, the passive replicator's status reports); a raw TCP client in the test sends the
#      upgrade requests; prints "glue_listener: ok".
#
# Every build or run step is one command, printed before it runs ("+ ..."), so it can be lifted
# into CMake/ctest as is.
#
# Environment:
#   LCWS_LIB_DIR       directory with liblitecore_ws.so (default: <repo>/target/release)
#   GLUE_BUILD_DIR     output directory (default: <repo>/build/glue)
#   GLUE_VERSIONS      mocked LiteCore versions, each VERSION or VERSION:EXTRA_FLAGS
#                      (default: "280:-DLCWS_LITECORE_28=1 300 310 320 330 341 410 300:-O2 320:-O2
#                      410:-O2 410:-O3"; 310: collections, c4repl_newWithSocket without logPrefix;
#                      320: with it; optimised builds catch padding bytes the compiler does not keep)
#   GLUE_COMPILE_ONLY  1: skip step 2 (e.g. while the library is not built yet)
#   GLUE_COMPILERS     pairs "cc:c++" to use (default: "gcc:g++ clang:clang++", missing ones skipped)
#   GLUE_CFLAGS, GLUE_CXXFLAGS   extra flags for every C / C++ step, before the version's own
#                      (ctest passes the build type's, e.g. "-O3 -DNDEBUG" in a Release build)
#
# Exit status: 0 when every step passed, 1 otherwise (each failure is reported).

set -u

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
LIB_DIR=${LCWS_LIB_DIR:-$HERE/../../../target/release}
LIB_DIR=$(cd "$LIB_DIR" 2>/dev/null && pwd || echo "$LIB_DIR")
OUT=${GLUE_BUILD_DIR:-$ROOT/build/glue}
VERSIONS=${GLUE_VERSIONS:-"280:-DLCWS_LITECORE_28=1 300 310 320 330 341 410 300:-O2 320:-O2 410:-O2 410:-O3"}
COMPILE_ONLY=${GLUE_COMPILE_ONLY:-0}
COMPILERS=${GLUE_COMPILERS:-"gcc:g++ clang:clang++"}

INC="-I$ROOT/include -I$ROOT/tests/c/litecore_mock"
CFLAGS_X=${GLUE_CFLAGS:-}
CXXFLAGS_X=${GLUE_CXXFLAGS:-}
WFLAGS="-Wall -Wextra -Werror -pedantic"
MOCK="$ROOT/tests/c/litecore_mock"

passed=0
failed=0
failures=()

# run NAME CMD...: prints and runs one step, records the result.
run() {
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

if [ "$COMPILE_ONLY" != 1 ] && [ ! -e "$LIB_DIR/liblitecore_ws.so" ]; then
    echo "build_and_run.sh: $LIB_DIR/liblitecore_ws.so not found; build it (cargo build --release)," >&2
    echo "set LCWS_LIB_DIR, or set GLUE_COMPILE_ONLY=1 to run the compile tests only" >&2
    exit 1
fi

for pair in $COMPILERS; do
    CC=${pair%%:*}
    CXX=${pair##*:}
    if ! command -v "$CC" >/dev/null 2>&1 || ! command -v "$CXX" >/dev/null 2>&1; then
        echo "(skipping $CC/$CXX: not installed)"
        continue
    fi
    for entry in $VERSIONS; do
        V=${entry%%:*}
        EXTRA=""
        [ "$entry" != "$V" ] && EXTRA=${entry#*:}
        D="$OUT/$CC/v$V"
        mkdir -p "$D"
        DEFS="-DMOCK_LC_VERSION=$V $EXTRA"

        # --- 1. compile tests: default configuration ---
        # shellcheck disable=SC2086
        run "compile C $CC v$V" $CC -std=c11 $CFLAGS_X $WFLAGS $DEFS $INC -c "$HERE/glue_compile.c" -o "$D/glue_compile_c.o"
        # shellcheck disable=SC2086
        run "compile C++ $CXX v$V" $CXX -std=c++17 $CXXFLAGS_X $WFLAGS $DEFS $INC -c "$HERE/glue_compile.cpp" -o "$D/glue_compile_cpp.o"

        # --- 1b. compile tests: configuration macros (on the newest and on an old version) ---
        VARIANTS=()
        case $V in
        410)
            VARIANTS=(
                "-DLCWS_C4_HAS_PEER_CERTIFICATE=1"
                "-DLCWS_C4_HAS_PEER_CERTIFICATE=0 -DLCWS_C4_ROUTE_LOG=0"
                "-DLCWS_C4_SET_COOKIE_ARITY=6"
                "-DLCWS_C4_SET_COOKIE_ARITY=0"
                "-DLCWS_C4_COOKIES=0"
                "-DLCWS_C4_LOG_DOMAIN=kC4SyncLog"
                "-DGLUE_TEST_PREINCLUDE=1"
                "-DLCWS_LITECORE_INCLUDE=<c4.h>"
                "-DLCWS_C4_NO_LISTENER=1"
            )
            ;;
        300)
            VARIANTS=("-DLCWS_C4_SET_COOKIE_ARITY=5")
            ;;
        esac
        i=0
        for variant in "${VARIANTS[@]}"; do
            i=$((i + 1))
            # shellcheck disable=SC2086
            run "compile C $CC v$V [$variant]" $CC -std=c11 $CFLAGS_X $WFLAGS $DEFS $variant $INC -c "$HERE/glue_compile.c" -o "$D/glue_compile_c_$i.o"
            # shellcheck disable=SC2086
            run "compile C++ $CXX v$V [$variant]" $CXX -std=c++17 $CXXFLAGS_X $WFLAGS $DEFS $variant $INC -c "$HERE/glue_compile.cpp" -o "$D/glue_compile_cpp_$i.o"
        done

        [ "$COMPILE_ONLY" = 1 ] && continue

        # --- 2. runtime test against the real library and a mock libLiteCore ---
        # shellcheck disable=SC2086
        run "mock libLiteCore $CC v$V" $CC -std=c11 $CFLAGS_X $WFLAGS $DEFS -fPIC -shared -I"$MOCK" "$HERE/mock_litecore_impl.c" -o "$D/libmocklitecore.so" -lpthread

        RUNTIME_VARIANTS=("")
        if [ "$V" = 410 ]; then
            RUNTIME_VARIANTS+=("-DLCWS_C4_HAS_PEER_CERTIFICATE=1" "-DLCWS_C4_HAS_PEER_CERTIFICATE=0 -DLCWS_C4_ROUTE_LOG=0 -DLCWS_C4_COOKIES=0")
        fi
        if [ "$V" = 300 ]; then
            RUNTIME_VARIANTS+=("-DLCWS_C4_SET_COOKIE_ARITY=5")
        fi
        j=0
        for rv in "${RUNTIME_VARIANTS[@]}"; do
            j=$((j + 1))
            LINK="-L$D -lmocklitecore -L$LIB_DIR -llitecore_ws -Wl,-rpath,$D:$LIB_DIR"
            # shellcheck disable=SC2086
            run "tu2 $CC v$V [$rv]" $CC -std=c11 $CFLAGS_X $WFLAGS $DEFS $rv $INC -I"$HERE" -c "$HERE/glue_register_tu2.c" -o "$D/glue_register_tu2_$j.o"
            # shellcheck disable=SC2086
            run "build glue_register C $CC v$V [$rv]" $CC -std=c11 $CFLAGS_X $WFLAGS $DEFS $rv $INC -I"$HERE" "$HERE/glue_register.c" "$D/glue_register_tu2_$j.o" $LINK -o "$D/glue_register_c_$j"
            run "run glue_register C $CC v$V [$rv]" "$D/glue_register_c_$j"
            # shellcheck disable=SC2086
            run "build glue_register C++ $CXX v$V [$rv]" $CXX -std=c++17 $CXXFLAGS_X $WFLAGS $DEFS $rv $INC -I"$HERE" -x c++ "$HERE/glue_register.c" -x none "$D/glue_register_tu2_$j.o" $LINK -o "$D/glue_register_cpp_$j"
            run "run glue_register C++ $CXX v$V [$rv]" "$D/glue_register_cpp_$j"
        done

        # --- 3. the listener glue at run time (headers with collections: 3.1+) ---
        if [ "$V" -ge 310 ]; then
            LINK="-L$D -lmocklitecore -L$LIB_DIR -llitecore_ws -Wl,-rpath,$D:$LIB_DIR -ldl -lpthread"
            # shellcheck disable=SC2086
            run "build glue_listener C $CC v$V" $CC -std=c11 $CFLAGS_X $WFLAGS $DEFS $INC -I"$HERE" "$HERE/glue_listener.c" $LINK -o "$D/glue_listener_c"
            run "run glue_listener C $CC v$V" "$D/glue_listener_c"
            # shellcheck disable=SC2086
            run "build glue_listener C++ $CXX v$V" $CXX -std=c++17 $CXXFLAGS_X $WFLAGS $DEFS $INC -I"$HERE" -x c++ "$HERE/glue_listener.c" -x none $LINK -o "$D/glue_listener_cpp"
            run "run glue_listener C++ $CXX v$V" "$D/glue_listener_cpp"
        fi
    done
done

echo
echo "glue tests: $passed step(s) passed, $failed failed"
if [ "$failed" -ne 0 ]; then
    for f in "${failures[@]}"; do echo "  FAILED: $f"; done
    exit 1
fi
exit 0
