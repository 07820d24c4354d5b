#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A throwaway PgBouncer in front of the throwaway PostgreSQL server (tests/postgres/server.sh).
#   pgbouncer.sh start SERVER_DIR DIR MODE
#                         start pgbouncer with pool_mode = MODE (transaction or session) on a free
#                         loopback port, in front of the server whose conninfo is in SERVER_DIR,
#                         and write a libpq connection string through it to DIR/conninfo
#   pgbouncer.sh stop DIR stop it and remove its files
# Its configuration is its own (no /etc/pgbouncer): every database of the server is reachable
# through it (the `*` entry), so tests can create databases and connect to them at once. Clients
# are trusted on loopback, as the server trusts them. pgbouncer refuses to run as root, so as
# root it runs as the `postgres` user, like the server; its files live under /tmp for the same
# reason as the server's (that user can reach them wherever the checkout is). A pgbouncer that
# cannot start is an error, never a skip.
set -euo pipefail
action=${1:-}
usage="usage: pgbouncer.sh start SERVER_DIR DIR transaction|session, pgbouncer.sh stop DIR"

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

stop() {
  local dir=$1
  [ -f "$dir/runtime" ] || return 0
  local runtime pid
  runtime=$(cat "$dir/runtime")
  if [ -f "$runtime/pgbouncer.pid" ]; then
    pid=$(cat "$runtime/pgbouncer.pid")
    kill "$pid" 2>/dev/null || true
    # SIGTERM closes every connection and exits at once; wait so the port and pool are gone.
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
      echo "pgbouncer.sh: pgbouncer $pid did not stop" >&2
      exit 1
    fi
  fi
  rm -rf "$runtime" "$dir/runtime" "$dir/conninfo"
}

# The value of `key` in a libpq key=value string (no quoting: server.sh writes none).
conninfo_value() {
  tr ' ' '\n' <<<"$1" | sed -n "s/^$2=//p"
}

start() {
  local server_dir=$1 dir=$2 mode=$3
  case "$mode" in transaction | session) ;; *) echo "$usage" >&2; exit 2 ;; esac
  [ -f "$server_dir/conninfo" ] || { echo "pgbouncer.sh: no server in $server_dir" >&2; exit 1; }
  command -v pgbouncer >/dev/null || { echo "pgbouncer.sh: no pgbouncer (apt-get install pgbouncer)" >&2; exit 1; }
  stop "$dir"
  mkdir -p "$dir"
  local server user server_port port runtime
  server=$(cat "$server_dir/conninfo")
  user=$(conninfo_value "$server" user)
  server_port=$(conninfo_value "$server" port)
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  runtime=$(mktemp -d /tmp/prkl-pgb-XXXXXX)
  echo "$runtime" >"$dir/runtime"
  # With auth_type = trust pgbouncer still wants the user in its auth_file; no password.
  printf '"%s" ""\n' "$user" >"$runtime/userlist.txt"
  cat >"$runtime/pgbouncer.ini" <<EOF
[databases]
* = host=127.0.0.1 port=$server_port

[pgbouncer]
pool_mode = $mode
listen_addr = 127.0.0.1
listen_port = $port
unix_socket_dir =
auth_type = trust
auth_file = $runtime/userlist.txt
logfile = $runtime/pgbouncer.log
pidfile = $runtime/pgbouncer.pid
max_client_conn = 200
default_pool_size = 8
; The server allows 50 connections and the tests make a database each: idle server connections
; of finished tests go soon, and pgbouncer never holds more than 30 at once.
max_user_connections = 30
server_idle_timeout = 5
server_reset_query = DISCARD ALL
; A query that cannot get a server connection fails in 30 s rather than the default 120 s.
query_wait_timeout = 30
EOF
  if [ "$(id -u)" -eq 0 ]; then chown -R postgres: "$runtime"; fi
  as_owner pgbouncer -d "$runtime/pgbouncer.ini" || {
    cat "$runtime/pgbouncer.log" >&2 2>/dev/null || true
    exit 1
  }
  local conninfo="host=127.0.0.1 port=$port user=$user dbname=postgres"
  # Ready when a query goes through it to the server.
  for _ in $(seq 100); do
    if psql -X -q -A -t -c "SELECT 1" "$conninfo" >/dev/null 2>&1; then
      echo "$conninfo" >"$dir/conninfo"
      echo "pgbouncer ($mode pooling) running: $conninfo"
      return 0
    fi
    sleep 0.1
  done
  echo "pgbouncer.sh: pgbouncer did not answer on port $port" >&2
  cat "$runtime/pgbouncer.log" >&2 2>/dev/null || true
  exit 1
}

case "$action" in
  start)
    [ $# -eq 4 ] || { echo "$usage" >&2; exit 2; }
    start "$2" "$3" "$4"
    ;;
  stop)
    [ $# -eq 2 ] || { echo "$usage" >&2; exit 2; }
    stop "$2"
    ;;
  *) echo "$usage" >&2; exit 2 ;;
esac
