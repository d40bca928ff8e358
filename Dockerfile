# Multi-stage build: front-end packages, Python wheels, then a slim runtime as a non-root user.
FROM node:20-bookworm-slim AS frontend
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund

FROM python:3.11-slim-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends gcc libgdal-dev && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY requirements.lock ./
RUN python -m venv /venv && /venv/bin/pip install --no-cache-dir -r requirements.lock

FROM python:3.11-slim-bookworm
RUN apt-get update \
    && apt-get install -y --no-install-recommends gdal-bin libgdal32 libgeos-c1v5 libproj25 \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home /app amdis
WORKDIR /app
COPY --from=build /venv /venv
COPY --from=frontend /app/node_modules ./node_modules
COPY . .
ENV PATH=/venv/bin:$PATH PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=webgis.settings STATIC_ROOT=/app/staticfiles MEDIA_ROOT=/var/lib/amdis/media
# collectstatic needs settings, not a database or the real secret.
RUN SECRET_KEY=build-only DATABASE_URL=postgis://build@localhost/build python manage.py collectstatic --noinput \
    && mkdir -p /var/lib/amdis/media && chown -R amdis /var/lib/amdis
USER amdis
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz').status != 200)"
# Granian's WSGI interface: 4 processes × 4 request threads. Headers whose names hold "_" reach
# the app as if spelt with "-": the proxy in front must drop them (nginx does by default).
CMD ["granian", "--interface", "wsgi", "webgis.wsgi:application", "--host", "0.0.0.0", "--port", "8000", "--workers", "4", "--blocking-threads", "4", "--respawn-failed-workers", "--access-log"]
