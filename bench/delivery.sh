#!/usr/bin/env bash
# The delivery dashboard (issue 14) under load: a release devgraph on
# PostgreSQL, one organization with 90 days of delivery data, and the query
# of bench/queries/devgraph/delivery.graphql ("delivery-dashboard"): the
# organization's DORA keys and pull-request flow by week over the last 90
# days, its first 10 team spaces' by week, and the first 20 developers of
# each with their own over the whole range. Driven by the load client
# (api/examples/load.rs) at concurrency 1, 8 and 32; prints req/s, p50,
# p99, errors and SQL statements per request per level, then where
# PostgreSQL's time went in the last level.
#
# devgraph-only figures, not a comparison: there is no PostGraphile peer
# for this scenario. The DORA keys and the cycle-time percentiles come from
# devgraph's delivery rollup and its sketches (service/delivery/metrics);
# PostGraphile has no such semantics over these tables, and writing them
# as SQL functions for it would be a second implementation to keep equal,
# not the same work measured twice.
#
#   bash bench/delivery.sh                     # duration from a first rate, concurrency 1,8,32
#   DELIVERY_SECONDS=5 DELIVERY_CONCURRENCY=1,8 bash bench/delivery.sh   # a smoke run
#   DELIVERY_REUSE=1 bash bench/delivery.sh    # keep the seeded database
#
# DELIVERY_SECONDS: measured seconds per level. Unset, a 5 s calibration
# at concurrency 1 measures the rate r, and each level runs
# ceil(1.25 × 400 / r) s (at least 20, at most 600): 400 requests at
# concurrency 1 are 40 executions of each of the scenario's statements on
# each of the server's 10 pooled connections (PostgreSQL may re-plan a
# prepared statement generically after its fifth run on a connection), and
# the 25% covers a rate that falls after that switch (bench/README.md).
# DELIVERY_PULL_REQUESTS: pull requests a repository opens a week (5).
#
# Needs: PostgreSQL (installed and started like .ci/run does it), cargo.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
levels=${DELIVERY_CONCURRENCY:-1,8,32}
db=${DELIVERY_DB:-devgraph_delivery}
port_http=${DELIVERY_PORT:-8130}
pull_requests=${DELIVERY_PULL_REQUESTS:-5}
scenario=delivery-dashboard
source "$root/bench/lib.sh"
scratch delivery

step "PostgreSQL with pg_stat_statements"
source "$root/bench/pg.sh"
# DELIVERY_REUSE=1 keeps a database seeded by an earlier run (same data set).
reuse=0
if [ "${DELIVERY_REUSE:-0}" = 1 ] &&
  [ "$(psql_admin -d "$db" -c 'SELECT count(*) > 0 FROM pull_requests' 2>/dev/null)" = t ]; then
  reuse=1
else
  fresh_db "$db"
fi
url="postgres://devgraph:devgraph@127.0.0.1:${port}/${db}"

release_build
# Seeding connects repositories, whose webhook secrets are sealed: it needs
# a key (any will do; reading delivery metrics never opens a secret).
secret_key=$(python3 -c 'import base64, os; print(base64.b64encode(os.urandom(32)).decode())')
export DATABASE_URL=$url DEVGRAPH_SECRET_KEY=$secret_key RUST_LOG=warn \
  JWT_SECRET=delivery-bench-secret-that-is-long-enough-0
lift_budgets
"$bin" migrate up

if [ "$reuse" = 0 ]; then
  step "Seed: 1 organization, 10 team spaces, 500 developers, 50 projects, 90 days, $pull_requests pull requests a repository a week"
  # Each project has one repository, and 40% a second at 0.4 of the pace:
  # about 58 repositories' worth × 12.9 weeks × $pull_requests.
  seed_start=$SECONDS
  "$bin" seed --orgs 1 --team-spaces 10 --developers 500 --projects 50 --days 90 \
    --events-per-day 1 --pull-requests "$pull_requests"
  psql_admin -d "$db" -c "VACUUM ANALYZE"
  echo "seeded in $((SECONDS - seed_start)) s"
else
  step "Reusing the seeded database $db"
fi
psql_admin -d "$db" -F ' ' -c "
  SELECT what, n FROM (VALUES
    (1, 'pull requests', (SELECT count(*) FROM pull_requests)),
    (2, 'merged', (SELECT count(*) FROM pull_requests WHERE state = 'merged')),
    (3, 'reviews', (SELECT count(*) FROM pull_request_reviews)),
    (4, 'deployments', (SELECT count(*) FROM deployments)),
    (5, 'production deployments', (SELECT count(*) FROM deployments WHERE tier = 'production')),
    (6, 'incidents', (SELECT count(*) FROM incidents)),
    (7, 'delivery_rollups rows', (SELECT count(*) FROM delivery_rollups)),
    (8, 'delivery_contributions rows', (SELECT count(*) FROM delivery_contributions)),
    (9, 'events', (SELECT count(*) FROM events))) AS c(i, what, n)
  ORDER BY i" | tee "$work/counts.txt"

org_slug=$(psql_admin -d "$db" -c "SELECT slug FROM organizations ORDER BY slug LIMIT 1")
org_id=$(psql_admin -d "$db" -c "SELECT id FROM organizations WHERE slug = '$org_slug'")
owner=$(psql_admin -d "$db" -c "SELECT email FROM developers WHERE organization_id = '$org_id' AND role = 'owner' ORDER BY id LIMIT 1")
token=$("$bin" token --org "$org_slug" --developer "$owner")

# The request bodies: the last 90 days (today included), and for the check
# of statements below the same query with smaller pages.
body=$work/delivery.json
small=$work/delivery-small.json
python3 - "$root/bench/queries/devgraph/delivery.graphql" "$body" "$small" <<'PY'
import datetime, json, sys
query, body, small = sys.argv[1:]
today = datetime.date.today()
text = open(query).read()
variables = {"from": str(today - datetime.timedelta(days=89)), "to": str(today)}
open(body, "w").write(json.dumps({"query": text, "variables": variables}))
smaller = text.replace("teamSpaces(first: 10)", "teamSpaces(first: 2)") \
              .replace("developers(first: 20)", "developers(first: 3)")
assert smaller != text
open(small, "w").write(json.dumps({"query": smaller, "variables": variables}))
PY

step "devgraph (release) on :$port_http"
DEVGRAPH_ADDR=127.0.0.1:$port_http "$bin" serve > "$out/delivery-devgraph.log" 2>&1 &
pids+=($!)
wait_http "http://127.0.0.1:$port_http/readyz"
endpoint=http://127.0.0.1:$port_http/graphql

step "One request first: data, no errors, not all zeros"
answer=$work/answer.json
curl -sS -o "$answer" -H 'content-type: application/json' \
  -H "authorization: Bearer $token" --data @"$body" "$endpoint"
if [ "$(head -c 8 "$answer")" != '{"data":' ] || grep -q '"errors":' "$answer"; then
  cp "$answer" "$out/delivery-answer.json"
  echo "bad reply: $(head -c 600 "$answer") (kept in $out/delivery-answer.json): nothing measured" >&2
  exit 1
fi
python3 - "$answer" <<'PY'
import json, os, sys
data = json.load(open(sys.argv[1]))["data"]["organization"]
periods = data["delivery"]
deployments = sum(p["dora"]["deployments"] for p in periods)
flow = lambda p: (p["flow"]["opened"], p["flow"]["merged"], p["flow"]["reviews"])
opened, merged, reviews = (sum(x) for x in zip(*map(flow, periods)))
spaces = data["teamSpaces"]["nodes"]
busy_spaces = sum(any(p["flow"]["opened"] or p["dora"]["deployments"] for p in s["delivery"])
                  for s in spaces)
developers = [d for s in spaces for d in s["developers"]["nodes"]]
busy_developers = sum(any(sum(flow(p)) for p in d["delivery"]) for d in developers)
print(f"{os.path.getsize(sys.argv[1]):,} bytes; organization: {len(periods)} weeks, "
      f"{deployments:,.0f} production deployments, {opened:,} opened, {merged:,} merged, "
      f"{reviews:,} reviews; {busy_spaces} of {len(spaces)} team spaces and "
      f"{busy_developers} of {len(developers)} developers with delivery")
if deployments <= 0 or opened <= 0:
    sys.exit("the organization's delivery is all zeros: nothing measured")
if busy_spaces == 0 or busy_developers == 0:
    sys.exit("every team space's or every developer's delivery is zero: nothing measured")
PY

# Statements per request must not follow the page sizes (the loaders batch
# each level): one request at 2 team spaces × 3 developers and one at
# 10 × 20, each counted alone by pg_stat_statements.
count_statements() {  # body
  psql_admin -d "$db" -c "SELECT pg_stat_statements_reset(0, (SELECT oid FROM pg_database WHERE datname = current_database()), 0)" >/dev/null
  curl -sS -o /dev/null -H 'content-type: application/json' \
    -H "authorization: Bearer $token" --data @"$1" "$endpoint"
  psql_admin -d "$db" -c "SELECT coalesce(sum(calls), 0) FROM pg_stat_statements
    WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
      AND query NOT ILIKE '%pg_stat_statements%'"
}
few=$(count_statements "$small")
many=$(count_statements "$body")
echo "SQL statements for one request: $few at 2 × 3 team spaces × developers, $many at 10 × 20"
if [ "$few" != "$many" ]; then
  echo "WARNING: the statements per request grow with the page sizes ($few → $many)" >&2
fi

if [ -n "${DELIVERY_SECONDS:-}" ]; then
  seconds=$DELIVERY_SECONDS
else
  step "Calibration: 5 s at concurrency 1"
  "$load" --url "$endpoint" --body "$body" --header "authorization: Bearer $token" \
    --concurrency 1 --duration 5 --server devgraph --scenario calibration \
    --out "$work/calibration.jsonl"
  seconds=$(python3 - "$work/calibration.jsonl" <<'PY'
import json, math, sys
rps = json.loads(open(sys.argv[1]).readline())["rps"]
print(min(600, max(20, math.ceil(1.25 * 400 / max(rps, 0.01)))))
PY
)
  echo "each level: $seconds s (400 requests × 1.25 at the calibration's rate)"
fi

step "Measure $scenario at concurrency $levels, $seconds s a level"
results=$out/delivery.jsonl
: > "$results"
"$load" --url "$endpoint" --body "$body" --header "authorization: Bearer $token" \
  --concurrency "$levels" --duration "$seconds" --pg-url "$url" \
  --server devgraph --scenario "$scenario" --out "$results"

step "Where PostgreSQL's time goes (pg_stat_statements, the last level)"
psql_admin -d "$db" -F ' | ' -c "
  SELECT round(total_exec_time)::bigint AS total_ms, calls,
         round((total_exec_time / greatest(calls, 1))::numeric, 3) AS mean_ms,
         left(regexp_replace(query, '\s+', ' ', 'g'), 100)
  FROM pg_stat_statements
  WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
    AND query NOT ILIKE '%pg_stat_statements%'
  ORDER BY total_exec_time DESC LIMIT 16" | tee "$out/delivery-statements.txt"

step "Results"
python3 - "$results" "$work/counts.txt" \
  "$(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, PostgreSQL $(psql_admin -c 'SHOW server_version' | cut -d' ' -f1), $(date -u +%Y-%m-%d)" \
  <<'PY' | tee "$out/delivery.md"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
counts = dict(l.rsplit(" ", 1) for l in open(sys.argv[2]).read().splitlines() if l.strip())
print(f"Machine: {sys.argv[3]}; devgraph only (no peer for this scenario)\n")
print("Data: " + ", ".join(f"{int(n):,} {what}" for what, n in counts.items()) + "\n")
print("| query | c | s | requests | req/s | p50 ms | p99 ms | last ⅓ / first ⅓ req/s | SQL/req | errors |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for r in rows:
    a, b = r["first_third"], r["last_third"]
    change = f"{(b['rps'] / a['rps'] - 1) * 100:+.0f}%" if a["rps"] > 0 else "–"
    stmts = r["statements_per_request"]
    rps = f"{r['rps']:,.0f}" if r["rps"] >= 100 else f"{r['rps']:,.1f}"
    print(f"| {r['scenario']} | {r['concurrency']} | {r['duration']} | {r['requests']:,} "
          f"| {rps} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} | {change} "
          f"| {'–' if stmts is None else f'{stmts:.1f}'} | {r['errors']} |")
c1 = [r for r in rows if r["concurrency"] == 1]
if c1:
    n = c1[0]["requests"]
    print(f"\nconcurrency 1: {n:,} requests, about {n / 10:,.0f} executions of each statement "
          f"per pooled connection (the method wants 40 or more)")
errors = sum(r["errors"] for r in rows)
if errors:
    sys.exit(f"{errors} requests failed")
PY
