#!/usr/bin/env bash
# Ingestion with the server in its own process: a release devgraph on
# PostgreSQL and the load client POSTing batches of INGEST_BATCH (default
# 500) new events to /v1/events at 2, 4 and 8 clients for INGEST_SECONDS
# (default 30) each, over 100 developers, 10 event names and the last 30
# days. Prints events/s per level (accepted batches × batch size), then
# checks that every acknowledged event is stored and that the daily rollup
# equals a count over the raw events. Not a test: a measurement, reported
# in bench/README.md.
#
#   bash bench/ingest.sh
#   INGEST_SECONDS=10 INGEST_CLIENTS=2,4 bash bench/ingest.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
seconds=${INGEST_SECONDS:-30}
clients=${INGEST_CLIENTS:-2,4,8}
batch=${INGEST_BATCH:-500}
db=${INGEST_DB:-devgraph_ingest}
port_http=${INGEST_PORT:-8128}
source "$root/bench/lib.sh"
scratch ingest

step "PostgreSQL"
source "$root/bench/pg.sh"
fresh_db "$db"
url="postgres://devgraph:devgraph@127.0.0.1:${port}/${db}"
# INGEST_SOCKET=1: through the Unix socket instead of TCP, to compare (the
# TCP_NODELAY measurements in bench/README.md).
if [ -n "${INGEST_SOCKET:-}" ]; then
  # The packaged pg_hba.conf lets local (socket) users in by peer only.
  hba=$(psql_admin -c "SHOW hba_file")
  if ! as_root grep -q '^local *all *devgraph ' "$hba"; then
    as_root sed -i '0,/^local/s//local   all             devgraph                                scram-sha-256\nlocal/' "$hba"
    psql_admin -c "SELECT pg_reload_conf()" >/dev/null
  fi
  url="postgres://devgraph:devgraph@localhost:${port}/${db}?host=/var/run/postgresql"
fi

release_build
export DATABASE_URL=$url JWT_SECRET=ingest-secret-that-is-long-enough-0123456789 RUST_LOG=warn
lift_budgets

step "Seed: 1 organization, 100 developers, 1 project, no events"
"$bin" migrate up
"$bin" seed --orgs 1 --team-spaces 5 --developers 100 --projects 1 --days 1 --events-per-day 0 --pull-requests 0
slug=$(psql_admin -d "$db" -c "SELECT slug FROM organizations LIMIT 1")
org_id=$(psql_admin -d "$db" -c "SELECT id FROM organizations WHERE slug = '$slug'")
project=$(psql_admin -d "$db" -c "SELECT slug FROM projects WHERE organization_id = '$org_id' LIMIT 1")
key=$("$bin" api-key create --org "$slug" --name ingest --scopes events:write --project "$project" | tail -1)
emails=$(psql_admin -d "$db" -c "SELECT email FROM developers WHERE organization_id = '$org_id' ORDER BY email LIMIT 100")

python3 - "$work/events.json" "$batch" "$emails" <<'PY'
import datetime, json, sys
path, batch, emails = sys.argv[1], int(sys.argv[2]), sys.argv[3].split()
now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
names = [f"event-{n}" for n in range(10)]
events = [{"id": f"__SEQ__-{i}", "name": names[i % len(names)], "developer": emails[(i * 7) % len(emails)],
           "occurredAt": (now - datetime.timedelta(days=i % 30, minutes=i % 600)).isoformat(),
           "properties": {"bench": True, "i": i}} for i in range(batch)]
open(path, "w").write(json.dumps({"events": events}))
PY

step "devgraph (release) on :$port_http"
DEVGRAPH_ADDR=127.0.0.1:$port_http "$bin" serve > "$out/ingest-devgraph.log" 2>&1 &
pids+=($!)
wait_http "http://127.0.0.1:$port_http/readyz"
results=$work/results.jsonl
psql_admin -d "$db" -c "SELECT pg_stat_statements_reset()" >/dev/null
"$load" --url "http://127.0.0.1:$port_http/v1/events" --body "$work/events.json" \
  --header "authorization: Bearer $key" --expect-status 202 --concurrency "$clients" \
  --warmup 2 --duration "$seconds" --server devgraph --scenario ingest --out "$results"

step "Where PostgreSQL's time goes (pg_stat_statements, all levels)"
psql_admin -d "$db" -F ' | ' -c "
  SELECT round(total_exec_time)::bigint AS total_ms, calls,
         round((total_exec_time / greatest(calls, 1))::numeric, 2) AS mean_ms,
         left(regexp_replace(query, '\s+', ' ', 'g'), 90)
  FROM pg_stat_statements
  WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
  ORDER BY total_exec_time DESC LIMIT 14" | tee "$out/ingest-statements.txt"

step "Checks"
stored=$(psql_admin -d "$db" -c "SELECT count(*) FROM events WHERE organization_id = '$org_id'")
rolled=$(psql_admin -d "$db" -c "SELECT coalesce(sum(count), 0) FROM aggregated_events WHERE organization_id = '$org_id'")
python3 - "$results" "$batch" "$stored" "$rolled" <<'PY' | tee "$out/ingest.md"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
batch, stored, rolled = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
print(f"| clients | batches/s | events/s | p50 ms | p99 ms | errors |\n|---:|---:|---:|---:|---:|---:|")
for r in rows:
    print(f"| {r['concurrency']} | {r['rps']:.1f} | {r['rps'] * batch:,.0f} | {r['p50_ms']:.1f} | "
          f"{r['p99_ms']:.1f} | {r['errors']} |")
print(f"\nstored {stored:,} events; the daily rollup counts {rolled:,}")
if stored != rolled:
    sys.exit("the rollup does not equal the raw events")
# Warm-up batches are stored too, so the stored count is at least what the
# measured windows acknowledged.
acked = sum(r["requests"] - r["errors"] for r in rows) * batch
if stored < acked:
    sys.exit(f"{acked:,} events acknowledged in the measured windows, only {stored:,} stored")
PY
