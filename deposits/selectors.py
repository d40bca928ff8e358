"""Reads of mineral occurrences. Filters are parsed once and turned into one SQL condition,
shared by the GeoJSON API and the vector tiles, so both always show the same features."""

from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import psycopg2.extensions
from django.db import connection, transaction

from deposits.models import (
    SEARCH_TEXT_FUNCTION,
    Commodity,
    MemberState,
    OccurrenceStatus,
    like_pattern,
)
from layers.selectors import (
    cached_per_data_version,
    cached_per_dataset,
    dataset_visibility_where,
    datasets_visible,
)
from webgis.lib.errors import BadRequest
from webgis.lib.mvt import Where, one_dataset_where
from webgis.lib.params import BBox, parse_bbox, parse_choices, parse_text

FILTER_PARAMS = ("commodity", "member_state", "status", "deposit_type", "bbox", "q", "dataset")
OCCURRENCE_TABLE = "deposits_mineraloccurrence"


@dataclass(frozen=True)
class OccurrenceFilters:
    commodity_ids: list[int] = field(default_factory=list)
    member_state_ids: list[int] = field(default_factory=list)
    statuses: list[str] = field(default_factory=list)
    deposit_types: list[str] = field(default_factory=list)
    bbox: BBox | None = None
    text: str = ""
    dataset_slugs: list[str] = field(default_factory=list)

    def where(self) -> Where:
        """The filters as SQL over the occurrence table aliased `t`."""
        parts: list[Where] = []
        if self.commodity_ids:
            parts.append(
                Where(
                    "EXISTS (SELECT 1 FROM deposits_occurrencecommodity oc"
                    " WHERE oc.occurrence_id = t.id AND oc.commodity_id = ANY(%s))",
                    [self.commodity_ids],
                )
            )
        if self.member_state_ids:
            parts.append(Where("t.member_state_id = ANY(%s)", [self.member_state_ids]))
        if self.statuses:
            parts.append(Where("t.status = ANY(%s)", [self.statuses]))
        if self.deposit_types:
            parts.append(Where("t.deposit_type = ANY(%s)", [self.deposit_types]))
        if self.bbox:
            parts.append(Where("t.geom && ST_MakeEnvelope(%s, %s, %s, %s, 4326)", list(self.bbox)))
        if self.text:
            pattern = like_pattern(self.text)
            # One indexed expression (migration 0009), not `name OR other names`: its trigram
            # index finds the texts that hold the pattern's three-letter sequences. A shorter
            # pattern has none, and scanning the whole index took 1.1 s where reading the
            # table takes 0.4 s (1M occurrences): such a pattern is tested on each row as the
            # function would, without the cost of calling it.
            if len(self.text) >= 3:
                searched = Where(
                    f"{SEARCH_TEXT_FUNCTION}(t.name, t.other_names) ILIKE %s", [pattern], True
                )
            else:
                searched = Where(
                    "(t.name ILIKE %s OR array_to_string(t.other_names, chr(31)) ILIKE %s)",
                    [pattern, pattern],
                    True,
                )
            parts.append(searched)
        if len(self.dataset_slugs) == 1:
            parts.append(
                one_dataset_where(
                    OCCURRENCE_TABLE,
                    "(SELECT id FROM layers_dataset WHERE slug = %s)",
                    self.dataset_slugs,
                )
            )
        elif self.dataset_slugs:
            parts.append(
                Where(
                    "t.dataset_id IN (SELECT id FROM layers_dataset WHERE slug = ANY(%s))",
                    [self.dataset_slugs],
                )
            )
        combined = Where()
        for part in parts:
            combined = combined & part
        return combined


def _reference_version() -> str:
    """Changes when a commodity or a member state is added, removed or edited (a row's xmin is
    the transaction that last wrote it): the vocabularies cached under it live for a day."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT md5(coalesce((SELECT string_agg(id || '.' || xmin::text, ',' ORDER BY id)"
            " FROM deposits_commodity), '') || ':' || coalesce((SELECT string_agg(id || '.'"
            " || xmin::text, ',' ORDER BY id) FROM deposits_memberstate), ''))"
        )
        (version,) = cursor.fetchone() or ("",)
    return str(version)


def occurrence_vocabulary(*, user: Any) -> dict[str, Any]:
    """Allowed filter values, from the datasets this user may see (unpublished deposit types
    or dataset names never appear in a public list or error message). Cached per data version."""
    return dict(
        cached_per_data_version(
            f"occurrence-vocabulary:{_reference_version()}",
            user=user,
            compute=lambda: _occurrence_vocabulary(user),
        )
    )


def _occurrence_vocabulary(user: Any) -> dict[str, Any]:
    commodities: dict[str, int] = {}
    for pk, code, symbol in Commodity.objects.values_list("id", "code", "symbol"):
        commodities[code.lower()] = pk
        if symbol:
            commodities.setdefault(symbol.lower(), pk)
    visible = dataset_visibility_where(user=user)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT DISTINCT t.deposit_type FROM {OCCURRENCE_TABLE} t"
            f" WHERE t.deposit_type <> '' AND {visible.sql}",
            list(visible.params),
        )
        deposit_types = sorted(row[0] for row in cursor.fetchall())
    return {
        "commodities": commodities,
        "member_states": dict(MemberState.objects.values_list("code", "id")),
        "deposit_types": deposit_types,
        "datasets": list(datasets_visible(user=user).values_list("slug", flat=True)),
    }


def commodities_with_counts(*, user: Any) -> list[dict[str, Any]]:
    """Every commodity with the number of occurrences this user may see that name it (the
    map's filter list).

    Counting reads every link (1.5 s for 2M): each dataset's counts are cached under its own
    version (layers.selectors.cached_per_dataset) and summed over the datasets this user may
    see, so a publish recounts one dataset, and an editor's view costs no count of its own."""
    per_dataset = cached_per_dataset("commodity-counts", _commodity_counts)
    totals: Counter[int] = Counter()
    for dataset_id in datasets_visible(user=user).values_list("id", flat=True):
        totals.update(per_dataset.get(dataset_id, {}))
    commodities = Commodity.objects.order_by("name").values("id", "code", "name", "symbol", "group")
    return [
        {**{k: v for k, v in c.items() if k != "id"}, "occurrences_count": totals[c["id"]]}
        for c in commodities
    ]


def _commodity_counts(dataset_ids: list[int]) -> dict[int, dict[int, int]]:
    counts: dict[int, dict[int, int]] = {}
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT o.dataset_id, oc.commodity_id, count(*)
               FROM deposits_occurrencecommodity oc
               JOIN deposits_mineraloccurrence o ON o.id = oc.occurrence_id
               WHERE o.dataset_id = ANY(%s) GROUP BY 1, 2""",
            [dataset_ids],
        )
        for dataset_id, commodity_id, n in cursor.fetchall():
            counts.setdefault(dataset_id, {})[commodity_id] = n
    return counts


def _deposit_types(params: Mapping[str, str], allowed: list[str]) -> list[str]:
    """Exact names, repeated as `deposit_type=A&deposit_type=B` (names may contain commas)."""
    getlist = getattr(params, "getlist", None)
    values = getlist("deposit_type") if getlist else [params.get("deposit_type", "")]
    known = set(allowed)
    chosen = []
    for value in values:
        if not value:
            continue
        if value not in known:
            shown = ", ".join(allowed[:30])
            raise BadRequest(
                f"Unknown deposit_type {value[:60]!r}. Use one of: {shown}.", field="deposit_type"
            )
        chosen.append(value)
    return chosen


# What a request without vocabulary filters checks against: nothing (see _needs_vocabulary).
NO_VOCABULARY: dict[str, Any] = {
    "commodities": {},
    "member_states": {},
    "deposit_types": [],
    "datasets": [],
}


def _needs_vocabulary(params: Mapping[str, str]) -> bool:
    """Whether a filter names a commodity, member state, deposit type or dataset. Most map and
    tile requests name none, and then the vocabulary (two queries) is not read at all."""
    getlist = getattr(params, "getlist", None)
    deposit_types = getlist("deposit_type") if getlist else [params.get("deposit_type", "")]
    named = (params.get(name) for name in ("commodity", "member_state", "dataset"))
    return any(named) or any(deposit_types)


def occurrence_filters_parse(params: Mapping[str, str], *, user: Any = None) -> OccurrenceFilters:
    """Validates every filter value against the vocabulary; unknown values are a 400.
    `user` None means the public."""
    vocabulary = occurrence_vocabulary(user=user) if _needs_vocabulary(params) else NO_VOCABULARY
    commodity_keys = parse_choices(params, "commodity", vocabulary["commodities"].keys())
    state_codes = parse_choices(params, "member_state", vocabulary["member_states"].keys())
    return OccurrenceFilters(
        commodity_ids=sorted({vocabulary["commodities"][k] for k in commodity_keys}),
        member_state_ids=[vocabulary["member_states"][c] for c in state_codes],
        statuses=parse_choices(params, "status", OccurrenceStatus.values),
        deposit_types=_deposit_types(params, vocabulary["deposit_types"]),
        bbox=parse_bbox(params.get("bbox")),
        text=parse_text(params.get("q"), field="q"),
        dataset_slugs=parse_choices(params, "dataset", vocabulary["datasets"], normalise=False),
    )


def _commodities_json(alias: str = "t") -> str:
    return (
        "(SELECT coalesce(json_agg(json_build_object('code', c.code, 'name', c.name,"
        " 'symbol', c.symbol, 'group', c.group, 'rank', oc.rank) ORDER BY oc.rank, c.name), '[]')"
        " FROM deposits_occurrencecommodity oc JOIN deposits_commodity c ON c.id = oc.commodity_id"
        f" WHERE oc.occurrence_id = {alias}.id)"
    )


def _properties_json(*, full: bool) -> str:
    extra = (
        ", 'references', t.references, 'attributes', t.attributes, 'source_id', t.source_id,"
        " 'dataset_citation', d.citation, 'dataset_licence', d.licence"
        if full
        else ""
    )
    return (
        "json_build_object('name', t.name, 'other_names', t.other_names,"
        " 'member_state', ms.code, 'member_state_name', ms.name, 'province', t.province,"
        f" 'commodities', {_commodities_json()}, 'deposit_type', t.deposit_type,"
        " 'status', t.status, 'resource_mt', t.resource_mt, 'grades', t.grades,"
        " 'reporting_code', t.reporting_code, 'resource_date', t.resource_date,"
        " 'location_accuracy', t.location_accuracy, 'dataset', d.slug, 'dataset_title', d.title,"
        f" 'url', '/occurrences/' || t.id || '/'{extra})"
    )


def _feature_sql(*, full: bool) -> str:
    # Concatenated as text: ST_AsGeoJSON output is used as is, never re-parsed.
    return (
        '\'{"type":"Feature","id":\' || t.id || \',"geometry":\' || ST_AsGeoJSON(t.geom, 6)'
        f" || ',\"properties\":' || {_properties_json(full=full)}::text || '}}'"
    )


_FROM = (
    f"FROM {OCCURRENCE_TABLE} t"
    " JOIN deposits_memberstate ms ON ms.id = t.member_state_id"
    " JOIN layers_dataset d ON d.id = t.dataset_id"
)


# The list pages read each occurrence's Feature text as written (deposits_occurrencejson, kept
# by triggers: migration 0003) and join the member state's and dataset's names, each made once
# per member state or dataset. A missing row falls back to the same SQL functions. `p` is the
# page's rows (id, member_state_id, dataset_id), found before any text is read.
_FAST_FEATURE = (
    "coalesce(j.head, (SELECT deposits_occurrence_head(o) FROM"
    f" {OCCURRENCE_TABLE} o WHERE o.id = p.id)) || ',\"commodities\":'"
    " || coalesce(j.commodities, deposits_occurrence_commodities(p.id)) || ms.json || d.json"
    " || '}}'"
)
_FAST_JOINS = (
    " JOIN (SELECT id, ',\"member_state\":' || to_json(code)"
    " || ',\"member_state_name\":' || to_json(name) AS json FROM deposits_memberstate) ms"
    " ON ms.id = p.member_state_id"
    " JOIN (SELECT id, ',\"dataset\":' || to_json(slug) || ',\"dataset_title\":' || to_json(title)"
    " AS json FROM layers_dataset) d ON d.id = p.dataset_id"
    " LEFT JOIN deposits_occurrencejson j ON j.occurrence_id = p.id"
)


@dataclass(frozen=True)
class FeaturePage:
    features_json: str  # comma-separated Feature objects
    number_returned: int
    number_matched: int


def _page_where(filters: OccurrenceFilters, user: Any, extra: Where | None) -> Where:
    where = dataset_visibility_where(user=user) & filters.where()
    return where & extra if extra is not None else where


def occurrences_page_sql(where: Where, limit: int | None, offset: int) -> tuple[str, list[Any]]:
    """One Feature text per row, ordered by id (`limit` None: every row).

    The page's rows are found first and only they are joined to their texts: a bbox matching
    1,389 rows for a page of 1,000 used to read and sort 1,389 texts (the join cannot wait
    for the LIMIT the way a computed column can). Measured with pgbench: 1.3x the pages/s.

    A condition marked `matches_first` (a text search) has its matches collected through its
    own index, then sorted. Left to itself the planner reads the primary key in id order until
    the page is full, testing each row: for a text found nowhere, every row (1.9 s over 1M
    occurrences, against 21 ms)."""
    order = "t.id + 0" if where.matches_first else "t.id"  # `+ 0`: not the primary key's order
    return (
        f"SELECT {_FAST_FEATURE} AS feature, p.id FROM (SELECT t.id, t.member_state_id,"
        f" t.dataset_id FROM {OCCURRENCE_TABLE} t WHERE {where.sql}"
        f" ORDER BY {order} LIMIT %s OFFSET %s) p{_FAST_JOINS} ORDER BY p.id",
        [*where.params, limit, offset],
    )


ONE_SNAPSHOT = "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ; "
NO_PARALLEL = "SET LOCAL max_parallel_workers_per_gather = 0; "


@dataclass
class FeatureStream:
    """A page of features, as comma-separated Feature texts (bytes, never decoded).

    `sql` selects `feature, id` ordered by id; `number_matched` (from `count_sql`) and
    `number_returned` are of the same snapshot as the features. Two ways to read it:
    `chunks()` sends a large page as it is read, from a server-side cursor; `whole()` reads a
    page small enough to hold in one statement (one round trip).
    """

    sql: str
    params: list[Any]
    count_sql: str
    count_params: list[Any]
    batch: int = 2000
    number_matched: int = 0
    number_returned: int = 0

    def chunks(self) -> Iterator[bytes]:
        outermost = not connection.in_atomic_block
        with transaction.atomic():
            with connection.cursor() as cursor:
                # The count and the rows from one snapshot. No parallel workers: a page is an
                # index scan under a LIMIT; starting workers took longer (25-30 ms for 1,000
                # features on a busy machine) than the whole page does without them.
                cursor.execute(
                    (ONE_SNAPSHOT if outermost else "") + NO_PARALLEL + self.count_sql,
                    self.count_params,
                )
                (self.number_matched,) = cursor.fetchone() or (0,)
            with connection.chunked_cursor() as cursor:
                raw = cursor.cursor
                psycopg2.extensions.register_type(psycopg2.extensions.BYTES, raw)
                raw.itersize = self.batch
                cursor.execute(self.sql, self.params)
                first = True
                while True:
                    rows = cursor.fetchmany(self.batch)
                    if not rows:
                        break
                    self.number_returned += len(rows)
                    chunk = b",".join(row[0] for row in rows)
                    yield chunk if first else b"," + chunk
                    first = False

    def whole(self) -> bytes:
        """The page in one statement: the count is one more column (an InitPlan, computed
        once), so rows and count share a snapshot without a transaction of their own. SET LOCAL
        in the same query string lasts for that statement: several statements sent at once run
        as one implicit transaction. Against ten round trips before (BEGIN, count, DECLARE,
        FETCHes, CLOSE, COMMIT), which cost more than the SQL on pages of 1,000."""
        with connection.cursor() as cursor:
            psycopg2.extensions.register_type(psycopg2.extensions.BYTES, cursor.cursor)
            cursor.execute(
                f"{NO_PARALLEL}SELECT page.feature, ({self.count_sql})"
                f" FROM ({self.sql}) page ORDER BY page.id",
                [*self.count_params, *self.params],
            )
            rows = cursor.fetchall()
            if rows:
                self.number_matched = int(rows[0][1])
            else:  # past the last page: no row carries the count
                cursor.execute(self.count_sql, self.count_params)
                (self.number_matched,) = cursor.fetchone() or (0,)
        self.number_returned = len(rows)
        return b",".join(row[0] for row in rows)

    def page(self) -> FeaturePage:
        """The whole page at once (pages small enough to hold in memory)."""
        features = self.whole().decode()
        return FeaturePage(features, self.number_returned, self.number_matched)


def occurrences_geojson_stream(
    *, filters: OccurrenceFilters, user: Any, limit: int, offset: int, extra: Where | None = None
) -> FeatureStream:
    """As `occurrences_geojson_page`, for pages too large to hold in memory at once."""
    where = _page_where(filters, user, extra)
    sql, params = occurrences_page_sql(where, limit, offset)
    return FeatureStream(
        sql=sql,
        params=params,
        count_sql=f"SELECT count(*) FROM {OCCURRENCE_TABLE} t WHERE {where.sql}",
        count_params=list(where.params),
    )


def occurrences_geojson_page(
    *, filters: OccurrenceFilters, user: Any, limit: int, offset: int, extra: Where | None = None
) -> FeaturePage:
    """`extra`: a further condition over `t` (an OGC API collection, a CQL2 filter)."""
    stream = occurrences_geojson_stream(
        filters=filters, user=user, limit=limit, offset=offset, extra=extra
    )
    return stream.page()


def occurrence_geojson(*, occurrence_id: int, user: Any) -> str | None:
    where = dataset_visibility_where(user=user) & Where("t.id = %s", [occurrence_id])
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {_feature_sql(full=True)} {_FROM} WHERE {where.sql}", list(where.params)
        )
        row = cursor.fetchone()
    return row[0] if row else None


def occurrence_names_matching(*, text: str, user: Any, limit: int = 10) -> list[dict[str, Any]]:
    """Name search for the map's search box: best matches first, with coordinates to jump to."""
    where = dataset_visibility_where(user=user) & OccurrenceFilters(text=text).where()
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT t.id, t.name, ms.code, ST_X(t.geom), ST_Y(t.geom) {_FROM}
                WHERE {where.sql} ORDER BY similarity(t.name, %s) DESC, t.name LIMIT %s""",
            [*where.params, text, limit],
        )
        rows = cursor.fetchall()
    return [
        {"id": r[0], "name": r[1], "member_state": r[2], "lon": r[3], "lat": r[4]} for r in rows
    ]


# Changes whenever a boundary is loaded or edited (the member-state tiles' version).
MEMBER_STATES_STATE_SQL = (
    "SELECT count(*) || ':' || coalesce(max(updated_at)::text, '') FROM deposits_memberstate"
)
