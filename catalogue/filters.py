"""Request parameters that choose features of a collection, parsed into one SQL condition.

The OGC API items, the downloads and the tiles' links share this, so a download holds exactly
the features the API lists. Occurrence collections reuse the occurrence API's own filters
(`deposits.selectors.occurrence_filters_parse`), so `commodity=Cu,Au` means the same everywhere.
"""

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from typing import Any

import shapely

from catalogue.collections import DATE, LIST, NUMBER, OCCURRENCES, Collection, Property
from catalogue.cql2 import cql2_where, parse_date
from catalogue.selectors import CatalogueQuery, Clip
from deposits.selectors import FILTER_PARAMS, occurrence_filters_parse
from layers.models import DatasetKind
from webgis.lib.errors import BadRequest
from webgis.lib.mvt import Where
from webgis.lib.params import parse_bbox, parse_float, parse_int, parse_text

# Parameters of the items request itself; a queryable of the same name is reachable with `filter`.
ITEMS_PARAMS = frozenset({"f", "bbox", "limit", "offset", "datetime", "filter", "filter-lang"})
FILTER_LANGS = ("cql2-text",)
_DATETIME = re.compile(
    r"^(\.\.|[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2}))?)$"
)


def filter_params(collection: Collection) -> set[str]:
    """Query parameters that filter this collection: its queryables (and the occurrence API's)."""
    names = set(collection.queryables)
    if collection.source is OCCURRENCES:
        names |= set(FILTER_PARAMS)
    return names - ITEMS_PARAMS


def _parse_datetime(value: str | None) -> None:
    """Checked, then matched by every feature: no collection has a temporal extent yet."""
    if not value:
        return
    parts = value.split("/")
    if len(parts) > 2 or not all(_DATETIME.match(p) for p in parts) or parts == ["..", ".."]:
        raise BadRequest(
            "datetime must be an RFC 3339 date or date-time, or an interval `start/end` "
            "(`..` for an open end), for example 2020-01-01/.. .",
            field="datetime",
        )
    for part in parts:
        if part != "..":
            parse_date(part, field="datetime")


def _equals(prop: Property, raw: str) -> Where:
    if prop.type == NUMBER:
        value: Any = parse_float(raw, field=prop.name)
    elif prop.type == DATE:
        value = parse_date(raw, field=prop.name)
    else:
        value = parse_text(raw, field=prop.name, max_length=300)
    if prop.enum and value not in prop.enum:
        raise BadRequest(
            f"Unknown {prop.name} {str(value)[:60]!r}. Use one of: {', '.join(prop.enum[:30])}.",
            field=prop.name,
        )
    if prop.type == LIST:
        return Where(f"%s = ANY({prop.sql})", [value, *prop.params])
    return Where(f"({prop.sql}) = %s", [*prop.params, value])


def features_where(params: Mapping[str, str], *, collection: Collection, user: Any) -> Where:
    """The collection's own restriction and every filter in `params`, as SQL over `t`.

    Unknown values are a BadRequest; the caller checks for unknown parameter names."""
    where = collection.where
    handled: set[str] = set()
    if collection.source is OCCURRENCES:
        where = where & occurrence_filters_parse(params, user=user).where()
        handled = set(FILTER_PARAMS)
    else:
        bbox = parse_bbox(params.get("bbox"))
        if bbox:
            where = where & Where(
                "ST_Intersects(t.geom, ST_MakeEnvelope(%s, %s, %s, %s, 4326))", list(bbox)
            )
    queryables = collection.queryables
    for name in sorted(filter_params(collection) - handled):
        raw = params.get(name)
        if raw:
            where = where & _equals(queryables[name], raw)
    _parse_datetime(params.get("datetime"))
    text = params.get("filter")
    if text:
        lang = params.get("filter-lang") or FILTER_LANGS[0]
        if lang not in FILTER_LANGS:
            raise BadRequest(
                f"filter-lang {lang[:30]!r} is not supported; use cql2-text.", field="filter-lang"
            )
        where = where & cql2_where(text, queryables)
    elif params.get("filter-lang"):
        raise BadRequest("filter-lang needs a filter.", field="filter-lang")
    return where


# Downloads: the same filters, plus a clip area and the CSV geometry columns.
DOWNLOAD_PARAMS = frozenset(
    {"bbox", "datetime", "filter", "filter-lang", "clip_bbox", "clip_polygon", "geometry"}
)
MAX_CLIP_VERTICES = 1000


def parse_clip(params: Mapping[str, str]) -> Clip | None:
    """`clip_bbox=minLon,minLat,maxLon,maxLat` or `clip_polygon=lon lat,lon lat,...` (WGS 84).

    Parsed into numbers and checked here; PostGIS receives the polygon as WKB."""
    box_text, polygon_text = params.get("clip_bbox"), params.get("clip_polygon")
    if box_text and polygon_text:
        raise BadRequest("Send clip_bbox or clip_polygon, not both.", field="clip_polygon")
    if box_text:
        box = parse_bbox(box_text, field="clip_bbox")
        assert box is not None
        if box[0] == box[2] or box[1] == box[3]:
            raise BadRequest("clip_bbox must have an area.", field="clip_bbox")
        return Clip(wkb=shapely.box(*box).wkb)
    if not polygon_text:
        return None
    pairs = polygon_text.split(",")
    if len(pairs) > MAX_CLIP_VERTICES:
        raise BadRequest(
            f"clip_polygon may have at most {MAX_CLIP_VERTICES} vertices.", field="clip_polygon"
        )
    coords = []
    for pair in pairs:
        parts = pair.split()
        if len(parts) != 2:
            raise BadRequest(
                "clip_polygon must be `lon lat` pairs separated by commas, for example "
                "clip_polygon=100 5,110 5,110 15,100 5.",
                field="clip_polygon",
            )
        lon, lat = (parse_float(p, field="clip_polygon") for p in parts)
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            raise BadRequest(
                "clip_polygon must lie within -180..180 longitude and -90..90 latitude.",
                field="clip_polygon",
            )
        coords.append((lon, lat))
    if coords and coords[0] != coords[-1]:
        coords.append(coords[0])
    if len(coords) < 4:
        raise BadRequest("clip_polygon needs at least three corners.", field="clip_polygon")
    polygon = shapely.Polygon(coords)
    if not polygon.is_valid or polygon.area == 0:
        raise BadRequest(
            "clip_polygon must not cross itself and must have an area.", field="clip_polygon"
        )
    return Clip(wkb=polygon.wkb)


def parse_csv_geometry(params: Mapping[str, str], collection: Collection) -> str:
    value = params.get("geometry") or "wkt"
    if value not in ("wkt", "lonlat"):
        raise BadRequest("geometry must be wkt or lonlat.", field="geometry")
    if value == "lonlat" and collection.source.geometry_type != "point":
        raise BadRequest(
            "geometry=lonlat is for point collections; use wkt for lines and polygons.",
            field="geometry",
        )
    return value


# The catalogue's search parameters.
CATALOGUE_PARAMS = frozenset(
    {"q", "commodity", "member_state", "type", "date_from", "date_to", "year", "page", "f"}
)


def _catalogue_date(value: str | None, field: str, *, end: bool) -> dt.date | None:
    if not value:
        return None
    if re.fullmatch(r"[0-9]{4}", value):
        return dt.date(int(value), 12, 31) if end else dt.date(int(value), 1, 1)
    return parse_date(value, field=field) if len(value) == 10 else parse_date("x", field=field)


def catalogue_query_parse(
    params: Mapping[str, str], *, member_states: Iterable[str], commodities: Iterable[str]
) -> CatalogueQuery:
    """Every value checked: vocabularies for commodity, member state and type; dates as dates."""
    commodity = params.get("commodity") or ""
    if commodity and commodity not in set(commodities):
        raise BadRequest(
            f"Unknown commodity {commodity[:60]!r}: use a CGI commodity code such as copper.",
            field="commodity",
        )
    state = params.get("member_state") or ""
    states = {*member_states, "regional"}
    if state and state not in states:
        raise BadRequest(
            f"Unknown member_state {state[:10]!r}. Use one of: {', '.join(sorted(states))}.",
            field="member_state",
        )
    kind = params.get("type") or ""
    if kind and kind not in DatasetKind.values:
        raise BadRequest(
            f"Unknown type {kind[:30]!r}. Use one of: {', '.join(DatasetKind.values)}.",
            field="type",
        )
    year = params.get("year")
    if year and not re.fullmatch(r"[0-9]{4}", year):
        raise BadRequest("year must be four digits, for example 2024.", field="year")
    date_from = _catalogue_date(params.get("date_from") or year, "date_from", end=False)
    date_to = _catalogue_date(params.get("date_to") or year, "date_to", end=True)
    if date_from and date_to and date_from > date_to:
        raise BadRequest("date_from must not be after date_to.", field="date_from")
    return CatalogueQuery(
        text=parse_text(params.get("q"), field="q", max_length=200),
        commodity=commodity,
        member_state=state,
        kind=kind,
        date_from=date_from,
        date_to=date_to,
        page=parse_int(params.get("page"), field="page", default=1, minimum=1, maximum=10_000),
    )
