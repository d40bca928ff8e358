#!/usr/bin/env bash
# `make test`: the same set-up as `make run`, then lint, types and the whole pytest suite.
source "$(dirname "$0")/lib.sh"
bash scripts/setup.sh
local_env
started=""
if [ -n "${AMDIS_LOCAL_DB:-}" ]; then
  [ "$(bash scripts/db.sh start)" = started ] && started=1
fi
cleanup() { if [ -n "$started" ]; then bash scripts/db.sh stop; fi; }
trap cleanup EXIT

log "ruff"
"$VENV/bin/ruff" check .
"$VENV/bin/ruff" format --check .
log "mypy"
"$VENV/bin/mypy"
"$PY" manage.py collectstatic --noinput -v 0
log "pytest"
"$VENV/bin/pytest" "$@"
