#!/usr/bin/env bash
# `make run`: set up, start the local PostGIS, migrate, load the demo data once, serve.
source "$(dirname "$0")/lib.sh"
bash scripts/setup.sh
local_env
# `make run` serves plain http on the loopback address: cookies cannot be "secure" there and
# there is no https to redirect to. Production (.env.example) keeps the secure defaults.
export SECURE_COOKIES="${SECURE_COOKIES:-0}" SECURE_SSL_REDIRECT="${SECURE_SSL_REDIRECT:-0}" SECURE_HSTS_SECONDS="${SECURE_HSTS_SECONDS:-0}"
started=""
if [ -n "${AMDIS_LOCAL_DB:-}" ]; then
  [ "$(bash scripts/db.sh start)" = started ] && started=1
fi
cleanup() {
  trap - INT TERM EXIT
  [ -n "${worker_pid:-}" ] && kill "$worker_pid" 2>/dev/null && wait "$worker_pid" 2>/dev/null
  [ -n "${server_pid:-}" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  if [ -n "$started" ]; then log "Stopping the local PostGIS cluster"; bash scripts/db.sh stop; fi
}
trap cleanup INT TERM EXIT

"$PY" manage.py migrate --noinput -v 0
"$PY" manage.py collectstatic --noinput -v 0
"$PY" manage.py load_demo
# The OGC API's pre-built pages of every published dataset (quick once built: it skips current ones).
"$PY" manage.py feature_blocks -v 0
# Mine-production series for the landing page's trend charts, from the shared data when present.
OWID="$ROOT/../shared/data/stats_metal_production_owid/metal_production_asean_long.csv"
if [ -f "$OWID" ] && [ ! -f "$DATA_DIR/.owid-imported" ]; then
  "$PY" manage.py import_indicators "$OWID" && touch "$DATA_DIR/.owid-imported"
fi
# The job worker: reads, checks and publishes uploads (jobs are kept in PostgreSQL).
"$PY" manage.py db_worker --interval 0.5 &
worker_pid=$!
log "AMDIS is at http://127.0.0.1:${PORT:-8000}/  (map: /map/, API: /api/occurrences/). Ctrl-C stops it."
# Granian (Rust HTTP server, WSGI interface): WEB_WORKERS processes of WEB_THREADS request threads
# each, as gunicorn's gthread workers had. It has no per-request timeout: the database statement
# timeout and the load shedding (MAX_CONCURRENT_REQUESTS) bound a request instead.
"$VENV/bin/granian" --interface wsgi webgis.wsgi:application \
  --host 127.0.0.1 --port "${PORT:-8000}" --workers "${WEB_WORKERS:-2}" \
  --blocking-threads "${WEB_THREADS:-4}" --respawn-failed-workers --access-log &
server_pid=$!
wait "$server_pid"
