"""Raster tiles (PNG), TileJSON, pixel values and raster metadata for the map and the API."""

import hashlib
import logging
from pathlib import Path
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.views.decorators.http import require_GET

from layers.models import RasterLayer
from layers.raster_selectors import (
    raster_current,
    raster_default_range,
    raster_dict,
    raster_is_private,
    raster_version,
    rasters_visible,
)
from layers.rasters import (
    RasterFileMissing,
    RasterStyle,
    media_path,
    parse_band,
    parse_colormap,
    parse_lon_lat,
    parse_rescale,
    point_values,
    render_tile,
)
from webgis.lib.errors import BadRequest, json_error
from webgis.lib.params import reject_unknown
from webgis.lib.tiles import Tile

logger = logging.getLogger(__name__)

PNG = "image/png"
IMMUTABLE = "public, max-age=31536000, immutable"
PRIVATE = "private, max-age=0"
TILE_PARAMS = {"v", "colormap", "rescale", "band"}


def not_found(message: str) -> JsonResponse:
    return JsonResponse({"error": {"code": "not_found", "message": message}}, status=404)


def _unknown_raster(slug: str) -> JsonResponse:
    return not_found(f"No raster layer {slug[:60]!r}. The list is at /api/rasters/.")


def _missing_file(what: str) -> JsonResponse:
    logger.error("Raster file missing for %s", what)
    return JsonResponse(
        {"error": {"code": "raster_unavailable", "message": "This raster's file is unavailable."}},
        status=503,
        headers={"Retry-After": "60"},
    )


def cached_response(
    request: HttpRequest, body: bytes, content_type: str, *, private: bool, immutable: bool
) -> HttpResponse:
    """The tile caching rule of the project: private data never shared, versioned URLs forever."""
    if private:
        cache_control = PRIVATE
    elif immutable:
        cache_control = IMMUTABLE
    else:
        cache_control = "public, max-age=60"
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    if request.headers.get("If-None-Match") == etag:
        response = HttpResponse(status=304)
    else:
        response = HttpResponse(body, content_type=content_type)
    response["ETag"] = etag
    response["Cache-Control"] = cache_control
    return response


def style_from_query(query: Any, raster: RasterLayer) -> RasterStyle:
    vmin, vmax = parse_rescale(query.get("rescale"), default=raster_default_range(raster))
    return RasterStyle(
        colormap=parse_colormap(query.get("colormap"), default=raster.colormap or "viridis"),
        vmin=vmin,
        vmax=vmax,
        band=parse_band(query.get("band"), band_count=raster.band_count),
    )


@require_GET
def raster_tile(request: HttpRequest, layer: str, z: str, x: str, y: str) -> HttpResponse:
    raster = raster_current(user=request.user, slug=layer)
    if raster is None:
        return _unknown_raster(layer)
    try:
        reject_unknown(request.GET, TILE_PARAMS)
        tile = Tile.parse(z, x, y)
        style = style_from_query(request.GET, raster)
        path = media_path(raster.path)
    except BadRequest as exc:
        return json_error(exc)
    except RasterFileMissing:
        return _missing_file(raster.path)
    body = render_tile(path, tile, style)
    return cached_response(
        request,
        body,
        PNG,
        private=raster_is_private(raster),
        immutable=request.GET.get("v") == raster_version(raster),
    )


@require_GET
def raster_tilejson(request: HttpRequest, layer: str) -> HttpResponse:
    """TileJSON 3.0.0; the tile URL carries the version and any style given here."""
    raster = raster_current(user=request.user, slug=layer)
    if raster is None:
        return _unknown_raster(layer)
    try:
        reject_unknown(request.GET, TILE_PARAMS - {"v"})
        style = style_from_query(request.GET, raster)
    except BadRequest as exc:
        return json_error(exc)
    info = raster_dict(raster)
    base = request.build_absolute_uri(reverse("raster-tile", args=[layer, "0", "0", "0"])).replace(
        "/0/0/0.png", "/{z}/{x}/{y}.png"
    )
    west, south, east, north = info["bounds"]
    doc = {
        "tilejson": "3.0.0",
        "name": info["title"],
        "description": info["abstract"] or info["title"],
        "version": "1.0.0",
        "attribution": info["organisation"] or "AMDIS",
        "scheme": "xyz",
        "tiles": [f"{base}?v={info['version']}&{style.query()}"],
        "minzoom": 0,
        "maxzoom": info["maxzoom"],
        "bounds": [west, south, east, north],
        "center": [(west + east) / 2, (south + north) / 2, 4],
        "units": info["units"],
        "colormap": style.colormap,
        "rescale": [style.vmin, style.vmax],
        "band": style.band,
        "data_version": info["version"],
    }
    response = JsonResponse(doc)
    response["Cache-Control"] = PRIVATE if raster_is_private(raster) else "public, max-age=60"
    return response


def point_response(path: Path, query: Any, *, units: str, private: bool) -> JsonResponse:
    """`{"lon", "lat", "inside", "values": [{"band", "value"}], "units"}`; null where no data."""
    reject_unknown(query, {"lon", "lat"})
    lon, lat = parse_lon_lat(query)
    values = point_values(path, lon, lat)
    body = {
        "lon": lon,
        "lat": lat,
        "inside": values is not None,
        "values": [{"band": i + 1, "value": v} for i, v in enumerate(values or [])],
        "units": units,
    }
    response = JsonResponse(body)
    response["Cache-Control"] = PRIVATE if private else "public, max-age=300"
    return response


@require_GET
def raster_point(request: HttpRequest, layer: str) -> HttpResponse:
    raster = raster_current(user=request.user, slug=layer)
    if raster is None:
        return _unknown_raster(layer)
    try:
        path = media_path(raster.path)
        return point_response(
            path, request.GET, units=raster.units, private=raster_is_private(raster)
        )
    except BadRequest as exc:
        return json_error(exc)
    except RasterFileMissing:
        return _missing_file(raster.path)


@require_GET
def raster_list(request: HttpRequest) -> JsonResponse:
    try:
        reject_unknown(request.GET, set())
    except BadRequest as exc:
        return json_error(exc)
    rasters = [raster_dict(r) for r in rasters_visible(user=request.user)[:500]]
    response = JsonResponse({"rasters": rasters})
    if any(not r["is_published"] for r in rasters):
        response["Cache-Control"] = PRIVATE
    return response


@require_GET
def raster_detail(request: HttpRequest, layer: str) -> JsonResponse:
    raster = raster_current(user=request.user, slug=layer)
    if raster is None:
        return _unknown_raster(layer)
    response = JsonResponse(dict(raster_dict(raster)))
    if raster_is_private(raster):
        response["Cache-Control"] = PRIVATE
    return response
