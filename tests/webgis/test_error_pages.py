"""Failures outside a view's own handling (webgis.error_pages): people get the site's page with
what happened and where to go next; API clients get the API's JSON error."""

import json
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import Client, RequestFactory
from django.urls import get_resolver

from webgis import error_pages

pytestmark = pytest.mark.django_db
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def _html(response: Any) -> str:
    assert response["Content-Type"].startswith("text/html")
    assert response["Cache-Control"] == "no-store"
    return str(response.content.decode())


def test_an_unknown_page_is_the_sites_page_with_ways_on(anonymous: Client) -> None:
    response = anonymous.get("/no-such-page/<script>alert(1)</script>", headers=BROWSER)
    assert response.status_code == 404
    html = _html(response)
    assert 'class="site-nav"' in html  # the site's frame, not a bare "Not Found"
    assert '<h1 id="error-title">Page not found</h1>' in html
    assert "<code>/no-such-page/&lt;script&gt;alert(1)&lt;/script&gt;</code>" in html
    assert "<script>alert" not in html
    for link in ('href="/"', 'href="/map/"', 'href="/catalogue/"', 'href="/countries/"'):
        assert link in html


def test_the_page_is_in_the_visitors_language(anonymous: Client) -> None:
    response = anonymous.get("/no-such-page/", headers={**BROWSER, "Accept-Language": "id"})
    html = _html(response)
    assert '<html lang="id">' in html
    assert "Halaman tidak ditemukan" in html and "Ke mana selanjutnya" in html


def test_a_missing_object_behind_a_page_is_the_same_page(anonymous: Client) -> None:
    """A view's own Http404 (an occurrence that does not exist) reaches the same handler."""
    response = anonymous.get("/occurrences/987654321/", headers=BROWSER)
    assert response.status_code == 404
    assert "Page not found" in _html(response)


@pytest.mark.parametrize("path", ["/api/no-such-endpoint", "/tiles/no/such/tile/path"])
def test_an_unknown_api_address_answers_json(anonymous: Client, path: str) -> None:
    response = anonymous.get(path, headers=BROWSER)  # even from a browser
    assert (response.status_code, response["Content-Type"]) == (404, "application/json")
    error = response.json()["error"]
    assert error["code"] == "not_found"
    assert error["message"] == f"Nothing is at {path}. Every endpoint is in /ogc/api."
    assert response["Cache-Control"] == "no-store"


def test_an_unknown_ogc_address_answers_an_ogc_exception_unless_html_is_asked(
    anonymous: Client,
) -> None:
    response = anonymous.get("/ogc/no-such-resource")
    assert response.status_code == 404
    body = response.json()
    assert body["code"] == "NotFound" and "/ogc/no-such-resource" in body["description"]
    assert body["error"]["code"] == "not_found"
    assert "Page not found" in _html(anonymous.get("/ogc/no-such-resource", {"f": "html"}))
    assert "Page not found" in _html(anonymous.get("/ogc/no-such-resource", headers=BROWSER))


def test_a_client_that_asks_for_json_gets_json_anywhere(anonymous: Client) -> None:
    response = anonymous.get("/no-such-page/", headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_a_refusal_says_why_and_what_to_do(registered: Client) -> None:
    """Signed in without a survey role: the view's own message, then whom to ask."""
    response = registered.get("/uploads/new/", headers=BROWSER)
    assert response.status_code == 403
    html = _html(response)
    assert '<h1 id="error-title">Not allowed</h1>' in html
    assert "Uploading is for editors of a national geological survey." in html
    assert "ask the AMDIS administrator of your survey" in html
    assert "Sign in</a>" not in html


def test_a_refusal_to_a_visitor_offers_to_sign_in_and_come_back() -> None:
    request = RequestFactory().get("/somewhere/private/?tab=2", headers=BROWSER)
    request.user = AnonymousUser()
    response = error_pages.permission_denied(request, error_pages.PermissionDenied())
    assert response.status_code == 403
    html = _html(response)
    assert "You do not have permission for this." in html  # no message of its own
    assert 'href="/collab/login/?next=%2Fsomewhere%2Fprivate%2F%3Ftab%3D2"' in html


def test_a_request_for_another_host_is_a_bad_request_page() -> None:
    response = Client(HTTP_HOST="evil.example").get("/map/", headers=BROWSER)
    assert response.status_code == 400
    html = _html(response)
    assert '<h1 id="error-title">Bad request</h1>' in html
    assert "evil.example" not in html


@pytest.mark.parametrize(
    ("path", "kind"), [("/map/", "html"), ("/api/occurrences/", "json"), ("/ogc/api", "ogc")]
)
def test_a_server_error_is_the_sites_page_or_json(path: str, kind: str) -> None:
    request = RequestFactory().get(path)
    request.user = AnonymousUser()
    response = error_pages.server_error(request)
    assert response.status_code == 500
    if kind == "html":
        assert '<h1 id="error-title">Server error</h1>' in _html(response)
    else:
        body = json.loads(response.content)
        assert body["error"]["code"] == "server_error"
        assert ("code" in body) is (kind == "ogc")


def test_a_server_error_page_that_cannot_be_drawn_is_plain_text(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the template is broken too")

    monkeypatch.setattr(error_pages, "render", broken)
    request = RequestFactory().get("/map/")
    request.user = AnonymousUser()
    response = error_pages.server_error(request)
    assert (response.status_code, response["Content-Type"]) == (500, "text/plain; charset=utf-8")
    assert response.content.decode() == error_pages.MESSAGES[500]


def test_the_url_configuration_names_these_handlers() -> None:
    resolver = get_resolver()
    assert resolver.resolve_error_handler(400) is error_pages.bad_request
    assert resolver.resolve_error_handler(403) is error_pages.permission_denied
    assert resolver.resolve_error_handler(404) is error_pages.page_not_found
    assert resolver.resolve_error_handler(500) is error_pages.server_error


def test_a_form_without_its_token_says_to_reload_and_changes_nothing() -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        "/i18n/setlang/", {"language": "id", "next": "/"}, headers=BROWSER, secure=True
    )
    assert response.status_code == 403
    html = _html(response)
    assert '<h1 id="error-title">Not allowed</h1>' in html
    assert "Reload the page and send it again" in html
    assert "django_language" not in response.cookies  # the language was not switched


def test_an_api_post_without_its_token_gets_the_json_error(registered: Client) -> None:
    registered.handler.enforce_csrf_checks = True
    response = registered.post("/api/prospectivity/runs/", {}, headers=BROWSER)
    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "forbidden" and "Reload the page" in error["message"]
