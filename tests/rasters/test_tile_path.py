"""The raster tile path: kept file handles, the exact warp from WGS 84, palette PNGs."""

import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.enums import Resampling
from rasterio.transform import from_bounds
from rasterio.warp import reproject

from layers import rasters
from layers.rasters import RasterStyle, colorize, read_tile_values, render_tile
from tests.rasters.factories import write_cog
from tests.rasters.test_tiles import decode_png
from webgis.lib.tiles import Tile

BOUNDS = (100.0, 0.0, 110.0, 10.0)  # west, south, east, north
# z=6 x=50 y=31 spans about 101.25–106.9°E, 0–5.6°N: inside BOUNDS.
INSIDE = Tile(6, 50, 31)
# z=4 x=12 y=7 spans 90–112.5°E, 0–21.9°N: BOUNDS covers only part of it.
PARTLY = Tile(4, 12, 7)
STYLE = RasterStyle(colormap="viridis", vmin=0.0, vmax=100.0)


@pytest.fixture(autouse=True)
def _fresh_handles() -> Iterator[None]:
    rasters.close_handles()
    yield
    rasters.close_handles()


def _field(side: int = 64, seed: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.uniform(0, 100, (side, side)).astype("float32")


def _cog(tmp_path: Path, data: np.ndarray, name: str = "r.tif", crs: str = "EPSG:4326") -> Path:
    path = tmp_path / name
    height, width = data.shape
    write_cog(path, data, from_bounds(*BOUNDS, width, height), crs, None)
    return path


def _png_color_type(body: bytes) -> int:
    assert body[12:16] == b"IHDR"
    return body[25]


def _gdal_tile(path: Path, tile: Tile) -> np.ndarray:
    """GDAL's warper straight from the full-resolution band: the reference for a tile."""
    out = np.full((256, 256), np.nan, dtype="float32")
    with rasterio.open(path) as src:
        reproject(
            source=rasterio.band(src, 1),
            destination=out,
            dst_transform=from_bounds(*tile.bounds_3857(), 256, 256),
            dst_crs="EPSG:3857",
            dst_nodata=np.nan,
            resampling=Resampling.nearest,
        )
    return out


@pytest.mark.parametrize("tile", [INSIDE, PARTLY, Tile(8, 203, 125), Tile(10, 813, 502)])
def test_tiles_from_wgs84_pick_the_same_pixels_as_gdal_warper(tmp_path: Path, tile: Tile) -> None:
    path = _cog(tmp_path, _field())

    ours, gdal = read_tile_values(path, tile), _gdal_tile(path, tile)

    assert (np.isnan(ours) == np.isnan(gdal)).mean() > 0.995
    both = ~np.isnan(ours) & ~np.isnan(gdal)
    assert both.any()
    # GDAL's approximate transformer may pick the neighbour right at a pixel edge.
    assert (ours[both] == gdal[both]).mean() > 0.99


def test_a_raster_in_another_crs_still_goes_through_gdal(tmp_path: Path) -> None:
    # UTM zone 48N around 105°E, 5°N: not separable, so GDAL's warper draws it.
    path = tmp_path / "utm.tif"
    data = _field()
    write_cog(
        path, data, from_bounds(500_000, 500_000, 700_000, 700_000, 64, 64), "EPSG:32648", None
    )

    tile = Tile(7, 101, 62)  # about 104.1–106.9°E, 4.4–7.0°N
    ours, gdal = read_tile_values(path, tile), _gdal_tile(path, tile)

    assert not np.isnan(ours).all()
    assert (np.isnan(ours) == np.isnan(gdal)).mean() > 0.99


def test_a_tile_full_of_data_is_a_palette_png_with_the_same_pixels(tmp_path: Path) -> None:
    path = _cog(tmp_path, _field())

    body = render_tile(path, INSIDE, STYLE)

    assert _png_color_type(body) == 3  # palette
    expected = colorize(read_tile_values(path, INSIDE), STYLE)
    assert np.array_equal(decode_png(body), expected)
    assert decode_png(body)[..., 3].min() == 255


def test_a_tile_with_transparent_pixels_is_an_rgba_png(tmp_path: Path) -> None:
    path = _cog(tmp_path, _field())

    body = render_tile(path, PARTLY, STYLE)

    assert _png_color_type(body) == 6  # RGBA
    pixels = decode_png(body)
    assert pixels[..., 3].min() == 0 and pixels[..., 3].max() == 255


def test_a_file_is_opened_once_per_thread_and_again_when_replaced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _cog(tmp_path, np.full((64, 64), 10.0, dtype="float32"))
    opened: list[Path] = []
    real_open = rasterio.open

    def counting_open(fp: Path, *args: object, **kwargs: object) -> object:
        opened.append(fp)
        return real_open(fp, *args, **kwargs)

    monkeypatch.setattr(rasters.rasterio, "open", counting_open)
    first = read_tile_values(path, INSIDE)
    read_tile_values(path, Tile(6, 51, 31))
    assert len(opened) == 1

    # A new file under the same name (a new inode): read again, never the stale handle.
    replacement = _cog(tmp_path, np.full((64, 64), 20.0, dtype="float32"), name="new.tif")
    os.replace(replacement, path)
    second = read_tile_values(path, INSIDE)

    assert len(opened) == 2
    assert np.nanmax(first) == 10.0 and np.nanmax(second) == 20.0


def test_kept_handles_are_bounded(tmp_path: Path) -> None:
    paths = [
        _cog(tmp_path, _field(8, seed=i), name=f"r{i}.tif")
        for i in range(rasters.HANDLES_PER_THREAD + 3)
    ]
    for path in paths:
        read_tile_values(path, INSIDE)

    kept = rasters._local.handles
    assert len(kept) == rasters.HANDLES_PER_THREAD
    assert {key[0] for key in kept} == {str(p) for p in paths[3:]}
