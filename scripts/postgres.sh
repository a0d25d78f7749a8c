#!/usr/bin/env bash
# Start a throwaway PostgreSQL cluster on 127.0.0.1 for tests and benchmarks.
#   scripts/postgres.sh start DIR   -> prints the database URL, writes DIR/url
#   scripts/postgres.sh stop DIR
#   scripts/postgres.sh crash DIR | restart DIR   (fault tests: kill it hard, start it again;
#   start such a server with DURABLE=1 so that what was committed survives the crash)
# Needs Debian's `postgresql` package (apt-get install postgresql). Runs as root
# by switching to the postgres user, as on CI; as a normal user it runs as you.
set -euo pipefail

cmd=${1:?usage: postgres.sh start|stop|crash|restart DIR}
dir=${2:?usage: postgres.sh start|stop DIR}
pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -n "$pgbin" ] || { echo "PostgreSQL is not installed (apt-get install postgresql)" >&2; exit 1; }

as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$cmd" in
  start)
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres: "$dir"
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    as_pg "$pgbin/initdb" -D "$dir/data" -A trust -U helpdesk -E UTF8 --locale=C.UTF-8 >/dev/null
    # Fast and forgetful for tests, unless DURABLE=1: a fault test that kills the server
    # needs commits that survive it, as on a real server.
    fast="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    [ "${DURABLE:-0}" = 1 ] && fast=""
    echo "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories=$dir $fast" > "$dir/options"
    as_pg "$pgbin/pg_ctl" -D "$dir/data" -l "$dir/pg.log" -w start -o "$(cat "$dir/options")" >/dev/null
    psql -h 127.0.0.1 -p "$port" -U helpdesk -d postgres -qc 'create database helpdesk' >/dev/null
    url="postgresql+psycopg://helpdesk@127.0.0.1:$port/helpdesk"
    echo "$url" > "$dir/url"
    echo "$url"
    ;;
  stop)
    as_pg "$pgbin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
    ;;
  crash)
    # As if the server died: no shutdown checkpoint, every connection cut.
    as_pg "$pgbin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null
    ;;
  restart)
    as_pg "$pgbin/pg_ctl" -D "$dir/data" -l "$dir/pg.log" -w start -o "$(cat "$dir/options")" >/dev/null
    ;;
  *)
    echo "usage: postgres.sh start|stop|crash|restart DIR" >&2; exit 2 ;;
esac
