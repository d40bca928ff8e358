"""The OpenAPI 3.0 document of every AMDIS API: the OGC API, the occurrence API, the vector
tiles, the downloads, the catalogue and the upload status API."""

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from catalogue.downloads import FORMATS
from deposits.models import OccurrenceStatus

JSON = "application/json"
GEOJSON = "application/geo+json"


def _ref(name: str, kind: str = "parameters") -> dict[str, str]:
    return {"$ref": f"#/components/{kind}/{name}"}


def _query(name: str, description: str, schema: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema,
        "style": "form",
        "explode": False,
        **extra,
    }


def _path(name: str, description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": schema or {"type": "string"},
    }


def _ok(description: str, *types: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    content = {t: {"schema": schema or {"type": "object"}} for t in types}
    return {"description": description, "content": content}


ERRORS = {
    "400": _ref("BadRequest", "responses"),
    "404": _ref("NotFound", "responses"),
}


def _get(
    summary: str,
    tag: str,
    responses: dict[str, Any],
    parameters: list[Any] | None = None,
    description: str = "",
    operation_id: str = "",
) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "summary": summary,
        "tags": [tag],
        "parameters": parameters or [],
        "responses": {**responses, **ERRORS},
    }
    if description:
        operation["description"] = description
    if operation_id:
        operation["operationId"] = operation_id
    return {"get": operation}


def _occurrence_filters() -> list[dict[str, Any]]:
    return [
        _query(
            "commodity",
            "CGI commodity codes or chemical symbols, comma-separated (`copper,gold`, `Cu,Au`).",
            {"type": "string"},
        ),
        _query(
            "member_state",
            "ISO 3166 alpha-3 codes, comma-separated: `PHL,IDN`.",
            {"type": "string"},
        ),
        _query(
            "status",
            "Statuses, comma-separated.",
            {"type": "string", "enum": list(OccurrenceStatus.values)},
        ),
        _query(
            "deposit_type",
            "An exact deposit-type name (listed by /api/vocabularies/); repeat for several.",
            {"type": "string"},
        ),
        _query("q", "Text in the name or other names.", {"type": "string", "maxLength": 100}),
        _query("dataset", "Dataset slugs, comma-separated.", {"type": "string"}),
    ]


def document(request: HttpRequest) -> dict[str, Any]:
    server = request.build_absolute_uri("/").rstrip("/")
    max_limit = settings.API_MAX_PAGE_SIZE
    default_limit = settings.API_DEFAULT_PAGE_SIZE
    feature_collection = {"$ref": "#/components/schemas/FeatureCollection"}
    paths: dict[str, Any] = {
        "/ogc/": _get(
            "Landing page of the OGC API",
            "OGC API",
            {
                "200": _ok(
                    "Links to the API definition, conformance and collections", JSON, "text/html"
                )
            },
            [_ref("f")],
            operation_id="getLandingPage",
        ),
        "/ogc/conformance": _get(
            "Conformance classes this server implements",
            "OGC API",
            {"200": _ok("The conformance classes", JSON, "text/html")},
            [_ref("f")],
            operation_id="getConformanceDeclaration",
        ),
        "/ogc/api": _get(
            "This document (f=html: the interactive documentation)",
            "OGC API",
            {
                "200": _ok(
                    "The OpenAPI 3.0 document", "application/vnd.oai.openapi+json;version=3.0"
                )
            },
            [_ref("f")],
        ),
        "/ogc/collections": _get(
            "The feature collections: `occurrences` and one per published dataset layer",
            "OGC API - Features",
            {"200": _ok("The collections with their extents and links", JSON, "text/html")},
            [_ref("f")],
            operation_id="getCollections",
        ),
        "/ogc/collections/{collectionId}": _get(
            "One collection",
            "OGC API - Features",
            {"200": _ok("The collection", JSON, "text/html")},
            [_ref("collectionId"), _ref("f")],
            operation_id="describeCollection",
        ),
        "/ogc/collections/{collectionId}/queryables": _get(
            "The properties a filter may use, as a JSON Schema",
            "OGC API - Features",
            {"200": _ok("The queryables", "application/schema+json", "text/html")},
            [_ref("collectionId"), _ref("f")],
            operation_id="getQueryables",
        ),
        "/ogc/collections/{collectionId}/items": _get(
            "Features of a collection",
            "OGC API - Features",
            {"200": _ok("A page of features", GEOJSON, "text/html", schema=feature_collection)},
            [
                _ref("collectionId"),
                _ref("limit"),
                _ref("offset"),
                _ref("bbox"),
                _ref("datetime"),
                _ref("filter"),
                _ref("filter-lang"),
                _ref("f"),
            ],
            description=(
                "Each queryable (see /queryables) is also a query parameter for equality, for "
                "example `status=deposit`; occurrence collections take the occurrence API's "
                "filters too (`commodity=Cu,Au`, `member_state=PHL`, `q=`). Features are ordered "
                "by id; follow the `next` link for the following page."
            ),
            operation_id="getFeatures",
        ),
        "/ogc/collections/{collectionId}/items/{featureId}": _get(
            "One feature",
            "OGC API - Features",
            {"200": _ok("The feature", GEOJSON, "text/html")},
            [
                _ref("collectionId"),
                _path("featureId", "The feature's id", {"type": "integer"}),
                _ref("f"),
            ],
            operation_id="getFeature",
        ),
        "/ogc/tileMatrixSets": _get(
            "Tile matrix sets",
            "OGC API - Tiles",
            {"200": _ok("The tile matrix sets (WebMercatorQuad)", JSON)},
            [_ref("f")],
        ),
        "/ogc/tileMatrixSets/{tileMatrixSetId}": _get(
            "One tile matrix set",
            "OGC API - Tiles",
            {"200": _ok("The tile matrix set", JSON)},
            [_ref("tileMatrixSetId"), _ref("f")],
        ),
        "/ogc/collections/{collectionId}/tiles": _get(
            "The vector tilesets of a collection",
            "OGC API - Tiles",
            {"200": _ok("The tilesets", JSON)},
            [_ref("collectionId"), _ref("f")],
        ),
        "/ogc/collections/{collectionId}/tiles/{tileMatrixSetId}": _get(
            "Tileset metadata (f=tilejson: TileJSON 3.0)",
            "OGC API - Tiles",
            {"200": _ok("The tileset", JSON)},
            [
                _ref("collectionId"),
                _ref("tileMatrixSetId"),
                _query(
                    "f", "Output format", {"type": "string", "enum": ["json", "html", "tilejson"]}
                ),
            ],
        ),
        "/ogc/collections/{collectionId}/tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}": _get(
            "A Mapbox vector tile",
            "OGC API - Tiles",
            {
                "200": {
                    "description": "The tile",
                    "content": {
                        "application/vnd.mapbox-vector-tile": {
                            "schema": {"type": "string", "format": "binary"}
                        }
                    },
                }
            },
            [
                _ref("collectionId"),
                _ref("tileMatrixSetId"),
                _path("tileMatrix", "Zoom level, 0 to 22", {"type": "string"}),
                _path("tileRow", "Row (y), from the top", {"type": "integer", "minimum": 0}),
                _path("tileCol", "Column (x), from the left", {"type": "integer", "minimum": 0}),
                _query(
                    "v",
                    "Data version (from the tileset): makes the tile cacheable for a year",
                    {"type": "string"},
                ),
            ],
        ),
        "/api/occurrences/": _get(
            "Mineral occurrences as GeoJSON",
            "Occurrences",
            {"200": _ok("A page of occurrences", GEOJSON, schema=feature_collection)},
            [
                *_occurrence_filters(),
                _ref("bbox"),
                _query(
                    "limit",
                    f"Page size (maximum {max_limit}).",
                    {
                        "type": "integer",
                        "minimum": 1,
                        "maximum": max_limit,
                        "default": default_limit,
                    },
                ),
                _ref("offset"),
            ],
        ),
        "/api/occurrences/{id}/": _get(
            "One occurrence with every attribute",
            "Occurrences",
            {"200": _ok("The occurrence", GEOJSON)},
            [_path("id", "Occurrence id", {"type": "integer"})],
        ),
        "/api/occurrences/search": _get(
            "Name search: the best matches with coordinates",
            "Occurrences",
            {"200": _ok("Matches", JSON)},
            [
                _query(
                    "q",
                    "At least 2 characters",
                    {"type": "string", "minLength": 2, "maxLength": 100},
                ),
                _query(
                    "limit",
                    "At most 50",
                    {"type": "integer", "minimum": 1, "maximum": 50, "default": 10},
                ),
            ],
        ),
        "/api/vocabularies/": _get(
            "Every accepted filter value: commodities, member states, statuses, deposit types",
            "Occurrences",
            {"200": _ok("The vocabularies", JSON)},
        ),
        "/tiles/{layer}.json": _get(
            "TileJSON 3.0 of a vector tile layer",
            "Vector tiles",
            {"200": _ok("TileJSON", JSON)},
            [
                _path(
                    "layer",
                    "occurrences, geological-units, structures, member-states or dataset-<slug>",
                )
            ],
        ),
        "/tiles/{layer}/{z}/{x}/{y}.mvt": _get(
            "A Mapbox vector tile of a map layer",
            "Vector tiles",
            {
                "200": {
                    "description": "The tile",
                    "content": {
                        "application/vnd.mapbox-vector-tile": {
                            "schema": {"type": "string", "format": "binary"}
                        }
                    },
                }
            },
            [
                _path("layer", "Layer name"),
                _path("z", "Zoom, 0 to 22", {"type": "integer"}),
                _path("x", "Column", {"type": "integer"}),
                _path("y", "Row", {"type": "integer"}),
                _query("v", "Data version from the TileJSON", {"type": "string"}),
                *_occurrence_filters(),
            ],
        ),
        "/downloads/{collectionId}/{format}": _get(
            "Download a collection (zip with a licence and citation file)",
            "Downloads",
            {
                "200": {
                    "description": "The zip file",
                    "content": {
                        "application/zip": {"schema": {"type": "string", "format": "binary"}}
                    },
                },
                "202": _ok(
                    "A job builds a large GeoPackage or Shapefile; poll its status URL", JSON
                ),
                "503": _ok("Too many download jobs; retry after Retry-After seconds", JSON),
            },
            [
                _ref("collectionId"),
                _path("format", "File format", {"type": "string", "enum": list(FORMATS)}),
                _ref("bbox"),
                _ref("filter"),
                _ref("filter-lang"),
                _query(
                    "clip_bbox",
                    "Clip to a rectangle: minLon,minLat,maxLon,maxLat",
                    {"type": "string"},
                ),
                _query(
                    "clip_polygon",
                    "Clip to a polygon: `lon lat` pairs, comma-separated (at most 1000)",
                    {"type": "string"},
                ),
                _query(
                    "geometry",
                    "CSV only: wkt (default) or lonlat (points)",
                    {"type": "string", "enum": ["wkt", "lonlat"]},
                ),
            ],
            description=(
                "Filters are those of the collection's items. GeoJSON and CSV stream at any size; "
                f"a GeoPackage or Shapefile of more than {settings.DOWNLOAD_DIRECT_MAX_FEATURES} "
                "features is built by a job (202 with its status URL)."
            ),
        ),
        "/downloads/jobs/{jobId}": _get(
            "Status and progress of a download job",
            "Downloads",
            {"200": _ok("The job", JSON, "text/html")},
            [_path("jobId", "Job id", {"type": "string", "format": "uuid"}), _ref("f")],
        ),
        "/downloads/jobs/{jobId}/file": _get(
            "The file a finished job wrote",
            "Downloads",
            {
                "200": {
                    "description": "The zip file",
                    "content": {
                        "application/zip": {"schema": {"type": "string", "format": "binary"}}
                    },
                }
            },
            [_path("jobId", "Job id", {"type": "string", "format": "uuid"})],
        ),
        "/catalogue/": _get(
            "Search the dataset catalogue, with facet counts",
            "Catalogue",
            {"200": _ok("Matching datasets and facets", JSON, "text/html")},
            [
                _query("q", "Text in the title, abstract, keywords, publisher", {"type": "string"}),
                _query("commodity", "CGI commodity code", {"type": "string"}),
                _query("member_state", "ISO 3166 alpha-3 code", {"type": "string"}),
                _query("type", "Dataset kind", {"type": "string"}),
                _query(
                    "date_from",
                    "Revised on or after (YYYY-MM-DD)",
                    {"type": "string", "format": "date"},
                ),
                _query(
                    "date_to",
                    "Revised on or before (YYYY-MM-DD)",
                    {"type": "string", "format": "date"},
                ),
                _query("page", "Page number", {"type": "integer", "minimum": 1}),
                _ref("f"),
            ],
        ),
        "/catalogue/{slug}/": _get(
            "A dataset's metadata (ISO 19115 core)",
            "Catalogue",
            {"200": _ok("The record", JSON, "text/html")},
            [_path("slug", "Dataset slug"), _ref("f")],
        ),
        "/catalogue/{slug}/iso19139.xml": _get(
            "A dataset's metadata as ISO 19139 XML",
            "Catalogue",
            {
                "200": {
                    "description": "The record",
                    "content": {"application/xml": {"schema": {"type": "string"}}},
                }
            },
            [_path("slug", "Dataset slug")],
        ),
        "/healthz": {
            "get": {
                "summary": "200 when the database answers, 503 otherwise",
                "tags": ["Service"],
                "responses": {"200": _ok("Up", JSON), "503": _ok("Down", JSON)},
            }
        },
    }
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "AMDIS APIs",
            "version": "1.0.0",
            "description": (
                "APIs of AMDIS, the ASEAN Minerals Database and Information System: OGC API - "
                "Features and Tiles, the occurrence GeoJSON API, vector tiles, downloads and the "
                "metadata catalogue. Unpublished data is visible only to signed-in editors of "
                "its member state and to reviewers; for everyone else it does not exist (404)."
            ),
            "license": {"name": "Data: each dataset's own licence"},
        },
        "servers": [{"url": server}],
        "tags": [
            {"name": n}
            for n in (
                "OGC API",
                "OGC API - Features",
                "OGC API - Tiles",
                "Occurrences",
                "Vector tiles",
                "Downloads",
                "Catalogue",
                "Service",
            )
        ],
        "paths": paths,
        "components": {
            "parameters": {
                "f": _query(
                    "f",
                    "Output format (else chosen by the Accept header)",
                    {"type": "string", "enum": ["json", "html"]},
                ),
                "collectionId": _path(
                    "collectionId", "Collection id: `occurrences` or a dataset slug"
                ),
                "tileMatrixSetId": _path(
                    "tileMatrixSetId",
                    "Tile matrix set",
                    {"type": "string", "enum": ["WebMercatorQuad"]},
                ),
                "limit": _query(
                    "limit",
                    f"Features per page; larger values are cut to the maximum, {max_limit}.",
                    {
                        "type": "integer",
                        "minimum": 1,
                        "maximum": max_limit,
                        "default": default_limit,
                    },
                ),
                "offset": _query(
                    "offset", "Features to skip", {"type": "integer", "minimum": 0, "default": 0}
                ),
                "bbox": _query(
                    "bbox",
                    "minLon,minLat,maxLon,maxLat (WGS 84)",
                    {"type": "array", "minItems": 4, "maxItems": 4, "items": {"type": "number"}},
                ),
                "datetime": _query(
                    "datetime",
                    "RFC 3339 date-time or interval; checked, and matched by every feature (no collection has a time dimension yet)",
                    {"type": "string"},
                ),
                "filter": _query(
                    "filter",
                    "A CQL2 text filter on the queryables: =, <>, <, <=, >, >=, LIKE, BETWEEN, IN, IS NULL, AND, OR, NOT. Example: `status = 'deposit' AND resource_mt > 10`",
                    {"type": "string"},
                ),
                "filter-lang": _query(
                    "filter-lang",
                    "Filter language",
                    {"type": "string", "enum": ["cql2-text"], "default": "cql2-text"},
                ),
            },
            "schemas": {
                "FeatureCollection": {
                    "type": "object",
                    "required": ["type", "features"],
                    "properties": {
                        "type": {"type": "string", "enum": ["FeatureCollection"]},
                        "numberMatched": {"type": "integer", "minimum": 0},
                        "numberReturned": {"type": "integer", "minimum": 0},
                        "timeStamp": {"type": "string", "format": "date-time"},
                        "links": {"type": "array", "items": {"$ref": "#/components/schemas/Link"}},
                        "features": {"type": "array", "items": {"type": "object"}},
                    },
                },
                "Link": {
                    "type": "object",
                    "required": ["href"],
                    "properties": {
                        "href": {"type": "string"},
                        "rel": {"type": "string"},
                        "type": {"type": "string"},
                        "title": {"type": "string"},
                    },
                },
                "Exception": {
                    "type": "object",
                    "required": ["code"],
                    "properties": {
                        "code": {"type": "string"},
                        "description": {"type": "string"},
                        "error": {"type": "object"},
                    },
                },
            },
            "responses": {
                "BadRequest": _ok(
                    "A parameter is invalid; the message says what to send",
                    JSON,
                    schema=_ref("Exception", "schemas"),
                ),
                "NotFound": _ok(
                    "No such resource, or not visible to you",
                    JSON,
                    schema=_ref("Exception", "schemas"),
                ),
            },
        },
    }
