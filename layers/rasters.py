"""Raster tiles and pixel values read from Cloud Optimised GeoTIFFs.

Files are opened only from paths the server made (`RasterLayer.path`, a model run's result),
resolved under MEDIA_ROOT, with the GTiff driver alone and the same GDAL safety options as
uploads. A tile is read from the overview closest to its resolution (GDAL picks it for a
decimated read), warped to Web Mercator, coloured through a 256-entry lookup table and written
as an RGBA PNG whose no-data pixels are transparent.
"""

import math
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
from affine import Affine
from django.conf import settings
from rasterio.enums import Resampling
from rasterio.transform import from_bounds
from rasterio.warp import reproject, transform, transform_bounds
from rasterio.windows import Window
from rasterio.windows import from_bounds as window_from_bounds

from layers.colormaps import colormap_lut, colormap_names
from layers.ingest.gdalenv import gdal_safe_env
from webgis.lib.errors import BadRequest
from webgis.lib.params import parse_float
from webgis.lib.tiles import Tile

TILE_SIZE = 256
WEB_MERCATOR = "EPSG:3857"
# A window read for one tile is at most this many pixels a side (GDAL decimates from overviews).
MAX_READ_SIDE = 2 * TILE_SIZE


class RasterFileMissing(Exception):
    """The file of a raster is not where the database says (deleted, or storage not mounted)."""


def media_path(relative: str) -> Path:
    """A server-made path relative to MEDIA_ROOT; anything resolving outside it is refused."""
    root = Path(settings.MEDIA_ROOT).resolve()
    path = (root / relative).resolve()
    if not path.is_relative_to(root) or path == root:
        raise RasterFileMissing(relative)
    if not path.is_file():
        raise RasterFileMissing(relative)
    return path


@dataclass(frozen=True)
class RasterStyle:
    """How a band is drawn: colour map and the value range stretched over it."""

    colormap: str
    vmin: float
    vmax: float
    band: int = 1

    def query(self) -> str:
        return f"colormap={self.colormap}&rescale={self.vmin:g},{self.vmax:g}&band={self.band}"


# ---------------------------------------------------------------- parameters


def parse_colormap(value: str | None, *, default: str) -> str:
    if value is None or value == "":
        return default
    names = colormap_names()
    if value not in names:
        raise BadRequest(
            f"Unknown colormap {value[:40]!r}. Use one of: {', '.join(names)}.", field="colormap"
        )
    return value


def parse_rescale(value: str | None, *, default: tuple[float, float]) -> tuple[float, float]:
    """`rescale=min,max`: the values drawn with the first and the last colour."""
    if value is None or value == "":
        return default
    parts = value.split(",")
    if len(parts) != 2:
        raise BadRequest(
            "rescale must be two numbers, min,max (for example rescale=0,100).", field="rescale"
        )
    low, high = (parse_float(p, field="rescale") for p in parts)
    if not low < high:
        raise BadRequest("rescale minimum must be below its maximum.", field="rescale")
    if max(abs(low), abs(high)) > 1e15:
        raise BadRequest("rescale values must lie within ±1e15.", field="rescale")
    return low, high


def parse_band(value: str | None, *, band_count: int) -> int:
    if value is None or value == "":
        return 1
    if not (value.isascii() and value.isdigit() and len(value) <= 3):
        raise BadRequest(f"band must be a whole number from 1 to {band_count}.", field="band")
    band = int(value)
    if not 1 <= band <= band_count:
        raise BadRequest(f"band must be from 1 to {band_count}; got {band}.", field="band")
    return band


def parse_lon_lat(params: Any) -> tuple[float, float]:
    """`lon` and `lat` in WGS 84 degrees, both required."""
    values = []
    for name, limit in (("lon", 180.0), ("lat", 90.0)):
        raw = params.get(name)
        if raw is None or raw == "":
            raise BadRequest(f"{name} is required (WGS 84 degrees).", field=name)
        number = parse_float(raw, field=name)
        if not -limit <= number <= limit:
            raise BadRequest(
                f"{name} must be from {-limit:g} to {limit:g}; got {number:g}.", field=name
            )
        values.append(number)
    return values[0], values[1]


# ---------------------------------------------------------------- reading


def _empty_values() -> np.ndarray:
    return np.full((TILE_SIZE, TILE_SIZE), np.nan, dtype="float32")


def read_tile_values(path: Path, tile: Tile, *, band: int = 1) -> np.ndarray:
    """The band's values over one Web Mercator tile, float32, NaN where there is no data."""
    tile_bounds = tile.bounds_3857()
    out = _empty_values()
    with gdal_safe_env(), rasterio.open(path, driver="GTiff") as src:
        if src.crs is None:
            return out
        left, bottom, right, top = transform_bounds(
            WEB_MERCATOR, src.crs, *tile_bounds, densify_pts=21
        )
        sl, sb, sr, st = src.bounds
        if right <= sl or left >= sr or top <= sb or bottom >= st:
            return out
        window = window_from_bounds(
            max(left, sl), max(bottom, sb), min(right, sr), min(top, st), transform=src.transform
        )
        # One source pixel of margin so resampling at the tile's edge has neighbours.
        window = Window(
            math.floor(window.col_off) - 1,
            math.floor(window.row_off) - 1,
            math.ceil(window.width) + 2,
            math.ceil(window.height) + 2,
        ).intersection(Window(0, 0, src.width, src.height))
        # Pixels of the tile across the part read, per source pixel: decimate to about that.
        frac_w = window.width * src.res[0] / max(right - left, 1e-12)
        frac_h = window.height * src.res[1] / max(top - bottom, 1e-12)
        out_w = int(min(window.width, max(1, math.ceil(TILE_SIZE * frac_w)), MAX_READ_SIDE))
        out_h = int(min(window.height, max(1, math.ceil(TILE_SIZE * frac_h)), MAX_READ_SIDE))
        data = src.read(
            band,
            window=window,
            out_shape=(out_h, out_w),
            masked=True,
            resampling=Resampling.nearest,
        )
        values = np.ma.filled(data.astype("float32"), np.nan)
        win_transform = src.window_transform(window) @ Affine.scale(
            window.width / out_w, window.height / out_h
        )
        reproject(
            source=values,
            destination=out,
            src_transform=win_transform,
            src_crs=src.crs,
            src_nodata=np.nan,
            dst_transform=from_bounds(*tile_bounds, TILE_SIZE, TILE_SIZE),
            dst_crs=WEB_MERCATOR,
            dst_nodata=np.nan,
            resampling=Resampling.nearest,
        )
    return out


def point_values(path: Path, lon: float, lat: float) -> list[float | None] | None:
    """The value of every band at a WGS 84 point; None when the point lies outside the raster."""
    with gdal_safe_env(), rasterio.open(path, driver="GTiff") as src:
        xs, ys = transform("EPSG:4326", src.crs, [lon], [lat])
        row, col = src.index(xs[0], ys[0])
        if not (0 <= row < src.height and 0 <= col < src.width):
            return None
        data = src.read(window=Window(col, row, 1, 1), masked=True)
    values: list[float | None] = []
    for band in range(data.shape[0]):
        cell = data[band, 0, 0]
        if cell is np.ma.masked or not math.isfinite(float(cell)):
            values.append(None)
        else:
            values.append(float(cell))
    return values


# ---------------------------------------------------------------- drawing


def colorize(values: np.ndarray, style: RasterStyle) -> np.ndarray:
    """RGBA pixels: values stretched from vmin to vmax over the colour map, NaN transparent."""
    lut = colormap_lut(style.colormap)
    scale = 255.0 / (style.vmax - style.vmin)
    with np.errstate(invalid="ignore"):
        index = np.clip((values - style.vmin) * scale, 0, 255)
    missing = ~np.isfinite(values)
    index[missing] = 0
    rgba = lut[index.astype("uint8")]
    rgba[missing, 3] = 0
    return rgba


def encode_png(rgba: np.ndarray) -> bytes:
    """An 8-bit RGBA PNG (no filter, zlib level 6)."""
    height, width, _ = rgba.shape
    rows = np.zeros((height, width * 4 + 1), dtype="uint8")  # each row starts with filter byte 0
    rows[:, 1:] = rgba.reshape(height, width * 4)

    def chunk(kind: bytes, payload: bytes) -> bytes:
        crc = zlib.crc32(kind + payload) & 0xFFFFFFFF
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows.tobytes(), 6))
        + chunk(b"IEND", b"")
    )


_EMPTY_PNG: bytes | None = None


def empty_png() -> bytes:
    global _EMPTY_PNG
    if _EMPTY_PNG is None:
        _EMPTY_PNG = encode_png(np.zeros((TILE_SIZE, TILE_SIZE, 4), dtype="uint8"))
    return _EMPTY_PNG


def render_tile(path: Path, tile: Tile, style: RasterStyle) -> bytes:
    values = read_tile_values(path, tile, band=style.band)
    if not np.isfinite(values).any():
        return empty_png()
    return encode_png(colorize(values, style))


def native_max_zoom(resolution_m: float) -> int:
    """The zoom whose pixels are as small as the raster's (at the equator), plus one to zoom in."""
    if resolution_m <= 0:
        return 18
    zoom = math.log2(2 * 20037508.342789244 / TILE_SIZE / resolution_m)
    return max(0, min(22, math.ceil(zoom) + 1))
