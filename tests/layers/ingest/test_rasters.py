"""GeoTIFF uploads: RELIABILITY.md file cases 14-16."""

import time
import tracemalloc
import warnings
from pathlib import Path

import numpy as np
import pytest
import rasterio
from affine import Affine
from rasterio.errors import RasterioError

from layers.ingest.limits import Limits
from layers.ingest.safety import (
    Code,
    FoundDataset,
    RejectedFile,
    find_dataset,
    gdal_safe_env,
    inspect_raster,
)
from tests.layers.ingest import hostile
from tests.layers.ingest.conftest import snapshot


def tif(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "grid.tif"
    path.write_bytes(data)
    return path


def rejected_quickly(path: Path, limits: Limits) -> RejectedFile:
    tracemalloc.start()
    started = time.monotonic()
    with pytest.raises(RejectedFile) as caught:
        inspect_raster(FoundDataset(kind="geotiff", path=path, files_dir=path.parent), limits)
    elapsed = time.monotonic() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert elapsed < 1 and peak < 10 * 1024 * 1024, "refused before any pixel is read"
    return caught.value


def test_a_vrt_renamed_tif_is_refused(tmp_path: Path) -> None:
    tif(tmp_path, hostile.vrt_pointing_at("/etc/passwd"))

    with pytest.raises(RejectedFile) as caught:
        find_dataset(tmp_path)

    assert caught.value.code == Code.WRONG_CONTENT
    assert "GDAL VRT file" in caught.value.message


def test_a_vrt_handed_straight_to_inspect_raster_is_refused(tmp_path: Path, limits: Limits) -> None:
    path = tif(tmp_path, hostile.vrt_pointing_at("/etc/passwd"))

    assert rejected_quickly(path, limits).code == Code.WRONG_CONTENT


def test_the_gtiff_driver_alone_will_not_open_a_vrt(tmp_path: Path) -> None:
    path = tif(tmp_path, hostile.vrt_pointing_at("/etc/passwd"))

    with gdal_safe_env(), pytest.raises(RasterioError):
        rasterio.open(path, driver="GTiff")


def test_a_2_kb_tiff_declaring_a_million_by_a_million_pixels_is_refused(
    tmp_path: Path, limits: Limits
) -> None:
    path = tif(tmp_path, hostile.tiff_bytes(1_000_000, 1_000_000, strip=bytes(1024)))
    assert path.stat().st_size < 2048

    error = rejected_quickly(path, limits)

    assert error.code == Code.RASTER_TOO_LARGE
    assert "1,000,000 × 1,000,000 pixels" in error.message


def test_a_tiff_with_65529_samples_per_pixel_is_refused(tmp_path: Path, limits: Limits) -> None:
    path = tif(tmp_path, hostile.tiff_bytes(16, 16, samples=65_529))

    error = rejected_quickly(path, limits)

    assert error.code == Code.TOO_MANY_BANDS
    assert "65,529 bands; at most 64" in error.message


def test_a_compression_bomb_strip_is_refused(tmp_path: Path, limits: Limits) -> None:
    path = tif(tmp_path, hostile.deflate_bomb_tiff(30_000, 30_000))
    assert path.stat().st_size < 100_000

    error = rejected_quickly(path, limits)

    assert error.code == Code.RASTER_BLOCK_TOO_LARGE
    assert "tiled GeoTIFF" in error.message


def test_a_geotiff_without_georeferencing_is_flagged(tmp_path: Path, limits: Limits) -> None:
    path = tmp_path / "scan.tif"
    with (
        warnings.catch_warnings(action="ignore"),
        rasterio.open(
            path, "w", driver="GTiff", width=32, height=32, count=1, dtype="uint8"
        ) as dst,
    ):
        dst.write(np.zeros((1, 32, 32), dtype="uint8"))
    before = snapshot(tmp_path)

    info = inspect_raster(find_dataset(tmp_path), limits)

    assert info.needs_georeferencing and info.crs_epsg is None
    assert "no georeferencing" in info.notes[0]
    assert snapshot(tmp_path) == before, "no .aux.xml may be written"


def test_a_georeferenced_geotiff_is_described(tmp_path: Path, limits: Limits) -> None:
    path = tmp_path / "grid.tif"
    profile = {
        "driver": "GTiff",
        "width": 512,
        "height": 256,
        "count": 2,
        "dtype": "float32",
        "crs": "EPSG:32647",
        "transform": Affine(30, 0, 600_000, 0, -30, 1_600_000),
        "nodata": -9999,
        "tiled": True,
        "blockxsize": 256,
        "blockysize": 256,
        "compress": "deflate",
    }
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(np.ones((2, 256, 512), dtype="float32"))

    info = inspect_raster(find_dataset(tmp_path), limits)

    assert (info.width, info.height, info.count, info.dtype) == (512, 256, 2, "float32")
    assert info.crs_epsg == 32647 and not info.needs_georeferencing
    assert info.nodata == -9999 and info.is_tiled and info.block_shapes[0] == (256, 256)
    assert info.bounds == (600_000, 1_600_000 - 256 * 30, 600_000 + 512 * 30, 1_600_000)
