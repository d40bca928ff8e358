"""Raster layers for tests: a COG written under the test's MEDIA_ROOT, and its RasterLayer row."""

from pathlib import Path
from typing import Any

import numpy as np
import rasterio
from affine import Affine
from django.conf import settings
from django.contrib.gis.geos import Polygon
from rasterio.io import MemoryFile
from rasterio.shutil import copy as raster_copy
from rasterio.warp import transform_bounds

from layers.ingest.rasters import band_statistics
from layers.models import Dataset, RasterLayer

GEOID = "raster_egm96_geoid/egm96_geoid_seasia.tif"


def write_cog(
    path: Path, data: np.ndarray, transform: Affine, crs: str, nodata: float | None
) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    bands = data if data.ndim == 3 else data[np.newaxis]
    profile = {
        "driver": "GTiff",
        "width": bands.shape[2],
        "height": bands.shape[1],
        "count": bands.shape[0],
        "dtype": str(bands.dtype),
        "crs": crs,
        "transform": transform,
        "nodata": nodata,
    }
    with MemoryFile() as memory, memory.open(**profile) as scratch:
        scratch.write(bands)
        raster_copy(scratch, path, driver="COG", compress="DEFLATE", overview_resampling="average")


def raster_layer_from_file(
    dataset: Dataset, source: Path, *, units: str = "", version: int | None = None, **fields: Any
) -> RasterLayer:
    """Copies a GeoTIFF as a COG under MEDIA_ROOT, as the upload pipeline would, and records it."""
    version = version or dataset.version
    relative = Path("rasters") / f"d{dataset.pk}_v{version}.tif"
    destination = Path(settings.MEDIA_ROOT) / relative
    destination.parent.mkdir(parents=True, exist_ok=True)
    with rasterio.open(source, driver="GTiff") as src:
        raster_copy(
            src, destination, driver="COG", compress="DEFLATE", overview_resampling="average"
        )
    with rasterio.open(destination, driver="GTiff") as cog:
        stats = band_statistics(cog)
        bounds = transform_bounds(cog.crs, "EPSG:4326", *cog.bounds, densify_pts=21)
        first = stats[0]
        return RasterLayer.objects.create(
            dataset=dataset,
            version=version,
            path=str(relative),
            width=cog.width,
            height=cog.height,
            band_count=cog.count,
            dtype=cog.dtypes[0],
            srid=cog.crs.to_epsg() or 4326,
            nodata=cog.nodata,
            footprint=Polygon.from_bbox(bounds),
            statistics=stats,
            units=units,
            value_min=first["p2"],
            value_max=first["p98"],
            **fields,
        )


def raster_layer_from_array(
    dataset: Dataset,
    data: np.ndarray,
    *,
    bounds: tuple[float, float, float, float],
    nodata: float | None = None,
    units: str = "",
    tmp: Path,
    **fields: Any,
) -> RasterLayer:
    """A WGS 84 raster covering `bounds` (west, south, east, north) with these values."""
    height, width = data.shape[-2:]
    source = tmp / f"source-{dataset.pk}.tif"
    write_cog(
        source, data, rasterio.transform.from_bounds(*bounds, width, height), "EPSG:4326", nodata
    )
    return raster_layer_from_file(dataset, source, units=units, **fields)
