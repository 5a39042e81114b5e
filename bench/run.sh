#!/usr/bin/env bash
# devgraph against PostGraphile v4 on one machine, one PostgreSQL, one data
# set and one load client. Before measuring, checks that both servers answer
# every scenario with the same data (bench/compare.py; a difference stops
# the run). Then prints a table per scenario, concurrency and server, the
# first and the last third of each level beside the whole level, and writes
# bench/out/results.md.
#
#   bash bench/run.sh                  # the durations below, concurrency 1,8,32
#   BENCH_SECONDS=6 BENCH_CONCURRENCY=1,8 bash bench/run.sh   # a smoke run: 6 s a level
#   BENCH_REUSE=1 BENCH_SERVERS=devgraph BENCH_SCENARIOS="dashboard-30d metrics" bash bench/run.sh
#   BENCH_CITUS_WORKERS=127.0.0.1:9701,127.0.0.1:9702 bash bench/run.sh   # on Citus (bench/citus.sh)
#
# Needs: PostgreSQL (installed and started like .ci/run does), Node.js and
# npm (PostGraphile is installed into a throwaway folder), cargo.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

# Measured seconds per level, per scenario (bench/README.md has the
# arithmetic): long enough that at concurrency 1 devgraph runs every
# statement of the scenario about 40 times or more on each of its 10 pooled
# connections (PostgreSQL may change a prepared statement's plan after its
# fifth execution on a connection), short enough for a full run in about
# 25 minutes. BENCH_SECONDS sets one duration for every scenario.
declare -A default_seconds=(
  [dashboard-30d]=45 [dashboard-90d]=100 [lookup]=10 [deep]=15 [metrics]=10 [totals-60d]=30
)
seconds_of() { echo "${BENCH_SECONDS:-${default_seconds[$1]:-}}"; }
levels=${BENCH_CONCURRENCY:-1,8,32}
db=${BENCH_DB:-devgraph_bench}
dg_port=${BENCH_DEVGRAPH_PORT:-8123}
pgl_port=${BENCH_POSTGRAPHILE_PORT:-5678}
out=$root/bench/out
work=$(mktemp -d /tmp/devgraph-bench.XXXXXX)
pgl=${BENCH_POSTGRAPHILE_DIR:-/tmp/devgraph-bench-postgraphile}
mkdir -p "$out"
source "$root/bench/lib.sh"
dg_pid='' pgl_pid=''
cleanup() {
  if [ -n "$dg_pid" ]; then kill -9 "$dg_pid" 2>/dev/null || true; fi
  # PostGraphile runs in a process group of its own: its cluster workers
  # outlive a killed master, so the whole group goes.
  if [ -n "$pgl_pid" ]; then kill -9 -- "-$pgl_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

step "PostgreSQL with pg_stat_statements"
# BENCH_CITUS_WORKERS=host:port,host:port: on a running Citus cluster instead
# (bench/citus.sh), the database distributed before it is seeded.
host=127.0.0.1 distributed=0
if [ -n "${BENCH_CITUS_WORKERS:-}" ]; then
  source "$root/bench/citus.sh"
else
  source "$root/bench/pg.sh"
fi
# BENCH_REUSE=1 keeps a database seeded by an earlier run (same data set).
reuse=0
if [ "${BENCH_REUSE:-0}" = 1 ] && [ "$(psql_admin -d "$db" -c 'SELECT count(*) > 0 FROM organizations' 2>/dev/null)" = t ]; then
  reuse=1
else
  fresh_db "$db"
fi
url="postgres://devgraph:devgraph@${host}:${port}/${db}"

release_build
export DATABASE_URL=$url JWT_SECRET=bench-secret-that-is-long-enough-0123456789 RUST_LOG=warn
lift_budgets

step "Seed: 3 organizations x 10 team spaces, 500 developers and 50 projects each, 90 days of events"
# 50 developers and 5 projects per team space; each developer is in 1 to 3.
"$bin" migrate up
if [ "$distributed" = 1 ]; then "$bin" migrate distribute; fi
if [ "$reuse" = 0 ]; then
  "$bin" seed --orgs 3 --team-spaces 10 --developers 500 --projects 50 --days 90 --events-per-day 4 --pull-requests 0
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
# opaque global id where PostGraphile takes the raw uuid), and each
# scenario's query name for the equality check.
python3 - "$root/bench/queries" "$work" "$org_id" "$me" "$someone" <<'PY'
import base64, datetime, json, re, sys
queries, work, org, me, someone = sys.argv[1:]
today = datetime.date.today()
def rng(days): return {"from": str(today - datetime.timedelta(days=days - 1)), "to": str(today)}
gid = base64.urlsafe_b64encode(f"Developer:{someone}".encode()).decode().rstrip("=")
cases = {"dashboard-30d": ("dashboard", rng(30)), "dashboard-90d": ("dashboard", rng(90)),
         "lookup": ("lookup", {}), "deep": ("deep", {}), "metrics": ("metrics", rng(30)),
         "totals-60d": ("totals", rng(60))}
for server in ("devgraph", "postgraphile"):
    for case, (q, extra) in cases.items():
        text = open(f"{queries}/{server}/{q}.graphql").read()
        values = {"org": org, "me": me, **extra, "id": gid if server == "devgraph" else someone}
        used = set(re.findall(r"\$(\w+)", text))
        body = {"query": text, "variables": {k: values[k] for k in used}}
        open(f"{work}/{server}-{case}.json", "w").write(json.dumps(body))
        open(f"{work}/{case}.query", "w").write(q)
PY
servers=${BENCH_SERVERS:-devgraph,postgraphile}
scenarios=${BENCH_SCENARIOS:-dashboard-30d dashboard-90d lookup deep metrics totals-60d}
for s in $scenarios; do
  [ -f "$work/$s.query" ] || { echo "unknown scenario $s" >&2; exit 1; }
  [ -n "$(seconds_of "$s")" ] || { echo "no duration for $s: set BENCH_SECONDS" >&2; exit 1; }
done
results=${BENCH_RESULTS:-$out/results.jsonl}
: > "$results"
: > "$out/devgraph.log"
: > "$out/postgraphile.log"
mkdir -p "$work/answers"
rm -rf "$out/answers"  # a failed check's answers, from an earlier run

start_devgraph() {
  step "devgraph (release) on :$dg_port"
  DEVGRAPH_ADDR=127.0.0.1:$dg_port "$bin" serve >> "$out/devgraph.log" 2>&1 &
  dg_pid=$!
  wait_http "http://127.0.0.1:$dg_port/readyz"
}
stop_devgraph() { kill "$dg_pid" 2>/dev/null || true; wait "$dg_pid" 2>/dev/null || true; dg_pid=''; }
start_postgraphile() {
  step "PostGraphile v4 on :$pgl_port"
  if [ ! -x "$pgl/node_modules/.bin/postgraphile" ]; then
    mkdir -p "$pgl"
    (cd "$pgl" && npm install --no-audit --no-fund --silent postgraphile@4)
  fi
  echo "PostGraphile $(cd "$pgl" && node -p 'require("postgraphile/package.json").version')"
  # Its production settings: one worker per core, no query log, no GraphiQL.
  # setsid gives it a process group of its own (see cleanup).
  NODE_ENV=production setsid "$pgl/node_modules/.bin/postgraphile" -c "$url" --schema public \
    --host 127.0.0.1 --port "$pgl_port" --cluster-workers "$(nproc)" \
    --disable-query-log --disable-graphiql >> "$out/postgraphile.log" 2>&1 &
  pgl_pid=$!
  for _ in $(seq 1 120); do
    curl -fsS -o /dev/null -H 'content-type: application/json' --data '{"query":"{__typename}"}' \
      "http://127.0.0.1:$pgl_port/graphql" 2>/dev/null && return 0
    sleep 0.5
  done
  echo "PostGraphile did not answer; see $out/postgraphile.log" >&2; return 1
}
stop_postgraphile() {
  kill -- "-$pgl_pid" 2>/dev/null || true
  wait "$pgl_pid" 2>/dev/null || true
  pgl_pid=''
}

# One request per scenario first, its answer kept: a wrong query must stop
# the run, not be measured, and the answers are compared below.
answer() {  # url body saved [curl options]
  curl -sS -o "$3" -H 'content-type: application/json' "${@:4}" --data @"$2" "$1"
  if [ "$(head -c 8 "$3")" != '{"data":' ] || grep -q '"errors":' "$3"; then
    echo "bad reply for $2: $(head -c 400 "$3")" >&2; return 1
  fi
}
answers_of() {  # server
  for s in $scenarios; do
    if [ "$1" = devgraph ]; then
      answer "http://127.0.0.1:$dg_port/graphql" "$work/devgraph-$s.json" \
        "$work/answers/devgraph-$s.json" -H "authorization: Bearer $token"
    else
      answer "http://127.0.0.1:$pgl_port/graphql" "$work/postgraphile-$s.json" \
        "$work/answers/postgraphile-$s.json"
    fi
  done
}
measure() {  # server endpoint [load options]
  local server=$1 endpoint=$2; shift 2
  for s in $scenarios; do
    "$load" --url "$endpoint" --body "$work/$server-$s.json" "$@" --concurrency "$levels" \
      --duration "$(seconds_of "$s")" --pg-url "$url" --server "$server" --scenario "$s" \
      --out "$results"
  done
}

# The fair-peer check: before anything is measured, both servers must answer
# every scenario with the same data. One server runs at a time, as when
# measured.
if [[ ",$servers," == *",devgraph,"* && ",$servers," == *",postgraphile,"* ]]; then
  start_postgraphile
  answers_of postgraphile
  stop_postgraphile
  start_devgraph
  answers_of devgraph
  step "Equality check: the same data from both servers"
  for s in $scenarios; do
    printf '%-14s ' "$s"
    if ! python3 "$root/bench/compare.py" "$(cat "$work/$s.query")" \
        "$work/answers/devgraph-$s.json" "$work/answers/postgraphile-$s.json"; then
      mkdir -p "$out/answers"
      cp "$work/answers/devgraph-$s.json" "$work/answers/postgraphile-$s.json" "$out/answers/"
      echo "devgraph and PostGraphile answer $s differently: nothing measured" \
        "(both answers are in $out/answers)" >&2
      exit 1
    fi
  done
else
  echo "one server only ($servers): no equality check"
fi

if [[ ",$servers," == *",devgraph,"* ]]; then
  if [ -z "$dg_pid" ]; then start_devgraph; answers_of devgraph; fi
  step "Measure devgraph"
  measure devgraph "http://127.0.0.1:$dg_port/graphql" --header "authorization: Bearer $token"
  stop_devgraph
fi

if [[ ",$servers," == *",postgraphile,"* ]]; then
  start_postgraphile
  answers_of postgraphile
  step "Measure PostGraphile"
  measure postgraphile "http://127.0.0.1:$pgl_port/graphql"
  stop_postgraphile
fi

step "Results"
database="$(psql_admin -c 'SHOW server_version' | cut -d' ' -f1) PostgreSQL"
if [ "$distributed" = 1 ]; then
  citus=$(psql_admin -d "$db" -c "SELECT extversion FROM pg_extension WHERE extname = 'citus'")
  database="$database, Citus $citus (a coordinator and ${#citus_workers[@]} workers on this machine)"
fi
python3 "$root/bench/report.py" "$results" \
  "$(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $database, $(date -u +%Y-%m-%d)" \
  | tee "$out/results.md"
