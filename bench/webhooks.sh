#!/usr/bin/env bash
# GitHub webhook ingestion with the server in its own process: a release
# devgraph on PostgreSQL, and the webhook load client
# (api/examples/webhooks.rs), which connects a GitHub repository through the
# services, then sends signed deliveries to /v1/webhooks/github/{id} (pull
# requests played through their life: pushes, opened, reviews, merged, a
# production deployment status; each delivery with its own
# X-GitHub-Delivery) at 1, 4 and 16 clients for WEBHOOK_SECONDS (default 20)
# each. Prints deliveries/s, p50, p99, errors and SQL statements per
# delivery per level, where PostgreSQL's time goes, then checks that every
# acknowledged delivery was recorded once and that the merged pull requests
# carry their derived times. Not a test: a measurement, reported in
# bench/README.md.
#
#   bash bench/webhooks.sh
#   WEBHOOK_SECONDS=10 WEBHOOK_CLIENTS=1,4 bash bench/webhooks.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
seconds=${WEBHOOK_SECONDS:-20}
clients=${WEBHOOK_CLIENTS:-1,4,16}
db=${WEBHOOK_DB:-devgraph_webhooks}
port_http=${WEBHOOK_PORT:-8129}
source "$root/bench/lib.sh"
scratch webhooks

step "PostgreSQL"
source "$root/bench/pg.sh"
fresh_db "$db"
url="postgres://devgraph:devgraph@127.0.0.1:${port}/${db}"

release_build
cargo build --release -p devgraph --example webhooks
hooks=${CARGO_TARGET_DIR:-$root/target}/release/examples/webhooks
# The server seals webhook secrets with this key, and the load client seals
# the repository's with the same one, so the server can open it.
secret_key=$(python3 -c 'import base64, os; print(base64.b64encode(os.urandom(32)).decode())')
export DATABASE_URL=$url DEVGRAPH_SECRET_KEY=$secret_key RUST_LOG=warn \
  JWT_SECRET=webhook-bench-secret-that-is-long-enough-01
lift_budgets
"$bin" migrate up

step "devgraph (release) on :$port_http"
DEVGRAPH_ADDR=127.0.0.1:$port_http "$bin" serve > "$out/webhooks-devgraph.log" 2>&1 &
pids+=($!)
wait_http "http://127.0.0.1:$port_http/readyz"

step "Deliveries at $clients clients, $seconds s each"
results=$work/results.jsonl
"$hooks" --url "http://127.0.0.1:$port_http" --concurrency "$clients" \
  --warmup 2 --duration "$seconds" --out "$results"

step "Where PostgreSQL's time goes (pg_stat_statements, the last level)"
psql_admin -d "$db" -F ' | ' -c "
  SELECT round(total_exec_time)::bigint AS total_ms, calls,
         round((total_exec_time / greatest(calls, 1))::numeric, 3) AS mean_ms,
         left(regexp_replace(query, '\s+', ' ', 'g'), 90)
  FROM pg_stat_statements
  WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
    AND query NOT ILIKE '%pg_stat_statements%'
  ORDER BY total_exec_time DESC LIMIT 16" | tee "$out/webhooks-statements.txt"

step "Checks"
recorded=$(psql_admin -d "$db" -c "SELECT count(*) FROM webhook_deliveries")
distinct=$(psql_admin -d "$db" -c "SELECT count(DISTINCT delivery_id) FROM webhook_deliveries")
incomplete=$(psql_admin -d "$db" -c "
  SELECT count(*) FROM pull_requests WHERE state = 'merged'
  AND (first_commit_at IS NULL OR first_review_at IS NULL OR approved_at IS NULL)")
merged=$(psql_admin -d "$db" -c "SELECT count(*) FROM pull_requests WHERE state = 'merged'")
python3 - "$results" "$recorded" "$distinct" "$incomplete" "$merged" <<'PY' | tee "$out/webhooks.md"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
recorded, distinct, incomplete, merged = map(int, sys.argv[2:6])
print("| clients | deliveries/s | p50 ms | p99 ms | SQL/delivery | errors |")
print("|---:|---:|---:|---:|---:|---:|")
for r in rows:
    stmts = r["statements_per_delivery"]
    stmts = "-" if stmts is None else f"{stmts:.1f}"
    print(f"| {r['concurrency']} | {r['rps']:,.1f} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} | "
          f"{stmts} | {r['errors']} |")
mix = {}
for r in rows:
    for event, n in r["by_event"].items():
        mix[event] = mix.get(event, 0) + n
total = sum(mix.values())
print("\nmix: " + ", ".join(f"{e} {100 * n / total:.0f}%" for e, n in sorted(mix.items())))
print(f"recorded {recorded:,} deliveries ({distinct:,} distinct ids); "
      f"{merged:,} merged pull requests, {incomplete} without their derived times")
errors = sum(r["errors"] for r in rows)
# Warm-up deliveries are recorded too, so the recorded count is at least what
# the measured windows acknowledged.
acked = sum(r["accepted"] for r in rows)
if errors:
    sys.exit(f"{errors} deliveries failed")
if recorded != distinct:
    sys.exit("a delivery id was recorded twice")
if recorded < acked:
    sys.exit(f"{acked:,} deliveries acknowledged in the measured windows, only {recorded:,} recorded")
if incomplete:
    sys.exit("merged pull requests lack a first commit, first review or approval")
PY
