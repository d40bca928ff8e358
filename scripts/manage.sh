#!/usr/bin/env bash
# Runs a manage.py command with the same environment as `make run` (starting the local cluster if needed).
source "$(dirname "$0")/lib.sh"
bash scripts/setup.sh
local_env
started=""
if [ -n "${AMDIS_LOCAL_DB:-}" ]; then
  [ "$(bash scripts/db.sh start)" = started ] && started=1
fi
cleanup() { if [ -n "$started" ]; then bash scripts/db.sh stop; fi; }
trap cleanup EXIT
# A restore needs an empty database: it brings its own schema and migration history.
[ "${1:-}" = restore ] || "$PY" manage.py migrate --noinput -v 0
"$PY" manage.py "$@"
