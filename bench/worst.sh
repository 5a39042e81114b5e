#!/usr/bin/env bash
# The worst queries one caller can send under the default limits, from 4
# clients at once for WORST_SECONDS (default 60), against a release devgraph
# on PostgreSQL, while the server's RSS is sampled every second. Prints, per
# query, the requests answered and how (data or LIMIT_EXCEEDED), and the
# peak RSS, which must stay under 512 MiB (issue 11). Not a test: a
# measurement, reported in bench/README.md.
#
#   bash bench/worst.sh
#   WORST_SECONDS=20 bash bench/worst.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
seconds=${WORST_SECONDS:-60}
db=${WORST_DB:-devgraph_worst}
port_http=${WORST_PORT:-8125}
source "$root/bench/lib.sh"
scratch worst

step "PostgreSQL"
source "$root/bench/pg.sh"
fresh_db "$db"
url="postgres://devgraph:devgraph@127.0.0.1:${port}/${db}"

release_build
export DATABASE_URL=$url JWT_SECRET=worst-case-secret-that-is-long-enough-0123 RUST_LOG=warn
# The default budgets, but for query points: at their default the points
# would refuse all but 24 of these a minute, and the memory bound must hold
# for queries that run.
export DEVGRAPH_TENANT_POINTS_PER_MINUTE=2000000000

step "Seed: 1 organization, 10 team spaces, 400 developers, 20 projects, 60 days"
"$bin" migrate up
"$bin" seed --orgs 1 --team-spaces 10 --developers 400 --projects 20 --days 60 --pull-requests 0
slug=$(psql_admin -d "$db" -c "SELECT slug FROM organizations LIMIT 1")
org_id=$(psql_admin -d "$db" -c "SELECT id FROM organizations WHERE slug = '$slug'")
owner=$(psql_admin -d "$db" -c "SELECT email FROM developers WHERE organization_id = '$org_id' AND role = 'owner' ORDER BY id LIMIT 1")
token=$("$bin" token --org "$slug" --developer "$owner")
dev_ids=$(psql_admin -d "$db" -c "SELECT id FROM developers WHERE organization_id = '$org_id' ORDER BY id LIMIT 100")

# Each query is built to weigh just under the default complexity limit
# (250,000) with the most values per point of weight we could find.
python3 - "$work" "$dev_ids" <<'PY'
import base64, datetime, json, sys
work, ids = sys.argv[1], sys.argv[2].split()
today = datetime.date.today()
frm = str(today - datetime.timedelta(days=399))
gid = lambda u: base64.urlsafe_b64encode(f"Developer:{u}".encode()).decode().rstrip("=")
act = f'activity(from: "{frm}", to: "{today}") {{ day count }}'
met = (f'metrics(from: "{frm}", to: "{today}", groupBy: [DAY, DEVELOPER, EVENT_NAME]) '
       '{ day developerId eventName count developer { id name email } }')
queries = {
    # 78 developers × 4 × 400 days: ~250,000 points, 124,800 day rows.
    "activity": f"{{ developers(first: 78) {{ nodes {{ a: {act} b: {act} c: {act} d: {act} }} }} }}",
    # Metrics by day, developer and name over 400 days, 3 aliases: each is
    # estimated at 10,000 rows; the request's 20,000-row budget is the bound.
    "metrics": f"{{ organization {{ m1: {met} m2: {met} m3: {met} }} }}",
    # 100 ids × 100 team spaces × their developers.
    "nodes": ("query($ids: [ID!]!) { nodes(ids: $ids) { ... on Developer { teamSpaces(first: 100) "
              "{ nodes { id name developers(first: 4) { nodes { id name email role } } } } } } }"),
    # Nested lists: 100 developers × 10 team spaces × 41 developers.
    "lists": ("{ developers(first: 100) { nodes { id name email role createdAt teamSpaces(first: 10) "
              "{ nodes { id name developers(first: 41) { nodes { id name email role createdAt } } } } } } }"),
}
for name, q in queries.items():
    body = {"query": q}
    if name == "nodes":
        body["variables"] = {"ids": [gid(i) for i in ids][:100]}
    open(f"{work}/{name}.json", "w").write(json.dumps(body))
PY

step "devgraph (release) on :$port_http, 4 clients × ${seconds} s"
DEVGRAPH_ADDR=127.0.0.1:$port_http "$bin" serve > "$out/worst-devgraph.log" 2>&1 &
server=$!
pids+=($server)
wait_http "http://127.0.0.1:$port_http/readyz"
results=$work/results.jsonl
clients=()
for name in activity metrics nodes lists; do
  "$load" --url "http://127.0.0.1:$port_http/graphql" --body "$work/$name.json" \
    --header "authorization: Bearer $token" --concurrency 1 --warmup 0 --duration "$seconds" \
    --server devgraph --scenario "worst-$name" --out "$results" &
  pid=$!; pids+=($pid); clients+=($pid)
done
peak=0
while kill -0 "${clients[0]}" 2>/dev/null; do
  rss=$(awk '/VmRSS/ {print $2}' "/proc/$server/status")
  (( rss > peak )) && peak=$rss
  sleep 1
done
wait "${clients[@]}"

step "One answer of each, for the record"
for name in activity metrics nodes lists; do
  curl -s "http://127.0.0.1:$port_http/graphql" -H "authorization: Bearer $token" \
    -H 'content-type: application/json' --data @"$work/$name.json" -o "$work/$name.out"
  python3 - "$name" "$work/$name.out" <<'PY'
import json, os, sys
name, path = sys.argv[1], sys.argv[2]
body = json.load(open(path))
codes = sorted({e.get("extensions", {}).get("code") for e in body.get("errors", [])})
print(f"{name}: {os.path.getsize(path) / 1024:.0f} KiB, errors {codes or 'none'}")
PY
done

step "Result"
python3 - "$results" "$peak" <<'PY' | tee "$out/worst.md"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
peak = int(sys.argv[2]) / 1024
for r in rows:
    print(f"{r['scenario']}: {r['requests']} requests, {r['rps']:.1f} req/s, p50 {r['p50_ms']:.0f} ms, "
          f"p99 {r['p99_ms']:.0f} ms, answered with errors {r['errors']}")
print(f"peak server RSS: {peak:.1f} MiB (limit 512 MiB)")
sys.exit(0 if peak < 512 else 1)
PY
