#!/usr/bin/env bash
# `make bench` (QUICK=1 for the short run): speed figures, measured side by side with peers.
# Everything runs in its own database (amdis_bench) on the local cluster; see bench/README.md.
source "$(dirname "$0")/lib.sh"
# One bench at a time on a machine: runs share ports, bench/work and the amdis_bench database.
exec 9>"${TMPDIR:-/tmp}/amdis-bench.lock"
flock -n 9 || { log "Another make bench is running: waiting for it to finish."; flock 9; }
bash scripts/setup.sh
local_env

# Load generators and peer servers from Debian (idempotent: only what is missing).
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
need=()
command -v wrk >/dev/null || need+=(wrk)
command -v pgbench >/dev/null || need+=(postgresql-client)
command -v ogr2ogr >/dev/null || need+=(gdal-bin)
if [ -z "${QUICK:-}" ]; then
  command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need+=(nginx-light)
  have_pkg cgi-mapserver || need+=(cgi-mapserver)
  command -v spawn-fcgi >/dev/null || need+=(spawn-fcgi)
fi
if [ ${#need[@]} -gt 0 ]; then
  [ "$(id -u)" = 0 ] || die "Missing OS packages (${need[*]}): install them with apt-get."
  log "Installing OS packages for the bench: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# Peer servers, charts and the profiler live in their own venv, away from requirements.lock.
PEERS="$ROOT/bench/.venv-peers"
peers_sum=$(sha256sum bench/requirements-peers.txt | cut -c1-16)
if [ ! -f "$PEERS/.req-$peers_sum" ]; then
  log "Installing the bench's peer servers into bench/.venv-peers"
  [ -x "$PEERS/bin/python" ] || python3 -m venv "$PEERS"
  "$PEERS/bin/pip" install -q --disable-pip-version-check -r bench/requirements-peers.txt
  rm -f "$PEERS"/.req-*
  touch "$PEERS/.req-$peers_sum"
fi

# Ids left by an earlier run may belong to other processes by now: forget them, never kill them.
rm -rf bench/work/pids
started=""
if [ -n "${AMDIS_LOCAL_DB:-}" ]; then
  [ "$(bash scripts/db.sh start)" = started ] && started=1
fi
cleanup() {
  # bench.run stops its servers itself; if it was killed, stop the process groups it recorded.
  for f in bench/work/pids/*.pgid; do
    [ -e "$f" ] || continue
    while read -r pgid; do [ -n "$pgid" ] && kill -TERM -- "-$pgid" 2>/dev/null || true; done < "$f"
    rm -f "$f"
  done
  if [ -n "$started" ]; then bash scripts/db.sh stop; fi
}
trap cleanup EXIT
# bench.run creates and migrates its own database; the app's database is never written.
# No statement timeout for the bench's own connection: generating a million rows and building
# their indexes on a fresh database takes longer than a web request may (the servers it starts
# set their own). No tile warm-up jobs: nothing works the queue during a bench, and the servers
# are measured on what they draw.
TILE_WARM_MAX_ZOOM=-1 DB_STATEMENT_TIMEOUT_MS=0 PYTHONPATH="$ROOT" "$PY" -m bench.run ${QUICK:+--quick} ${BENCH_ONLY:+--only $BENCH_ONLY}
