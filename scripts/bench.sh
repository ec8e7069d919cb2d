#!/usr/bin/env bash
# Builds litecore-ws and the benchmark optimized (cargo's bench profile = release) and runs the transport benchmarks (issue 6): litecore-ws
# through its C ABI vs. a plain tokio-tungstenite client, throughput / latency / memory under a
# slow host / 1,000 sockets. Prints Markdown tables (the README's "Performance" section).
#
#   ./scripts/bench.sh                 # default run, about 1-3 minutes on a 2-core machine
#   ./scripts/bench.sh --quick         # smaller volumes and fewer trials
#   ./scripts/bench.sh --full          # bigger volumes, more rounds and trials
#   ./scripts/bench.sh --only tput,lat # a subset: tput, lat, mem, scale
#   ./scripts/bench.sh --only tput --scheme ws --size 1024 --client lcws --rounds 1
#                                      # one throughput case (for valgrind --tool=callgrind)
#
# The same with cargo: cargo bench --bench transport -- [flags]   (or LCWS_BENCH=quick|full)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo bench --bench transport --no-run
exec cargo bench --bench transport -- "$@"
