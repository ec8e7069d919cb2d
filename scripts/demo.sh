#!/usr/bin/env bash
# Builds litecore-ws and runs the demo: the C harness plays LiteCore and talks through
# litecore-ws to the bundled Sync Gateway stand-in over ws and over wss (nginx terminating TLS),
# printing each step. Needs python3 with `websockets`, nginx and openssl (see .ci/run).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export PATH="$HOME/.cargo/bin:$PATH"
./scripts/setup.sh demo
cmake -S . -B build/plain -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build build/plain -j"${LCWS_JOBS:-2}" --target lcws_demo >/dev/null
exec build/plain/tests/c/lcws_demo "$(command -v python3)" "$root/tests/peers/peers.py"
