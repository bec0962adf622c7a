#!/usr/bin/env bash
# Starts whichever of PostgreSQL, Redis and NATS (JetStream) is not answering on 127.0.0.1,
# installing the Debian packages first when a binary is missing. Idempotent: servers already
# up are left alone. Used by `make demo` and `make test`.
set -euo pipefail

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_port() {
  local name=$1 port=$2
  for _ in $(seq 1 60); do
    port_open "$port" && return 0
    sleep 0.5
  done
  echo "ensure-servers: $name did not come up on 127.0.0.1:$port" >&2
  exit 1
}

missing=()
command -v pg_ctlcluster >/dev/null 2>&1 || missing+=(postgresql)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
[ -x /usr/sbin/nats-server ] || command -v nats-server >/dev/null 2>&1 || missing+=(nats-server)
if [ ${#missing[@]} -gt 0 ]; then
  echo "ensure-servers: installing ${missing[*]}"
  # One apt command for all PostgreSQL packages: a later install can upgrade the server under a running cluster.
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if ! port_open 5432; then
  echo "ensure-servers: starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start
  wait_port PostgreSQL 5432
fi

if ! port_open 6379; then
  echo "ensure-servers: starting Redis"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
  wait_port Redis 6379
fi

if ! port_open 4222; then
  echo "ensure-servers: starting NATS with JetStream"
  mkdir -p /var/lib/nats-server
  nats_bin=$(command -v nats-server || echo /usr/sbin/nats-server)
  start-stop-daemon --start --oknodo --background --exec "$nats_bin" -- \
    -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log
  wait_port NATS 4222
fi
