"""Vector tiles made by PostGIS: decoded, checked feature by feature, and every error case."""

import json
import math
from typing import Any

import mapbox_vector_tile
import pytest
from django.db import connection
from django.test import Client

pytestmark = pytest.mark.django_db


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


def decode(client: Client, url: str) -> dict[str, Any]:
    response = client.get(url)
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/vnd.mapbox-vector-tile"
    return mapbox_vector_tile.decode(response.content) if response.content else {}


def occurrence_features(
    client: Client, z: int, lon: float, lat: float, query: str = ""
) -> list[dict[str, Any]]:
    x, y = tile_of(lon, lat, z)
    layers = decode(client, f"/tiles/occurrences/{z}/{x}/{y}.mvt{query}")
    return layers.get("occurrences", {}).get("features", [])


def test_a_tile_holds_the_occurrences_inside_it(anonymous: Client, make_occurrence) -> None:
    tampakan = make_occurrence("Tampakan", lon=125.05, lat=6.48, status="prospect")
    make_occurrence("Far away", lon=101.3, lat=5.4, state="MYS")

    features = occurrence_features(anonymous, 10, 125.05, 6.48)

    assert len(features) == 1
    feature = features[0]
    assert feature["id"] == tampakan.pk
    assert feature["properties"] == {
        "count": 1,
        "name": "Tampakan",
        "status": "prospect",
        "commodity": "copper",
        "group": "base",
    }


def test_nearby_points_merge_into_a_cluster_at_low_zoom(anonymous: Client, make_occurrence) -> None:
    for i in range(5):
        make_occurrence(f"P{i}", lon=121.0 + i * 0.01, lat=15.0)

    low = occurrence_features(anonymous, 4, 121.0, 15.0)
    high = occurrence_features(anonymous, 16, 121.0, 15.0)

    assert [f["properties"]["count"] for f in low] == [5]
    assert "name" not in low[0]["properties"]  # a cluster carries no single name
    assert len(high) == 1 and high[0]["properties"]["name"] == "P0"


def test_a_tile_never_holds_more_than_the_grid_of_cells(anonymous: Client, make_dataset) -> None:
    dataset = make_dataset()
    with connection.cursor() as cursor:
        # 20,000 points spread over one z6 tile.
        cursor.execute(
            """INSERT INTO deposits_mineraloccurrence (name, other_names, member_state_id, province, geom,
                   deposit_type, status, grades, reporting_code, location_accuracy, dataset_id,
                   source_id, "references", attributes)
               SELECT 'Gen ' || i, '{}', (SELECT id FROM deposits_memberstate WHERE code = 'PHL'), '',
                      ST_SetSRID(ST_MakePoint(120.0 + (i %% 141) * 0.03, 12.0 + (i / 141) * 0.03), 4326),
                      '', 'occurrence', '{}', '', 'unknown', %s, '', '', '{}'
               FROM generate_series(0, 19999) i""",
            [dataset.pk],
        )
    features = occurrence_features(anonymous, 6, 122.0, 14.0)

    assert 0 < len(features) <= 64 * 64
    assert sum(f["properties"]["count"] for f in features) <= 20000


def test_occurrence_tiles_take_the_api_filters(anonymous: Client, make_occurrence) -> None:
    make_occurrence("Copper one", lon=121.0, lat=15.0, main=("copper",))
    make_occurrence("Gold one", lon=121.3, lat=15.3, main=("gold",))

    gold = occurrence_features(anonymous, 12, 121.3, 15.3, "?commodity=gold")
    copper_only = occurrence_features(anonymous, 12, 121.3, 15.3, "?commodity=copper")

    assert [f["properties"]["name"] for f in gold] == ["Gold one"]
    assert copper_only == []


def test_unpublished_occurrences_are_not_in_public_tiles(
    anonymous: Client, reviewer: Client, make_occurrence, make_dataset
) -> None:
    make_occurrence("Draft", lon=121.0, lat=15.0, dataset=make_dataset(is_published=False))

    assert occurrence_features(anonymous, 12, 121.0, 15.0) == []
    assert len(occurrence_features(reviewer, 12, 121.0, 15.0)) == 1
    x, y = tile_of(121.0, 15.0, 12)
    assert reviewer.get(f"/tiles/occurrences/12/{x}/{y}.mvt")["Cache-Control"].startswith("private")


def test_member_state_boundaries_are_tiled(anonymous: Client) -> None:
    x, y = tile_of(103.8, 1.35, 8)  # Singapore

    layers = decode(anonymous, f"/tiles/member-states/8/{x}/{y}.mvt")

    codes = {f["properties"]["code"] for f in layers["member-states"]["features"]}
    assert "SGP" in codes


def test_geological_units_and_structures_are_tiled(anonymous: Client) -> None:
    from django.core.management import call_command

    call_command("load_demo")
    for layer in ("geological-units", "structures"):
        layers = decode(anonymous, f"/tiles/{layer}/3/6/3.mvt")
        assert layers[layer]["features"], layer
    unit = decode(anonymous, "/tiles/geological-units/3/6/3.mvt")["geological-units"]["features"][0]
    assert set(unit["properties"]) == {"name", "lithology", "age"}


@pytest.mark.parametrize(
    "path",
    [
        "/tiles/occurrences/99/0/0.mvt",
        "/tiles/occurrences/23/0/0.mvt",
        "/tiles/occurrences/-1/0/0.mvt",
        "/tiles/occurrences/2/4/0.mvt",  # x = 2^z
        "/tiles/occurrences/2/0/-1.mvt",
        "/tiles/occurrences/2/1e309/0.mvt",
        "/tiles/occurrences/a/b/c.mvt",
        "/tiles/occurrences/1/0/0.mvt?commodity=unobtainium",
        "/tiles/occurrences/1/0/0.mvt?bbox=1,2",
        "/tiles/occurrences/1/0/0.mvt?srid=abc",
        "/tiles/member-states/1/0/0.mvt?commodity=copper",  # filters only where the layer has them
    ],
)
def test_bad_tile_requests_are_400_never_500(anonymous: Client, path: str) -> None:
    response = anonymous.get(path)
    assert response.status_code == 400
    assert json.loads(response.content)["error"]["message"]


def test_an_unknown_layer_is_a_404_naming_the_layers(anonymous: Client) -> None:
    response = anonymous.get("/tiles/nope/1/0/0.mvt")
    assert response.status_code == 404
    assert "occurrences" in json.loads(response.content)["error"]["message"]


def test_a_versioned_tile_url_is_cached_forever(anonymous: Client, make_occurrence) -> None:
    make_occurrence()
    tilejson = json.loads(anonymous.get("/tiles/occurrences.json").content)
    template = tilejson["tiles"][0]
    assert "?v=" in template
    url = template.replace("http://testserver", "").replace("{z}/{x}/{y}", "4/13/7")

    versioned = anonymous.get(url)
    unversioned = anonymous.get("/tiles/occurrences/4/13/7.mvt")

    assert versioned["Cache-Control"] == "public, max-age=31536000, immutable"
    assert unversioned["Cache-Control"] == "public, max-age=60"
    again = anonymous.get(url, HTTP_IF_NONE_MATCH=versioned["ETag"])
    assert again.status_code == 304


@pytest.mark.parametrize("layer", ["occurrences", "geological-units", "member-states"])
def test_a_tile_and_its_version_are_read_in_one_statement(
    anonymous: Client,
    make_occurrence,
    layer: str,
    django_assert_num_queries: Any,
    settings: Any,
) -> None:
    """One snapshot: the version a tile is served under is the version of the data in it
    (and one round trip on the busiest path)."""
    make_occurrence()
    version = json.loads(anonymous.get(f"/tiles/{layer}.json").content)["data_version"]
    settings.TILE_CACHE = False  # a cache write checks the version once more
    with django_assert_num_queries(1):
        response = anonymous.get(f"/tiles/{layer}/4/13/7.mvt?v={version}")
    assert response.status_code == 200
    assert response["Cache-Control"] == "public, max-age=31536000, immutable"


def test_publishing_changes_the_tile_version(
    anonymous: Client, make_occurrence, make_dataset
) -> None:
    draft = make_dataset(is_published=False)
    before = json.loads(anonymous.get("/tiles/occurrences.json").content)["data_version"]

    draft.is_published = True
    draft.save()

    after = json.loads(anonymous.get("/tiles/occurrences.json").content)["data_version"]
    assert before != after


def test_tilejson_describes_the_layer(anonymous: Client) -> None:
    doc = json.loads(anonymous.get("/tiles/geological-units.json").content)
    assert doc["tilejson"] == "3.0.0"
    assert doc["vector_layers"][0]["id"] == "geological-units"
    assert doc["vector_layers"][0]["fields"] == {
        "name": "String",
        "lithology": "String",
        "age": "String",
    }


def test_tiles_are_gzipped_for_clients_that_accept_it(anonymous: Client, make_occurrence) -> None:
    import gzip

    for i in range(50):
        make_occurrence(f"P{i}", lon=121.0 + i * 0.05, lat=15.0)
    x, y = tile_of(121.0, 15.0, 8)
    plain = anonymous.get(f"/tiles/occurrences/8/{x}/{y}.mvt")
    zipped = anonymous.get(f"/tiles/occurrences/8/{x}/{y}.mvt", HTTP_ACCEPT_ENCODING="gzip")

    assert zipped["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.content) == plain.content
    assert len(zipped.content) < len(plain.content)
