"""The real files in ../shared/data pass the gate."""

from collections.abc import Callable
from pathlib import Path

import pytest

from layers.ingest.limits import Limits
from layers.ingest.safety import FoundDataset, inspect_csv, inspect_raster, inspect_vector

OpenUpload = Callable[[Path], FoundDataset]


@pytest.mark.parametrize(
    ("name", "features"),
    [("ne_50m_admin_0_countries.zip", 242), ("ne_110m_admin_0_countries.zip", 177)],
)
def test_natural_earth_zipped_shapefiles(
    shared_files: Path, open_upload: OpenUpload, limits: Limits, name: str, features: int
) -> None:
    found = open_upload(shared_files / "ne_admin0" / name)

    info = inspect_vector(found, limits)

    assert found.kind == "shapefile" and set(found.sidecars) >= {".shx", ".dbf", ".prj", ".cpg"}
    assert (info.feature_count, info.crs_epsg, info.geometry_type) == (features, 4326, "Polygon")
    assert info.encoding_guess is not None and info.encoding_guess.encoding == "utf-8"
    assert not info.encoding_guess.conflicts_with_declared and not info.needs_crs
    assert "NAME" in info.fields and len(info.fields) == 168


def test_natural_earth_geopackage(
    shared_files: Path, open_upload: OpenUpload, limits: Limits
) -> None:
    info = inspect_vector(open_upload(shared_files / "ne_admin0/asean_admin0_ne50m.gpkg"), limits)

    assert (info.layers, info.feature_count, info.crs_epsg) == (["asean_admin0_ne50m"], 10, 4326)


@pytest.mark.parametrize(
    ("name", "features"),
    [
        ("gem_active_faults_seasia_bbox.geojson", 265),
        ("gem_active_faults_2017-05-11.geojson.zip", 10_057),
    ],
)
def test_gem_active_faults(
    shared_files: Path, open_upload: OpenUpload, limits: Limits, name: str, features: int
) -> None:
    info = inspect_vector(open_upload(shared_files / "faults_gem_gaf_2017" / name), limits)

    assert (info.kind, info.feature_count, info.crs_epsg, info.problem_count) == (
        "geojson",
        features,
        4326,
        0,
    )


@pytest.mark.parametrize(
    ("name", "rows", "multiline"),
    [
        ("minerals_usgs_porphyry_copper_2008/PorCuEX2008.csv", 690, 631),
        ("minerals_usgs_porphyry_copper_2008/porcu_seasia_bbox.csv", 79, 73),
        ("minerals_usgs_pp1802_critical/pp1802_seasia_bbox.csv", 114, 0),
        ("minerals_usgs_pp1802_critical/usgs_pp1802_critical_minerals_world.csv", 2121, 1),
    ],
)
def test_usgs_csvs(
    shared_files: Path,
    open_upload: OpenUpload,
    limits: Limits,
    name: str,
    rows: int,
    multiline: int,
) -> None:
    info = inspect_csv(open_upload(shared_files / name), limits)

    assert (info.delimiter, info.row_count, info.multiline_rows, info.ragged_count) == (
        ",",
        rows,
        multiline,
        0,
    )
    assert info.lon_column and info.lat_column


@pytest.mark.parametrize(
    ("name", "size"), [("egm96_geoid_seasia.tif", (200, 160)), ("egm96_15_global.tif", (1440, 721))]
)
def test_egm96_geotiffs(
    shared_files: Path, open_upload: OpenUpload, limits: Limits, name: str, size: tuple[int, int]
) -> None:
    info = inspect_raster(open_upload(shared_files / "raster_egm96_geoid" / name), limits)

    assert (info.width, info.height) == size
    assert (info.count, info.dtype, info.crs_epsg, info.needs_georeferencing) == (
        1,
        "float32",
        4326,
        False,
    )
