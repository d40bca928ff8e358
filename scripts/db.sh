#!/usr/bin/env bash
# A project-local PostGIS cluster under .data/pg, run as the `postgres` user (initdb refuses root).
#   db.sh start   -> starts it if needed; prints "started" when this call started it
#   db.sh stop    -> stops it
#   db.sh status
source "$(dirname "$0")/lib.sh"
PGPORT="${PGPORT:-54329}"
PGV="$(pg_major)"
[ -n "$PGV" ] || die "PostgreSQL is not installed: run 'make setup' first."
BIN="/usr/lib/postgresql/$PGV/bin"
PGDATA_DIR="$DATA_DIR/pg"

as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# The postgres user must be able to reach the folder; a clone under /root is not reachable,
# so the cluster then lives in /var/tmp under a name derived from the project path.
if [ "$(id -u)" = 0 ] && ! runuser -u postgres -- test -x "$DATA_DIR" 2>/dev/null; then
  PGDATA_DIR="/var/tmp/amdis-pg-$(echo "$ROOT" | sha256sum | cut -c1-12)"
fi

is_running() { as_pg "$BIN/pg_ctl" -D "$PGDATA_DIR/data" status >/dev/null 2>&1; }

start() {
  if [ ! -f "$PGDATA_DIR/data/PG_VERSION" ]; then
    log "Creating the local PostGIS cluster in $PGDATA_DIR"
    mkdir -p "$PGDATA_DIR"
    [ "$(id -u)" = 0 ] && chown postgres:postgres "$PGDATA_DIR"
    as_pg "$BIN/initdb" -D "$PGDATA_DIR/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
    cat >> "$PGDATA_DIR/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $PGPORT
unix_socket_directories = '$PGDATA_DIR'
shared_buffers = 512MB
work_mem = 32MB
max_connections = 200
fsync = on
CONF
  fi
  if is_running; then echo "already"; return; fi
  as_pg "$BIN/pg_ctl" -D "$PGDATA_DIR/data" -l "$PGDATA_DIR/server.log" -w -t 60 start >/dev/null \
    || { tail -n 20 "$PGDATA_DIR/server.log" >&2; die "PostgreSQL did not start (log above)."; }
  psql_pg() { as_pg psql -h "$PGDATA_DIR" -p "$PGPORT" -U postgres -v ON_ERROR_STOP=1 -qtA "$@"; }
  if [ "$(psql_pg -c "select 1 from pg_roles where rolname='amdis'")" != 1 ]; then
    psql_pg -c "create role amdis login superuser"
  fi
  if [ "$(psql_pg -c "select 1 from pg_database where datname='amdis'")" != 1 ]; then
    psql_pg -c "create database amdis owner amdis"
  fi
  psql_pg -d amdis -c "create extension if not exists postgis; create extension if not exists pg_trgm; create extension if not exists btree_gist"
  echo "started"
}

stop() {
  if is_running; then as_pg "$BIN/pg_ctl" -D "$PGDATA_DIR/data" -m fast -w stop >/dev/null; fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) is_running && echo running || echo stopped ;;
  *) die "usage: db.sh start|stop|status" ;;
esac
