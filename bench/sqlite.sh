#!/usr/bin/env bash
# The Dashboard on the embedded default: a release devgraph on SQLite (the
# database `cargo run` uses), seeded with run.sh's data set (3
# organizations × 10 team spaces, 500 developers and 50 projects each, 90
# days at 4 events a developer-day), driven by the same load client at
# concurrency 1 and 8 for each range. Prints the same table as run.sh, the
# first and the last third of each level beside the whole level. Not a
# test: a measurement, reported in bench/README.md.
#
#   bash bench/sqlite.sh
#   SQLITE_SECONDS=10 bash bench/sqlite.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
seconds=${SQLITE_SECONDS:-45}
levels=${SQLITE_CONCURRENCY:-1,8}
port_http=${SQLITE_PORT:-8127}
data=${SQLITE_DIR:-/tmp/devgraph-bench-sqlite}
mkdir -p "$data"
source "$root/bench/lib.sh"
scratch sqlite

release_build
export DATABASE_URL="sqlite://$data/devgraph.db?mode=rwc" \
  JWT_SECRET=sqlite-bench-secret-that-is-long-enough-0123 RUST_LOG=warn
lift_budgets

sql() { python3 -c 'import sqlite3, sys; print("\n".join(str(r[0]) for r in sqlite3.connect(sys.argv[1]).execute(sys.argv[2])))' "$data/devgraph.db" "$1"; }
if [ "${SQLITE_REUSE:-0}" != 1 ] || [ ! -s "$data/devgraph.db" ]; then
  step "Seed: 3 organizations x 10 team spaces, 500 developers and 50 projects each, 90 days"
  rm -f "$data"/devgraph.db*
  "$bin" migrate up
  "$bin" seed --orgs 3 --team-spaces 10 --developers 500 --projects 50 --days 90 --events-per-day 4 --pull-requests 0
fi
slug=$(sql "SELECT slug FROM organizations ORDER BY slug LIMIT 1")
org_hex=$(sql "SELECT hex(id) FROM organizations WHERE slug = '$slug'")
owner=$(sql "SELECT email FROM developers WHERE hex(organization_id) = '$org_hex' AND role = 'owner' ORDER BY id LIMIT 1")
token=$("$bin" token --org "$slug" --developer "$owner")

step "devgraph (release) on SQLite, :$port_http"
DEVGRAPH_ADDR=127.0.0.1:$port_http "$bin" serve > "$out/sqlite-devgraph.log" 2>&1 &
pids+=($!)
wait_http "http://127.0.0.1:$port_http/readyz"
results=$work/results.jsonl
for days in 30 90; do
  python3 - "$root/bench/queries/devgraph/dashboard.graphql" "$work/body.json" "$days" <<'PY'
import datetime, json, sys
query, path, days = sys.argv[1], sys.argv[2], int(sys.argv[3])
today = datetime.date.today()
body = {"query": open(query).read(),
        "variables": {"from": str(today - datetime.timedelta(days=days - 1)), "to": str(today)}}
open(path, "w").write(json.dumps(body))
PY
  step "dashboard-${days}d: concurrency $levels, ${seconds} s a level"
  "$load" --url "http://127.0.0.1:$port_http/graphql" --body "$work/body.json" \
    --header "authorization: Bearer $token" --concurrency "$levels" --warmup 2 \
    --duration "$seconds" --server devgraph --scenario "dashboard-${days}d" --out "$results"
done
python3 "$root/bench/report.py" "$results" | tee "$out/sqlite.md"
