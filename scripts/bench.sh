#!/usr/bin/env bash
# `make bench`: speed figures, measured side by side with peers (see bench/README.md).
source "$(dirname "$0")/lib.sh"
bash scripts/setup.sh
local_env
started=""
if [ -n "${AMDIS_LOCAL_DB:-}" ]; then
  [ "$(bash scripts/db.sh start)" = started ] && started=1
fi
cleanup() { if [ -n "$started" ]; then bash scripts/db.sh stop; fi; }
trap cleanup EXIT
"$PY" manage.py migrate --noinput -v 0
"$PY" manage.py collectstatic --noinput -v 0
"$PY" -m bench.run ${QUICK:+--quick}
