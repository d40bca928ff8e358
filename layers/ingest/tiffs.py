"""Checking an uploaded GeoTIFF: its own header first (dimensions, bands, sample size, block
size), then rasterio restricted to the GTiff driver, before any pixel is read."""

import struct
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyproj
import rasterio
from rasterio.errors import NotGeoreferencedWarning, RasterioError

from layers.ingest.discovery import GEOTIFF, FoundDataset, check_content
from layers.ingest.gdalenv import gdal_safe_env
from layers.ingest.limits import Limits, MiB
from layers.ingest.rejections import Code, RejectedFile

MAX_IFD_ENTRIES = 4096
SUPPORTED_COMPRESSION = {
    1: "none",
    5: "LZW",
    7: "JPEG",
    8: "Deflate",
    32946: "Deflate",
    32773: "PackBits",
    34887: "LERC",
    34925: "LZMA",
    50000: "ZSTD",
    50001: "WebP",
}
_TYPE_SIZES = {
    1: 1,
    2: 1,
    3: 2,
    4: 4,
    6: 1,
    7: 1,
    8: 2,
    9: 4,
    11: 4,
    12: 8,
    13: 4,
    16: 8,
    17: 8,
    18: 8,
}
_UNPACK = {1: "B", 3: "H", 4: "I", 8: "h", 9: "i", 16: "Q", 17: "q"}
WIDTH, LENGTH, BITS, COMPRESSION, SAMPLES, ROWS_PER_STRIP, PLANAR = (
    256,
    257,
    258,
    259,
    277,
    278,
    284,
)
TILE_WIDTH, TILE_LENGTH = 322, 323


@dataclass(frozen=True)
class TiffHeader:
    width: int
    height: int
    samples: int
    bits: int
    compression: int
    planar: int
    block: tuple[int, int]  # (rows, columns) of one tile or strip
    bigtiff: bool


@dataclass
class RasterInfo:
    driver: str
    width: int
    height: int
    count: int
    dtypes: list[str]
    dtype: str
    nodata: float | None
    crs_epsg: int | None
    crs_name: str | None
    bounds: tuple[float, float, float, float]
    transform: tuple[float, ...]
    needs_georeferencing: bool
    has_gcps: bool
    block_shapes: list[tuple[int, int]]
    overviews: list[int]
    is_tiled: bool
    is_cog: bool
    compression: str | None
    file_size: int
    notes: list[str] = field(default_factory=list)


def read_tiff_header(path: Path) -> TiffHeader:
    """The first image directory of a TIFF, parsed from a few hundred bytes."""
    with path.open("rb") as handle:
        head = handle.read(16)
        if len(head) < 8 or head[:2] not in (b"II", b"MM"):
            raise _bad(path, "it does not start with a TIFF header")
        order = "<" if head[:2] == b"II" else ">"
        (magic,) = struct.unpack(order + "H", head[2:4])
        if magic == 42:
            bigtiff = False
            (ifd,) = struct.unpack(order + "I", head[4:8])
        elif magic == 43 and len(head) >= 16:
            bigtiff = True
            (ifd,) = struct.unpack(order + "Q", head[8:16])
        else:
            raise _bad(path, "its TIFF version is unknown")
        size = path.stat().st_size
        if ifd < 8 or ifd >= size:
            raise _bad(path, "its first image directory lies outside the file")
        handle.seek(ifd)
        count_bytes = handle.read(8 if bigtiff else 2)
        (count,) = struct.unpack(order + ("Q" if bigtiff else "H"), count_bytes)
        if count == 0 or count > MAX_IFD_ENTRIES:
            raise _bad(path, f"its image directory has {count} entries")
        entry_size = 20 if bigtiff else 12
        raw = handle.read(count * entry_size)
        if len(raw) < count * entry_size:
            raise _bad(path, "its image directory is cut short")
        tags: dict[int, int] = {}
        for i in range(count):
            entry = raw[i * entry_size : (i + 1) * entry_size]
            tag, kind = struct.unpack(order + "HH", entry[:4])
            if tag not in (
                WIDTH,
                LENGTH,
                BITS,
                COMPRESSION,
                SAMPLES,
                ROWS_PER_STRIP,
                PLANAR,
                TILE_WIDTH,
                TILE_LENGTH,
            ):
                continue
            n = struct.unpack(order + ("Q" if bigtiff else "I"), entry[4 : 12 if bigtiff else 8])[0]
            value_field = entry[12:20] if bigtiff else entry[8:12]
            if kind not in _UNPACK or n == 0:
                raise _bad(path, f"tag {tag} has an unexpected type")
            item = _TYPE_SIZES[kind]
            if n * item <= len(value_field):
                data = value_field[:item]
            else:  # values stored elsewhere: only the first one is needed
                (offset,) = struct.unpack(order + ("Q" if bigtiff else "I"), value_field)
                if offset >= size:
                    raise _bad(path, f"tag {tag} points outside the file")
                here = handle.tell()
                handle.seek(offset)
                data = handle.read(item)
                handle.seek(here)
                if len(data) < item:
                    raise _bad(path, f"tag {tag} is cut short")
            (tags[tag],) = struct.unpack(order + _UNPACK[kind], data)
    if WIDTH not in tags or LENGTH not in tags:
        raise _bad(path, "it does not say its width and height")
    width, height = tags[WIDTH], tags[LENGTH]
    samples = tags.get(SAMPLES, 1)
    if TILE_WIDTH in tags and TILE_LENGTH in tags:
        block = (tags[TILE_LENGTH], tags[TILE_WIDTH])
    else:
        block = (min(tags.get(ROWS_PER_STRIP, height) or height, height), width)
    return TiffHeader(
        width=width,
        height=height,
        samples=samples,
        bits=tags.get(BITS, 1),
        compression=tags.get(COMPRESSION, 1),
        planar=tags.get(PLANAR, 1),
        block=block,
        bigtiff=bigtiff,
    )


def check_tiff_header(path: Path, header: TiffHeader, limits: Limits) -> None:
    """Refuse dimensions, band counts, sample sizes and block sizes beyond the limits."""
    w, h = header.width, header.height
    if w <= 0 or h <= 0:
        raise _bad(path, f"its size is {w} × {h} pixels")
    if max(w, h) > limits.max_raster_dimension or w * h > limits.max_raster_pixels:
        raise RejectedFile(
            Code.RASTER_TOO_LARGE,
            f"'{path.name}' declares {w:,} × {h:,} pixels; at most "
            f"{limits.max_raster_dimension:,} pixels a side and {limits.max_raster_pixels:,} in "
            "total are allowed. Split it into tiles or resample it, and upload again.",
            {"width": w, "height": h},
        )
    if header.samples <= 0 or header.samples > limits.max_raster_bands:
        raise RejectedFile(
            Code.TOO_MANY_BANDS,
            f"'{path.name}' declares {header.samples:,} bands; at most {limits.max_raster_bands} "
            "are allowed. Keep the bands you need (gdal_translate -b) and upload again.",
            {"bands": header.samples, "limit": limits.max_raster_bands},
        )
    if header.bits not in (1, 2, 4, 8, 16, 32, 64):
        raise _bad(path, f"its samples are {header.bits} bits wide")
    if header.compression not in SUPPORTED_COMPRESSION:
        raise _bad(
            path,
            f"it uses compression {header.compression}, which AMDIS does not read; save it with "
            "Deflate, LZW or no compression",
        )
    sample_bytes = max(1, header.bits // 8)
    total = w * h * header.samples * sample_bytes
    if total > limits.max_raster_bytes:
        raise RejectedFile(
            Code.RASTER_TOO_LARGE,
            f"'{path.name}' would be {total / MiB:,.0f} MB uncompressed; at most "
            f"{limits.max_raster_bytes / MiB:,.0f} MB are allowed. Split it into tiles and upload "
            "again.",
            {"bytes": total, "limit": limits.max_raster_bytes},
        )
    rows, columns = header.block
    per_block = header.samples if header.planar == 1 else 1
    block_bytes = rows * columns * per_block * sample_bytes
    if rows <= 0 or columns <= 0 or block_bytes > limits.max_raster_block_bytes:
        raise RejectedFile(
            Code.RASTER_BLOCK_TOO_LARGE,
            f"'{path.name}' stores its pixels in blocks of {columns:,} × {rows:,} "
            f"({block_bytes / MiB:,.0f} MB each, uncompressed); at most "
            f"{limits.max_raster_block_bytes / MiB:,.0f} MB are allowed. Save it as a tiled "
            "GeoTIFF (gdal_translate -co TILED=YES, or as a COG) and upload again.",
            {"block": [columns, rows], "bytes": block_bytes},
        )


def inspect_raster(found: FoundDataset, limits: Limits) -> RasterInfo:
    """Check and describe a GeoTIFF before any pixel is read."""
    if found.kind != GEOTIFF:
        raise ValueError(f"Not a GeoTIFF: {found.kind}")
    check_content(found)
    path = found.path
    header = read_tiff_header(path)
    check_tiff_header(path, header, limits)
    try:
        with gdal_safe_env(limits), warnings.catch_warnings():
            warnings.simplefilter("ignore", NotGeoreferencedWarning)  # reported as a flag instead
            with rasterio.open(path, driver="GTiff") as ds:
                info = _describe(ds, path, limits)
    except RasterioError as exc:
        reason = str(exc).replace(str(path.parent) + "/", "")[:300]
        raise RejectedFile(
            Code.BAD_TIFF,
            f"'{path.name}' cannot be read as a GeoTIFF ({reason}). Export it again and upload it again.",
            {"reason": reason},
        ) from exc
    return info


def _describe(ds: Any, path: Path, limits: Limits) -> RasterInfo:
    if ds.driver != "GTiff":
        raise _bad(path, f"it was opened by the {ds.driver} driver")
    # The same limits again, as GDAL sees the file (it may read tags differently).
    check_tiff_header(
        path,
        TiffHeader(
            width=ds.width,
            height=ds.height,
            samples=ds.count,
            bits=8 * max(_dtype_bytes(d) for d in ds.dtypes),
            compression=1,
            planar=1,
            block=ds.block_shapes[0],
            bigtiff=False,
        ),
        limits,
    )
    crs = ds.crs
    transform = ds.transform
    gcps, _gcp_crs = ds.gcps
    no_crs = crs is None
    no_transform = transform.is_identity
    needs_georeferencing = no_crs or no_transform
    notes = []
    if needs_georeferencing:
        missing = (
            "CRS"
            if no_crs and not no_transform
            else "position"
            if not no_crs
            else "CRS and position"
        )
        notes.append(f"The GeoTIFF has no georeferencing ({missing} missing).")
    if gcps:
        notes.append("The GeoTIFF is positioned by ground control points: warp it first.")
    epsg = crs.to_epsg() if crs is not None else None
    overviews = ds.overviews(1) if ds.count else []
    tiled = bool(ds.profile.get("tiled", False))
    layout = ds.tags(ns="IMAGE_STRUCTURE").get("LAYOUT", "")
    return RasterInfo(
        driver=ds.driver,
        width=ds.width,
        height=ds.height,
        count=ds.count,
        dtypes=list(ds.dtypes),
        dtype=ds.dtypes[0],
        nodata=ds.nodata,
        crs_epsg=int(epsg) if epsg is not None else None,
        crs_name=str(pyproj.CRS.from_wkt(crs.to_wkt()).name) if crs is not None else None,
        bounds=tuple(ds.bounds),
        transform=tuple(transform)[:6],
        needs_georeferencing=needs_georeferencing,
        has_gcps=bool(gcps),
        block_shapes=[tuple(s) for s in ds.block_shapes],
        overviews=list(overviews),
        is_tiled=tiled,
        is_cog=layout.upper() == "COG" or (tiled and bool(overviews)),
        compression=ds.compression.value if ds.compression is not None else None,
        file_size=path.stat().st_size,
        notes=notes,
    )


def _dtype_bytes(dtype: str) -> int:
    return int(np.dtype(dtype).itemsize)


def _bad(path: Path, reason: str) -> RejectedFile:
    return RejectedFile(
        Code.BAD_TIFF,
        f"'{path.name}' is not a usable GeoTIFF: {reason}. Export it again as a GeoTIFF and "
        "upload it again.",
        {"file": path.name, "reason": reason},
    )
