"""Staying up under trouble: a database outage answers 503 (never 500), and past saturation
a request is turned away at once with 503 and Retry-After instead of queueing until it times out."""

import threading
from collections.abc import Callable

from django.conf import settings
from django.db import InterfaceError, OperationalError, connections
from django.http import HttpRequest, HttpResponse, JsonResponse

JSON_PREFIXES = ("/api/", "/tiles/", "/ogc/", "/healthz")


def unavailable(request: HttpRequest, message: str, retry_after: int) -> HttpResponse:
    if request.path.startswith(JSON_PREFIXES) or "json" in request.headers.get("Accept", ""):
        response: HttpResponse = JsonResponse(
            {"error": {"code": "unavailable", "message": message}}, status=503
        )
    else:
        response = HttpResponse(
            f"<!doctype html><title>AMDIS is busy</title><h1>Please try again shortly</h1><p>{message}</p>",
            status=503,
        )
    response["Retry-After"] = str(retry_after)
    response["Cache-Control"] = "no-store"
    return response


class DatabaseUnavailableMiddleware:
    """A lost database connection is a 503 with Retry-After; the broken connection is closed
    so the next request reconnects (no restart of the application needed)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, OperationalError | InterfaceError):
            return None
        for connection in connections.all(initialized_only=True):
            connection.close_if_unusable_or_obsolete()
            if connection.connection is not None and not connection.is_usable():
                connection.close()
        return unavailable(request, "The database is not answering; try again in a few seconds.", 5)


class LoadSheddingMiddleware:
    """At most MAX_CONCURRENT_REQUESTS requests of this process run at once; a request that
    cannot start within QUEUE_WAIT_SECONDS gets 503 + Retry-After (health checks always run)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.slots = threading.BoundedSemaphore(settings.MAX_CONCURRENT_REQUESTS)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path == "/healthz":
            return self.get_response(request)
        if not self.slots.acquire(timeout=settings.QUEUE_WAIT_SECONDS):
            return unavailable(request, "AMDIS is busy right now; try again in a moment.", 2)
        try:
            return self.get_response(request)
        finally:
            self.slots.release()
