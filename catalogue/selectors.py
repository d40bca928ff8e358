"""Reads for the OGC API and the downloads: feature pages built as GeoJSON by PostGIS, extents,
queryables, and the rows a download writes (through a server-side cursor, in batches)."""

import datetime as dt
import json
import math
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import psycopg2.extensions
from django.contrib.auth.models import AnonymousUser
from django.db import connection

from catalogue.blocks import TABLE as BLOCKS_TABLE
from catalogue.blocks import TEXTS as TEXTS_TABLE
from catalogue.blocks import BlockStream, PublicPage, block_size
from catalogue.collections import (
    DATE,
    LIST,
    NUMBER,
    OCCURRENCES,
    SOURCES,
    VECTOR,
    Collection,
    Property,
)
from deposits.models import Commodity, without_boundaries
from deposits.selectors import (
    NO_PARALLEL,
    FeaturePage,
    FeatureStream,
    OccurrenceFilters,
    occurrence_filters_parse,
    occurrences_geojson_stream,
    occurrences_page_sql,
)
from layers.models import Dataset, DatasetKind
from layers.selectors import (
    cached_per_dataset,
    dataset_visibility_where,
    datasets_visible,
)
from webgis.db.prepared import PreparedStatement
from webgis.lib.mvt import Where

BBox = tuple[float, float, float, float]
WORLD: BBox = (-180.0, -90.0, 180.0, 90.0)


def _properties_json(collection: Collection) -> str:
    if collection.source is VECTOR:
        return "t.attributes"
    pairs = ", ".join(f"'{p.name}', {p.sql}" for p in collection.properties if not p.params)
    return f"json_build_object({pairs})"


def _feature_sql(collection: Collection) -> str:
    return (
        '\'{"type":"Feature","id":\' || t.id || \',"geometry":\' || ST_AsGeoJSON(t.geom, 6)'
        f" || ',\"properties\":' || ({_properties_json(collection)})::text || '}}'"
    )


def features_page(
    *,
    collection: Collection,
    user: Any,
    where: Where,
    limit: int,
    offset: int,
    unfiltered: bool = False,
) -> FeaturePage:
    """One page of features as comma-separated GeoJSON Feature texts, ordered by id."""
    return features_stream(
        collection=collection,
        user=user,
        where=where,
        limit=limit,
        offset=offset,
        unfiltered=unfiltered,
    ).page()


def features_stream(
    *,
    collection: Collection,
    user: Any,
    where: Where,
    limit: int,
    offset: int,
    unfiltered: bool = False,
) -> FeatureStream | BlockStream:
    """As `features_page`, read as it is sent (pages too large to hold in memory at once).

    `unfiltered`: `where` is the collection's own; a published dataset's page is then read
    from its feature blocks (catalogue.blocks), the same bytes."""
    stream = _sql_stream(collection=collection, user=user, where=where, limit=limit, offset=offset)
    dataset = collection.dataset
    if unfiltered and dataset is not None and dataset.is_published:
        return BlockStream(
            dataset_id=dataset.pk,
            dataset_version=dataset.version,
            limit=limit,
            offset=offset,
            fallback=stream,
        )
    return stream


def _sql_stream(
    *, collection: Collection, user: Any, where: Where, limit: int, offset: int
) -> FeatureStream:
    if collection.source is OCCURRENCES:
        return occurrences_geojson_stream(
            filters=OccurrenceFilters(), user=user, limit=limit, offset=offset, extra=where
        )
    table = collection.source.table
    full = dataset_visibility_where(user=user) & where
    return FeatureStream(
        sql=f"SELECT {_feature_sql(collection)} AS feature, t.id FROM {table} t WHERE {full.sql}"
        " ORDER BY t.id LIMIT %s OFFSET %s",
        params=[*full.params, limit, offset],
        count_sql=f"SELECT count(*) FROM {table} t WHERE {full.sql}",
        count_params=list(full.params),
    )


# An anonymous visitor's filtered page of an occurrence dataset (catalogue.api.items): the
# published dataset found by its slug in the same statement, without building the collection.
_PUBLIC_DATASET_SQL = (
    "public_dataset AS (SELECT id, title FROM layers_dataset"
    " WHERE slug = %s AND kind = %s AND is_published)"
)


def public_occurrences_page(
    *, slug: str, params: Mapping[str, str], limit: int, offset: int
) -> PublicPage | None:
    """The page of the published occurrence dataset `slug` filtered by `params` (the
    occurrence filters, e.g. a bbox), its count and the dataset's title, in one statement: the
    general path's rows and count, the same where. None when there is no such dataset or the
    page is empty; the caller then takes the general path, which answers both (a 404, or
    the empty page's count)."""
    filters = occurrence_filters_parse(params)
    if filters.bbox:
        from_texts = _public_texts_page(slug=slug, bbox=filters.bbox, limit=limit, offset=offset)
        if from_texts is not None:
            return from_texts
    where = (
        Where("t.dataset_id = (SELECT id FROM public_dataset)")
        & dataset_visibility_where(user=AnonymousUser())
        & filters.where()
    )
    page_sql, page_params = occurrences_page_sql(where, limit, offset)
    return _public_page_run(
        f"WITH {_PUBLIC_DATASET_SQL} SELECT page.feature,"
        f" (SELECT count(*) FROM {OCCURRENCES.table} t WHERE {where.sql}),"
        f" (SELECT title FROM public_dataset) FROM ({page_sql}) page ORDER BY page.id",
        [slug, OCCURRENCES.kind, *where.params, *page_params],
    )


def _public_page_run(sql: str | PreparedStatement, params: list[Any]) -> PublicPage | None:
    """Runs a public page's statement (rows of feature, count, title); None without rows."""
    with connection.cursor() as cursor:
        psycopg2.extensions.register_type(psycopg2.extensions.BYTES, cursor.cursor)
        if isinstance(sql, PreparedStatement):
            sql.execute(cursor, params)
        else:
            cursor.execute(NO_PARALLEL + sql, params)
        rows = cursor.fetchall()
    if not rows:
        return None
    features = [row[0] for row in rows]
    return PublicPage(rows[0][2].decode(), features, int(rows[0][1]), len(rows))


# The bbox page from the dataset's feature texts (catalogue.models.FeatureText), in spatial
# order: a box's features sit in a few adjacent table pages (161 buffers for the bench's
# 1,000-feature page, against about 4,600 joining each feature's stored text). Only while the
# dataset's blocks are current: the texts are written and deleted with them.
_PUBLIC_TEXTS_SQL = f"""
WITH public_dataset AS (
       SELECT d.id, d.title FROM layers_dataset d
       JOIN {BLOCKS_TABLE} b ON b.dataset_id = d.id AND b.seq = 0 AND b.block_size = %s
         AND b.version = d.version AND b.revision = d.revision
       WHERE d.slug = %s AND d.kind = %s AND d.is_published),
     boxed AS (SELECT x.feature_id, x.feature FROM {TEXTS_TABLE} x
               WHERE x.dataset_id = (SELECT id FROM public_dataset)
                 AND x.geom && ST_MakeEnvelope(%s, %s, %s, %s, 4326))
SELECT p.feature, (SELECT count(*) FROM boxed) AS matched,
       (SELECT title FROM public_dataset) AS title
FROM (SELECT * FROM boxed ORDER BY feature_id LIMIT %s OFFSET %s) p ORDER BY p.feature_id"""
_PUBLIC_TEXTS = PreparedStatement("amdis_public_texts_page", _PUBLIC_TEXTS_SQL, NO_PARALLEL)


def public_texts_statement(
    *, slug: str, bbox: tuple[float, float, float, float], limit: int, offset: int
) -> tuple[str, list[Any]]:
    """The statement of a bbox page read from the feature texts (the bench's floor runs it)."""
    return _PUBLIC_TEXTS_SQL, [block_size(), slug, OCCURRENCES.kind, *bbox, limit, offset]


def _public_texts_page(
    *, slug: str, bbox: tuple[float, float, float, float], limit: int, offset: int
) -> PublicPage | None:
    # None (no such dataset, blocks not current, or an empty page): the general SQL answers.
    _, params = public_texts_statement(slug=slug, bbox=bbox, limit=limit, offset=offset)
    return _public_page_run(_PUBLIC_TEXTS, params)


def collection_features_sql(collection: Collection) -> tuple[str, list[Any]]:
    """Every feature of the collection as `feature, id` ordered by id, whoever may see them
    (the feature blocks' source: the same texts as the pages)."""
    if collection.source is OCCURRENCES:
        return occurrences_page_sql(collection.where, None, 0)
    where = collection.where
    return (
        f"SELECT {_feature_sql(collection)} AS feature, t.id FROM {collection.source.table} t"
        f" WHERE {where.sql} ORDER BY t.id",
        list(where.params),
    )


def feature_get(*, collection: Collection, user: Any, feature_id: int) -> str | None:
    """One Feature's GeoJSON text, or None when it is not in the collection or not visible."""
    page = features_page(
        collection=collection,
        user=user,
        where=collection.where & Where("t.id = %s", [feature_id]),
        limit=1,
        offset=0,
    )
    return page.features_json or None


def dataset_extents() -> dict[int, BBox]:
    """Bounding boxes of every dataset's features (cached per dataset version)."""
    return cached_per_dataset("catalogue:extent", _extents)


def _extents(dataset_ids: list[int]) -> dict[int, BBox]:
    extents: dict[int, BBox] = {}
    with connection.cursor() as cursor:
        for source in SOURCES.values():
            cursor.execute(
                f"""SELECT dataset_id, ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (
                        SELECT dataset_id, ST_Extent(geom) AS e FROM {source.table}
                        WHERE dataset_id = ANY(%s) GROUP BY dataset_id
                    ) s""",
                [dataset_ids],
            )
            for dataset_id, *box in cursor.fetchall():
                extents[dataset_id] = (
                    round(box[0], 6),
                    round(box[1], 6),
                    round(box[2], 6),
                    round(box[3], 6),
                )
    return extents


def collection_extent(*, collection: Collection, user: Any) -> BBox | None:
    """The collection's bounding box (WGS 84); None when it holds no feature."""
    extents = dataset_extents()
    if collection.dataset is not None:
        return extents.get(collection.dataset.pk)
    visible = dataset_visibility_where(user=user, column="id")
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id FROM layers_dataset WHERE kind = %s AND {visible.sql}",
            [collection.source.kind, *visible.params],
        )
        boxes = [extents[row[0]] for row in cursor.fetchall() if row[0] in extents]
    if not boxes:
        return None
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )


_JSON_TYPES = {NUMBER: {"type": "number"}, DATE: {"type": "string", "format": "date"}}
GEOMETRY_SCHEMAS = {
    "point": "https://geojson.org/schema/Point.json",
    "line": "https://geojson.org/schema/MultiLineString.json",
    "polygon": "https://geojson.org/schema/MultiPolygon.json",
    "geometry": "https://geojson.org/schema/Geometry.json",
}


def _property_schema(prop: Property) -> dict[str, Any]:
    if prop.type == LIST:
        schema: dict[str, Any] = {"type": "array", "items": {"type": "string"}}
    else:
        schema = dict(_JSON_TYPES.get(prop.type, {"type": "string"}))
    schema["title"] = prop.title or prop.name
    if prop.enum:
        schema["enum"] = list(prop.enum)
    return schema


def queryables_schema(*, collection: Collection, url: str) -> dict[str, Any]:
    """The queryables as a JSON Schema (OGC API - Features Part 3)."""
    properties: dict[str, Any] = {
        "geometry": {
            "$ref": GEOMETRY_SCHEMAS[collection.source.geometry_type],
            "x-ogc-role": "primary-geometry",
        },
    }
    for prop in collection.queryables.values():
        properties[prop.name] = _property_schema(prop)
    return {
        "$schema": "https://json-schema.org/draft/2019-09/schema",
        "$id": url,
        "type": "object",
        "title": collection.title,
        "properties": properties,
        "additionalProperties": True,
    }


@dataclass(frozen=True)
class DownloadColumn:
    name: str
    short: str
    type: str


def download_columns(collection: Collection) -> list[DownloadColumn]:
    return [
        DownloadColumn("id", "id", "integer"),
        *(
            DownloadColumn(p.name, p.short or p.name[:10], p.type)
            for p in collection.download_columns
        ),
    ]


@dataclass(frozen=True)
class Clip:
    """A rectangle or polygon to clip features to, as WKB for PostGIS (never text for GDAL)."""

    wkb: bytes


def download_rows(
    *,
    collection: Collection,
    user: Any,
    where: Where,
    clip: Clip | None,
    geometry: str = "geojson",
    batch: int = 1000,
) -> Iterator[list[tuple[Any, ...]]]:
    """Batches of rows (id, *columns, geometry) through a server-side cursor: memory stays
    bounded whatever the size. `geometry`: geojson (text), wkt, wkb, lonlat (two columns).
    Lines and polygons are cut at the clip's edge; points are kept when inside it."""
    full = dataset_visibility_where(user=user) & where
    geom = "t.geom"
    params: list[Any] = []
    if clip is not None:
        full = full & Where("ST_Intersects(t.geom, ST_GeomFromWKB(%s, 4326))", [clip.wkb])
        if collection.source.geometry_type != "point":
            geom = (
                "CASE WHEN ST_CoveredBy(t.geom, c.g) THEN t.geom"
                " ELSE ST_CollectionExtract(ST_Intersection(t.geom, c.g), ST_Dimension(t.geom) + 1)"
                " END"
            )
            if collection.source.geometry_type in ("line", "polygon"):
                geom = f"ST_Multi({geom})"  # cut polygons stay MultiPolygons
    outputs = {
        "geojson": f"ST_AsGeoJSON({geom}, 7)",
        "wkt": f"ST_AsText({geom}, 7)",
        # The geometry's dimension first: a Shapefile holds one family (points, lines, polygons).
        "wkb": f"ST_Dimension({geom}), ST_AsBinary(ST_Multi({geom}))"
        if collection.source.geometry_type != "point"
        else f"0, ST_AsBinary({geom})",
        "lonlat": f"round(ST_X({geom})::numeric, 7), round(ST_Y({geom})::numeric, 7)",
    }
    columns = ", ".join(f"{p.sql}" for p in collection.download_columns)
    params = [param for p in collection.download_columns for param in p.params]
    clip_join = (
        ", (SELECT ST_GeomFromWKB(%s, 4326) AS g) c"
        if clip is not None and geom != "t.geom"
        else ""
    )
    clip_params = [clip.wkb] if clip_join and clip is not None else []
    sql = (
        f"SELECT t.id{', ' + columns if columns else ''}, {outputs[geometry]}"
        f" FROM {collection.source.table} t{clip_join} WHERE {full.sql} ORDER BY t.id"
    )
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, [*params, *clip_params, *full.params])
        while True:
            rows = cursor.fetchmany(batch)
            if not rows:
                return
            yield rows


def download_count(*, collection: Collection, user: Any, where: Where, clip: Clip | None) -> int:
    full = dataset_visibility_where(user=user) & where
    if clip is not None:
        full = full & Where("ST_Intersects(t.geom, ST_GeomFromWKB(%s, 4326))", [clip.wkb])
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*) FROM {collection.source.table} t WHERE {full.sql}", list(full.params)
        )
        (count,) = cursor.fetchone() or (0,)
    return int(count)


def download_datasets(
    *, collection: Collection, user: Any, where: Where, clip: Clip | None
) -> list[Dataset]:
    """The datasets whose features a download holds: their licences and citations go with it."""
    if collection.dataset is not None:
        return [collection.dataset]
    full = dataset_visibility_where(user=user) & where
    if clip is not None:
        full = full & Where("ST_Intersects(t.geom, ST_GeomFromWKB(%s, 4326))", [clip.wkb])
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT DISTINCT t.dataset_id FROM {collection.source.table} t WHERE {full.sql}",
            list(full.params),
        )
        ids = [row[0] for row in cursor.fetchall()]
    return list(Dataset.objects.filter(pk__in=ids).order_by("title"))


def json_dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


# The catalogue: search with facet counts ----------------------------------------------------------

CATALOGUE_PAGE_SIZE = 20


def dataset_commodities() -> dict[int, list[str]]:
    """The commodity codes of each dataset's occurrences (cached per dataset version)."""
    return cached_per_dataset("catalogue:commodities", _commodities)


def _commodities(dataset_ids: list[int]) -> dict[int, list[str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT o.dataset_id, array_agg(DISTINCT c.code ORDER BY c.code)
               FROM deposits_mineraloccurrence o
               JOIN deposits_occurrencecommodity oc ON oc.occurrence_id = o.id
               JOIN deposits_commodity c ON c.id = oc.commodity_id
               WHERE o.dataset_id = ANY(%s)
               GROUP BY o.dataset_id""",
            [dataset_ids],
        )
        return {dataset_id: list(codes) for dataset_id, codes in cursor.fetchall()}


@dataclass(frozen=True)
class CatalogueQuery:
    text: str = ""
    commodity: str = ""
    member_state: str = ""
    kind: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    page: int = 1


@dataclass(frozen=True)
class FacetValue:
    value: str
    label: str
    count: int
    selected: bool


@dataclass
class CatalogueResult:
    datasets: list[Dataset]
    total: int
    page: int
    pages: int
    facets: dict[str, list[FacetValue]] = field(default_factory=dict)
    commodities: dict[int, list[str]] = field(default_factory=dict)


def _searchable_text(dataset: Dataset, commodities: list[str]) -> str:
    parts = [
        dataset.title,
        dataset.abstract,
        dataset.organisation,
        dataset.citation,
        dataset.slug,
        " ".join(dataset.keywords),
        " ".join(commodities),
        dataset.member_state.name if dataset.member_state else "",
    ]
    return " ".join(parts).lower()


def catalogue_search(*, query: CatalogueQuery, user: Any) -> CatalogueResult:
    """Datasets the user may see that match every criterion, with a count per facet value
    (each facet counted with the other criteria applied)."""
    datasets = list(
        datasets_visible(user=user)
        .select_related("member_state", "owner")
        .defer(*without_boundaries("member_state"))
        .order_by("title")
    )
    commodities = dataset_commodities()
    words = query.text.lower().split()

    def matches(dataset: Dataset, skip: str = "") -> bool:
        codes = commodities.get(dataset.pk, [])
        if words and not all(w in _searchable_text(dataset, codes) for w in words):
            return False
        if skip != "kind" and query.kind and dataset.kind != query.kind:
            return False
        state = dataset.member_state.code if dataset.member_state else "regional"
        if skip != "member_state" and query.member_state and state != query.member_state:
            return False
        if skip != "commodity" and query.commodity and query.commodity not in codes:
            return False
        revised = dataset.updated_at.date()
        if skip != "year" and query.date_from and revised < query.date_from:
            return False
        return not (skip != "year" and query.date_to and revised > query.date_to)

    def facet(
        name: str, values: Callable[[Dataset], list[str]], labels: dict[str, str], chosen: str
    ) -> list[FacetValue]:
        counts: Counter[str] = Counter()
        for dataset in datasets:
            if matches(dataset, skip=name):
                counts.update(values(dataset))
        return [
            FacetValue(value, labels.get(value, value), count, value == chosen)
            for value, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        ]

    commodity_names = dict(Commodity.objects.values_list("code", "name"))
    state_names = {d.member_state.code: d.member_state.name for d in datasets if d.member_state}
    chosen_year = ""
    if query.date_from and query.date_to and query.date_from.year == query.date_to.year:
        chosen_year = str(query.date_from.year)
    facets = {
        "kind": facet("kind", lambda d: [d.kind], dict(DatasetKind.choices), query.kind),
        "member_state": facet(
            "member_state",
            lambda d: [d.member_state.code] if d.member_state else ["regional"],
            {**state_names, "regional": "Regional (no single member state)"},
            query.member_state,
        ),
        "commodity": facet(
            "commodity", lambda d: commodities.get(d.pk, []), commodity_names, query.commodity
        ),
        "year": facet("year", lambda d: [str(d.updated_at.year)], {}, chosen_year),
    }
    found = [d for d in datasets if matches(d)]
    pages = max(1, math.ceil(len(found) / CATALOGUE_PAGE_SIZE))
    page = min(query.page, pages)
    start = (page - 1) * CATALOGUE_PAGE_SIZE
    return CatalogueResult(
        datasets=found[start : start + CATALOGUE_PAGE_SIZE],
        total=len(found),
        page=page,
        pages=pages,
        facets=facets,
        commodities=commodities,
    )
