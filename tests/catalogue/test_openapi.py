"""The OpenAPI 3.0 document covers every API and is valid; its documentation page is served
from the project's own static files."""

from typing import Any

import pytest
from django.test import Client
from openapi_spec_validator import validate

pytestmark = pytest.mark.django_db


def test_openapi_document_is_valid_openapi_3(anonymous: Client) -> None:
    response = anonymous.get("/ogc/api", HTTP_ACCEPT="application/json")
    assert response["Content-Type"] == "application/vnd.oai.openapi+json;version=3.0"
    doc = response.json()
    validate(doc)
    assert doc["openapi"].startswith("3.0")


def test_openapi_covers_every_api(anonymous: Client) -> None:
    paths = anonymous.get("/ogc/api?f=json").json()["paths"]
    for path in (
        "/ogc/collections/{collectionId}/items",
        "/ogc/collections/{collectionId}/items/{featureId}",
        "/ogc/collections/{collectionId}/tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}",
        "/api/occurrences/",
        "/api/occurrences/{id}/",
        "/api/vocabularies/",
        "/tiles/{layer}/{z}/{x}/{y}.mvt",
        "/downloads/{collectionId}/{format}",
        "/catalogue/",
        "/catalogue/{slug}/iso19139.xml",
    ):
        assert path in paths


def test_limit_maximum_is_documented(anonymous: Client, settings: Any) -> None:
    settings.API_MAX_PAGE_SIZE = 1234
    doc = anonymous.get("/ogc/api?f=json").json()
    limit = doc["components"]["parameters"]["limit"]["schema"]
    assert (limit["minimum"], limit["maximum"]) == (1, 1234)


def test_interactive_documentation_uses_own_static_files(anonymous: Client) -> None:
    response = anonymous.get("/ogc/api?f=html")
    assert response.status_code == 200
    html = response.content.decode()
    assert "vendor/swagger-ui/swagger-ui-bundle" in html
    assert "catalogue/api_docs" in html
    assert "<script>" not in html
    assert "unpkg" not in html and "cdn" not in html
