#!/usr/bin/env bash
# Subscription fan-out across replicas: two release devgraph servers on one
# PostgreSQL database (as two replicas behind a load balancer would be), and
# the live client (api/examples/live.rs), which holds 0 to 10,000
# `metricsChanged` subscriptions on replica B, reads B's resident memory at
# each level, and times events ingested through replica A until B's
# subscriber hears of them (PostgreSQL LISTEN/NOTIFY in between). Not a
# test: a measurement, reported in bench/README.md.
#
#   bash bench/live.sh
#   LIVE_SUBSCRIBERS=0,1000 LIVE_SAMPLES=20 bash bench/live.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
db=${LIVE_DB:-devgraph_live}
port_a=${LIVE_PORT_A:-8131}
port_b=${LIVE_PORT_B:-8132}
subscribers=${LIVE_SUBSCRIBERS:-0,1000,5000,10000}
samples=${LIVE_SAMPLES:-40}
source "$root/bench/lib.sh"
scratch live

step "PostgreSQL"
source "$root/bench/pg.sh"
fresh_db "$db"
url="postgres://devgraph:devgraph@127.0.0.1:${port}/${db}"

release_build
cargo build --release -p devgraph --example live
live=${CARGO_TARGET_DIR:-$root/target}/release/examples/live
export DATABASE_URL=$url RUST_LOG=warn JWT_SECRET=live-bench-secret-that-is-long-enough-0123
lift_budgets
# Every subscriber is in one organization here; one connection holds ten.
export DEVGRAPH_WS_MAX_ORG_SUBSCRIPTIONS=1000000 DEVGRAPH_DB_POOL_SIZE=10
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
"$bin" migrate up

step "Replicas A (:$port_a) and B (:$port_b)"
DEVGRAPH_ADDR=127.0.0.1:$port_a "$bin" serve > "$out/live-a.log" 2>&1 &
pids+=($!)
DEVGRAPH_ADDR=127.0.0.1:$port_b "$bin" serve > "$out/live-b.log" 2>&1 &
pid_b=$!
pids+=($pid_b)
wait_http "http://127.0.0.1:$port_a/readyz"
wait_http "http://127.0.0.1:$port_b/readyz"

step "Subscribers on B at $subscribers; $samples events through A at the first and last level"
"$live" --a "127.0.0.1:$port_a" --b "127.0.0.1:$port_b" --pid-b "$pid_b" \
  --subscribers "$subscribers" --samples "$samples" | tee "$out/live.txt"
curl -fsS "http://127.0.0.1:$port_b/metrics" | grep -E '^devgraph_(websocket_connections|subscriptions) '
