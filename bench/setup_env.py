"""Points Django at the bench database; imported before `django.setup()` by every entry point."""

import os

from bench.database import app_server, bench_database_ensure


def django_for_bench() -> str:
    """Creates the bench database if needed and configures Django for it; returns its URL."""
    import django

    server, _ = app_server()
    url = bench_database_ensure(server)
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    os.environ.setdefault("SECURE_COOKIES", "0")
    os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
    os.environ["DEBUG"] = "0"
    django.setup()
    return url
