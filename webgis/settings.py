"""AMDIS settings. Everything that differs between machines comes from the environment."""

from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONCE, NONE, SELF

from webgis.lib.env import env_bool, env_int, env_list, env_secret, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = env_secret("SECRET_KEY")
DEBUG = env_bool("DEBUG", default=False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "csp",
    # The admin site sits behind the collaboration platform's two-factor sign-in.
    "collab.apps.SecondFactorAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.gis",
    # OpClass in index expressions (the trigram index of deposits 0009) needs its wrappers.
    "django.contrib.postgres",
    "rest_framework",
    "rest_framework_gis",
    "leaflet",
    "webgis",
    "deposits",
    "layers",
    "landing",
    "django_tasks",
    "django_tasks_db",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "collab",
    "prospectivity",
    "catalogue",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "webgis.lib.resilience.LoadSheddingMiddleware",
    "webgis.lib.resilience.DatabaseUnavailableMiddleware",
    "webgis.lib.request_limits.RequestSizeLimitMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The visitor's language: the language switcher's cookie, else the browser's Accept-Language.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "collab.middleware.SessionIdleTimeoutMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, so it can turn a locked-out sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

# django-axes first: it refuses sign-in attempts while an account is locked out.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "collab:login"
LOGIN_REDIRECT_URL = "collab:overview"

ROOT_URLCONF = "webgis.urls"
WSGI_APPLICATION = "webgis.wsgi.application"
ASGI_APPLICATION = "webgis.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "webgis" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "webgis.lib.csp.nonce",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL"),
        engine="webgis.db",
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
# A statement that runs longer than this is cancelled: a slow query must not hold a worker.
# JIT compilation costs more than it saves on these short, many-row GeoJSON and tile queries
# (measured: 25-57 ms added to a 10,000-feature page).
DATABASES["default"].setdefault("OPTIONS", {})["options"] = (
    f"-c statement_timeout={env_int('DB_STATEMENT_TIMEOUT_MS', 30000)} -c jit=off"
)
DATABASES["default"]["OPTIONS"]["connect_timeout"] = env_int("DB_CONNECT_TIMEOUT", 5)
# The items pages' statements are prepared once per session (webgis.db.prepared). Behind a
# pooler in transaction mode (pgbouncer pool_mode=transaction) sessions change under the app:
# set DB_PREPARED_STATEMENTS=0 there, and every statement goes as plain text.
DATABASE_PREPARED_STATEMENTS = env_bool("DB_PREPARED_STATEMENTS", default=True)
# Several test runs can share one server when each names its own test database.
DATABASES["default"]["TEST"] = {"NAME": env_str("TEST_DATABASE_NAME", "test_amdis")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Each process's memory cache: vocabularies, counts and per-dataset facts keyed by data version
# (layers.selectors), all small. Django's default keeps 300 entries, then evicts a third of them
# at random, which a portal of many datasets and member-state pages would reach.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "OPTIONS": {"MAX_ENTRIES": env_int("CACHE_MAX_ENTRIES", 5000)},
    }
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
# Bahasa Indonesia is the first translation (landing page and member-state profiles).
LANGUAGES = [("en", "English"), ("id", "Bahasa Indonesia")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
# Front-end packages come from npm at set-up (package.json); nothing third-party is committed.
STATICFILES_DIRS = [
    ("vendor/leaflet.vectorgrid", BASE_DIR / "node_modules" / "leaflet.vectorgrid" / "dist"),
    ("vendor/swagger-ui", BASE_DIR / "node_modules" / "swagger-ui-dist"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "media")))
MEDIA_URL = "/media/"

DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 5 * 1024 * 1024)

# Content Security Policy (django-csp): scripts only from our own static files, plus the
# per-request nonce of django-leaflet's admin widget; nothing from another origin.
_basemap_origin = (
    "/".join(env_str("BASEMAP_URL", "").split("/")[:3]) if env_str("BASEMAP_URL", "") else None
)
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        "img-src": [SELF, "data:", "blob:", *([_basemap_origin] if _basemap_origin else [])],
        "connect-src": [SELF],
        "font-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# Load shedding: per web process, this many requests run at once; one that cannot start
# within QUEUE_WAIT_SECONDS is answered 503 + Retry-After instead of hanging.
MAX_CONCURRENT_REQUESTS = env_int("MAX_CONCURRENT_REQUESTS", 16)
QUEUE_WAIT_SECONDS = float(env_str("QUEUE_WAIT_SECONDS", "5"))

# Security: secure by default; DEBUG=1 or SECURE_COOKIES=0 relaxes it for plain-http development.
_secure = env_bool("SECURE_COOKIES", default=not DEBUG)
SESSION_COOKIE_SECURE = _secure
CSRF_COOKIE_SECURE = _secure
# Says what to do (reload, allow cookies) instead of Django's bare "CSRF verification failed".
CSRF_FAILURE_VIEW = "webgis.error_pages.csrf_failure"
SESSION_COOKIE_HTTPONLY = True
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=not DEBUG)
# The health check answers over plain http too (load balancers probe it that way).
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_PROXY") else None
X_FRAME_OPTIONS = "DENY"

# Sessions end after SESSION_COOKIE_AGE at the latest, after COLLAB_IDLE_TIMEOUT seconds without
# a request, and when the browser closes; logging out deletes them on the server.
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 3600)
SESSION_EXPIRE_AT_BROWSER_CLOSE = env_bool("SESSION_EXPIRE_AT_BROWSER_CLOSE", default=True)
COLLAB_IDLE_TIMEOUT = env_int("COLLAB_IDLE_TIMEOUT", 30 * 60)

# Two-factor sign-in (django-otp, TOTP apps) and login throttling (django-axes): after
# AXES_FAILURE_LIMIT failed passwords or codes an account is locked for a fixed cool-off;
# failures during the lockout do not extend it.
OTP_TOTP_ISSUER = env_str("OTP_TOTP_ISSUER", "AMDIS")
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 30))
# Comma-separated; "username+ip_address" locks the pair rather than each.
AXES_LOCKOUT_PARAMETERS = [
    item.split("+") if "+" in item else item
    # Each alone: one account attacked from many addresses, or many accounts from one address.
    for item in env_list("AXES_LOCKOUT_PARAMETERS", "username,ip_address")
]
AXES_RESET_ON_SUCCESS = True
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_TEMPLATE = "collab/locked_out.html"
# Behind a proxy (BEHIND_PROXY=1) failures count against the forwarded client address.
AXES_CLIENT_IP_CALLABLE = "collab.throttling.client_ip"
AXES_VERBOSE = False

# E-mail (invitations, notices): printed to the console unless an SMTP server is configured.
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 587)
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=True)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_secret("EMAIL_HOST_PASSWORD") if EMAIL_HOST_USER else ""
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "AMDIS <noreply@localhost>")

# Collaboration platform files live outside any public URL and are served by permission checks.
COLLAB_PRIVATE_ROOT = Path(env_str("COLLAB_PRIVATE_ROOT", str(MEDIA_ROOT / "private")))
COLLAB_MAX_UPLOAD_BYTES = env_int("COLLAB_MAX_UPLOAD_MB", 25) * 1024 * 1024
COLLAB_INVITATION_DAYS = env_int("COLLAB_INVITATION_DAYS", 7)

# GDAL older than 3.9 cannot block file and network access from SRS strings (gis.W001).
# No user-supplied text reaches GDAL's SRS or file parsers (see tests/security); SRIDs are
# integers from an allow-list and files are opened by the server under its own paths.
SILENCED_SYSTEM_CHECKS = ["gis.W001"]

REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "EXCEPTION_HANDLER": "webgis.lib.errors.api_exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

# Map defaults for django-leaflet: South-East Asia, no outside tile server unless configured.
BASEMAP_URL = env_str("BASEMAP_URL", "")
BASEMAP_ATTRIBUTION = env_str("BASEMAP_ATTRIBUTION", "")
LEAFLET_CONFIG = {
    "DEFAULT_CENTER": (8.0, 112.0),
    "DEFAULT_ZOOM": 4,
    "MIN_ZOOM": 2,
    "MAX_ZOOM": 18,
    "TILES": [],
    "ATTRIBUTION_PREFIX": "AMDIS",
    "RESET_VIEW": False,
    "NO_GLOBALS": False,
}

# Background jobs live in PostgreSQL (django-tasks' database backend); `make run` starts
# `manage.py db_worker`. TASKS_BACKEND=immediate runs them inline (tests, one-off scripts).
TASKS = {
    "default": {
        "BACKEND": (
            "django_tasks.backends.immediate.ImmediateBackend"
            if env_str("TASKS_BACKEND", "database") == "immediate"
            else "django_tasks_db.DatabaseBackend"
        )
    },
    "database": {"BACKEND": "django_tasks_db.DatabaseBackend"},
}

# Uploads: every limit is a setting (bytes, counts, pixels); see layers/ingest/safety.py.
UPLOAD_MAX_BYTES = env_int("UPLOAD_MAX_BYTES", 2 * 1024**3)
# Any other request body (forms, API calls) is far smaller.
REQUEST_MAX_BYTES = env_int("REQUEST_MAX_BYTES", 10 * 1024**2)
FILE_UPLOAD_HANDLERS = ["django.core.files.uploadhandler.TemporaryFileUploadHandler"]
FILE_UPLOAD_PERMISSIONS = 0o640
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o750

# API limits, documented in the README and the API responses.
API_MAX_PAGE_SIZE = env_int("API_MAX_PAGE_SIZE", 10000)
API_DEFAULT_PAGE_SIZE = env_int("API_DEFAULT_PAGE_SIZE", 1000)
# Features a block holds (catalogue.blocks): a page of 1,000 reads two blocks of about 250 KB.
FEATURE_BLOCK_SIZE = env_int("FEATURE_BLOCK_SIZE", 500)
# A publish of more occurrences than this commits without their stored GeoJSON; a job writes it
# right after (deposits/occurrence_json.py), and pages build the missing ones meanwhile.
OCCURRENCE_JSON_JOB_ABOVE = env_int("OCCURRENCE_JSON_JOB_ABOVE", 50_000)

# Downloads (catalogue app): GeoJSON and CSV stream at any size; a GeoPackage or Shapefile of
# more than DOWNLOAD_DIRECT_MAX_FEATURES features is built by the job worker, kept for
# DOWNLOAD_KEEP_HOURS; at most DOWNLOAD_MAX_ACTIVE_JOBS such jobs wait or run at once.
DOWNLOAD_DIRECT_MAX_FEATURES = env_int("DOWNLOAD_DIRECT_MAX_FEATURES", 20000)
DOWNLOAD_MAX_FEATURES = env_int("DOWNLOAD_MAX_FEATURES", 2_000_000)
DOWNLOAD_KEEP_HOURS = env_int("DOWNLOAD_KEEP_HOURS", 24)
DOWNLOAD_MAX_ACTIVE_JOBS = env_int("DOWNLOAD_MAX_ACTIVE_JOBS", 4)

# Server-side tile cache (webgis/lib/tilecache.py): public tiles of versioned URLs, on disk.
# TILE_CACHE=0 turns it off; the directory defaults to MEDIA_ROOT/tilecache. Old versions go on
# publish; `manage.py tilecache_prune` (e.g. from cron) also keeps it under TILE_CACHE_MAX_MB.
TILE_CACHE = env_bool("TILE_CACHE", default=True)
TILE_CACHE_DIR = env_str("TILE_CACHE_DIR", "")
TILE_CACHE_MAX_MB = env_int("TILE_CACHE_MAX_MB", 2048)
# After a dataset or boundary changes, a job draws every public layer's tiles from zoom 0 to this
# one over the member states (webgis/lib/tilewarm.py; the map opens at zoom 4). -1 turns it off.
TILE_WARM_MAX_ZOOM = env_int("TILE_WARM_MAX_ZOOM", 7)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "WARNING")},
}
