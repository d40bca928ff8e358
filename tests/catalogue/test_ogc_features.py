"""OGC API - Features at /ogc/: landing page, conformance, collections, queryables, items."""

import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client

from catalogue.api import CONFORMANCE
from tests.catalogue.conftest import VIETNAMESE, World
from webgis.db.prepared import statement_text

pytestmark = pytest.mark.django_db
JSON = {"HTTP_ACCEPT": "application/json"}


def _get(client: Client, url: str, **params: Any) -> Any:
    response = client.get(url, params, **JSON)
    assert response.status_code == 200, response.content[:300]
    return response.json()


def test_landing_page_links_the_api_conformance_and_collections(anonymous: Client) -> None:
    doc = _get(anonymous, "/ogc/")
    rels = {link["rel"]: link for link in doc["links"]}
    assert rels["service-desc"]["type"] == "application/vnd.oai.openapi+json;version=3.0"
    assert rels["conformance"]["href"].endswith("/ogc/conformance")
    assert rels["data"]["href"].endswith("/ogc/collections")
    assert rels["self"]["type"] == "application/json"


def test_conformance_declares_core_geojson_html_oas30_and_filter(anonymous: Client) -> None:
    classes = _get(anonymous, "/ogc/conformance")["conformsTo"]
    for name in ("core", "geojson", "html", "oas30"):
        assert f"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/{name}" in classes
    assert "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text" in classes
    assert classes == CONFORMANCE


def test_browsers_get_html_and_f_overrides_accept(anonymous: Client) -> None:
    html = anonymous.get("/ogc/", HTTP_ACCEPT="text/html,application/xhtml+xml,*/*;q=0.8")
    assert html["Content-Type"].startswith("text/html")
    assert b"OGC API" in html.content
    forced = anonymous.get("/ogc/", {"f": "json"}, HTTP_ACCEPT="text/html")
    assert forced["Content-Type"] == "application/json"


def test_collections_list_the_aggregate_and_each_published_dataset(
    anonymous: Client, world: World
) -> None:
    doc = _get(anonymous, "/ogc/collections")
    ids = [c["id"] for c in doc["collections"]]
    assert ids[0] == "occurrences"
    assert {"phl-mines", "idn-geology", "tha-faults", "mys-samples"} <= set(ids)
    assert "phl-secret" not in ids
    mines = next(c for c in doc["collections"] if c["id"] == "phl-mines")
    assert mines["itemType"] == "feature"
    assert mines["extent"]["spatial"]["bbox"][0] == pytest.approx([121.1, 6.48, 125.05, 17.2])
    rels = {link["rel"] for link in mines["links"]}
    assert {"self", "items", "http://www.opengis.net/def/rel/ogc/1.0/queryables"} <= rels
    assert mines["license"] == "CC BY 4.0"


def test_unpublished_collection_is_hidden_from_public_and_other_states(
    anonymous: Client, editor_idn: Client, world: World
) -> None:
    for client in (anonymous, editor_idn):
        assert client.get("/ogc/collections/phl-secret", **JSON).status_code == 404
        assert client.get("/ogc/collections/phl-secret/items", **JSON).status_code == 404
        items = _get(client, "/ogc/collections/occurrences/items")
        assert "Hidden prospect" not in str(items)


def test_unpublished_collection_is_visible_to_its_editors_and_reviewers(
    editor_phl: Client, reviewer: Client, world: World
) -> None:
    for client in (editor_phl, reviewer):
        response = client.get("/ogc/collections/phl-secret/items", **JSON)
        assert response.status_code == 200
        assert response.json()["numberMatched"] == 1
        assert response["Cache-Control"].startswith("private")


def test_items_page_with_counts_and_next_prev_links(anonymous: Client, world: World) -> None:
    doc = _get(anonymous, "/ogc/collections/phl-mines/items", limit=1, offset=1)
    assert doc["type"] == "FeatureCollection"
    assert doc["numberMatched"] == 3
    assert doc["numberReturned"] == 1
    assert doc["features"][0]["properties"]["name"] == VIETNAMESE
    links = {link["rel"]: link["href"] for link in doc["links"]}
    assert parse_qs(urlsplit(links["next"]).query)["offset"] == ["2"]
    assert parse_qs(urlsplit(links["prev"]).query)["offset"] == ["0"]


@pytest.mark.parametrize(
    "path", ["phl-mines", "occurrences", "idn-geology"], ids=["dataset", "aggregate", "polygons"]
)
def test_large_pages_are_streamed_with_the_same_features_counts_and_links(
    anonymous: Client, world: World, monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    url = f"/ogc/collections/{path}/items"
    buffered = anonymous.get(url, {"limit": 2, "offset": 1}, **JSON)
    assert not buffered.streaming
    monkeypatch.setattr("catalogue.api.STREAM_ABOVE", 1)
    response = anonymous.get(url, {"limit": 2, "offset": 1}, **JSON)
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "application/geo+json"
    doc = json.loads(b"".join(response.streaming_content))
    expected = buffered.json()
    assert doc["features"] == expected["features"]
    assert 1 <= doc["numberReturned"] == len(doc["features"]) <= 2
    assert doc["numberMatched"] == expected["numberMatched"]
    assert doc["links"] == expected["links"]
    ids = [f["id"] for f in doc["features"]]
    assert ids == sorted(ids)


def test_an_empty_streamed_page_is_valid_json(
    anonymous: Client, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("catalogue.api.STREAM_ABOVE", 1)
    response = anonymous.get(
        "/ogc/collections/phl-mines/items", {"limit": 5, "offset": 1000}, **JSON
    )
    doc = json.loads(b"".join(response.streaming_content))
    assert (doc["features"], doc["numberReturned"], doc["numberMatched"]) == ([], 0, 3)


def test_a_page_past_the_end_still_counts_the_matches(anonymous: Client, world: World) -> None:
    """A held page reads its count from its rows; past the end there is none to read it from."""
    response = anonymous.get(
        "/ogc/collections/phl-mines/items", {"limit": 5, "offset": 1000}, **JSON
    )
    assert not response.streaming
    doc = response.json()
    assert (doc["features"], doc["numberReturned"], doc["numberMatched"]) == ([], 0, 3)


def test_a_held_page_is_one_statement_after_the_collection(
    anonymous: Client, world: World, django_assert_num_queries: Any
) -> None:
    """An anonymous visitor's page is one statement: the dataset and its feature blocks
    (catalogue.blocks). While there are none: that statement, the collection (with the member
    states' codes), the blocks of the general path, and the page built by SQL with its count."""
    from catalogue.blocks import TABLE, blocks_build

    anonymous.get("/ogc/collections/phl-mines/items", **JSON)  # warm the per-process caches
    with django_assert_num_queries(4) as captured:
        doc = anonymous.get("/ogc/collections/phl-mines/items", {"limit": 2}, **JSON).json()
    assert (doc["numberReturned"], doc["numberMatched"]) == (2, 3)
    assert TABLE in statement_text(captured.captured_queries[2]["sql"])
    assert "count(*)" in captured.captured_queries[-1]["sql"]
    blocks_build(world.occurrences.pk)
    with django_assert_num_queries(1) as captured:
        doc = anonymous.get("/ogc/collections/phl-mines/items", {"limit": 2}, **JSON).json()
    assert (doc["numberReturned"], doc["numberMatched"]) == (2, 3)
    assert TABLE in statement_text(captured.captured_queries[0]["sql"])


def test_last_page_has_no_next_link(anonymous: Client, world: World) -> None:
    doc = _get(anonymous, "/ogc/collections/phl-mines/items", limit=2, offset=2)
    assert "next" not in {link["rel"] for link in doc["links"]}


def test_items_are_geojson(anonymous: Client, world: World) -> None:
    response = anonymous.get("/ogc/collections/idn-geology/items", **JSON)
    assert response["Content-Type"] == "application/geo+json"
    feature = response.json()["features"][0]
    assert feature["geometry"]["type"] == "MultiPolygon"
    assert feature["properties"]["lithology"] == "granite"


def test_limit_above_the_maximum_is_cut_to_it(
    anonymous: Client, world: World, settings: Any
) -> None:
    settings.API_MAX_PAGE_SIZE = 2
    doc = _get(anonymous, "/ogc/collections/phl-mines/items", limit=500)
    assert doc["numberReturned"] == 2


def test_bbox_selects_features(anonymous: Client, world: World) -> None:
    doc = _get(anonymous, "/ogc/collections/idn-geology/items", bbox="101.5,0.5,104,3")
    assert [f["properties"]["name"] for f in doc["features"]] == ["Limestone B"]
    doc = _get(anonymous, "/ogc/collections/occurrences/items", bbox="124,5,126,7")
    assert [f["properties"]["name"] for f in doc["features"]] == ["Tampakan"]


def test_property_filters_on_queryables(anonymous: Client, world: World) -> None:
    assert (
        _get(anonymous, "/ogc/collections/idn-geology/items", lithology="limestone")[
            "numberMatched"
        ]
        == 1
    )
    assert (
        _get(anonymous, "/ogc/collections/phl-mines/items", status="deposit")["numberMatched"] == 1
    )
    assert (
        _get(anonymous, "/ogc/collections/occurrences/items", commodity="Au")["numberMatched"] == 2
    )
    assert _get(anonymous, "/ogc/collections/mys-samples/items", sample="S-1")["numberMatched"] == 1


@pytest.mark.parametrize(
    ("cql", "expected"),
    [
        ("status = 'deposit'", ["Tampakan"]),
        ("resource_mt > 1000 AND commodity = 'copper'", ["Tampakan"]),
        ("commodity IN ('silver', 'copper')", ["Tampakan", "เหมืองทองชาตรี"]),
        ("name LIKE 'Mỏ%'", [VIETNAMESE]),
        ("resource_mt IS NULL AND NOT status = 'occurrence'", [VIETNAMESE]),
        ("(status = 'deposit' OR status = 'prospect') AND province IS NOT NULL", ["Tampakan"]),
    ],
)
def test_cql2_text_filter(anonymous: Client, world: World, cql: str, expected: list[str]) -> None:
    doc = _get(anonymous, "/ogc/collections/phl-mines/items", filter=cql)
    assert sorted(f["properties"]["name"] for f in doc["features"]) == sorted(expected)


def test_cql2_on_generic_layer_numbers(anonymous: Client, world: World) -> None:
    doc = _get(anonymous, "/ogc/collections/mys-samples/items", filter="cu_ppm BETWEEN 20 AND 40")
    assert sorted(f["properties"]["sample"] for f in doc["features"]) == ["S-1", "S-2"]


def test_single_item(anonymous: Client, world: World) -> None:
    doc = _get(anonymous, f"/ogc/collections/phl-mines/items/{world.copper.pk}")
    assert doc["type"] == "Feature"
    assert doc["id"] == world.copper.pk
    assert doc["properties"]["name"] == "Tampakan"
    assert {link["rel"] for link in doc["links"]} >= {"self", "collection"}


def test_item_of_another_collection_is_404(anonymous: Client, world: World) -> None:
    response = anonymous.get(f"/ogc/collections/idn-geology/items/{world.copper.pk}", **JSON)
    assert response.status_code == 404
    assert response.json()["code"] == "NotFound"


def test_unpublished_item_is_404_through_the_aggregate(
    anonymous: Client, editor_idn: Client, world: World
) -> None:
    for client in (anonymous, editor_idn):
        response = client.get(f"/ogc/collections/occurrences/items/{world.hidden.pk}", **JSON)
        assert response.status_code == 404


def test_queryables_are_a_json_schema(anonymous: Client, world: World) -> None:
    response = anonymous.get("/ogc/collections/phl-mines/queryables", **JSON)
    assert response["Content-Type"] == "application/schema+json"
    doc = response.json()
    assert doc["type"] == "object"
    assert doc["properties"]["resource_mt"]["type"] == "number"
    assert "deposit" in doc["properties"]["status"]["enum"]
    vector = _get(anonymous, "/ogc/collections/mys-samples/queryables")
    assert vector["properties"]["cu_ppm"]["type"] == "number"
    assert vector["properties"]["note"]["type"] == "string"


@pytest.mark.parametrize(
    "page",
    [
        "/ogc/?f=html",
        "/ogc/conformance?f=html",
        "/ogc/collections?f=html",
        "/ogc/collections/phl-mines?f=html",
        "/ogc/collections/phl-mines/queryables?f=html",
        "/ogc/collections/phl-mines/items?f=html&limit=2",
        "/ogc/collections/mys-samples/items?f=html",
        "/ogc/tileMatrixSets?f=html",
    ],
)
def test_html_pages(anonymous: Client, world: World, page: str) -> None:
    response = anonymous.get(page)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert b"<script>" not in response.content  # no inline script (CSP)


def test_html_item_escapes_values(anonymous: Client, world: World, make_occurrence: Any) -> None:
    bad = make_occurrence("<script>alert(1)</script>", dataset=world.occurrences)
    response = anonymous.get(f"/ogc/collections/phl-mines/items/{bad.pk}?f=html")
    assert response.status_code == 200
    assert b"<script>alert(1)</script>" not in response.content


# Errors: OGC exception body, 400 or 404, never a 500.
@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/ogc/collections/phl-mines/items?bbox=abc", "bbox"),
        ("/ogc/collections/phl-mines/items?bbox=1,2,3", "bbox"),
        ("/ogc/collections/idn-geology/items?bbox=10,10,5,5", "bbox"),
        ("/ogc/collections/phl-mines/items?bbox=NaN,1,2,3", "bbox"),
        ("/ogc/collections/phl-mines/items?limit=0", "limit"),
        ("/ogc/collections/phl-mines/items?limit=-1", "limit"),
        ("/ogc/collections/phl-mines/items?limit=abc", "limit"),
        ("/ogc/collections/phl-mines/items?offset=99999999999", "offset"),
        ("/ogc/collections/phl-mines/items?status=exec(1)", "status"),
        ("/ogc/collections/idn-geology/items?age_min_ma=old", "age_min_ma"),
        ("/ogc/collections/phl-mines/items?sortby=name", "sortby"),
        ("/ogc/collections/phl-mines/items?filter=exec(1) = 1", "filter"),
        ("/ogc/collections/phl-mines/items?filter=status = 1", "filter"),
        ("/ogc/collections/phl-mines/items?filter=status = 'x' AND", "filter"),
        ("/ogc/collections/phl-mines/items?filter=resource_mt > 'big'", "filter"),
        ("/ogc/collections/phl-mines/items?filter=name = 'x'; DROP TABLE x", "filter"),
        ("/ogc/collections/phl-mines/items?filter-lang=cql2-json&filter=x", "filter-lang"),
        ("/ogc/collections/phl-mines/items?datetime=yesterday", "datetime"),
        ("/ogc/collections/phl-mines/items?f=xml", "f"),
        ("/ogc/collections?foo=1", "foo"),
        ("/ogc/collections/phl-mines/tiles/WebMercatorQuad/99/0/0", "z"),
        ("/ogc/collections/phl-mines/tiles/WebMercatorQuad/2/9/0", "y"),
        ("/ogc/collections/phl-mines/tiles/WebMercatorQuad/1/0/1e309", "x"),
    ],
)
def test_invalid_parameters_are_400_with_an_ogc_exception(
    anonymous: Client, world: World, url: str, field: str
) -> None:
    response = anonymous.get(url, **JSON)
    assert response.status_code == 400, response.content[:300]
    body = response.json()
    assert body["code"] == "InvalidParameterValue"
    assert body["description"]
    assert body["error"]["field"] == field


@pytest.mark.parametrize(
    "url",
    [
        "/ogc/collections/nope",
        "/ogc/collections/nope/items",
        "/ogc/collections/nope/queryables",
        "/ogc/collections/phl-mines/items/999999999",
        "/ogc/collections/phl-mines/items/abc",
        "/ogc/collections/phl-mines/tiles/OtherQuad",
        "/ogc/tileMatrixSets/OtherQuad",
    ],
)
def test_unknown_resources_are_404_with_an_ogc_exception(
    anonymous: Client, world: World, url: str
) -> None:
    response = anonymous.get(url, **JSON)
    assert response.status_code == 404
    assert response.json()["code"] == "NotFound"


def test_a_datetime_interval_is_accepted(anonymous: Client, world: World) -> None:
    doc = _get(anonymous, "/ogc/collections/phl-mines/items", datetime="2020-01-01/..")
    assert doc["numberMatched"] == 3


def test_post_is_not_allowed(anonymous: Client) -> None:
    assert anonymous.post("/ogc/collections").status_code == 405
