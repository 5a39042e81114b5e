#!/usr/bin/env bash
# Where a release devgraph spends its CPU: seeds one organization (10 team
# spaces, 500 developers, 50 projects, 90 days), drives each scenario at
# concurrency 8 for PROFILE_SECONDS (default 30) — the DESIGN.md Dashboard
# over 30 and 90 days, and a developer looked up by id — samples the server
# with `perf record`, and prints the share of the server's CPU samples per
# crate and the top functions. Not a test: a measurement, reported in
# bench/README.md. Needs `perf` (Debian: linux-perf).
#
#   bash bench/profile.sh
#   PROFILE_SECONDS=10 PROFILE_SCENARIOS="dashboard-30d lookup" bash bench/profile.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
seconds=${PROFILE_SECONDS:-30}
scenarios=${PROFILE_SCENARIOS:-"dashboard-30d dashboard-90d lookup"}
db=${PROFILE_DB:-devgraph_profile}
port_http=${PROFILE_PORT:-8126}
source "$root/bench/lib.sh"
scratch profile
command -v perf >/dev/null || { echo "perf is not installed (Debian: linux-perf)" >&2; exit 1; }

step "PostgreSQL"
source "$root/bench/pg.sh"
url="postgres://devgraph:devgraph@127.0.0.1:${port}/${db}"

release_build
export DATABASE_URL=$url JWT_SECRET=profile-secret-that-is-long-enough-0123456 RUST_LOG=warn
lift_budgets

if [ "${PROFILE_REUSE:-0}" != 1 ] || ! psql_admin -d "$db" -c 'SELECT 1' >/dev/null 2>&1; then
  step "Seed: 1 organization, 10 team spaces, 500 developers, 50 projects, 90 days"
  fresh_db "$db"
  "$bin" migrate up
  "$bin" seed --orgs 1 --team-spaces 10 --developers 500 --projects 50 --days 90 --events-per-day 4 --pull-requests 0
fi
slug=$(psql_admin -d "$db" -c "SELECT slug FROM organizations LIMIT 1")
org_id=$(psql_admin -d "$db" -c "SELECT id FROM organizations WHERE slug = '$slug'")
owner=$(psql_admin -d "$db" -c "SELECT email FROM developers WHERE organization_id = '$org_id' AND role = 'owner' ORDER BY id LIMIT 1")
token=$("$bin" token --org "$slug" --developer "$owner")
someone=$(psql_admin -d "$db" -c "SELECT id FROM developers WHERE organization_id = '$org_id' ORDER BY id DESC LIMIT 1")

step "devgraph (release) on :$port_http"
DEVGRAPH_ADDR=127.0.0.1:$port_http "$bin" serve > "$out/profile-devgraph.log" 2>&1 &
server=$!
pids+=($server)
wait_http "http://127.0.0.1:$port_http/readyz"

for scenario in $scenarios; do
  python3 - "$root/bench/queries/devgraph" "$work/body.json" "$scenario" "$someone" <<'PY'
import base64, datetime, json, sys
queries, path, scenario, someone = sys.argv[1:5]
today = datetime.date.today()
if scenario == "lookup":
    gid = base64.urlsafe_b64encode(f"Developer:{someone}".encode()).decode().rstrip("=")
    body = {"query": open(f"{queries}/lookup.graphql").read(), "variables": {"id": gid}}
else:
    days = int(scenario.removeprefix("dashboard-").removesuffix("d"))
    body = {"query": open(f"{queries}/dashboard.graphql").read(),
            "variables": {"from": str(today - datetime.timedelta(days=days - 1)), "to": str(today)}}
open(path, "w").write(json.dumps(body))
PY
  step "$scenario: concurrency 8, ${seconds} s, perf on the server"
  "$load" --url "http://127.0.0.1:$port_http/graphql" --body "$work/body.json" \
    --header "authorization: Bearer $token" --concurrency 8 --warmup 2 --duration "$seconds" \
    --server devgraph --scenario "profile-$scenario" &
  client=$!
  pids+=($client)
  sleep 2
  perf record -F 499 -g -p "$server" -o "$work/perf.data" -- sleep $(( seconds - 1 )) 2>/dev/null
  wait "$client"
  perf report -i "$work/perf.data" --no-children --sort symbol --stdio 2>/dev/null \
    > "$work/report.txt"
  python3 - "$work/report.txt" "$scenario" <<'PY' | tee "$out/profile-$scenario.md"
import re, sys
path, scenario = sys.argv[1], sys.argv[2]
rows = []
for line in open(path):
    m = re.match(r"\s+([\d.]+)%\s+\[[.k]\]\s+(.*)$", line)
    if m:
        rows.append((float(m.group(1)), m.group(2).strip()))
def crate(symbol):
    if symbol.startswith("0x"):
        return "(unresolved)"
    s = symbol.lstrip("<&*( ")
    s = re.sub(r"^(dyn |impl |mut )", "", s)
    head = re.split(r"::|<| ", s)[0]
    return head or symbol
by_crate = {}
for share, symbol in rows:
    by_crate[crate(symbol)] = by_crate.get(crate(symbol), 0.0) + share
print(f"### {scenario}: server CPU samples by crate\n")
print("| crate | share |\n|---|---:|")
for name, share in sorted(by_crate.items(), key=lambda kv: -kv[1])[:15]:
    print(f"| {name} | {share:.1f}% |")
print(f"\n### Top functions\n\n| function | share |\n|---|---:|")
for share, symbol in rows[:20]:
    print(f"| `{symbol[:110]}` | {share:.1f}% |")
PY
done
