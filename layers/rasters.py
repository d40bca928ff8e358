"""Raster tiles and pixel values read from Cloud Optimised GeoTIFFs.

Files are opened only from paths the server made (`RasterLayer.path`, a model run's result),
resolved under MEDIA_ROOT, with the GTiff driver alone and the same GDAL safety options as
uploads. A tile is read from the overview closest to its resolution (GDAL picks it for a
decimated read), warped to Web Mercator, coloured through a 256-entry lookup table and written
as a PNG whose no-data pixels are transparent. Each serving thread keeps the files it read open
(header parsed, decoded blocks in GDAL's cache); from WGS 84 or Web Mercator the warp is an
exact nearest-neighbour gather, from any other CRS it is GDAL's warper.
"""

import math
import struct
import threading
import zlib
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
import rasterio.crs
from affine import Affine
from django.conf import settings
from rasterio.enums import Resampling
from rasterio.transform import from_bounds
from rasterio.warp import reproject, transform, transform_bounds
from rasterio.windows import Window
from rasterio.windows import from_bounds as window_from_bounds
from rasterio.windows import transform as windows_transform

from layers.colormaps import colormap_lut, colormap_names
from layers.ingest.gdalenv import gdal_safe_env
from webgis.lib.errors import BadRequest
from webgis.lib.params import parse_float
from webgis.lib.tiles import Tile

TILE_SIZE = 256
WEB_MERCATOR = "EPSG:3857"
WGS84 = "EPSG:4326"
EARTH_RADIUS = 6378137.0  # of the Web Mercator sphere
# Rasters each serving thread keeps open (least recently used closed first).
HANDLES_PER_THREAD = 16
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


@dataclass(frozen=True)
class _Handle:
    """An open raster and what every tile needs of it, read once per open."""

    src: Any
    crs: Any
    kind: str  # WEB_MERCATOR or WGS84 when tiles can be drawn without GDAL's warper, else ""
    bounds: tuple[float, float, float, float]
    transform: Affine
    res: tuple[float, float]
    width: int
    height: int


_local = threading.local()


def _handle(path: Path) -> _Handle:
    """This thread's open handle on `path`, kept across tiles (call inside `gdal_safe_env`).

    A handle is used by one thread only (GDAL datasets are not thread-safe); keeping it open
    keeps the file's header parsed and its decoded blocks in GDAL's block cache, so the tiles
    after the first read no IFD and decompress no block twice. The key holds the inode and
    modification time, so a file replaced under the same name is opened again.
    """
    stat = path.stat()
    key = (str(path), stat.st_ino, stat.st_mtime_ns)
    cache: OrderedDict[tuple[str, int, int], _Handle] | None = getattr(_local, "handles", None)
    if cache is None:
        cache = _local.handles = OrderedDict()
    handle = cache.get(key)
    if handle is not None and not handle.src.closed:
        cache.move_to_end(key)
        return handle
    src = rasterio.open(path, driver="GTiff")
    crs = src.crs
    kind = ""
    t = src.transform
    if crs is not None and t.b == 0 and t.d == 0:
        if crs == rasterio.crs.CRS.from_epsg(3857):
            kind = WEB_MERCATOR
        elif crs == rasterio.crs.CRS.from_epsg(4326):
            kind = WGS84
    handle = _Handle(
        src=src,
        crs=crs,
        kind=kind,
        bounds=tuple(src.bounds),
        transform=t,
        res=src.res,
        width=src.width,
        height=src.height,
    )
    cache[key] = handle
    while len(cache) > HANDLES_PER_THREAD:
        _, old = cache.popitem(last=False)
        old.src.close()
    return handle


def close_handles() -> None:
    """Closes this thread's kept rasters (tests; a worker keeps them for its lifetime)."""
    cache = getattr(_local, "handles", None)
    while cache:
        _, handle = cache.popitem()
        handle.src.close()


def _lon(x: np.ndarray | float) -> Any:
    return np.degrees(np.asarray(x) / EARTH_RADIUS)


def _lat(y: np.ndarray | float) -> Any:
    return np.degrees(np.arctan(np.sinh(np.asarray(y) / EARTH_RADIUS)))


def _bounds_in(handle: _Handle, bounds: tuple[float, float, float, float]) -> Any:
    """Web Mercator `bounds` in the raster's CRS (exact for WGS 84: both axes are monotonic)."""
    minx, miny, maxx, maxy = bounds
    if handle.kind == WEB_MERCATOR:
        return bounds
    if handle.kind == WGS84:
        return (float(_lon(minx)), float(_lat(miny)), float(_lon(maxx)), float(_lat(maxy)))
    return transform_bounds(WEB_MERCATOR, handle.crs, *bounds, densify_pts=21)


def _nearest_separable(
    values: np.ndarray,
    src_transform: Affine,
    kind: str,
    bounds: tuple[float, float, float, float],
    out: np.ndarray,
) -> None:
    """Nearest-neighbour resampling onto the tile when rows and columns map independently.

    From Web Mercator to Web Mercator or WGS 84 (north-up), a tile column's centre has one
    source column and a tile row's centre one source row: the warp is two index vectors and
    one gather: the source pixel holding each centre, as GDAL's warper picks it (its approximate
    transformer may take the neighbour of a pixel whose centre lies right on a source edge).
    """
    minx, _miny, maxx, maxy = bounds
    step = (maxx - minx) / TILE_SIZE
    centres = (np.arange(TILE_SIZE) + 0.5) * step
    xs, ys = minx + centres, maxy - centres
    if kind == WGS84:
        xs, ys = _lon(xs), _lat(ys)
    cols = np.floor((xs - src_transform.c) / src_transform.a).astype("int64")
    rows = np.floor((ys - src_transform.f) / src_transform.e).astype("int64")
    col_ok = (cols >= 0) & (cols < values.shape[1])
    row_ok = (rows >= 0) & (rows < values.shape[0])
    if col_ok.any() and row_ok.any():
        out[np.ix_(row_ok, col_ok)] = values[np.ix_(rows[row_ok], cols[col_ok])]


def read_tile_values(path: Path, tile: Tile, *, band: int = 1) -> np.ndarray:
    """The band's values over one Web Mercator tile, float32, NaN where there is no data."""
    tile_bounds = tile.bounds_3857()
    out = _empty_values()
    with gdal_safe_env():
        handle = _handle(path)
        src = handle.src
        if handle.crs is None:
            return out
        left, bottom, right, top = _bounds_in(handle, tile_bounds)
        sl, sb, sr, st = handle.bounds
        if right <= sl or left >= sr or top <= sb or bottom >= st:
            return out
        window = window_from_bounds(
            max(left, sl),
            max(bottom, sb),
            min(right, sr),
            min(top, st),
            transform=handle.transform,
        )
        # One source pixel of margin so resampling at the tile's edge has neighbours.
        window = Window(
            math.floor(window.col_off) - 1,
            math.floor(window.row_off) - 1,
            math.ceil(window.width) + 2,
            math.ceil(window.height) + 2,
        ).intersection(Window(0, 0, handle.width, handle.height))
        # Pixels of the tile across the part read, per source pixel: decimate to about that.
        frac_w = window.width * handle.res[0] / max(right - left, 1e-12)
        frac_h = window.height * handle.res[1] / max(top - bottom, 1e-12)
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
        win_transform = windows_transform(window, handle.transform) @ Affine.scale(
            window.width / out_w, window.height / out_h
        )
        if handle.kind:
            _nearest_separable(values, win_transform, handle.kind, tile_bounds, out)
            return out
        reproject(
            source=values,
            destination=out,
            src_transform=win_transform,
            src_crs=handle.crs,
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


def color_index(values: np.ndarray, style: RasterStyle) -> np.ndarray:
    """Each value's entry (0–255) of the colour map, stretched from vmin to vmax; NaN gives 0."""
    scale = 255.0 / (style.vmax - style.vmin)
    with np.errstate(invalid="ignore"):
        index = np.clip((values - style.vmin) * scale, 0, 255)
    index[~np.isfinite(values)] = 0
    return index.astype("uint8")


def colorize(values: np.ndarray, style: RasterStyle) -> np.ndarray:
    """RGBA pixels: values stretched from vmin to vmax over the colour map, NaN transparent."""
    rgba = colormap_lut(style.colormap)[color_index(values, style)]
    rgba[~np.isfinite(values), 3] = 0
    return rgba


def _png(width: int, height: int, color_type: int, rows: np.ndarray, *extra: bytes) -> bytes:
    def chunk(kind: bytes, payload: bytes) -> bytes:
        crc = zlib.crc32(kind + payload) & 0xFFFFFFFF
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, color_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + b"".join(chunk(extra[i], extra[i + 1]) for i in range(0, len(extra), 2))
        + chunk(b"IDAT", zlib.compress(rows.tobytes(), 6))
        + chunk(b"IEND", b"")
    )


def encode_png(rgba: np.ndarray) -> bytes:
    """An 8-bit RGBA PNG (no filter, zlib level 6)."""
    height, width, _ = rgba.shape
    rows = np.zeros((height, width * 4 + 1), dtype="uint8")  # each row starts with filter byte 0
    rows[:, 1:] = rgba.reshape(height, width * 4)
    return _png(width, height, 6, rows)


def encode_png_indexed(index: np.ndarray, lut: np.ndarray) -> bytes:
    """An 8-bit palette PNG: `index` (uint8) into `lut`'s 256 RGBA colours (no filter, zlib 6).

    A quarter of the bytes of the RGBA image to compress, for the same pixels once decoded.
    """
    height, width = index.shape
    rows = np.zeros((height, width + 1), dtype="uint8")
    rows[:, 1:] = index
    extra = [b"PLTE", lut[:, :3].astype("uint8").tobytes()]
    if (lut[:, 3] != 255).any():
        extra += [b"tRNS", lut[:, 3].astype("uint8").tobytes()]
    return _png(width, height, 3, rows, *extra)


_EMPTY_PNG: bytes | None = None


def empty_png() -> bytes:
    global _EMPTY_PNG
    if _EMPTY_PNG is None:
        _EMPTY_PNG = encode_png(np.zeros((TILE_SIZE, TILE_SIZE, 4), dtype="uint8"))
    return _EMPTY_PNG


def render_tile(path: Path, tile: Tile, style: RasterStyle) -> bytes:
    """The tile's PNG: a palette PNG when every pixel has data (the colour map has 256 colours),
    RGBA when some are transparent (no palette entry is left for them), a shared empty PNG
    when none has data."""
    values = read_tile_values(path, tile, band=style.band)
    finite = np.isfinite(values)
    if not finite.any():
        return empty_png()
    if finite.all():
        return encode_png_indexed(color_index(values, style), colormap_lut(style.colormap))
    return encode_png(colorize(values, style))


def native_max_zoom(resolution_m: float) -> int:
    """The zoom whose pixels are as small as the raster's (at the equator), plus one to zoom in."""
    if resolution_m <= 0:
        return 18
    zoom = math.log2(2 * 20037508.342789244 / TILE_SIZE / resolution_m)
    return max(0, min(22, math.ceil(zoom) + 1))
