"""The modeller page and its API: options, runs (jobs), results as tiles, values, GeoTIFF, recipe."""

import json
from typing import TypeVar
from uuid import UUID

from django.conf import settings
from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_GET, require_http_methods

from layers.colormaps import colormap_stops
from layers.raster_views import PRIVATE, cached_response, not_found, point_response
from layers.rasters import (
    RasterFileMissing,
    RasterStyle,
    media_path,
    parse_colormap,
    parse_rescale,
    render_tile,
)
from prospectivity import services
from prospectivity.models import ProspectivityRun, RunStatus
from prospectivity.recipes import BadRecipe
from prospectivity.selectors import modeller_options, run_dict, run_visible
from webgis.lib.errors import BadRequest, json_error
from webgis.lib.params import reject_unknown
from webgis.lib.tiles import Tile

R = TypeVar("R", bound=HttpResponseBase)

DEFAULT_COLORMAP = "ylorrd"
MAX_RECIPE_BYTES = 200_000


def _visible_run(request: HttpRequest, pk: UUID) -> ProspectivityRun | None:
    services.runs_mark_lost()  # a run whose worker died says so, instead of running forever
    return run_visible(user=request.user, pk=pk, data_state=services.data_state)


def _no_run(pk: UUID) -> JsonResponse:
    return not_found(f"No model run {pk}.")


def _private(response: R, run: ProspectivityRun) -> R:
    if run.is_private:
        response["Cache-Control"] = PRIVATE
    return response


@ensure_csrf_cookie
@require_GET
def modeller_page(request: HttpRequest) -> HttpResponse:
    config = {
        "options": reverse("api-prospectivity-options"),
        "runs": reverse("api-prospectivity-runs"),
        "basemap": {"url": settings.BASEMAP_URL, "attribution": settings.BASEMAP_ATTRIBUTION},
        "colormap": list(colormap_stops(DEFAULT_COLORMAP)),
    }
    return render(request, "prospectivity/modeller.html", {"modeller_config": config})


@require_GET
def options_api(request: HttpRequest) -> JsonResponse:
    options = modeller_options(user=request.user, max_cells=services.max_cells())
    response = JsonResponse(options)
    response["Cache-Control"] = "private, max-age=0"
    return response


@require_http_methods(["POST"])
def runs_api(request: HttpRequest) -> JsonResponse:
    """POST a recipe: 202 with a new run (a job), or 200 with the cached run of the same recipe."""
    if len(request.body) > MAX_RECIPE_BYTES:
        return json_error(BadRecipe(f"A recipe is at most {MAX_RECIPE_BYTES:,} bytes."))
    try:
        payload = json.loads(request.body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return json_error(BadRecipe(f"The recipe is not valid JSON ({exc.__class__.__name__})."))
    try:
        run, created = services.run_request(payload=payload, user=request.user)
    except BadRequest as exc:
        return json_error(exc)
    response = JsonResponse(run_dict(run, cached=not created), status=202 if created else 200)
    response["Location"] = reverse("api-prospectivity-run", args=[str(run.pk)])
    return _private(response, run)


@require_GET
def run_api(request: HttpRequest, pk: UUID) -> HttpResponse:
    run = _visible_run(request, pk)
    if run is None:
        return _no_run(pk)
    response = JsonResponse(run_dict(run))
    response["Cache-Control"] = (
        PRIVATE if run.is_private or run.status != RunStatus.DONE else "public, max-age=60"
    )
    return response


@require_GET
def run_recipe(request: HttpRequest, pk: UUID) -> HttpResponseBase:
    run = _visible_run(request, pk)
    if run is None:
        return _no_run(pk)
    body = json.dumps(services.recipe_export(run), indent=2, sort_keys=True, ensure_ascii=False)
    response = HttpResponse(body, content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="prospectivity-{run.pk}.json"'
    return _private(response, run)


def _finished(
    request: HttpRequest, pk: UUID
) -> tuple[ProspectivityRun | None, HttpResponse | None]:
    run = _visible_run(request, pk)
    if run is None:
        return None, _no_run(pk)
    if run.status != RunStatus.DONE:
        return None, JsonResponse(
            {
                "error": {
                    "code": "not_ready",
                    "message": f"The run is {run.get_status_display().lower()}.",
                }
            },
            status=409,
        )
    return run, None


@require_GET
def run_geotiff(request: HttpRequest, pk: UUID) -> HttpResponseBase:
    run, error = _finished(request, pk)
    if run is None:
        return error  # type: ignore[return-value]
    try:
        path = media_path(run.path)
    except RasterFileMissing:
        return not_found("This run's result has been removed; post its recipe again to re-make it.")
    response = FileResponse(
        path.open("rb"),
        content_type="image/tiff",
        as_attachment=True,
        filename=f"prospectivity-{run.pk}.tif",
    )
    return _private(response, run)


@require_GET
def run_tile(request: HttpRequest, pk: UUID, z: str, x: str, y: str) -> HttpResponse:
    run, error = _finished(request, pk)
    if run is None:
        return error  # type: ignore[return-value]
    try:
        reject_unknown(request.GET, {"colormap", "rescale"})
        tile = Tile.parse(z, x, y)
        low, high = run.result.get("value_range") or [0.0, 1.0]
        if not low < high:
            high = low + 1e-9
        vmin, vmax = parse_rescale(request.GET.get("rescale"), default=(low, high))
        style = RasterStyle(
            colormap=parse_colormap(request.GET.get("colormap"), default=DEFAULT_COLORMAP),
            vmin=vmin,
            vmax=vmax,
        )
        path = media_path(run.path)
    except BadRequest as exc:
        return json_error(exc)
    except RasterFileMissing:
        return not_found("This run's result has been removed; post its recipe again to re-make it.")
    # A run's result never changes: its URL is as good as versioned.
    return cached_response(
        request, render_tile(path, tile, style), "image/png", private=run.is_private, immutable=True
    )


@require_GET
def run_point(request: HttpRequest, pk: UUID) -> HttpResponse:
    run, error = _finished(request, pk)
    if run is None:
        return error  # type: ignore[return-value]
    try:
        path = media_path(run.path)
        units = "probability" if run.recipe.get("method") == "wofe" else "index"
        return point_response(path, request.GET, units=units, private=run.is_private)
    except BadRequest as exc:
        return json_error(exc)
    except RasterFileMissing:
        return not_found("This run's result has been removed; post its recipe again to re-make it.")
