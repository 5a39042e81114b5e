#!/usr/bin/env bash
# A bounded soak: a release devgraph under mixed load for SOAK_SECONDS
# (default 600): Dashboard reads from 4 clients and event ingestion (50 new
# events a request) from 2, while the server's RSS is sampled every 5 s.
# It then checks that no request failed and that every acknowledged event
# is stored, and prints the RSS samples' summary.
#
#   bash bench/soak.sh               # 10 minutes
#   SOAK_SECONDS=60 bash bench/soak.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
seconds=${SOAK_SECONDS:-600}
db=${SOAK_DB:-devgraph_soak}
port_http=${SOAK_PORT:-8124}
source "$root/bench/lib.sh"
scratch soak

step "PostgreSQL"
source "$root/bench/pg.sh"
fresh_db "$db"
url="postgres://devgraph:devgraph@127.0.0.1:${port}/${db}"

release_build
export DATABASE_URL=$url JWT_SECRET=soak-secret-that-is-long-enough-0123456789 RUST_LOG=warn
lift_budgets

step "Seed: 1 organization, 10 team spaces, 200 developers, 20 projects, 30 days"
"$bin" migrate up
"$bin" seed --orgs 1 --team-spaces 10 --developers 200 --projects 20 --days 30 --pull-requests 0
slug=$(psql_admin -d "$db" -c "SELECT slug FROM organizations LIMIT 1")
org_id=$(psql_admin -d "$db" -c "SELECT id FROM organizations WHERE slug = '$slug'")
owner=$(psql_admin -d "$db" -c "SELECT email FROM developers WHERE organization_id = '$org_id' AND role = 'owner' ORDER BY id LIMIT 1")
project=$(psql_admin -d "$db" -c "SELECT slug FROM projects WHERE organization_id = '$org_id' ORDER BY slug LIMIT 1")
project_id=$(psql_admin -d "$db" -c "SELECT id FROM projects WHERE organization_id = '$org_id' AND slug = '$project'")
token=$("$bin" token --org "$slug" --developer "$owner")
key=$("$bin" api-key create --org "$slug" --name soak --scopes events:write --project "$project" | tail -1)
emails=$(psql_admin -d "$db" -c "SELECT email FROM developers WHERE organization_id = '$org_id' ORDER BY email LIMIT 20")
before=$(psql_admin -d "$db" -c "SELECT count(*) FROM events WHERE organization_id = '$org_id' AND project_id = '$project_id'")

python3 - "$root/bench/queries/devgraph/dashboard.graphql" "$work" "$emails" <<'EOF'
import datetime, json, sys
query, work, emails = sys.argv[1], sys.argv[2], sys.argv[3].split()
today = datetime.date.today()
body = {"query": open(query).read(),
        "variables": {"from": str(today - datetime.timedelta(days=29)), "to": str(today)}}
open(f"{work}/dashboard.json", "w").write(json.dumps(body))
now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat()
names = ["commit", "review", "deploy", "build", "merge"]
events = [{"id": f"__SEQ__-{i}", "name": names[i % len(names)], "developer": emails[i % len(emails)],
           "occurredAt": now, "properties": {"soak": True, "i": i}} for i in range(50)]
open(f"{work}/events.json", "w").write(json.dumps({"events": events}))
EOF

step "devgraph (release) on :$port_http, ${seconds} s of mixed load"
DEVGRAPH_ADDR=127.0.0.1:$port_http "$bin" serve > "$out/soak-devgraph.log" 2>&1 &
server=$!
pids+=($server)
wait_http "http://127.0.0.1:$port_http/readyz"
results=$work/results.jsonl
"$load" --url "http://127.0.0.1:$port_http/graphql" --body "$work/dashboard.json" \
  --header "authorization: Bearer $token" --concurrency 4 --warmup 0 --duration "$seconds" \
  --server devgraph --scenario soak-reads --out "$results" &
pids+=($!); reads=$!
"$load" --url "http://127.0.0.1:$port_http/v1/events" --body "$work/events.json" \
  --header "authorization: Bearer $key" --expect-status 202 --concurrency 2 --warmup 0 \
  --duration "$seconds" --server devgraph --scenario soak-ingest --out "$results" &
pids+=($!); ingest=$!

rss_csv=$out/soak-rss.csv
echo "seconds,rss_kib" > "$rss_csv"
started=$(date +%s)
while kill -0 "$reads" 2>/dev/null || kill -0 "$ingest" 2>/dev/null; do
  rss=$(awk '/VmRSS/ {print $2}' "/proc/$server/status")
  echo "$(( $(date +%s) - started )),$rss" >> "$rss_csv"
  sleep 5
done
wait "$reads" "$ingest"

step "Checks"
after=$(psql_admin -d "$db" -c "SELECT count(*) FROM events WHERE organization_id = '$org_id' AND project_id = '$project_id'")
python3 - "$results" "$rss_csv" "$before" "$after" <<'EOF' | tee "$out/soak.md"
import csv, json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
rss = [(int(r["seconds"]), int(r["rss_kib"])) for r in csv.DictReader(open(sys.argv[2]))]
before, after = int(sys.argv[3]), int(sys.argv[4])
by = {r["scenario"]: r for r in rows}
ok = True
for name, r in by.items():
    print(f"{name}: {r['requests']} requests, {r['rps']:.1f} req/s, p50 {r['p50_ms']:.1f} ms, "
          f"p99 {r['p99_ms']:.1f} ms, errors {r['errors']}")
    ok &= r["errors"] == 0
acked = (by["soak-ingest"]["requests"] - by["soak-ingest"]["errors"]) * 50
stored = after - before
print(f"events acknowledged {acked}, stored {stored}")
ok &= acked == stored
# Warm-up first: the first minute fills pools, caches and allocator arenas.
steady = [kib for s, kib in rss if s >= 60] or [kib for _, kib in rss]
third = max(1, len(steady) // 3)
first, last = sum(steady[:third]) / third, sum(steady[-third:]) / third
print(f"RSS MiB: start {rss[0][1] / 1024:.1f}, after warm-up {first / 1024:.1f} (first third mean), "
      f"end {last / 1024:.1f} (last third mean), max {max(k for _, k in rss) / 1024:.1f}; "
      f"growth over the steady part {100 * (last - first) / first:+.1f}%")
print("soak OK" if ok else "soak FAILED")
sys.exit(0 if ok else 1)
EOF
