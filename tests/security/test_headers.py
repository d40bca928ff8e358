"""Security headers on every kind of response."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "path", ["/", "/map/", "/api/occurrences/", "/tiles/occurrences.json", "/healthz"]
)
def test_every_response_carries_the_security_headers(anonymous: Client, path: str) -> None:
    response = anonymous.get(path, secure=True)

    assert response.status_code == 200
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert "max-age=31536000" in response["Strict-Transport-Security"]


def test_the_content_security_policy_allows_no_inline_script(anonymous: Client) -> None:
    policy = anonymous.get("/map/")["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    # The nonce appears only when a template used it (django-leaflet's admin widget).
    assert directives["script-src"] == "'self'" or directives["script-src"].startswith(
        "'self' 'nonce-"
    )
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"


def test_pages_have_no_inline_script_without_the_nonce(anonymous: Client) -> None:
    import re

    for path in ("/", "/map/"):
        html = anonymous.get(path).content.decode()
        for tag in re.findall(r"<script\b[^>]*>", html):
            assert "src=" in tag or 'type="application/json"' in tag, tag


def test_session_and_csrf_cookies_are_secure_and_http_only() -> None:
    from django.conf import settings

    assert settings.SESSION_COOKIE_SECURE and settings.CSRF_COOKIE_SECURE
    assert settings.SESSION_COOKIE_HTTPONLY
