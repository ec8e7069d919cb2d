#!/usr/bin/env bash
# The packager's build, then the consumers:
#   1. configures a fresh build directory with the line README gives packagers,
#        cmake -S SOURCE_DIR -B BUILD -DLCWS_BUILD_TESTS=OFF -DLCWS_BUILD_EXAMPLES=OFF
#      (plus EXTRA_CMAKE_ARGS: the calling build's compiler and cargo directory, so the library
#      cargo already built is reused), builds it, and checks that nothing but the library was
#      built: no tests registered, no test or example directory, no object file or program;
#   2. installs it into a temporary prefix and checks the layout;
#   3. builds and runs a consumer program the ways a C user would: CMake find_package (shared,
#      static) and pkg-config (shared, --static).
# Prints "N passed, N failed".
# usage: tests/install/run.sh SOURCE_DIR [EXTRA_CMAKE_ARGS...]
set -uo pipefail
src=${1:?usage: run.sh SOURCE_DIR [EXTRA_CMAKE_ARGS...]}
shift
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d /tmp/lcws-install.XXXXXX)
trap 'rm -rf "$work"' EXIT
build="$work/build"
prefix="$work/prefix"
passed=0
failed=0
step() {
    local name=$1
    shift
    echo "+ [$name] $*"
    if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAILED: $name" >&2; fi
}

# only_the_library BUILD: what the packager's build made is the library (cargo's, outside BUILD)
# and CMake's own files; anything compiled in BUILD belongs to a test or an example.
only_the_library() {
    local b=$1 bad
    if [ -n "$(find "$b" -name CTestTestfile.cmake)" ]; then echo "tests were registered" >&2; return 1; fi
    for d in tests examples-c; do
        if [ -e "$b/$d" ]; then echo "$d/ was configured" >&2; return 1; fi
    done
    # CMake's compiler checks leave objects and programs under CMakeFiles/<cmake version>/.
    bad=$(find "$b" -path "$b/CMakeFiles/[0-9]*" -prune -o -type f \( -name '*.o' -o -name '*.a' -o -name '*.so' \
          -o -perm -u+x \) -print)
    if [ -n "$bad" ]; then echo "built besides the library:"; echo "$bad"; return 1; fi >&2
    return 0
}

step configure cmake -S "$src" -B "$build" -DLCWS_BUILD_TESTS=OFF -DLCWS_BUILD_EXAMPLES=OFF "$@"
step build cmake --build "$build" -j2
step only-the-library only_the_library "$build"
step install cmake --install "$build" --prefix "$prefix"
lib="$prefix/lib"
[ -d "$prefix/lib64" ] && lib="$prefix/lib64"
step layout test -f "$lib/liblitecore_ws.so.0.1.0" -a -L "$lib/liblitecore_ws.so.0.1" -a -L "$lib/liblitecore_ws.so" \
    -a -f "$lib/liblitecore_ws.a" -a -f "$prefix/include/litecore_ws.h" -a -f "$prefix/include/litecore_ws_c4.h" \
    -a -f "$lib/cmake/LiteCoreWS/LiteCoreWSConfig.cmake" -a -f "$lib/pkgconfig/litecore-ws.pc"
step soname sh -c "readelf -d '$lib/liblitecore_ws.so.0.1.0' | grep -q 'SONAME.*liblitecore_ws.so.0.1'"

for link in shared static; do
    out="$work/cmake-$link"
    step "cmake-$link-configure" cmake -S "$here/consumer" -B "$out" -DCMAKE_PREFIX_PATH="$prefix" -DLCWS_LINK=$link
    step "cmake-$link-build" cmake --build "$out"
    step "cmake-$link-run" "$out/consumer"
done
# A static consumer must not need the shared library at run time.
step cmake-static-no-so sh -c "! readelf -d '$work/cmake-static/consumer' | grep -q liblitecore_ws"

export PKG_CONFIG_PATH="$lib/pkgconfig"
step pkgconfig-version sh -c "test \"\$(pkg-config --modversion litecore-ws)\" = 0.1.0"
step pkgconfig-shared-build sh -c "cc -std=c11 -Wall -Wextra -Werror '$here/consumer/consumer.c' -o '$work/pc-shared' \$(pkg-config --cflags --libs litecore-ws)"
step pkgconfig-shared-run env LD_LIBRARY_PATH="$lib" "$work/pc-shared"
step pkgconfig-static-libs sh -c "pkg-config --static --libs litecore-ws | grep -q -- '-ldl'"
step pkgconfig-static-build sh -c "cc -std=c11 -Wall -Wextra -Werror '$here/consumer/consumer.c' -o '$work/pc-static' \$(pkg-config --cflags litecore-ws) '$lib/liblitecore_ws.a' \$(pkg-config --static --libs-only-l litecore-ws | sed 's/-llitecore_ws//')"
step pkgconfig-static-run "$work/pc-static"

echo "install: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
