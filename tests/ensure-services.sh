#!/usr/bin/env bash
# Make sure PostgreSQL and NATS JetStream answer on 127.0.0.1; start (or install) them if not.
set -euo pipefail

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
apt_install() {
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq "$@" >/dev/null
}

if ! port_open 5432; then
  echo "PostgreSQL not answering on 127.0.0.1:5432: starting it"
  if ! command -v pg_ctlcluster >/dev/null 2>&1 || [ -z "$(ls /etc/postgresql 2>/dev/null)" ]; then
    apt_install postgresql
  fi
  version=$(ls /etc/postgresql | sort -V | tail -n1)
  if ! grep -q "^host.*127.0.0.1/32.*trust" "/etc/postgresql/$version/main/pg_hba.conf"; then
    sed -i '1i host all all 127.0.0.1/32 trust' "/etc/postgresql/$version/main/pg_hba.conf"
  fi
  pg_ctlcluster --skip-systemctl-redirect "$version" main start
  for _ in $(seq 50); do port_open 5432 && break; sleep 0.2; done
fi
port_open 5432 || { echo "PostgreSQL failed to start" >&2; exit 1; }

if ! port_open 4222; then
  echo "NATS not answering on 127.0.0.1:4222: starting nats-server -js"
  command -v nats-server >/dev/null 2>&1 || [ -x /usr/sbin/nats-server ] || apt_install nats-server
  mkdir -p /var/lib/nats-server
  start-stop-daemon --start --oknodo --background --exec "$(command -v nats-server || echo /usr/sbin/nats-server)" \
    -- -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log
  for _ in $(seq 50); do port_open 4222 && break; sleep 0.2; done
fi
port_open 4222 || { echo "NATS failed to start" >&2; exit 1; }
echo "PostgreSQL and NATS are up"
