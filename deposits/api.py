"""GeoJSON API for mineral occurrences. Features are serialised by PostGIS; Python only
wraps the page in its FeatureCollection envelope."""

import json
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.gzip import gzip_page
from django.views.decorators.http import require_GET

from deposits.models import MemberState, OccurrenceStatus
from deposits.selectors import (
    FILTER_PARAMS,
    commodities_with_counts,
    occurrence_filters_parse,
    occurrence_geojson,
    occurrence_names_matching,
    occurrence_vocabulary,
    occurrences_geojson_page,
)
from layers.permissions import access_for
from webgis.lib.errors import BadRequest, json_error
from webgis.lib.params import parse_int, parse_text, reject_unknown

GEOJSON = "application/geo+json"
MAX_OFFSET = 10_000_000


def _page_link(request: HttpRequest, rel: str, offset: int, limit: int) -> dict[str, str]:
    query = request.GET.copy()
    query["offset"] = str(offset)
    query["limit"] = str(limit)
    href = request.build_absolute_uri(request.path) + "?" + urlencode(sorted(query.items()))
    return {"rel": rel, "href": href, "type": GEOJSON}


def _cache_control(request: HttpRequest) -> str:
    return (
        "private, max-age=0"
        if access_for(request.user).is_restricted_viewer
        else "public, max-age=60"
    )


@gzip_page
@require_GET
def occurrences_list(request: HttpRequest) -> HttpResponse:
    """`GET /api/occurrences/`: a FeatureCollection page with `numberMatched` and `next` links."""
    try:
        reject_unknown(request.GET, {*FILTER_PARAMS, "limit", "offset"})
        limit = parse_int(
            request.GET.get("limit"),
            field="limit",
            default=settings.API_DEFAULT_PAGE_SIZE,
            minimum=1,
            maximum=settings.API_MAX_PAGE_SIZE,
        )
        offset = parse_int(
            request.GET.get("offset"), field="offset", default=0, minimum=0, maximum=MAX_OFFSET
        )
        filters = occurrence_filters_parse(request.GET, user=request.user)
    except BadRequest as exc:
        return json_error(exc)
    page = occurrences_geojson_page(filters=filters, user=request.user, limit=limit, offset=offset)
    links = [_page_link(request, "self", offset, limit)]
    if offset + page.number_returned < page.number_matched:
        links.append(_page_link(request, "next", offset + limit, limit))
    if offset > 0:
        links.append(_page_link(request, "prev", max(0, offset - limit), limit))
    head = json.dumps(
        {
            "type": "FeatureCollection",
            "numberMatched": page.number_matched,
            "numberReturned": page.number_returned,
            "limit": limit,
            "maxLimit": settings.API_MAX_PAGE_SIZE,
            "links": links,
        }
    )
    body = head[:-1] + ',"features":[' + page.features_json + "]}"
    response = HttpResponse(body, content_type=GEOJSON)
    response["Cache-Control"] = _cache_control(request)
    return response


@gzip_page
@require_GET
def occurrence_detail(request: HttpRequest, pk: int) -> HttpResponse:
    feature = occurrence_geojson(occurrence_id=pk, user=request.user)
    if feature is None:
        return JsonResponse(
            {"error": {"code": "not_found", "message": f"No occurrence {pk}."}}, status=404
        )
    response = HttpResponse(feature, content_type=GEOJSON)
    response["Cache-Control"] = _cache_control(request)
    return response


@require_GET
def occurrence_search(request: HttpRequest) -> JsonResponse:
    """Name search for the map: `?q=` (at least 2 characters), ten best matches."""
    try:
        reject_unknown(request.GET, {"q", "limit"})
        text = parse_text(request.GET.get("q"), field="q")
        limit = parse_int(
            request.GET.get("limit"), field="limit", default=10, minimum=1, maximum=50
        )
        if len(text) < 2:
            raise BadRequest("q must have at least 2 characters.", field="q")
    except BadRequest as exc:
        return json_error(exc)
    return JsonResponse(
        {"results": occurrence_names_matching(text=text, user=request.user, limit=limit)}
    )


@require_GET
def vocabularies(request: HttpRequest) -> JsonResponse:
    """Filter values the API accepts: commodities, member states, statuses and deposit types."""
    return JsonResponse(
        {
            "commodities": commodities_with_counts(user=request.user),
            "member_states": list(MemberState.objects.values("code", "name", "accession_year")),
            "statuses": [{"code": s.value, "name": s.label} for s in OccurrenceStatus],
            "deposit_types": occurrence_vocabulary(user=request.user)["deposit_types"],
        }
    )
