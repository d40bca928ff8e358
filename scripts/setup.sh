#!/usr/bin/env bash
# Installs whatever is missing: OS packages, the virtualenv, npm packages, static files.
# A second run checks stamps and returns in a few seconds.
source "$(dirname "$0")/lib.sh"

need_apt=()
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

if [ -z "$(pg_major)" ]; then need_apt+=(postgresql); fi
for p in gdal-bin libgdal-dev chromium nodejs npm python3-venv; do
  # nodejs may come from another source with npm bundled; only ask apt when the command is missing.
  case "$p" in
    nodejs) command -v node >/dev/null || need_apt+=(nodejs) ;;
    npm) command -v npm >/dev/null || need_apt+=(npm) ;;
    python3-venv) python3 -c 'import venv, ensurepip' 2>/dev/null || need_apt+=(python3-venv) ;;
    *) have_pkg "$p" || need_apt+=("$p") ;;
  esac
done
install_apt() {
  [ "$(id -u)" = 0 ] || die "Missing OS packages ($*): run as root or install them with apt-get."
  log "Installing OS packages: $*"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}
if [ ${#need_apt[@]} -gt 0 ]; then install_apt "${need_apt[@]}"; fi
PGV="$(pg_major)"
have_pkg "postgresql-$PGV-postgis-3" || install_apt "postgresql-$PGV-postgis-3" "postgresql-contrib"

# Python virtualenv from the lock file; re-installed only when the lock changes.
lock_sum=$(sha256sum requirements.lock | cut -c1-16)
if [ ! -f "$VENV/.lock-$lock_sum" ]; then
  log "Installing Python packages into .venv"
  [ -x "$PY" ] || python3 -m venv "$VENV"
  # (pip's notes about unused local index folders are noise here)
  "$VENV/bin/pip" install -q --disable-pip-version-check -r requirements.lock 2>&1 | grep -v "^WARNING: Location" || true
  "$VENV/bin/python" -c "import django, django_tasks_db, rasterio, pyogrio" \
    || die "The Python packages did not install: see the pip messages above."
  rm -f "$VENV"/.lock-*
  touch "$VENV/.lock-$lock_sum"
fi

# Front-end packages (Leaflet plugins, world-atlas boundaries) from npm.
npm_sum=$(cat package.json package-lock.json 2>/dev/null | sha256sum | cut -c1-16)
if [ ! -f "node_modules/.stamp-$npm_sum" ]; then
  log "Installing front-end packages with npm"
  if [ -f package-lock.json ]; then npm ci --no-audit --no-fund --loglevel=error; else npm install --no-audit --no-fund --loglevel=error; fi
  touch "node_modules/.stamp-$npm_sum"
fi
