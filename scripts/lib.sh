# Shared shell helpers for the scripts in this folder. Sourced, not run.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
DATA_DIR="$ROOT/.data"
VENV="$ROOT/.venv"
PY="$VENV/bin/python"
mkdir -p "$DATA_DIR"

log() { printf '\033[1m[amdis]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[31m[amdis] %s\033[0m\n' "$*" >&2; exit 1; }

# The newest PostgreSQL server installed by Debian's packages, e.g. "15" (empty if none).
pg_major() {
  ls -1 /usr/lib/postgresql 2>/dev/null | sort -n | tail -n 1
}

# Environment for Django when run from `make run` / `make test` on the local cluster.
local_env() {
  export PGPORT="${PGPORT:-54329}"
  if [ -z "${DATABASE_URL:-}" ]; then
    export DATABASE_URL="postgres://amdis@127.0.0.1:${PGPORT}/amdis"
    export AMDIS_LOCAL_DB=1
  fi
  if [ -z "${SECRET_KEY:-}" ] && [ -z "${SECRET_KEY_FILE:-}" ]; then
    [ -s "$DATA_DIR/secret_key" ] || "$PY" -c 'import secrets; print(secrets.token_urlsafe(50))' > "$DATA_DIR/secret_key"
    chmod 600 "$DATA_DIR/secret_key"
    export SECRET_KEY_FILE="$DATA_DIR/secret_key"
  fi
  export MEDIA_ROOT="${MEDIA_ROOT:-$DATA_DIR/media}"
  export STATIC_ROOT="${STATIC_ROOT:-$DATA_DIR/static}"
  export ALLOWED_HOSTS="${ALLOWED_HOSTS:-127.0.0.1,localhost}"
  export AMDIS_SHARED_DATA="${AMDIS_SHARED_DATA:-$(cd "$ROOT/.." && pwd)/shared/data}"
  export DJANGO_SETTINGS_MODULE=webgis.settings
}
