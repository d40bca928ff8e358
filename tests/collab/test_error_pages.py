"""An error inside the collaboration platform keeps its frame and its own ways on."""

import pytest
from django.test import Client

from tests.collab.conftest import Persona

pytestmark = pytest.mark.django_db
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def test_an_unknown_platform_page_offers_its_sign_in_to_a_visitor(anonymous: Client) -> None:
    response = anonymous.get("/collab/no-such-page/", headers=BROWSER)

    assert response.status_code == 404
    html = response.content.decode()
    assert 'class="collab"' in html  # the platform's frame
    assert '<h1 id="error-title">Page not found</h1>' in html
    assert "<code>/collab/no-such-page/</code>" in html
    assert 'href="/collab/login/">Sign in to the collaboration platform' in html
    assert 'href="/">The AMDIS home page' in html
    assert "The map of mineral occurrences" not in html  # the public site's ways on
    assert "{#" not in html and "comment" not in html
    assert response["Cache-Control"] == "no-store"


def test_an_unknown_platform_page_leads_a_member_back_to_the_platform(pablo: Persona) -> None:
    response = pablo.client.get("/collab/reports/999999/", headers=BROWSER)

    assert response.status_code == 404
    html = response.content.decode()
    assert 'class="collab-nav' in html  # the member's own navigation
    assert 'href="/collab/">The collaboration platform\'s overview' in html
    assert "Sign in to the collaboration platform" not in html


def test_an_unknown_public_page_keeps_the_public_sites_page(anonymous: Client) -> None:
    html = anonymous.get("/collaboration/", headers=BROWSER).content.decode()
    assert "The map of mineral occurrences" in html
    assert "Sign in to the collaboration platform" not in html
