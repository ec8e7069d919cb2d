#!/usr/bin/env bash
# Builds litecore-ws and runs the C harness's demo: a fake LiteCore registers litecore-ws and
# opens sockets, printing what crosses the boundary at each step.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export PATH="$HOME/.cargo/bin:$PATH"
cmake -S . -B build/plain -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build build/plain -j"${LCWS_JOBS:-2}" --target lcws_demo >/dev/null
exec build/plain/tests/c/lcws_demo "$root/tests/data/fleece/encode"
