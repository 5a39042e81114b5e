#!/usr/bin/env bash
# Tenant budgets under load: a quiet organization's latency alone, then
# while a noisy organization sends from 16 clients at once (its in-flight
# budget is 8 by default, the pool 10), against a release devgraph on
# PostgreSQL. Prints both, and how many of the noisy requests were answered
# 429 RATE_LIMITED (counted as "errors" by the load client). A measurement,
# reported in bench/README.md, not a test.
#
#   bash bench/budgets.sh
#   BUDGET_SECONDS=20 DEVGRAPH_TENANT_IN_FLIGHT=2 bash bench/budgets.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
seconds=${BUDGET_SECONDS:-30}
db=${BUDGET_DB:-devgraph_budgets}
port_http=${BUDGET_PORT:-8126}
source "$root/bench/lib.sh"
scratch budgets

step "PostgreSQL"
source "$root/bench/pg.sh"
fresh_db "$db"
url="postgres://devgraph:devgraph@127.0.0.1:${port}/${db}"

release_build
export DATABASE_URL=$url JWT_SECRET=budget-bench-secret-that-is-long-enough-01 RUST_LOG=warn

step "Seed: 2 organizations, 10 team spaces, 200 developers, 20 projects, 30 days each"
"$bin" migrate up
"$bin" seed --orgs 2 --team-spaces 10 --developers 200 --projects 20 --days 30 --pull-requests 0
token_of() {
  local org_id owner
  org_id=$(psql_admin -d "$db" -c "SELECT id FROM organizations WHERE slug = '$1'")
  owner=$(psql_admin -d "$db" -c "SELECT email FROM developers WHERE organization_id = '$org_id' AND role = 'owner' ORDER BY id LIMIT 1")
  "$bin" token --org "$1" --developer "$owner"
}
slugs=($(psql_admin -d "$db" -c "SELECT slug FROM organizations ORDER BY slug"))
noisy=$(token_of "${slugs[0]}")
quiet=$(token_of "${slugs[1]}")
# The quiet organization's closed-loop client would spend its default 1,200
# requests a minute in seconds: the operator gives it room, so what is
# measured is its latency, not its own budget.
"$bin" org set-budget --org "${slugs[1]}" --in-flight 64 --requests-per-minute 10000000 \
  --points-per-minute 2000000000
python3 - "$root/bench/queries/devgraph/dashboard.graphql" "$work" <<'PY'
import datetime, json, sys
query, work = sys.argv[1], sys.argv[2]
today = datetime.date.today()
body = {"query": open(query).read(),
        "variables": {"from": str(today - datetime.timedelta(days=29)), "to": str(today)}}
open(f"{work}/dashboard.json", "w").write(json.dumps(body))
open(f"{work}/lookup.json", "w").write(json.dumps({"query": "{ viewer { id name } organization { id name } }"}))
PY

step "devgraph (release) on :$port_http"
DEVGRAPH_ADDR=127.0.0.1:$port_http "$bin" serve > "$out/budgets-devgraph.log" 2>&1 &
server=$!
pids+=($server)
wait_http "http://127.0.0.1:$port_http/readyz"
results=$work/results.jsonl
quiet_run() {
  "$load" --url "http://127.0.0.1:$port_http/graphql" --body "$work/lookup.json" \
    --header "authorization: Bearer $quiet" --concurrency 1 --warmup 2 --duration "$seconds" \
    --server devgraph --scenario "$1" --out "$results"
}

step "The quiet organization alone, ${seconds} s"
quiet_run quiet-alone

step "The quiet organization while the noisy one sends Dashboards from 16 clients, ${seconds} s"
"$load" --url "http://127.0.0.1:$port_http/graphql" --body "$work/dashboard.json" \
  --header "authorization: Bearer $noisy" --concurrency 16 --warmup 2 --duration "$seconds" \
  --server devgraph --scenario noisy-dashboards --out "$results" &
pids+=($!); noisy_pid=$!
quiet_run quiet-beside-noisy
wait "$noisy_pid"

step "Result"
python3 - "$results" <<'PY' | tee "$out/budgets.md"
import json, sys
rows = {json.loads(l)["scenario"]: json.loads(l) for l in open(sys.argv[1]) if l.strip()}
for name in ["quiet-alone", "quiet-beside-noisy", "noisy-dashboards"]:
    r = rows[name]
    print(f"{name}: {r['requests']} requests, {r['rps']:.1f} req/s, p50 {r['p50_ms']:.1f} ms, "
          f"p99 {r['p99_ms']:.1f} ms, not answered with data {r['errors']}")
PY
