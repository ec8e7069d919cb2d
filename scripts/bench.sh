#!/usr/bin/env bash
# Builds litecore-ws and the benchmarks optimized (cargo's bench profile = release) and runs them.
# Both print Markdown tables (the README's "Performance" section).
#
# The client (benches/transport.rs): litecore-ws through its C ABI vs. a plain
# tokio-tungstenite client, throughput / latency / memory under a slow host / 1,000 sockets.
#
#   ./scripts/bench.sh                 # default run, about 1-3 minutes on a 2-core machine
#   ./scripts/bench.sh --quick         # smaller volumes and fewer trials
#   ./scripts/bench.sh --full          # bigger volumes, more rounds and trials
#   ./scripts/bench.sh --only tput,lat # a subset: tput, lat, mem, scale
#   ./scripts/bench.sh --only tput --scheme ws --size 1024 --client lcws --rounds 1
#                                      # one throughput case (for valgrind --tool=callgrind)
#
# The listener (benches/listener.rs): litecore-ws's listener through its C ABI vs. a
# plain tokio-tungstenite server, accept rate / connect latency / echo throughput / 1,000 idle
# incoming sockets, the client in a separate process.
#
#   ./scripts/bench.sh --listener                  # default run, about 2-3 minutes
#   ./scripts/bench.sh --listener --quick          # (--full, --rounds N, --trials N as above)
#   ./scripts/bench.sh --listener --only accept,lat,tput,scale
#   ./scripts/bench.sh --listener --only tput --scheme ws --size 1024 --server lcws --rounds 1
#
# The same with cargo: cargo bench --bench transport|listener -- [flags] (or LCWS_BENCH=quick|full)
set -euo pipefail
cd "$(dirname "$0")/.."
bench=transport
args=()
for a in "$@"; do
    if [ "$a" = --listener ]; then
        bench=listener
    else
        args+=("$a")
    fi
done
cargo bench --bench "$bench" --no-run
exec cargo bench --bench "$bench" -- ${args[@]+"${args[@]}"}
