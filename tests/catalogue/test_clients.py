"""Real clients against a live server: GDAL's OGC API driver (the system `ogrinfo`) and OWSLib."""

import json
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest

from deposits.services import boundaries_import, reference_data_load
from tests.catalogue.conftest import THAI, VIETNAMESE, World, build_world
from tests.conftest import WORLD_ATLAS

pytestmark = pytest.mark.django_db(transaction=True)


def _has_oapif() -> bool:
    try:
        formats = subprocess.run(
            ["ogrinfo", "--formats"], capture_output=True, text=True, check=True, timeout=60
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return False
    return "OAPIF" in formats


@pytest.fixture(scope="module")
def _reference_data_restored(django_db_blocker: Any) -> Iterator[None]:
    """Puts back the reference data that the transactional tests' flush removed."""
    yield
    with django_db_blocker.unblock():
        reference_data_load()
        boundaries_import(path=WORLD_ATLAS)


@pytest.fixture
def live_world(
    _reference_data_restored: None, reference_data: None, make_dataset: Any, make_occurrence: Any
) -> World:
    return build_world(make_dataset, make_occurrence)


def _ogrinfo(*args: str) -> str:
    result = subprocess.run(
        ["ogrinfo", "-ro", *args], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_gdal_lists_the_collections_and_reads_every_feature(
    live_server: Any, live_world: World
) -> None:
    if not _has_oapif():
        pytest.fail("The system GDAL (gdal-bin) lacks the OAPIF driver.")
    url = f"OAPIF:{live_server.url}/ogc/"
    listing = _ogrinfo("-q", url)
    for collection in ("occurrences", "phl-mines", "idn-geology", "tha-faults", "mys-samples"):
        assert f": {collection} " in listing or listing.rstrip().endswith(f": {collection}")
    assert "phl-secret" not in listing

    # Every feature, through GDAL's paging, as GeoJSON (attributes and non-ASCII text intact).
    out = subprocess.run(
        ["ogr2ogr", "-f", "GeoJSON", "/vsistdout/", url, "phl-mines", "-oo", "PAGE_SIZE=2"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    features = json.loads(out)["features"]
    assert len(features) == 3
    names = {f["properties"]["name"] for f in features}
    assert names == {"Tampakan", VIETNAMESE, THAI}
    tampakan = next(f for f in features if f["properties"]["name"] == "Tampakan")
    assert tampakan["properties"]["status"] == "deposit"
    assert tampakan["properties"]["resource_mt"] == 2940.0

    summary = _ogrinfo("-so", url, "idn-geology")
    assert "Feature Count: 2" in summary
    assert "lithology: String" in summary


def test_owslib_reads_collections_items_and_queryables(live_server: Any, live_world: World) -> None:
    from owslib.ogcapi.features import Features

    api = Features(f"{live_server.url}/ogc/")
    ids = [c["id"] for c in api.collections()["collections"]]
    assert {"occurrences", "phl-mines", "idn-geology", "tha-faults", "mys-samples"} <= set(ids)
    assert "phl-secret" not in ids
    assert (
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core"
        in (api.conformance()["conformsTo"])
    )

    page = api.collection_items("mys-samples", limit=10)
    assert page["numberMatched"] == 3
    assert {f["properties"]["sample"] for f in page["features"]} == {"S-0", "S-1", "S-2"}
    assert page["features"][0]["properties"]["note"].startswith(THAI)

    filtered = api.collection_items("phl-mines", filter="status = 'deposit'")
    assert [f["properties"]["name"] for f in filtered["features"]] == ["Tampakan"]

    queryables = api.collection_queryables("idn-geology")
    assert "lithology" in queryables["properties"]
    assert api.collection_item("phl-mines", str(live_world.copper.pk))["id"] == (
        live_world.copper.pk
    )
