#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A throwaway PostgreSQL server for the tests and benchmarks.
#   server.sh start DIR   initdb a cluster in a fresh /tmp directory, start it on a free loopback
#                         port with its unix socket there, and write a libpq connection string to
#                         DIR/conninfo
#   server.sh standby PRIMARY_DIR DIR
#                         the same for a hot standby of the server started in PRIMARY_DIR:
#                         pg_basebackup -R (streaming replication) into a fresh cluster
#   server.sh halt DIR [fast|immediate]
#                         stop the server but keep its cluster (the primary's failure, in a
#                         failover test)
#   server.sh promote DIR make a standby the primary (pg_ctl promote), waiting until it is
#   server.sh stop DIR    stop that server and remove its cluster
# initdb refuses to run as root, so as root the server runs as the `postgres` system user that
# Debian's postgresql package creates. The cluster lives under /tmp rather than DIR so that user
# can reach it wherever the checkout is (and the socket path stays short). A server that cannot
# start is an error, never a skip.
set -euo pipefail
action=${1:-}
dir=${2:-}
usage="usage: server.sh start|stop|halt|promote DIR, server.sh standby PRIMARY_DIR DIR"
[ -n "$dir" ] || { echo "$usage" >&2; exit 2; }
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

# Makes DIR's fresh cluster directory; sets $cluster and $user.
new_cluster() {
  stop
  mkdir -p "$dir"
  cluster=$(mktemp -d /tmp/prkl-pg-XXXXXX)
  echo "$cluster" >"$dir/cluster"
  user=$(id -un)
  if [ "$(id -u)" -eq 0 ]; then user=postgres; chown postgres: "$cluster"; fi
}

# Starts the cluster in $cluster on a free loopback port and writes DIR/conninfo.
run_cluster() {
  local port
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  as_owner "$bindir/pg_ctl" -D "$cluster/data" -l "$cluster/server.log" -w -t 60 \
    -o "-p $port -k $cluster -c listen_addresses=127.0.0.1 -c max_connections=50 ${PRKL_PG_OPTIONS:--c fsync=off}" \
    start >/dev/null || { cat "$cluster/server.log" >&2; exit 1; }
  echo "host=$cluster port=$port user=$user dbname=postgres" >"$dir/conninfo"
  echo "PostgreSQL running: $(cat "$dir/conninfo")"
}

case "$action" in
  start)
    new_cluster
    as_owner "$bindir/initdb" -D "$cluster/data" -U "$user" --auth=trust --encoding=UTF8 \
      --locale=C.UTF-8 --no-sync >"$cluster/initdb.log" 2>&1 || { cat "$cluster/initdb.log" >&2; exit 1; }
    run_cluster
    ;;
  standby)
    primary_dir=$dir
    dir=${3:-}
    [ -n "$dir" ] && [ -f "$primary_dir/conninfo" ] || { echo "$usage" >&2; exit 2; }
    new_cluster
    # -R writes primary_conninfo and standby.signal: the copy starts as a streaming standby.
    as_owner "$bindir/pg_basebackup" -d "$(cat "$primary_dir/conninfo")" -D "$cluster/data" -R \
      -X stream -c fast --no-sync >"$cluster/basebackup.log" 2>&1 || { cat "$cluster/basebackup.log" >&2; exit 1; }
    run_cluster
    ;;
  halt)
    cluster=$(cat "$dir/cluster")
    as_owner "$bindir/pg_ctl" -D "$cluster/data" -m "${3:-fast}" -w stop >/dev/null
    ;;
  promote)
    cluster=$(cat "$dir/cluster")
    as_owner "$bindir/pg_ctl" -D "$cluster/data" -w -t 60 promote >/dev/null
    ;;
  stop) stop ;;
  *) echo "$usage" >&2; exit 2 ;;
esac
