# Sourced by every script in bench/ after `root` is set: what they all
# need, written once.
#   step TEXT         a heading in the output
#   scratch NAME      sets `work` (a scratch folder removed on exit) and
#                     `out` (bench/out); processes added to `pids` are
#                     killed on exit
#   release_build     builds the release server and load client (under
#                     CARGO_TARGET_DIR when set) and sets `bin` and `load`
#   lift_budgets      lifts the tenant budgets, for runs that measure the
#                     server rather than one organization's share of it
#                     (bench/budgets.sh measures that)
#   wait_http URL     waits up to a minute for URL to answer
step() { printf '\n==> %s\n' "$*"; }

pids=()
scratch() {
  out=$root/bench/out
  work=$(mktemp -d "/tmp/devgraph-$1.XXXXXX")
  mkdir -p "$out"
  trap 'for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done; rm -rf "$work"' EXIT
}

release_build() {
  step "Build (release)"
  cargo build --release -p devgraph --bin devgraph --example load
  local target=${CARGO_TARGET_DIR:-$root/target}
  bin=$target/release/devgraph
  load=$target/release/examples/load
}

lift_budgets() {
  export DEVGRAPH_TENANT_IN_FLIGHT=100000 DEVGRAPH_TENANT_REQUESTS_PER_MINUTE=1000000000 \
    DEVGRAPH_TENANT_POINTS_PER_MINUTE=2000000000
}

wait_http() {
  for _ in $(seq 1 120); do curl -fsS -o /dev/null "$1" 2>/dev/null && return 0; sleep 0.5; done
  echo "no answer from $1" >&2; return 1
}
