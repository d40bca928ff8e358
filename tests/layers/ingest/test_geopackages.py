"""GeoPackage uploads: RELIABILITY.md file case 13."""

from pathlib import Path

import pytest

from layers.ingest.limits import Limits
from layers.ingest.safety import Code, FoundDataset, RejectedFile, find_dataset, inspect_vector
from tests.layers.ingest import hostile
from tests.layers.ingest.conftest import snapshot


def found_in(path: Path) -> FoundDataset:
    return find_dataset(path.parent)


def test_a_text_file_named_gpkg_is_refused(tmp_path: Path) -> None:
    (tmp_path / "survey.gpkg").write_text("name,lon,lat\nA,100,15\n")

    with pytest.raises(RejectedFile) as caught:
        find_dataset(tmp_path)

    assert caught.value.code == Code.WRONG_CONTENT
    assert "named like a GeoPackage but its content is plain text" in caught.value.message


def test_an_sqlite_database_that_is_not_a_geopackage_is_refused(
    tmp_path: Path, limits: Limits
) -> None:
    found = found_in(hostile.plain_sqlite(tmp_path / "survey.gpkg"))

    with pytest.raises(RejectedFile) as caught:
        inspect_vector(found, limits)

    assert caught.value.code == Code.NOT_A_GEOPACKAGE
    assert "not a GeoPackage" in caught.value.message and "Save Features As" in caught.value.message


def test_a_geopackage_with_two_layers_asks_which(tmp_path: Path, limits: Limits) -> None:
    found = found_in(hostile.geopackage_with_layers(tmp_path / "survey.gpkg", ["mines", "faults"]))

    info = inspect_vector(found, limits)

    assert info.needs_layer_choice and info.layer is None
    assert sorted(info.layers) == ["faults", "mines"]


def test_the_chosen_layer_is_described(tmp_path: Path, limits: Limits) -> None:
    found = found_in(hostile.geopackage_with_layers(tmp_path / "survey.gpkg", ["mines", "faults"]))
    before = snapshot(tmp_path)

    info = inspect_vector(found, limits, layer="faults")

    assert (info.layer, info.feature_count, info.crs_epsg, list(info.fields)) == (
        "faults",
        1,
        4326,
        ["name"],
    )
    assert info.open_path.startswith("GPKG:")
    assert snapshot(tmp_path) == before, "GDAL must not write -wal, -shm or .aux.xml files"


def test_a_layer_name_not_in_the_file_is_refused(tmp_path: Path, limits: Limits) -> None:
    found = found_in(hostile.geopackage_with_layers(tmp_path / "survey.gpkg", ["mines", "faults"]))

    with pytest.raises(RejectedFile) as caught:
        inspect_vector(found, limits, layer="/vsicurl/http://127.0.0.1/x")

    assert caught.value.code == Code.UNKNOWN_LAYER
    assert "Choose one of: faults, mines" in caught.value.message


def test_a_geopackage_with_300_layers_is_refused(tmp_path: Path, limits: Limits) -> None:
    found = found_in(hostile.geopackage_with_many_tables(tmp_path / "survey.gpkg", 300))

    with pytest.raises(RejectedFile) as caught:
        inspect_vector(found, limits)

    assert caught.value.code == Code.TOO_MANY_LAYERS
    assert "300 vector layers; at most 50" in caught.value.message
