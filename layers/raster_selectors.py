"""Reads about raster layers: which a user may see, and what the map needs to draw them."""

from typing import Any, TypedDict

from django.db.models import F
from django.urls import reverse

from layers.models import Dataset, RasterLayer
from layers.rasters import native_max_zoom
from layers.selectors import datasets_visible

DEFAULT_RANGE = (0.0, 1.0)
MAP_LAYER_LIMIT = 50


class RasterLayerDict(TypedDict):
    slug: str
    title: str
    abstract: str
    organisation: str
    licence: str
    citation: str
    units: str
    band_count: int
    dtype: str
    colormap: str
    rescale: list[float]
    statistics: list[dict[str, Any]]
    bounds: list[float]
    version: str
    maxzoom: int
    is_published: bool
    tilejson: str
    tiles: str
    point: str
    prospectivity: dict[str, Any] | None


def rasters_visible(*, user: Any) -> Any:
    """The current raster (the one of the dataset's version) of each dataset the user may see."""
    return (
        RasterLayer.objects.filter(
            dataset__in=datasets_visible(user=user), version=F("dataset__version")
        )
        .select_related("dataset")
        .order_by("dataset__title")
    )


def raster_current(*, user: Any, slug: str) -> RasterLayer | None:
    """A dataset's current raster, or None when it does not exist or the user may not see it."""
    return rasters_visible(user=user).filter(dataset__slug=slug).first()


def raster_default_range(raster: RasterLayer) -> tuple[float, float]:
    low, high = raster.value_min, raster.value_max
    if low is not None and high is not None and low < high:
        return low, high
    stats = raster.statistics[0] if raster.statistics else {}
    for low_key, high_key in (("p2", "p98"), ("min", "max")):
        a, b = stats.get(low_key), stats.get(high_key)
        if a is not None and b is not None and a < b:
            return float(a), float(b)
    return DEFAULT_RANGE


def raster_version(raster: RasterLayer) -> str:
    """The token tile URLs carry: a new version of the dataset (or a withdrawal) changes it."""
    return f"{raster.version}{'' if raster.dataset.is_published else 'u'}"


def raster_is_private(raster: RasterLayer) -> bool:
    """Unpublished data (seen by an editor or a reviewer) must never reach a shared cache;
    a published raster is the same for everyone."""
    return not raster.dataset.is_published


def raster_resolution_m(raster: RasterLayer) -> float:
    """Approximate pixel size in metres, from the footprint (EPSG:4326) and the pixel count."""
    west, _south, east, _north = raster.footprint.extent
    return max(east - west, 1e-9) * 111_320.0 / max(raster.width, 1)


def raster_dict(raster: RasterLayer) -> RasterLayerDict:
    dataset: Dataset = raster.dataset
    slug = dataset.slug
    vmin, vmax = raster_default_range(raster)
    version = raster_version(raster)
    tiles = reverse("raster-tile", args=[slug, "0", "0", "0"]).replace(
        "/0/0/0.png", "/{z}/{x}/{y}.png"
    )
    prospectivity = getattr(dataset, "prospectivity_map", None)
    return {
        "slug": slug,
        "title": dataset.title,
        "abstract": dataset.abstract,
        "organisation": dataset.organisation,
        "licence": dataset.licence,
        "citation": dataset.citation,
        "units": raster.units,
        "band_count": raster.band_count,
        "dtype": raster.dtype,
        "colormap": raster.colormap or "viridis",
        "rescale": [vmin, vmax],
        "statistics": list(raster.statistics or []),
        "bounds": [round(v, 6) for v in raster.footprint.extent],
        "version": version,
        "maxzoom": native_max_zoom(raster_resolution_m(raster)),
        "is_published": dataset.is_published,
        "tilejson": reverse("raster-tilejson", args=[slug]),
        "tiles": f"{tiles}?v={version}",
        "point": reverse("api-raster-point", args=[slug]),
        "prospectivity": prospectivity.to_dict() if prospectivity is not None else None,
    }


def raster_map_config(*, user: Any) -> dict[str, RasterLayerDict]:
    """The raster layers of the map page, keyed by dataset slug."""
    rasters = rasters_visible(user=user)
    return {r.dataset.slug: raster_dict(r) for r in rasters[:MAP_LAYER_LIMIT]}
