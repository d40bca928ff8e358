"""OGC API - Features (Parts 1 and 3) and OGC API - Tiles at /ogc/.

Every resource comes as JSON and HTML (content negotiation, or `?f=json` / `?f=html`);
features are built as GeoJSON by PostGIS and only wrapped here. Errors use OGC API's exception
body (`code`, `description`) together with the project's own `error` object.
"""

import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.gzip import gzip_page
from django.views.decorators.http import require_GET

from catalogue import openapi
from catalogue.blocks import public_page
from catalogue.collections import (
    AGGREGATE_ID,
    SOURCES,
    Collection,
    collection_get,
    collections_visible,
    dataset_slug_of,
)
from catalogue.downloads import FORMATS
from catalogue.filters import ITEMS_PARAMS, features_where, filter_params
from catalogue.selectors import (
    collection_extent,
    feature_get,
    features_page,
    features_stream,
    public_occurrences_page,
    queryables_schema,
)
from layers.permissions import access_for
from webgis.lib.errors import BadRequest, ogc_exception
from webgis.lib.mvt import get_layer, run_tile_query
from webgis.lib.params import parse_int, reject_unknown
from webgis.lib.tiles import MAX_ZOOM, WEB_MERCATOR_HALF, Tile

GEOJSON = "application/geo+json"
JSON = "application/json"
HTML = "text/html"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"
MVT = "application/vnd.mapbox-vector-tile"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
TMS_ID = "WebMercatorQuad"
MAX_OFFSET = 10_000_000
# JSON pages of more features than this are streamed (StreamingHttpResponse).
STREAM_ABOVE = 2_000
UNFILTERED_PARAMS = frozenset({"f", "limit", "offset"})
# What an anonymous visitor's page may ask for and still be read in one statement.
PUBLIC_PARAMS = UNFILTERED_PARAMS | {"bbox"}
REL_TILESETS_VECTOR = "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector"
REL_TILING_SCHEMES = "http://www.opengis.net/def/rel/ogc/1.0/tiling-schemes"
REL_QUERYABLES = "http://www.opengis.net/def/rel/ogc/1.0/queryables"

CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
    "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-common-2/1.0/conf/collections",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tileset",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tilesets-list",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/geodata-tilesets",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/mvt",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/tms/2.0/conf/tilematrixset",
    "http://www.opengis.net/spec/tms/2.0/conf/json-tilematrixset",
]


# Responses ------------------------------------------------------------------------------------


class NotFound(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def ogc_error(status: int, code: str, message: str, field: str | None = None) -> JsonResponse:
    return ogc_exception(
        status,
        code,
        message,
        code="invalid_parameter" if status == 400 else "not_found",
        field=field,
    )


def _bad_request(exc: BadRequest) -> JsonResponse:
    return ogc_error(400, "InvalidParameterValue", exc.message, exc.field)


def _not_found(message: str) -> JsonResponse:
    return ogc_error(404, "NotFound", message)


def _output_format(
    request: HttpRequest, allowed: tuple[str, ...] = ("json", "html"), default: str = ""
) -> str:
    """`f` when given (checked), else the Accept header (HTML for browsers), else `default`."""
    requested = request.GET.get("f")
    if requested:
        if requested not in allowed:
            raise BadRequest(f"f must be one of: {', '.join(allowed)}.", field="f")
        return requested
    accept = request.headers.get("Accept", "")
    html_at = accept.find(HTML)
    json_at = min((i for i in (accept.find("json"), accept.find(MVT)) if i >= 0), default=-1)
    if html_at >= 0 and (json_at < 0 or html_at < json_at) and "html" in allowed:
        return "html"
    if json_at >= 0 and "json" in allowed:
        return "json"
    return default or allowed[0]


def _cache_control(request: HttpRequest) -> str:
    if access_for(request.user).is_restricted_viewer:
        return "private, max-age=0"
    return "public, max-age=60"


def _json_response(request: HttpRequest, doc: Any, content_type: str = JSON) -> HttpResponse:
    response = HttpResponse(
        json.dumps(doc, ensure_ascii=False, default=str), content_type=content_type
    )
    response["Cache-Control"] = _cache_control(request)
    response["Vary"] = "Accept, Cookie"
    return response


def _html(request: HttpRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    response = render(request, f"catalogue/ogc/{template}", {"ogc_base": _base(request), **context})
    response["Cache-Control"] = _cache_control(request)
    response["Vary"] = "Accept, Cookie"
    return response


def _base(request: HttpRequest) -> str:
    return request.build_absolute_uri("/ogc")


def _link(href: str, rel: str, type_: str, title: str = "", **extra: Any) -> dict[str, Any]:
    link = {"href": href, "rel": rel, "type": type_}
    if title:
        link["title"] = title
    link.update(extra)
    return link


def _with_query(href: str, query: dict[str, str]) -> str:
    return f"{href}?{urlencode(query)}" if query else href


def _self_links(
    request: HttpRequest, href: str, json_type: str, title: str
) -> list[dict[str, Any]]:
    fmt = _output_format(request)
    return [
        _link(
            f"{href}?f=json",
            "self" if fmt == "json" else "alternate",
            json_type,
            f"{title} as JSON",
        ),
        _link(f"{href}?f=html", "self" if fmt == "html" else "alternate", HTML, f"{title} as HTML"),
    ]


def ogc_view(view: Any) -> Any:
    """Turns BadRequest and NotFound into OGC exception responses."""

    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except BadRequest as exc:
            return _bad_request(exc)
        except NotFound as exc:
            return _not_found(exc.message)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return require_GET(gzip_page(wrapped))


def _collection_or_404(collection_id: str, user: Any) -> Collection:
    collection = collection_get(collection_id=collection_id, user=user)
    if collection is None:
        raise NotFound(f"No collection {collection_id[:80]!r}. The list is at /ogc/collections.")
    return collection


# Landing page, conformance, API document ------------------------------------------------------


@ogc_view
def landing(request: HttpRequest) -> HttpResponse:
    reject_unknown(request.GET, {"f"})
    base = _base(request)
    doc = {
        "title": "AMDIS OGC API",
        "description": (
            "Mineral occurrences and geological map layers of the ASEAN member states: "
            "OGC API - Features (with CQL2 filters) and OGC API - Tiles (Mapbox vector tiles)."
        ),
        "links": [
            *_self_links(request, f"{base}/", JSON, "This document"),
            _link(f"{base}/api", "service-desc", OPENAPI, "The API definition (OpenAPI 3.0)"),
            _link(f"{base}/api?f=html", "service-doc", HTML, "The API documentation"),
            _link(f"{base}/conformance", "conformance", JSON, "Conformance classes"),
            _link(
                f"{base}/conformance",
                "http://www.opengis.net/def/rel/ogc/1.0/conformance",
                JSON,
                "Conformance classes",
            ),
            _link(f"{base}/collections", "data", JSON, "The feature collections"),
            _link(
                f"{base}/collections",
                "http://www.opengis.net/def/rel/ogc/1.0/data",
                JSON,
                "The feature collections",
            ),
            _link(f"{base}/tileMatrixSets", REL_TILING_SCHEMES, JSON, "Tile matrix sets"),
            _link(request.build_absolute_uri("/catalogue/"), "describedby", HTML, "The catalogue"),
        ],
    }
    if _output_format(request) == "html":
        return _html(request, "landing.html", {"doc": doc})
    return _json_response(request, doc)


@ogc_view
def conformance(request: HttpRequest) -> HttpResponse:
    reject_unknown(request.GET, {"f"})
    doc = {"conformsTo": CONFORMANCE}
    if _output_format(request) == "html":
        return _html(request, "conformance.html", {"doc": doc})
    return _json_response(request, doc)


@ogc_view
def api_document(request: HttpRequest) -> HttpResponse:
    """The OpenAPI 3.0 document of every AMDIS API; `f=html` is the interactive documentation."""
    reject_unknown(request.GET, {"f"})
    if _output_format(request) == "html":
        response = render(request, "catalogue/api_docs.html", {"spec_url": "/ogc/api?f=json"})
        response["Cache-Control"] = "public, max-age=300"
        return response
    response = _json_response(request, openapi.document(request), OPENAPI)
    response["Cache-Control"] = "public, max-age=300"
    return response


# Collections ------------------------------------------------------------------------------------


def _collection_doc(request: HttpRequest, collection: Collection) -> dict[str, Any]:
    base = f"{_base(request)}/collections/{collection.id}"
    doc: dict[str, Any] = {
        "id": collection.id,
        "title": collection.title,
        "description": collection.description,
        "keywords": list(collection.keywords),
        "itemType": "feature",
        "crs": [CRS84],
        "storageCrs": CRS84,
    }
    extent = collection_extent(collection=collection, user=request.user)
    if extent is not None:
        doc["extent"] = {"spatial": {"bbox": [list(extent)], "crs": CRS84}}
    links = [
        _link(f"{base}?f=json", "self", JSON, "This collection"),
        _link(f"{base}?f=html", "alternate", HTML, "This collection as HTML"),
        _link(f"{base}/items", "items", GEOJSON, "The features"),
        _link(f"{base}/items?f=html", "items", HTML, "The features as HTML"),
        _link(f"{base}/queryables", REL_QUERYABLES, "application/schema+json", "Queryables"),
        _link(f"{base}/tiles", REL_TILESETS_VECTOR, JSON, "Vector tiles"),
    ]
    dataset = collection.dataset
    if dataset is not None:
        doc["license"] = dataset.licence
        doc["attribution"] = dataset.citation or dataset.organisation
        links.append(
            _link(
                request.build_absolute_uri(f"/catalogue/{dataset.slug}/"),
                "describedby",
                HTML,
                "Metadata record",
            )
        )
        links.append(
            _link(
                request.build_absolute_uri(f"/catalogue/{dataset.slug}/iso19139.xml"),
                "describedby",
                "application/xml",
                "ISO 19139 metadata record",
            )
        )
    for fmt in FORMATS.values():
        links.append(
            _link(
                request.build_absolute_uri(f"/downloads/{collection.id}/{fmt.code}"),
                "enclosure",
                "application/zip",
                f"Download: {fmt.title}",
            )
        )
    doc["links"] = links
    return doc


@ogc_view
def collections(request: HttpRequest) -> HttpResponse:
    reject_unknown(request.GET, {"f"})
    base = _base(request)
    docs = [_collection_doc(request, c) for c in collections_visible(user=request.user)]
    doc = {
        "links": _self_links(request, f"{base}/collections", JSON, "The collections"),
        "collections": docs,
    }
    if _output_format(request) == "html":
        return _html(request, "collections.html", {"doc": doc})
    return _json_response(request, doc)


@ogc_view
def collection(request: HttpRequest, collection_id: str) -> HttpResponse:
    reject_unknown(request.GET, {"f"})
    found = _collection_or_404(collection_id, request.user)
    doc = _collection_doc(request, found)
    if _output_format(request) == "html":
        return _html(request, "collection.html", {"doc": doc, "collection": found})
    return _json_response(request, doc)


@ogc_view
def queryables(request: HttpRequest, collection_id: str) -> HttpResponse:
    reject_unknown(request.GET, {"f"})
    found = _collection_or_404(collection_id, request.user)
    url = f"{_base(request)}/collections/{found.id}/queryables"
    doc = queryables_schema(collection=found, url=url)
    if _output_format(request) == "html":
        return _html(request, "queryables.html", {"doc": doc, "collection": found})
    return _json_response(request, doc, "application/schema+json")


# Features ---------------------------------------------------------------------------------------


def _page_limits(request: HttpRequest) -> tuple[int, int]:
    # Above the documented maximum the page is cut to it (OGC API - Features, limit).
    limit = parse_int(
        request.GET.get("limit"),
        field="limit",
        default=settings.API_DEFAULT_PAGE_SIZE,
        minimum=1,
        maximum=999_999_999,
    )
    offset = parse_int(
        request.GET.get("offset"), field="offset", default=0, minimum=0, maximum=MAX_OFFSET
    )
    return min(limit, settings.API_MAX_PAGE_SIZE), offset


def _items_link(
    request: HttpRequest, href: str, rel: str, type_: str, **changes: Any
) -> dict[str, Any]:
    query = {k: v for k, v in request.GET.items() if k != "f"}
    query.update({k: str(v) for k, v in changes.items()})
    query["f"] = "json" if type_ == GEOJSON else "html"
    return _link(f"{href}?{urlencode(sorted(query.items()))}", rel, type_)


@dataclass(frozen=True)
class CollectionName:
    """What an items page's links name of its collection."""

    id: str
    title: str


def _items_links(
    request: HttpRequest,
    collection: Collection | CollectionName,
    fmt: str,
    limit: int,
    offset: int,
    returned: int,
    matched: int,
) -> list[dict[str, Any]]:
    href = f"{_base(request)}/collections/{collection.id}/items"
    links = [
        _items_link(request, href, "self" if fmt == "json" else "alternate", GEOJSON),
        _items_link(request, href, "self" if fmt == "html" else "alternate", HTML),
        _link(
            f"{_base(request)}/collections/{collection.id}", "collection", JSON, collection.title
        ),
    ]
    if offset + returned < matched:
        links.append(
            _items_link(request, href, "next", GEOJSON, offset=offset + limit, limit=limit)
        )
    if offset > 0:
        prev = max(0, offset - limit)
        links.append(_items_link(request, href, "prev", GEOJSON, offset=prev, limit=limit))
    return links


def _timestamp() -> str:
    return timezone.now().strftime("%Y-%m-%dT%H:%M:%SZ")


def _items_json(
    request: HttpRequest,
    collection: Collection,
    where: Any,
    limit: int,
    offset: int,
    unfiltered: bool,
) -> HttpResponse | StreamingHttpResponse:
    """Features as bytes, never decoded. Pages over STREAM_ABOVE features are sent while they
    are read from a server-side cursor, one batch at a time (the web process holds one batch,
    whatever the page size): their counts and links come after the features (JSON members have
    no order). Smaller pages are read in one statement. Either way the counts are of the same
    snapshot as the features."""
    stream = features_stream(
        collection=collection,
        user=request.user,
        where=where,
        limit=limit,
        offset=offset,
        unfiltered=unfiltered,
    )

    def members() -> dict[str, Any]:
        return _items_members(
            request, collection, limit, offset, stream.number_returned, stream.number_matched
        )

    def body() -> Iterator[bytes]:
        yield b'{"type":"FeatureCollection","features":['
        yield from stream.chunks()
        yield b"]," + json.dumps(members())[1:].encode()

    if limit > STREAM_ABOVE:
        response = StreamingHttpResponse(body(), content_type=GEOJSON)
        response["Cache-Control"] = _cache_control(request)
        response["Vary"] = "Accept, Cookie"
        return response
    features = stream.whole()
    return _items_page_response(request, members(), [features])


def _items_members(
    request: HttpRequest,
    collection: Collection | CollectionName,
    limit: int,
    offset: int,
    returned: int,
    matched: int,
) -> dict[str, Any]:
    """A JSON items page's members other than its features."""
    return {
        "numberMatched": matched,
        "numberReturned": returned,
        "timeStamp": _timestamp(),
        "links": _items_links(request, collection, "json", limit, offset, returned, matched),
    }


def _items_page_response(
    request: HttpRequest, members: dict[str, Any], features: Sequence[bytes]
) -> HttpResponse:
    """The page of `features`, pieces of the features array's text to put commas between."""
    head = json.dumps({"type": "FeatureCollection", **members})
    # One join, one copy of the features: a 1,000-feature page is 0.7 MB, and each join or
    # `+` of it costs about 0.1 ms of a request's 5 (the pieces are not joined beforehand).
    parts = [b","] * (2 * len(features) - 1) if features else []
    parts[0::2] = features
    body = b"".join((head[:-1].encode(), b',"features":[', *parts, b"]}"))
    response = HttpResponse(body, content_type=GEOJSON)
    response["Cache-Control"] = _cache_control(request)
    response["Vary"] = "Accept, Cookie"
    return response


def _public_items(request: HttpRequest, collection_id: str) -> HttpResponse | None:
    """An anonymous visitor's JSON page of a published dataset in one statement, without
    building the collection: unfiltered, from its feature blocks (catalogue.blocks.public_page),
    as QGIS and harvesters walk collections; with a bbox, an occurrence dataset's page by SQL
    (catalogue.selectors.public_occurrences_page), as a map client asks. The same response as
    the general path, which takes over (None) for anything else: no such dataset, blocks not
    current, an empty page, a page to stream, a bad parameter (its error message)."""
    slug = dataset_slug_of(collection_id)
    if slug is None or collection_id == AGGREGATE_ID:
        return None
    try:
        if _output_format(request) != "json":
            return None
        limit, offset = _page_limits(request)
        if limit > STREAM_ABOVE:
            return None
        if "bbox" in request.GET:
            page = public_occurrences_page(
                slug=slug, params=request.GET, limit=limit, offset=offset
            )
        else:
            page = public_page(slug=slug, kinds=list(SOURCES), limit=limit, offset=offset)
    except BadRequest:  # answered by the general path, in its order (a 404 first)
        return None
    if page is None:
        return None
    members = _items_members(
        request,
        CollectionName(collection_id, page.title),
        limit,
        offset,
        page.number_returned,
        page.number_matched,
    )
    return _items_page_response(request, members, page.features)


@ogc_view
def items(request: HttpRequest, collection_id: str) -> HttpResponse | StreamingHttpResponse:
    # Paging only, no filter: a published dataset's page comes from its feature blocks. An
    # anonymous page of that kind, or with a bbox only, is first tried in one statement.
    unfiltered = set(request.GET) <= UNFILTERED_PARAMS
    if set(request.GET) <= PUBLIC_PARAMS and not request.user.is_authenticated:
        public = _public_items(request, collection_id)
        if public is not None:
            return public
    found = _collection_or_404(collection_id, request.user)
    reject_unknown(request.GET, ITEMS_PARAMS | filter_params(found))
    fmt = _output_format(request)
    limit, offset = _page_limits(request)
    where = features_where(request.GET, collection=found, user=request.user)
    if fmt == "json":
        return _items_json(request, found, where, limit, offset, unfiltered)
    page = features_page(
        collection=found,
        user=request.user,
        where=where,
        limit=limit,
        offset=offset,
        unfiltered=unfiltered,
    )
    href = f"{_base(request)}/collections/{found.id}/items"
    links = _items_links(
        request, found, fmt, limit, offset, page.number_returned, page.number_matched
    )
    head = {
        "type": "FeatureCollection",
        "numberMatched": page.number_matched,
        "numberReturned": page.number_returned,
        "timeStamp": _timestamp(),
        "links": links,
    }
    features = json.loads(f"[{page.features_json}]")
    return _html(
        request,
        "items.html",
        {
            "collection": found,
            "doc": head,
            "features": features,
            "columns": [p.name for p in found.properties if not p.params][:8]
            or sorted({k for f in features for k in (f.get("properties") or {})})[:8],
            "next": _items_link(request, href, "next", HTML, offset=offset + limit, limit=limit)[
                "href"
            ]
            if offset + page.number_returned < page.number_matched
            else "",
            "prev": _items_link(
                request, href, "prev", HTML, offset=max(0, offset - limit), limit=limit
            )["href"]
            if offset > 0
            else "",
            "offset": offset,
        },
    )


@ogc_view
def item(request: HttpRequest, collection_id: str, feature_id: str) -> HttpResponse:
    reject_unknown(request.GET, {"f"})
    found = _collection_or_404(collection_id, request.user)
    if not feature_id.isascii() or not feature_id.isdigit() or len(feature_id) > 18:
        raise NotFound(f"No feature {feature_id[:40]!r} in {found.id}.")
    feature = feature_get(collection=found, user=request.user, feature_id=int(feature_id))
    if feature is None:
        raise NotFound(f"No feature {feature_id} in {found.id}.")
    href = f"{_base(request)}/collections/{found.id}/items/{feature_id}"
    fmt = _output_format(request)
    links = [
        _link(f"{href}?f=json", "self" if fmt == "json" else "alternate", GEOJSON),
        _link(f"{href}?f=html", "self" if fmt == "html" else "alternate", HTML),
        _link(f"{_base(request)}/collections/{found.id}", "collection", JSON, found.title),
    ]
    if fmt == "html":
        data = json.loads(feature)
        return _html(
            request,
            "item.html",
            {"collection": found, "feature": data, "feature_json": data, "links": links},
        )
    body = feature[:-1] + ',"links":' + json.dumps(links) + "}"
    response = HttpResponse(body, content_type=GEOJSON)
    response["Cache-Control"] = _cache_control(request)
    response["Vary"] = "Accept, Cookie"
    return response


# Tiles ------------------------------------------------------------------------------------------

# The WebMercatorQuad tile matrix set (OGC 17-083r4, Annex D.1).
_SCALE_Z0 = 559082264.028717
_CELL_Z0 = 156543.033928041


def tile_matrix_set() -> dict[str, Any]:
    return {
        "id": TMS_ID,
        "title": "Google Maps Compatible for the World",
        "uri": "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad",
        "crs": "http://www.opengis.net/def/crs/EPSG/0/3857",
        "orderedAxes": ["X", "Y"],
        "wellKnownScaleSet": "http://www.opengis.net/def/wkss/OGC/1.0/GoogleMapsCompatible",
        "tileMatrices": [
            {
                "id": str(z),
                "scaleDenominator": _SCALE_Z0 / (1 << z),
                "cellSize": _CELL_Z0 / (1 << z),
                "cornerOfOrigin": "topLeft",
                "pointOfOrigin": [-WEB_MERCATOR_HALF, WEB_MERCATOR_HALF],
                "tileWidth": 256,
                "tileHeight": 256,
                "matrixWidth": 1 << z,
                "matrixHeight": 1 << z,
            }
            for z in range(MAX_ZOOM + 1)
        ],
    }


@ogc_view
def tile_matrix_sets(request: HttpRequest) -> HttpResponse:
    reject_unknown(request.GET, {"f"})
    href = f"{_base(request)}/tileMatrixSets/{TMS_ID}"
    doc = {
        "tileMatrixSets": [
            {
                "id": TMS_ID,
                "title": "Google Maps Compatible for the World",
                "uri": "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad",
                "links": [_link(href, "self", JSON, TMS_ID)],
            }
        ]
    }
    if _output_format(request) == "html":
        return _html(request, "json_page.html", {"title": "Tile matrix sets", "doc": doc})
    return _json_response(request, doc)


@ogc_view
def tile_matrix_set_view(request: HttpRequest, tms_id: str) -> HttpResponse:
    reject_unknown(request.GET, {"f"})
    if tms_id != TMS_ID:
        raise NotFound(f"No tile matrix set {tms_id[:40]!r}; the only one is {TMS_ID}.")
    doc = tile_matrix_set()
    if _output_format(request) == "html":
        return _html(request, "json_page.html", {"title": TMS_ID, "doc": doc})
    return _json_response(request, doc)


def _tile_layer(collection: Collection, user: Any) -> Any:
    name = collection.source.tile_layer
    if name.endswith("-"):  # generic vector layers are named after their dataset
        name = f"{name}{collection.dataset.slug if collection.dataset else ''}"
        return get_layer(name, user), QueryDict()
    query = QueryDict(mutable=True)
    query.update(collection.tile_query)
    return get_layer(name, user), query


def _tile_template(request: HttpRequest, collection: Collection) -> str:
    return (
        f"{_base(request)}/collections/{collection.id}/tiles/{TMS_ID}"
        f"/{{tileMatrix}}/{{tileRow}}/{{tileCol}}?v={collection.version}"
    )


def _tileset_doc(request: HttpRequest, collection: Collection) -> dict[str, Any]:
    layer, _ = _tile_layer(collection, request.user)
    href = f"{_base(request)}/collections/{collection.id}/tiles/{TMS_ID}"
    extent = collection_extent(collection=collection, user=request.user)
    doc: dict[str, Any] = {
        "title": collection.title,
        "description": collection.description,
        "dataType": "vector",
        "crs": "http://www.opengis.net/def/crs/EPSG/0/3857",
        "tileMatrixSetURI": "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad",
        "tileMatrixSetLimits": [
            {
                "tileMatrix": str(z),
                "minTileRow": 0,
                "maxTileRow": (1 << z) - 1,
                "minTileCol": 0,
                "maxTileCol": (1 << z) - 1,
            }
            for z in range(layer.min_zoom if layer else 0, MAX_ZOOM + 1)
        ],
        "layers": [
            {
                "id": layer.name if layer else collection.id,
                "dataType": "vector",
                "geometryDimension": {"point": 0, "line": 1, "polygon": 2}.get(
                    collection.source.geometry_type
                ),
                "minTileMatrix": str(layer.min_zoom if layer else 0),
                "maxTileMatrix": str(MAX_ZOOM),
                "propertiesSchema": {
                    "type": "object",
                    "properties": {
                        k: {"type": "number" if v == "Number" else "string"}
                        for k, v in (layer.fields if layer else {}).items()
                    },
                },
            }
        ],
        "links": [
            _link(f"{href}?f=json", "self", JSON, "This tileset"),
            _link(
                f"{href}?f=tilejson", "alternate", "application/vnd.mapbox.tile+json", "TileJSON"
            ),
            _link(
                f"{_base(request)}/tileMatrixSets/{TMS_ID}",
                "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme",
                JSON,
                TMS_ID,
            ),
            _link(_tile_template(request, collection), "item", MVT, "Tiles", templated=True),
            _link(
                f"{_base(request)}/collections/{collection.id}",
                "collection",
                JSON,
                collection.title,
            ),
        ],
    }
    if extent:
        doc["boundingBox"] = {
            "lowerLeft": list(extent[:2]),
            "upperRight": list(extent[2:]),
            "crs": CRS84,
        }
    return doc


@ogc_view
def tilesets(request: HttpRequest, collection_id: str) -> HttpResponse:
    reject_unknown(request.GET, {"f"})
    found = _collection_or_404(collection_id, request.user)
    href = f"{_base(request)}/collections/{found.id}/tiles/{TMS_ID}"
    doc = {
        "links": _self_links(
            request, f"{_base(request)}/collections/{found.id}/tiles", JSON, "Tilesets"
        ),
        "tilesets": [
            {
                "title": found.title,
                "dataType": "vector",
                "crs": "http://www.opengis.net/def/crs/EPSG/0/3857",
                "tileMatrixSetURI": "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad",
                "links": [
                    _link(href, "self", JSON, f"{found.title}: {TMS_ID}"),
                    _link(
                        f"{_base(request)}/tileMatrixSets/{TMS_ID}",
                        "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme",
                        JSON,
                        TMS_ID,
                    ),
                ],
            }
        ],
    }
    if _output_format(request) == "html":
        return _html(request, "json_page.html", {"title": f"{found.title}: tilesets", "doc": doc})
    return _json_response(request, doc)


@ogc_view
def tileset(request: HttpRequest, collection_id: str, tms_id: str) -> HttpResponse:
    reject_unknown(request.GET, {"f"})
    found = _collection_or_404(collection_id, request.user)
    if tms_id != TMS_ID:
        raise NotFound(f"No tile matrix set {tms_id[:40]!r}; the only one is {TMS_ID}.")
    fmt = _output_format(request, ("json", "html", "tilejson"))
    if fmt == "tilejson":
        return _json_response(request, _tilejson(request, found))
    doc = _tileset_doc(request, found)
    if fmt == "html":
        return _html(request, "json_page.html", {"title": f"{found.title}: {TMS_ID}", "doc": doc})
    return _json_response(request, doc)


def _tilejson(request: HttpRequest, collection: Collection) -> dict[str, Any]:
    layer, _ = _tile_layer(collection, request.user)
    template = (
        _tile_template(request, collection)
        .replace("{tileMatrix}", "{z}")
        .replace("{tileRow}", "{y}")
        .replace("{tileCol}", "{x}")
    )
    extent = collection_extent(collection=collection, user=request.user)
    return {
        "tilejson": "3.0.0",
        "name": collection.title,
        "description": collection.description,
        "scheme": "xyz",
        "tiles": [template],
        "minzoom": layer.min_zoom if layer else 0,
        "maxzoom": MAX_ZOOM,
        "bounds": list(extent) if extent else [92.0, -11.0, 142.0, 29.0],
        "attribution": (collection.dataset.citation if collection.dataset else "") or "AMDIS",
        "vector_layers": [
            {
                "id": layer.name if layer else collection.id,
                "fields": layer.fields if layer else {},
                "minzoom": layer.min_zoom if layer else 0,
                "maxzoom": MAX_ZOOM,
            }
        ],
    }


@ogc_view
def tile(
    request: HttpRequest, collection_id: str, tms_id: str, z: str, y: str, x: str
) -> HttpResponse:
    found = _collection_or_404(collection_id, request.user)
    if tms_id != TMS_ID:
        raise NotFound(f"No tile matrix set {tms_id[:40]!r}; the only one is {TMS_ID}.")
    reject_unknown(request.GET, {"f", "v"})
    _output_format(request, ("mvt",))
    parsed = Tile.parse(z, x, y)
    layer, query = _tile_layer(found, request.user)
    if layer is None:
        raise NotFound(f"The collection {found.id} has no vector tiles.")
    sql, params = layer.tile_sql(parsed, query, request.user)
    body, _ = run_tile_query(sql, params)
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    if access_for(request.user).is_restricted_viewer:
        cache_control = "private, max-age=0"
    elif request.GET.get("v") == found.version:
        cache_control = "public, max-age=31536000, immutable"
    else:
        cache_control = "public, max-age=60"
    if request.headers.get("If-None-Match") == etag:
        response = HttpResponse(status=304)
    else:
        response = HttpResponse(body, content_type=MVT)
    response["ETag"] = etag
    response["Cache-Control"] = cache_control
    return response
