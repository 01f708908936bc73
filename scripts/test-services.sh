#!/usr/bin/env bash
# Starts (or stops) throwaway PostgreSQL 15, Redis and RabbitMQ servers on loopback for Chive's tests.
#   scripts/test-services.sh start   -> starts them and writes $CHIVE_TEST_STATE/env (sourced by scripts/test.sh)
#   scripts/test-services.sh stop    -> stops them and removes their data (test logs and results stay)
# Idempotent: a second start with the servers already up does nothing. The env file lives in $CHIVE_TEST_STATE
# (default: <repo>/.test-state); the servers' data lives in $CHIVE_TEST_DATA (default: a folder under /var/tmp named
# after the state folder), never in the system clusters. The data is outside the checkout because PostgreSQL and
# RabbitMQ run as their own system users, who cannot enter a checkout under a folder only root may enter (~root).
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
state=${CHIVE_TEST_STATE:-$repo/.test-state}
data=${CHIVE_TEST_DATA:-/var/tmp/chive-test-$(printf %s "$state" | sha256sum | cut -c1-12)}
pg_port=${CHIVE_TEST_PG_PORT:-55432}
redis_port=${CHIVE_TEST_REDIS_PORT:-56379}
amqp_port=${CHIVE_TEST_AMQP_PORT:-55672}
rabbit_dist_port=${CHIVE_TEST_RABBIT_DIST_PORT:-55673}
pg_bin=${PG_BIN:-/usr/lib/postgresql/15/bin}

# From / so that the postgres user is never asked to enter the caller's working directory.
as_postgres() { (cd / && runuser -u postgres -- "$@"); }

log() { printf '[test-services] %s\n' "$*" >&2; }

wait_for() { # description, attempts, command...
  local what=$1 tries=$2; shift 2
  for ((i = 0; i < tries; i++)); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.5
  done
  log "$what did not come up"; return 1
}

start_postgres() {
  local dir=$data/postgres
  if [ -f "$dir/postmaster.pid" ] && "$pg_bin/pg_isready" -h 127.0.0.1 -p "$pg_port" -q; then
    log "postgres already running on $pg_port"; return
  fi
  rm -rf "$dir"; mkdir -p "$dir"; chown postgres:postgres "$dir"
  # initdb refuses to run as root; the cluster belongs to the postgres system user.
  as_postgres "$pg_bin/initdb" -D "$dir" -U chive --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
  as_postgres "$pg_bin/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 30 \
    -o "-c listen_addresses=127.0.0.1 -c port=$pg_port -c unix_socket_directories=$dir -c fsync=off -c max_connections=300" start >/dev/null
  "$pg_bin/createdb" -h 127.0.0.1 -p "$pg_port" -U chive chive
  log "postgres up on 127.0.0.1:$pg_port (database chive, user chive)"
}

start_redis() {
  local dir=$data/redis
  if redis-cli -h 127.0.0.1 -p "$redis_port" ping >/dev/null 2>&1; then log "redis already running on $redis_port"; return; fi
  rm -rf "$dir"; mkdir -p "$dir"
  redis-server --bind 127.0.0.1 --port "$redis_port" --dir "$dir" --daemonize yes --pidfile "$dir/redis.pid" \
    --logfile "$dir/redis.log" --appendonly yes --save ''
  wait_for redis 40 redis-cli -h 127.0.0.1 -p "$redis_port" ping
  log "redis up on 127.0.0.1:$redis_port"
}

rabbit_env() {
  export RABBITMQ_NODENAME=chive-test@localhost
  export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
  export RABBITMQ_NODE_PORT=$amqp_port
  export RABBITMQ_DIST_PORT=$rabbit_dist_port
  export RABBITMQ_MNESIA_BASE=$data/rabbitmq/mnesia
  export RABBITMQ_LOG_BASE=$data/rabbitmq/log
  export RABBITMQ_PID_FILE=$data/rabbitmq/rabbit.pid
  export RABBITMQ_CONFIG_FILE=$data/rabbitmq/rabbitmq
  export RABBITMQ_ENABLED_PLUGINS_FILE=$data/rabbitmq/enabled_plugins
  export ERL_EPMD_ADDRESS=127.0.0.1
}

start_rabbitmq() {
  rabbit_env
  if rabbitmqctl -q status >/dev/null 2>&1; then log "rabbitmq already running on $amqp_port"; return; fi
  rm -rf "$data/rabbitmq"; mkdir -p "$data/rabbitmq/mnesia" "$data/rabbitmq/log"
  printf 'listeners.tcp.default = 127.0.0.1:%s\nloopback_users = none\n' "$amqp_port" > "$data/rabbitmq/rabbitmq.conf"
  echo '[].' > "$data/rabbitmq/enabled_plugins"
  chown -R rabbitmq:rabbitmq "$data/rabbitmq"
  rabbitmq-server -detached
  # await_startup fails at once while the node has not registered with epmd yet, so poll first.
  wait_for rabbitmq 120 rabbitmqctl -q ping
  rabbitmqctl -q await_startup --timeout 60 >/dev/null
  log "rabbitmq up on 127.0.0.1:$amqp_port (guest/guest)"
}

write_env() {
  cat > "$state/env" <<ENV
export ConnectionStrings__postgres='Host=127.0.0.1;Port=$pg_port;Username=chive;Database=chive'
export ConnectionStrings__redis='127.0.0.1:$redis_port'
export ConnectionStrings__rabbitmq='amqp://guest:guest@127.0.0.1:$amqp_port/'
ENV
  log "connection strings written to $state/env"
}

stop_all() {
  if [ -d "$data/postgres" ]; then
    as_postgres "$pg_bin/pg_ctl" -D "$data/postgres" -m fast -w stop >/dev/null 2>&1 || true
  fi
  redis-cli -h 127.0.0.1 -p "$redis_port" shutdown nosave >/dev/null 2>&1 || true
  rabbit_env
  rabbitmqctl -q stop >/dev/null 2>&1 || true
  # Keep logs/ and results/ (in the state folder) for reading after the run; the servers' data goes.
  rm -rf "$data" "$state/env"
  log "stopped"
}

case "${1:-}" in
  start) mkdir -p "$state" "$data"; chmod 755 "$data"; start_postgres; start_redis; start_rabbitmq; write_env ;;
  stop) stop_all ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
