"""Project-wide views: health check, the map page and the vector tile endpoints."""

from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.gzip import gzip_page
from django.views.decorators.http import require_GET

from deposits.models import Commodity, MemberState, OccurrenceStatus
from layers.colormaps import COLORMAPS, colormap_stops
from layers.permissions import access_for
from layers.raster_selectors import raster_map_config
from webgis.lib import tilecache
from webgis.lib.errors import BadRequest, json_error
from webgis.lib.mvt import TileLayer, all_layers, get_layer, run_tile_query
from webgis.lib.params import reject_unknown
from webgis.lib.tiles import MAX_ZOOM, Tile

MVT_CONTENT_TYPE = "application/vnd.mapbox-vector-tile"
IMMUTABLE = "public, max-age=31536000, immutable"


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when the database answers, 503 otherwise (for load balancers and `make run`)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        connection.close()
        return JsonResponse(
            {"status": "unavailable", "database": "down"}, status=503, headers={"Retry-After": "5"}
        )
    return JsonResponse({"status": "ok", "database": "up"})


def _unknown_layer(name: str) -> JsonResponse:
    names = ", ".join(sorted(layer.name for layer in all_layers(None)))
    return JsonResponse(
        {
            "error": {
                "code": "not_found",
                "message": f"No tile layer {name[:60]!r}. Layers: {names}.",
            }
        },
        status=404,
    )


def _is_private(tile_layer: TileLayer, request: HttpRequest) -> bool:
    """Responses that may hold unpublished data must never be stored by a shared cache."""
    return tile_layer.permission_dependent and access_for(request.user).is_restricted_viewer


@gzip_page
@require_GET
def vector_tile(request: HttpRequest, layer: str, z: str, x: str, y: str) -> HttpResponse:
    tile_layer = get_layer(layer, request.user)
    if tile_layer is None:
        return _unknown_layer(layer)
    try:
        tile = Tile.parse(z, x, y)
        reject_unknown(request.GET, tile_layer.allowed_params())
        sql, params = tile_layer.tile_sql(tile, request.GET, request.user)
    except BadRequest as exc:
        return json_error(exc)
    private = _is_private(tile_layer, request)
    requested = request.GET.getlist("v")
    # Public renderings of versioned URLs are shared through the tile cache. Its WSGI fast path
    # (tilecache.TileCacheApp) answers most hits before Django; this serves the rest the same
    # way: a stored tile is of the version it is filed under.
    entry = (
        tilecache.Entry.for_request(tile_layer.name, requested[0], tile, request.GET)
        if len(requested) == 1 and not private and tilecache.enabled()
        else None
    )
    body = entry.read() if entry else None
    if body is not None:
        current = requested[0]
    else:
        body, current = run_tile_query(sql, params, version_sql=tile_layer.version_sql())
        if entry and current == requested[0]:
            entry.write(body)
            # Published in the meantime: the tile is of the version it is filed under (one
            # snapshot), but that version's folder may be pruned already (see prune_stale).
            if tile_layer.version(request.user) != current:
                entry.discard()
    response = HttpResponse(body, content_type=MVT_CONTENT_TYPE)
    if private:
        response["Cache-Control"] = "private, max-age=0"
    elif request.GET.get("v") == current:
        # The URL names the data version, so this exact tile never changes.
        response["Cache-Control"] = IMMUTABLE
    else:
        response["Cache-Control"] = "public, max-age=60"
    response["ETag"] = '"' + tilecache.etag_of(body) + '"'
    if request.headers.get("If-None-Match") in (response["ETag"], "W/" + response["ETag"]):
        not_modified = HttpResponse(status=304)
        not_modified["ETag"] = response["ETag"]
        not_modified["Cache-Control"] = response["Cache-Control"]
        return not_modified
    return response


@gzip_page
@require_GET
def tilejson(request: HttpRequest, layer: str) -> HttpResponse:
    """TileJSON 3.0.0 for one layer; its tile URL carries the current data version."""
    tile_layer = get_layer(layer, request.user)
    if tile_layer is None:
        return _unknown_layer(layer)
    version = tile_layer.version(request.user)
    template = request.build_absolute_uri(
        reverse("vector-tile", args=[layer, "0", "0", "0"])
    ).replace("/0/0/0.mvt", "/{z}/{x}/{y}.mvt")
    doc: dict[str, Any] = {
        "tilejson": "3.0.0",
        "name": tile_layer.title,
        "description": tile_layer.description,
        "version": "1.0.0",
        "attribution": "AMDIS",
        "scheme": "xyz",
        "tiles": [f"{template}?v={version}"],
        "minzoom": tile_layer.min_zoom,
        "maxzoom": min(tile_layer.max_zoom, MAX_ZOOM),
        "bounds": [92.0, -11.0, 142.0, 29.0],
        "center": [112.0, 8.0, 4],
        "vector_layers": [
            {
                "id": tile_layer.name,
                "description": tile_layer.description,
                "fields": tile_layer.fields,
                "minzoom": tile_layer.min_zoom,
                "maxzoom": min(tile_layer.max_zoom, MAX_ZOOM),
            }
        ],
        "data_version": version,
    }
    response = JsonResponse(doc)
    response["Cache-Control"] = (
        "private, max-age=0" if _is_private(tile_layer, request) else "public, max-age=60"
    )
    return response


def map_page(request: HttpRequest) -> HttpResponse:
    layers = {
        layer.name: {
            "title": layer.title,
            "tilejson": reverse("tilejson", args=[layer.name]),
            "version": layer.version(request.user),
            "geometry": layer.geometry_type,
        }
        for layer in all_layers(request.user)
    }
    config = {
        "layers": layers,
        "commodities": list(Commodity.objects.values("code", "name", "symbol", "group")),
        "memberStates": list(MemberState.objects.values("code", "name")),
        "statuses": [{"code": c.value, "name": c.label} for c in OccurrenceStatus],
        "basemap": {"url": settings.BASEMAP_URL, "attribution": settings.BASEMAP_ATTRIBUTION},
        "rasters": raster_map_config(user=request.user),
        "colormaps": {name: colormap_stops(name) for name in COLORMAPS},
        "api": {
            "occurrences": reverse("api-occurrences"),
            "search": reverse("api-occurrence-search"),
            "vocabularies": reverse("api-vocabularies"),
        },
    }
    return render(request, "webgis/map.html", {"map_config": config})
