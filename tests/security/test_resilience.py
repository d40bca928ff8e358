"""Database outages answer 503 (not 500); saturation answers 503 with Retry-After."""

import threading
from typing import Any

import pytest
from django.db import OperationalError
from django.test import Client

pytestmark = pytest.mark.django_db


def test_a_database_error_in_a_view_is_a_503_with_retry_after(
    anonymous: Client, monkeypatch: Any
) -> None:
    from deposits import api

    def down(**kwargs: Any) -> None:
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(api, "occurrences_geojson_page", down)
    response = anonymous.get("/api/occurrences/")

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.json()["error"]["code"] == "unavailable"


def test_a_page_gets_a_readable_503(anonymous: Client, monkeypatch: Any) -> None:
    from landing import views

    def down(*args: Any, **kwargs: Any) -> None:
        raise OperationalError("connection refused")

    monkeypatch.setattr(views, "render", down)
    response = anonymous.get("/")
    assert response.status_code == 503
    assert b"try again" in response.content


def test_past_saturation_a_request_gets_503_at_once(settings: Any) -> None:
    from django.http import HttpRequest, HttpResponse
    from django.test import RequestFactory

    from webgis.lib.resilience import LoadSheddingMiddleware

    settings.MAX_CONCURRENT_REQUESTS = 1
    settings.QUEUE_WAIT_SECONDS = 0.05
    entered, release = threading.Event(), threading.Event()

    def slow_view(request: HttpRequest) -> HttpResponse:
        entered.set()
        release.wait(5)
        return HttpResponse("ok")

    middleware = LoadSheddingMiddleware(slow_view)
    results: list[int] = []
    worker = threading.Thread(
        target=lambda: results.append(middleware(RequestFactory().get("/api/x")).status_code)
    )
    worker.start()
    entered.wait(5)

    busy = middleware(RequestFactory().get("/api/occurrences/"))
    health = LoadSheddingMiddleware(lambda r: HttpResponse("up"))

    assert busy.status_code == 503
    assert busy["Retry-After"] == "2"
    release.set()
    worker.join(5)
    assert results == [200]
    assert middleware(RequestFactory().get("/api/x")).status_code == 200  # the slot is free again
    assert health(RequestFactory().get("/healthz")).status_code == 200
