#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A throwaway PostgreSQL server for the tests and benchmarks.
#   server.sh start DIR   initdb a cluster in a fresh /tmp directory, start it on a free loopback
#                         port with its unix socket there, and write a libpq connection string to
#                         DIR/conninfo
#   server.sh stop DIR    stop that server and remove its cluster
# initdb refuses to run as root, so as root the server runs as the `postgres` system user that
# Debian's postgresql package creates. The cluster lives under /tmp rather than DIR so that user
# can reach it wherever the checkout is (and the socket path stays short). A server that cannot
# start is an error, never a skip.
set -euo pipefail
action=${1:-}
dir=${2:-}
[ -n "$dir" ] || { echo "usage: server.sh start|stop DIR" >&2; exit 2; }
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -x "$bindir/initdb" ] || { echo "server.sh: no PostgreSQL server binaries (apt-get install postgresql)" >&2; exit 1; }

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

stop() {
  [ -f "$dir/cluster" ] || return 0
  local cluster
  cluster=$(cat "$dir/cluster")
  if [ -f "$cluster/data/postmaster.pid" ]; then
    as_owner "$bindir/pg_ctl" -D "$cluster/data" -m fast -w stop >/dev/null || true
  fi
  rm -rf "$cluster" "$dir/cluster" "$dir/conninfo"
}

case "$action" in
  start)
    stop
    mkdir -p "$dir"
    cluster=$(mktemp -d /tmp/prkl-pg-XXXXXX)
    echo "$cluster" >"$dir/cluster"
    user=$(id -un)
    if [ "$(id -u)" -eq 0 ]; then user=postgres; chown postgres: "$cluster"; fi
    as_owner "$bindir/initdb" -D "$cluster/data" -U "$user" --auth=trust --encoding=UTF8 \
      --locale=C.UTF-8 --no-sync >"$cluster/initdb.log" 2>&1 || { cat "$cluster/initdb.log" >&2; exit 1; }
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    as_owner "$bindir/pg_ctl" -D "$cluster/data" -l "$cluster/server.log" -w -t 60 \
      -o "-p $port -k $cluster -c listen_addresses=127.0.0.1 -c max_connections=50 ${PRKL_PG_OPTIONS:--c fsync=off}" \
      start >/dev/null || { cat "$cluster/server.log" >&2; exit 1; }
    echo "host=$cluster port=$port user=$user dbname=postgres" >"$dir/conninfo"
    echo "PostgreSQL running: $(cat "$dir/conninfo")"
    ;;
  stop) stop ;;
  *) echo "usage: server.sh start|stop DIR" >&2; exit 2 ;;
esac
