"""OGC API - Tiles: tilesets, the WebMercatorQuad tile matrix set, tiles and TileJSON."""

from typing import Any

import mapbox_vector_tile
import pytest
from django.test import Client

from tests.catalogue.conftest import World

pytestmark = pytest.mark.django_db
JSON = {"HTTP_ACCEPT": "application/json"}


def test_tile_matrix_set_is_webmercatorquad(anonymous: Client) -> None:
    listing = anonymous.get("/ogc/tileMatrixSets", **JSON).json()
    assert [t["id"] for t in listing["tileMatrixSets"]] == ["WebMercatorQuad"]
    tms = anonymous.get("/ogc/tileMatrixSets/WebMercatorQuad", **JSON).json()
    assert tms["crs"] == "http://www.opengis.net/def/crs/EPSG/0/3857"
    z0, z3 = tms["tileMatrices"][0], tms["tileMatrices"][3]
    assert z0["matrixWidth"] == 1 and z3["matrixWidth"] == 8
    assert z0["scaleDenominator"] == pytest.approx(559082264.028717)
    assert z0["pointOfOrigin"] == pytest.approx([-20037508.3427892, 20037508.3427892])


def test_collection_links_its_tilesets(anonymous: Client, world: World) -> None:
    tilesets = anonymous.get("/ogc/collections/idn-geology/tiles", **JSON).json()
    tileset_url = tilesets["tilesets"][0]["links"][0]["href"]
    assert tileset_url.endswith("/ogc/collections/idn-geology/tiles/WebMercatorQuad")
    tileset = anonymous.get(tileset_url, **JSON).json()
    assert tileset["dataType"] == "vector"
    template = next(link for link in tileset["links"] if link["rel"] == "item")
    assert template["type"] == "application/vnd.mapbox-vector-tile"
    assert "{tileMatrix}/{tileRow}/{tileCol}" in template["href"]


def _decode(content: bytes) -> dict[str, Any]:
    return dict(mapbox_vector_tile.decode(content))


def test_tiles_hold_only_the_collections_features(anonymous: Client, world: World) -> None:
    # z=3 tile x=6, y=3 covers Sumatra and Malaysia.
    geology = anonymous.get("/ogc/collections/idn-geology/tiles/WebMercatorQuad/3/3/6")
    assert geology.status_code == 200
    assert geology["Content-Type"] == "application/vnd.mapbox-vector-tile"
    layers = _decode(geology.content)
    names = {f["properties"]["name"] for f in layers["geological-units"]["features"]}
    assert names == {"Granite A", "Limestone B"}
    samples = _decode(
        anonymous.get("/ogc/collections/mys-samples/tiles/WebMercatorQuad/3/3/6").content
    )
    assert len(samples["dataset-mys-samples"]["features"]) == 3


def test_occurrence_tiles_of_one_dataset(
    anonymous: Client, world: World, make_dataset: Any, make_occurrence: Any
) -> None:
    other = make_dataset(slug="other-mines")
    make_occurrence("Elsewhere", lon=125.2, lat=6.6, dataset=other)
    tile = anonymous.get("/ogc/collections/phl-mines/tiles/WebMercatorQuad/5/15/27")
    names = {f["properties"].get("name") for f in _decode(tile.content)["occurrences"]["features"]}
    assert "Tampakan" in names and "Elsewhere" not in names


def test_versioned_tile_urls_are_immutable(anonymous: Client, world: World) -> None:
    tileset = anonymous.get("/ogc/collections/idn-geology/tiles/WebMercatorQuad", **JSON).json()
    template = next(link["href"] for link in tileset["links"] if link["rel"] == "item")
    url = template.replace("{tileMatrix}", "3").replace("{tileRow}", "3").replace("{tileCol}", "6")
    response = anonymous.get(url)
    assert "immutable" in response["Cache-Control"]
    again = anonymous.get(url, HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304


def test_tilejson_beside_the_tileset(anonymous: Client, world: World) -> None:
    doc = anonymous.get("/ogc/collections/tha-faults/tiles/WebMercatorQuad?f=tilejson").json()
    assert doc["tilejson"] == "3.0.0"
    assert doc["tiles"][0].count("{z}/{y}/{x}") == 1
    assert doc["vector_layers"][0]["id"] == "structures"


def test_unpublished_tiles_are_404(anonymous: Client, editor_idn: Client, world: World) -> None:
    for client in (anonymous, editor_idn):
        assert (
            client.get("/ogc/collections/phl-secret/tiles/WebMercatorQuad/0/0/0").status_code == 404
        )
        assert client.get("/ogc/collections/phl-secret/tiles", **JSON).status_code == 404
