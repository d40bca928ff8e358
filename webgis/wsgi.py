"""The WSGI application: Django, behind the tile cache's fast path (webgis/lib/tilecache.py),
which answers public requests for cached tiles from disk without entering Django."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webgis.settings")
django_application = get_wsgi_application()

from webgis.lib.tilecache import TileCacheApp  # noqa: E402  (needs the settings configured)

application = TileCacheApp(django_application)
