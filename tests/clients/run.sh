#!/usr/bin/env bash
# CI entry for the client checks in tests/clients: GraphiQL in headless
# Chromium, graphql-http's server audits, graphql-js introspection, and (when
# present) GraphQL Code Generator against the example client. Installs what
# it needs (Chromium, Node.js), builds the devgraph binary the tests start,
# installs the npm packages from their lock files, then runs node's test
# runner, whose summary lines close the output.
set -euo pipefail
cd "$(dirname "$0")"
here=$(pwd)
repo=$(cd ../.. && pwd)

step() { printf '\n==> %s\n' "$*"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
apt_updated=
apt_install() {
  if [ -z "$apt_updated" ]; then
    as_root apt-get update -q
    apt_updated=1
  fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@"
}

step "Chromium"
if ! command -v chromium >/dev/null 2>&1 && [ ! -x /usr/bin/chromium ]; then
  apt_install chromium
fi
/usr/lib/chromium/chromium --version 2>/dev/null || chromium --version 2>/dev/null || true

step "Node.js"
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  apt_install nodejs npm
fi
echo "node $(node --version), npm $(npm --version)"

step "cargo build -p devgraph --bin devgraph"
(cd "$repo" && cargo build -p devgraph --bin devgraph)

step "npm ci (tests/clients)"
npm ci --no-audit --no-fund

example="$repo/examples/typescript-client"
if [ -f "$example/package-lock.json" ]; then
  step "npm ci (examples/typescript-client)"
  (cd "$example" && npm ci --no-audit --no-fund)
  step "codegen from schema.graphql and type-check (examples/typescript-client)"
  (cd "$example" && npm run codegen:file && npm run typecheck)
fi

step "npm test (tests/clients)"
cd "$here"
npm test
