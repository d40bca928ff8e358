"""The WSGI application: Django, behind the tile cache's fast path (webgis/lib/tilecache.py),
which answers public requests for cached tiles from disk without entering Django, and behind
the filter that keeps the server's environment variables out of requests (webgis/lib/wsgienv.py).
"""

import os

from django.core.wsgi import get_wsgi_application

from webgis.lib.memory import keep_large_buffers

# Before the first request: each page's buffers then stay in the heap (webgis/lib/memory.py).
MALLOC_TUNED = keep_large_buffers()

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webgis.settings")
django_application = get_wsgi_application()

from webgis.lib.tilecache import TileCacheApp  # noqa: E402  (needs the settings configured)
from webgis.lib.wsgibody import WholeBody  # noqa: E402
from webgis.lib.wsgienv import WithoutProcessEnvironment  # noqa: E402

application = WithoutProcessEnvironment(TileCacheApp(WholeBody(django_application)))
