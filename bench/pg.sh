# Sourced by the PostgreSQL benchmarks: a running PostgreSQL with pg_stat_statements
# preloaded and a `devgraph` role, installed the way .ci/run does it.
# Defines: port, psql_admin, fresh_db NAME.
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
if ! command -v pg_lsclusters >/dev/null 2>&1; then
  as_root apt-get update
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y postgresql
fi
cluster=$(pg_lsclusters --no-header | awk 'NR==1 {print $1" "$2}')
if [ -z "$cluster" ]; then
  version=$(ls /usr/lib/postgresql | sort -V | tail -1)
  as_root pg_createcluster "$version" main
  cluster="$version main"
fi
is_online() { pg_lsclusters --no-header | awk -v c="$cluster" '($1" "$2)==c {print $4}' | grep -q online; }
is_online || as_root pg_ctlcluster $cluster start
port=$(pg_lsclusters --no-header | awk -v c="$cluster" '($1" "$2)==c {print $3}')
psql_admin() { as_root runuser -u postgres -- psql -p "$port" -v ON_ERROR_STOP=1 -qtA "$@"; }
wait_pg() { for _ in $(seq 1 30); do psql_admin -c 'SELECT 1' >/dev/null 2>&1 && return 0; sleep 1; done; return 1; }
wait_pg
if ! psql_admin -c 'SHOW shared_preload_libraries' | grep -q pg_stat_statements; then
  psql_admin -c "ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'"
  as_root pg_ctlcluster $cluster restart
  wait_pg
fi
if [ "$(psql_admin -c "SELECT 1 FROM pg_roles WHERE rolname = 'devgraph'")" != 1 ]; then
  psql_admin -c "CREATE ROLE devgraph LOGIN SUPERUSER PASSWORD 'devgraph'"
fi
fresh_db() {
  psql_admin -c "DROP DATABASE IF EXISTS $1 WITH (FORCE)"
  psql_admin -c "CREATE DATABASE $1 OWNER devgraph"
  psql_admin -d "$1" -c "CREATE EXTENSION pg_stat_statements"
}
