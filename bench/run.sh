#!/usr/bin/env bash
# devgraph against PostGraphile v4 on one machine, one PostgreSQL, one data
# set and one load client. Prints a table per scenario and concurrency and
# writes bench/out/results.md (the README's Performance table).
#
#   bash bench/run.sh                  # 10 s per level, concurrency 1,8,32
#   BENCH_SECONDS=30 bash bench/run.sh
#   BENCH_REUSE=1 BENCH_SERVERS=devgraph BENCH_SCENARIOS="dashboard-30d metrics" bash bench/run.sh
#
# Needs: PostgreSQL (installed and started like .ci/run does), Node.js and
# npm (PostGraphile is installed into a throwaway folder), cargo.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

seconds=${BENCH_SECONDS:-10}
levels=${BENCH_CONCURRENCY:-1,8,32}
db=${BENCH_DB:-devgraph_bench}
dg_port=${BENCH_DEVGRAPH_PORT:-8123}
pgl_port=${BENCH_POSTGRAPHILE_PORT:-5678}
out=$root/bench/out
work=$(mktemp -d /tmp/devgraph-bench.XXXXXX)
pgl=${BENCH_POSTGRAPHILE_DIR:-/tmp/devgraph-bench-postgraphile}
mkdir -p "$out"
step() { printf '\n==> %s\n' "$*"; }
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  # PostGraphile's cluster workers outlive a killed master.
  pkill -9 -f "$pgl/node_modules/.bin/postgraphile" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

step "PostgreSQL with pg_stat_statements"
source "$root/bench/pg.sh"
# BENCH_REUSE=1 keeps a database seeded by an earlier run (same data set).
reuse=0
if [ "${BENCH_REUSE:-0}" = 1 ] && [ "$(psql_admin -d "$db" -c 'SELECT count(*) > 0 FROM organizations' 2>/dev/null)" = t ]; then
  reuse=1
else
  fresh_db "$db"
fi
url="postgres://devgraph:devgraph@127.0.0.1:${port}/${db}"

step "Build (release)"
cargo build --release -p devgraph --bin devgraph --example load
bin=$root/target/release/devgraph
load=$root/target/release/examples/load
export DATABASE_URL=$url JWT_SECRET=bench-secret-that-is-long-enough-0123456789 RUST_LOG=warn
# The tenant budgets are lifted: this run measures the server, not one
# organization's share of it (bench/budgets.sh measures that).
export DEVGRAPH_TENANT_IN_FLIGHT=100000 DEVGRAPH_TENANT_REQUESTS_PER_MINUTE=1000000000 \
  DEVGRAPH_TENANT_POINTS_PER_MINUTE=2000000000

step "Seed: 3 organizations x 10 team spaces, 500 developers and 50 projects each, 90 days of events"
# 50 developers and 5 projects per team space; each developer is in 1 to 3.
"$bin" migrate up
if [ "$reuse" = 0 ]; then
  "$bin" seed --orgs 3 --team-spaces 10 --developers 500 --projects 50 --days 90 --events-per-day 4
  psql_admin -d "$db" -c "VACUUM ANALYZE"
fi
psql_admin -d "$db" -f "$root/bench/postgraphile.sql" >/dev/null
events=$(psql_admin -d "$db" -c "SELECT count(*) FROM events")
rollups=$(psql_admin -d "$db" -c "SELECT count(*) FROM aggregated_events")
echo "events: $events, daily rollup rows: $rollups"

org_slug=$(psql_admin -d "$db" -c "SELECT slug FROM organizations ORDER BY slug LIMIT 1")
org_id=$(psql_admin -d "$db" -c "SELECT id FROM organizations WHERE slug = '$org_slug'")
owner=$(psql_admin -d "$db" -c "SELECT email FROM developers WHERE organization_id = '$org_id' AND role = 'owner' ORDER BY id LIMIT 1")
me=$(psql_admin -d "$db" -c "SELECT id FROM developers WHERE organization_id = '$org_id' AND email = '$owner'")
someone=$(psql_admin -d "$db" -c "SELECT id FROM developers WHERE organization_id = '$org_id' ORDER BY email OFFSET 100 LIMIT 1")
token=$("$bin" token --org "$org_slug" --developer "$owner")

# Request bodies: the same variables for both servers (devgraph takes its
# opaque global id where PostGraphile takes the raw uuid).
python3 - "$root/bench/queries" "$work" "$org_id" "$me" "$someone" <<'EOF'
import base64, datetime, json, re, sys
queries, work, org, me, someone = sys.argv[1:]
today = datetime.date.today()
def rng(days): return {"from": str(today - datetime.timedelta(days=days - 1)), "to": str(today)}
gid = base64.urlsafe_b64encode(f"Developer:{someone}".encode()).decode().rstrip("=")
cases = {"dashboard-30d": ("dashboard", rng(30)), "dashboard-90d": ("dashboard", rng(90)),
         "lookup": ("lookup", {}), "deep": ("deep", {}), "metrics": ("metrics", rng(30))}
for server in ("devgraph", "postgraphile"):
    for case, (q, extra) in cases.items():
        text = open(f"{queries}/{server}/{q}.graphql").read()
        values = {"org": org, "me": me, **extra, "id": gid if server == "devgraph" else someone}
        used = set(re.findall(r"\$(\w+)", text))
        body = {"query": text, "variables": {k: values[k] for k in used}}
        open(f"{work}/{server}-{case}.json", "w").write(json.dumps(body))
EOF
scenarios="dashboard-30d dashboard-90d lookup deep metrics"
results=${BENCH_RESULTS:-$out/results.jsonl}
: > "$results"

# One request first: a wrong query must stop the run, not be measured.
check_body() {
  local reply
  reply=$(curl -sS -H 'content-type: application/json' "${@:3}" --data @"$2" "$1")
  if [[ "$reply" != '{"data":'* ]] || [[ "$reply" == *'"errors":'* ]]; then
    echo "bad reply for $2: ${reply:0:400}" >&2; return 1
  fi
}

servers=${BENCH_SERVERS:-devgraph,postgraphile}
scenarios=${BENCH_SCENARIOS:-$scenarios}

if [[ ",$servers," == *",devgraph,"* ]]; then
step "devgraph (release) on :$dg_port"
DEVGRAPH_ADDR=127.0.0.1:$dg_port "$bin" serve > "$out/devgraph.log" 2>&1 &
pids+=($!)
wait_http "http://127.0.0.1:$dg_port/readyz"
for s in $scenarios; do
  check_body "http://127.0.0.1:$dg_port/graphql" "$work/devgraph-$s.json" -H "authorization: Bearer $token"
  "$load" --url "http://127.0.0.1:$dg_port/graphql" --body "$work/devgraph-$s.json" \
    --header "authorization: Bearer $token" --concurrency "$levels" --duration "$seconds" \
    --pg-url "$url" --server devgraph --scenario "$s" --out "$results"
done
kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true
fi

if [[ ",$servers," == *",postgraphile,"* ]]; then
step "PostGraphile v4 on :$pgl_port"
if [ ! -x "$pgl/node_modules/.bin/postgraphile" ]; then
  mkdir -p "$pgl"
  (cd "$pgl" && npm install --no-audit --no-fund --silent postgraphile@4)
fi
echo "PostGraphile $(cd "$pgl" && node -p 'require("postgraphile/package.json").version')"
# Its production settings: one worker per core, no query log, no GraphiQL.
NODE_ENV=production "$pgl/node_modules/.bin/postgraphile" -c "$url" --schema public \
  --host 127.0.0.1 --port "$pgl_port" --cluster-workers "$(nproc)" \
  --disable-query-log --disable-graphiql > "$out/postgraphile.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 120); do
  curl -fsS -o /dev/null -H 'content-type: application/json' --data '{"query":"{__typename}"}' \
    "http://127.0.0.1:$pgl_port/graphql" 2>/dev/null && break
  sleep 0.5
done
for s in $scenarios; do
  check_body "http://127.0.0.1:$pgl_port/graphql" "$work/postgraphile-$s.json"
  "$load" --url "http://127.0.0.1:$pgl_port/graphql" --body "$work/postgraphile-$s.json" \
    --concurrency "$levels" --duration "$seconds" \
    --pg-url "$url" --server postgraphile --scenario "$s" --out "$results"
done
fi

step "Results"
python3 "$root/bench/report.py" "$results" \
  "$(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(psql_admin -c 'SHOW server_version' | cut -d' ' -f1) PostgreSQL, ${seconds} s per level, $(date -u +%Y-%m-%d)" \
  | tee "$out/results.md"
