#!/usr/bin/env bash
# `make load`: 60 s at 64 connections on tiles and GeoJSON, then a saturation check (bench/hold.py).
source "$(dirname "$0")/lib.sh"
bash scripts/setup.sh
command -v wrk >/dev/null || { [ "$(id -u)" = 0 ] && apt-get install -y -qq wrk >/dev/null; } || die "wrk is needed: apt-get install wrk"
local_env
started=""
if [ -n "${AMDIS_LOCAL_DB:-}" ]; then
  [ "$(bash scripts/db.sh start)" = started ] && started=1
fi
cleanup() { if [ -n "$started" ]; then bash scripts/db.sh stop; fi; }
trap cleanup EXIT
"$PY" manage.py migrate --noinput -v 0
"$PY" manage.py collectstatic --noinput -v 0
"$PY" manage.py load_demo
"$PY" -m bench.hold "$@"
