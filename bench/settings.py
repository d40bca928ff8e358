"""Settings of the bench server: the app's own settings plus the bench-only URLs (DRF baseline)."""

from webgis.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
