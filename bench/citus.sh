# Sourced by bench/run.sh instead of bench/pg.sh when BENCH_CITUS_WORKERS is
# set: the same benchmark on a Citus cluster, its database distributed by
# `devgraph migrate distribute`. The cluster must already run (this neither
# installs nor builds Citus): a coordinator at BENCH_CITUS_COORDINATOR
# (host:port, default 127.0.0.1:9700) and workers BENCH_CITUS_WORKERS
# (host:port,host:port), each with citus in shared_preload_libraries (the
# coordinator also pg_stat_statements, after citus) and reachable as the
# superuser `postgres` without a password prompt (trust on loopback, or
# PGPASSWORD). Defines what pg.sh does: host, port, psql_admin, fresh_db
# NAME, and distributed=1.
coordinator=${BENCH_CITUS_COORDINATOR:-127.0.0.1:9700}
host=${coordinator%:*} port=${coordinator##*:}
IFS=, read -r -a citus_workers <<< "$BENCH_CITUS_WORKERS"
distributed=1
psql_on() {  # host:port psql-args...
  local node=$1; shift
  psql -h "${node%:*}" -p "${node##*:}" -U postgres -v ON_ERROR_STOP=1 -qtA "$@"
}
psql_admin() { psql_on "$coordinator" "$@"; }
for node in "$coordinator" "${citus_workers[@]}"; do
  if [ "$(psql_on "$node" -c "SELECT 1 FROM pg_roles WHERE rolname = 'devgraph'")" != 1 ]; then
    psql_on "$node" -c "CREATE ROLE devgraph LOGIN SUPERUSER PASSWORD 'devgraph'"
  fi
done
# Citus keeps its metadata per database: the database is made on every
# node, with the extension in each, and the workers added on the coordinator.
fresh_db() {
  local node
  for node in "${citus_workers[@]}" "$coordinator"; do
    psql_on "$node" -c "DROP DATABASE IF EXISTS $1 WITH (FORCE)"
    psql_on "$node" -c "CREATE DATABASE $1 OWNER devgraph" 2>&1 | grep -v '^NOTICE\|^DETAIL\|^HINT' || true
    psql_on "$node" -d "$1" -c "CREATE EXTENSION citus"
  done
  psql_admin -d "$1" -c "CREATE EXTENSION pg_stat_statements"
  psql_admin -d "$1" -c "SELECT citus_set_coordinator_host('$host', $port)" >/dev/null
  for node in "${citus_workers[@]}"; do
    psql_admin -d "$1" -c "SELECT citus_add_node('${node%:*}', ${node##*:})" >/dev/null
  done
}
