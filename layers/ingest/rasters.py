"""Raster uploads: a checked GeoTIFF becomes a Cloud Optimised GeoTIFF (tiled, with overviews)
under MEDIA_ROOT/rasters, with per-band statistics; each publish is a new immutable file."""

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
from django.conf import settings
from rasterio.enums import Resampling
from rasterio.shutil import copy as raster_copy
from rasterio.warp import transform_bounds

from layers.ingest import safety
from layers.models import Dataset, DatasetVersion, RasterLayer, Upload

STATS_MAX_SIDE = (
    2048  # statistics are computed on an overview at most this size: memory stays bounded
)


def _cog_path(upload: Upload) -> Path:
    return Path(settings.MEDIA_ROOT) / "uploads" / str(upload.pk) / "cog.tif"


def raster_process(
    upload: Upload, found: Any, limits: Any, *, progress: Callable[[int, str], None]
) -> dict[str, Any]:
    info = safety.inspect_raster(found, limits)
    options = upload.options or {}
    if getattr(info, "needs_georeferencing", False):
        raise safety.RejectedFile(
            "no_georeferencing",
            "The GeoTIFF has no georeferencing (no CRS or no geotransform). Georeference it in QGIS or "
            "with gdal_translate -a_srs/-a_ullr and upload it again.",
        )
    progress(30, "Writing a Cloud Optimised GeoTIFF with overviews")
    cog = _cog_path(upload)
    cog.parent.mkdir(parents=True, exist_ok=True)
    with safety.gdal_safe_env(), rasterio.open(found.path, driver="GTiff") as src:
        raster_copy(
            src,
            cog,
            driver="COG",
            compress="DEFLATE",
            overview_resampling="average",
            BIGTIFF="IF_SAFER",
        )
    progress(70, "Computing statistics")
    with safety.gdal_safe_env(), rasterio.open(cog, driver="GTiff") as cog_src:
        stats = band_statistics(cog_src)
        srid = cog_src.crs.to_epsg() if cog_src.crs else None
        bounds = transform_bounds(cog_src.crs, "EPSG:4326", *cog_src.bounds, densify_pts=21)
        report = {
            "source": {"kind": "geotiff", "name": found.path.name},
            "raster": {
                "width": cog_src.width,
                "height": cog_src.height,
                "bands": cog_src.count,
                "dtype": cog_src.dtypes[0],
                "crs": srid,
                "nodata": cog_src.nodata,
                "overviews": cog_src.overviews(1),
                "block": list(cog_src.block_shapes[0]),
                "statistics": stats,
                "units": options.get("units", ""),
            },
            "counts": {"read": 1, "accepted": 1, "rejected": 0, "repaired": 0},
            "bounds": list(bounds),
        }
    if srid is None:
        raise safety.RejectedFile(
            "no_crs", "The GeoTIFF's CRS has no EPSG code; reproject it to a standard CRS."
        )
    return report


def band_statistics(src: Any) -> list[dict[str, float | None]]:
    scale = max(src.width, src.height) / STATS_MAX_SIDE
    shape = (
        (max(1, int(src.height / scale)), max(1, int(src.width / scale)))
        if scale > 1
        else (src.height, src.width)
    )
    stats: list[dict[str, float | None]] = []
    for band in range(1, src.count + 1):
        data = src.read(band, out_shape=shape, resampling=Resampling.nearest, masked=True).astype(
            "float64"
        )
        values = data.compressed()
        values = values[np.isfinite(values)]
        if values.size == 0:
            stats.append(
                {"min": None, "max": None, "mean": None, "std": None, "p2": None, "p98": None}
            )
            continue
        p2, p98 = np.percentile(values, [2, 98])
        stats.append(
            {
                "min": float(values.min()),
                "max": float(values.max()),
                "mean": float(values.mean()),
                "std": float(values.std()),
                "p2": float(p2),
                "p98": float(p98),
            }
        )
    return stats


def raster_publish(upload: Upload, dataset: Dataset, number: int) -> int:
    source = _cog_path(upload)
    relative = Path("rasters") / f"d{dataset.pk}_v{number}.tif"
    destination = Path(settings.MEDIA_ROOT) / relative
    destination.parent.mkdir(parents=True, exist_ok=True)
    try:
        shutil.copyfile(source, destination)
    except OSError:
        destination.unlink(missing_ok=True)  # never a half-written raster under a published name
        raise
    raster = upload.report["raster"]
    west, south, east, north = upload.report["bounds"]
    from django.contrib.gis.geos import Polygon

    first = raster["statistics"][0] if raster["statistics"] else {}
    RasterLayer.objects.create(
        dataset=dataset,
        version=number,
        path=str(relative),
        width=raster["width"],
        height=raster["height"],
        band_count=raster["bands"],
        dtype=raster["dtype"],
        srid=raster["crs"],
        nodata=raster["nodata"],
        footprint=Polygon.from_bbox((west, south, east, north)),
        statistics=raster["statistics"],
        units=raster.get("units", ""),
        value_min=first.get("p2"),
        value_max=first.get("p98"),
    )
    return 1


def raster_restore(version: DatasetVersion, dataset: Dataset, number: int) -> int:
    old = RasterLayer.objects.get(dataset=dataset, version=version.number)
    old.pk = None
    old.version = number  # the COG file is immutable: the new version points at the same file
    old.save()
    return 1


def rasters_compare(older: DatasetVersion, newer: DatasetVersion) -> dict[str, Any]:
    a = RasterLayer.objects.get(dataset=older.dataset, version=older.number)
    b = RasterLayer.objects.get(dataset=newer.dataset, version=newer.number)
    changed = [
        name
        for name in ("width", "height", "band_count", "dtype", "srid", "nodata", "statistics")
        if getattr(a, name) != getattr(b, name)
    ]
    return {
        "older": older.number,
        "newer": newer.number,
        "added": 0,
        "removed": 0,
        "changed": 1 if changed else 0,
        "changed_examples": [{"label": n, "key": n} for n in changed],
    }
