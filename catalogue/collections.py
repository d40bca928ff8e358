"""The feature collections served by the OGC API, the downloads and the catalogue: one per
published dataset layer, plus `occurrences` over every occurrence a user may see.

Every property a request may name is declared here, with the SQL that reads it. Queries are
built only from these declarations; values from a request only ever travel as parameters.
"""

from dataclasses import dataclass, field
from typing import Any

from django.contrib.postgres.expressions import ArraySubquery
from django.core.cache import cache
from django.db import connection

from deposits.models import (
    LocationAccuracy,
    MemberState,
    OccurrenceStatus,
    ReportingCode,
    without_boundaries,
)
from layers.models import Dataset, DatasetKind, StructureType
from layers.selectors import data_version, datasets_visible
from webgis.lib.mvt import Where, one_dataset_where

STRING, NUMBER, INTEGER, DATE, LIST = "string", "number", "integer", "date", "list"


@dataclass(frozen=True)
class Property:
    """One attribute of a collection's features.

    `sql` reads it from the feature table aliased `t` (text written here, never from a request);
    `params` are its SQL parameters (the key of a generic layer's attribute); `short` is its
    Shapefile field name (at most 10 characters). A LIST property holds several values (the
    commodities of an occurrence): `=` and `IN` test membership.
    """

    name: str
    sql: str
    type: str = STRING
    title: str = ""
    short: str = ""
    params: tuple[Any, ...] = ()
    enum: tuple[str, ...] = ()
    queryable: bool = True
    download: bool = True


@dataclass(frozen=True)
class Source:
    """A table of features and how its rows are drawn and tiled."""

    kind: str  # a DatasetKind
    table: str
    geometry_type: str  # point, line, polygon or geometry (any)
    tile_layer: str  # the layer's name in webgis.lib.mvt


@dataclass(frozen=True)
class Collection:
    id: str
    title: str
    description: str
    source: Source
    properties: tuple[Property, ...]
    # Restricts the source table to this collection; the visibility rule is added on top.
    where: Where = field(default_factory=Where)
    dataset: Dataset | None = None
    keywords: tuple[str, ...] = ()

    @property
    def queryables(self) -> dict[str, Property]:
        return {p.name: p for p in self.properties if p.queryable}

    @property
    def download_columns(self) -> list[Property]:
        return [p for p in self.properties if p.download]

    @property
    def tile_query(self) -> dict[str, str]:
        """Parameters that restrict the source's tile layer to this collection."""
        return {"dataset": self.dataset.slug} if self.dataset else {}

    @property
    def version(self) -> str:
        return f"{self.dataset.slug}.v{self.dataset.version}" if self.dataset else data_version()


OCCURRENCES = Source(DatasetKind.OCCURRENCES, "deposits_mineraloccurrence", "point", "occurrences")
GEOLOGY = Source(DatasetKind.GEOLOGY, "layers_geologicalunit", "polygon", "geological-units")
STRUCTURES = Source(DatasetKind.STRUCTURES, "layers_structure", "line", "structures")
VECTOR = Source(DatasetKind.VECTOR, "layers_vectorfeature", "geometry", "dataset-")
SOURCES = {s.kind: s for s in (OCCURRENCES, GEOLOGY, STRUCTURES, VECTOR)}

AGGREGATE_ID = "occurrences"
# A dataset whose slug is a reserved collection id is published as `dataset-<slug>`.
RESERVED_IDS = frozenset({AGGREGATE_ID})
DATASET_PREFIX = "dataset-"

_COMMODITIES = (
    "SELECT c.code FROM deposits_occurrencecommodity oc"
    " JOIN deposits_commodity c ON c.id = oc.commodity_id WHERE oc.occurrence_id = t.id"
)


def _ranked(rank: str) -> str:
    return (
        "(SELECT string_agg(c.code, '; ' ORDER BY c.code) FROM deposits_occurrencecommodity oc"
        " JOIN deposits_commodity c ON c.id = oc.commodity_id"
        f" WHERE oc.occurrence_id = t.id AND oc.rank = '{rank}')"
    )


def _member_state_codes() -> tuple[str, ...]:
    return tuple(MemberState.objects.order_by("code").values_list("code", flat=True))


def _occurrence_properties(states: tuple[str, ...]) -> tuple[Property, ...]:
    return (
        Property("name", "t.name", title="Name", short="name"),
        Property(
            "other_names",
            "NULLIF(array_to_string(t.other_names, '; '), '')",
            title="Other names",
            short="othernames",
            queryable=False,
        ),
        Property(
            "member_state",
            "(SELECT ms.code FROM deposits_memberstate ms WHERE ms.id = t.member_state_id)",
            title="Member state (ISO 3166 alpha-3)",
            short="mstate",
            enum=states,
        ),
        Property("province", "NULLIF(t.province, '')", title="Province", short="province"),
        Property(
            "commodity",
            f"ARRAY({_COMMODITIES})",
            type=LIST,
            title="Commodity (CGI commodity code); matches main and secondary commodities",
            download=False,
        ),
        Property(
            "main_commodities",
            _ranked("main"),
            title="Main commodities",
            short="comm_main",
            queryable=False,
        ),
        Property(
            "secondary_commodities",
            _ranked("secondary"),
            title="Secondary commodities",
            short="comm_sec",
            queryable=False,
        ),
        Property(
            "deposit_type", "NULLIF(t.deposit_type, '')", title="Deposit type", short="dep_type"
        ),
        Property(
            "status",
            "t.status",
            title="Status",
            short="status",
            enum=tuple(OccurrenceStatus.values),
        ),
        Property(
            "resource_mt",
            "t.resource_mt",
            type=NUMBER,
            title="Ore resource (million tonnes)",
            short="res_mt",
        ),
        Property(
            "grades", "t.grades::text", title="Grades (JSON)", short="grades", queryable=False
        ),
        Property(
            "reporting_code",
            "NULLIF(t.reporting_code, '')",
            title="Resource reporting code",
            short="rep_code",
            enum=tuple(v for v in ReportingCode.values if v),
        ),
        Property(
            "resource_date", "t.resource_date", type=DATE, title="Resource date", short="res_date"
        ),
        Property(
            "location_accuracy",
            "t.location_accuracy",
            title="Location accuracy",
            short="loc_acc",
            enum=tuple(LocationAccuracy.values),
        ),
        Property(
            "dataset",
            "(SELECT d.slug FROM layers_dataset d WHERE d.id = t.dataset_id)",
            title="Dataset",
            short="dataset",
        ),
        Property(
            "source_id",
            "NULLIF(t.source_id, '')",
            title="Identifier in the source",
            short="source_id",
        ),
        Property(
            "references",
            "NULLIF(t.references, '')",
            title="References",
            short="refs",
            queryable=False,
        ),
    )


GEOLOGY_PROPERTIES = (
    Property("name", "t.name", title="Name", short="name"),
    Property("lithology", "NULLIF(t.lithology, '')", title="Lithology", short="lithology"),
    Property("age", "NULLIF(t.age, '')", title="Age (chronostratigraphic name)", short="age"),
    Property(
        "age_min_ma", "t.age_min_ma", type=NUMBER, title="Youngest age (Ma)", short="age_min_ma"
    ),
    Property(
        "age_max_ma", "t.age_max_ma", type=NUMBER, title="Oldest age (Ma)", short="age_max_ma"
    ),
    Property("description", "NULLIF(t.description, '')", title="Description", short="descr"),
)

STRUCTURE_PROPERTIES = (
    Property("name", "NULLIF(t.name, '')", title="Name", short="name"),
    Property(
        "structure_type",
        "t.structure_type",
        title="Structure type",
        short="str_type",
        enum=tuple(StructureType.values),
    ),
    Property("description", "NULLIF(t.description, '')", title="Description", short="descr"),
)

MAX_VECTOR_KEYS = 200


def _shapefile_names(names: list[str]) -> list[str]:
    """Unique names of at most 10 characters, in order (`geology_class` -> `geology_cl`)."""
    taken: set[str] = set()
    shorts = []
    for name in names:
        base = "".join(ch if ch.isascii() and (ch.isalnum() or ch == "_") else "_" for ch in name)
        base = (base or "field")[:10]
        short, n = base, 1
        while short.lower() in taken:
            suffix = str(n)
            short, n = base[: 10 - len(suffix)] + suffix, n + 1
        taken.add(short.lower())
        shorts.append(short)
    return shorts


def _vector_properties(dataset_id: int) -> tuple[Property, ...]:
    """A generic layer's attribute keys and their JSON types, read once per data version."""
    key = f"catalogue:vector-keys:{dataset_id}:{data_version()}"
    rows = cache.get(key)
    if rows is None:
        with connection.cursor() as cursor:
            cursor.execute(
                """SELECT a.key, array_agg(DISTINCT jsonb_typeof(a.value)), min(f.id)
                   FROM layers_vectorfeature f, jsonb_each(f.attributes) a
                   WHERE f.dataset_id = %s GROUP BY a.key ORDER BY min(f.id), a.key LIMIT %s""",
                [dataset_id, MAX_VECTOR_KEYS],
            )
            rows = [(k, sorted(types)) for k, types, _ in cursor.fetchall()]
        cache.set(key, rows, 3600)
    shorts = _shapefile_names(["fid", *(k for k, _ in rows)])[1:]
    properties = []
    for (name, types), short in zip(rows, shorts, strict=True):
        numeric = set(types) <= {"number", "null"} and "number" in types
        properties.append(
            Property(
                name,
                "(t.attributes->>%s)::float8" if numeric else "(t.attributes->>%s)",
                type=NUMBER if numeric else STRING,
                title=name,
                short=short,
                params=(name,),
            )
        )
    return tuple(properties)


def collection_id_for(dataset: Dataset) -> str:
    return f"{DATASET_PREFIX}{dataset.slug}" if dataset.slug in RESERVED_IDS else dataset.slug


def _dataset_collection(dataset: Dataset, states: tuple[str, ...]) -> Collection | None:
    source = SOURCES.get(dataset.kind)
    if source is None:
        return None
    if source is OCCURRENCES:
        properties = _occurrence_properties(states)
    elif source is GEOLOGY:
        properties = GEOLOGY_PROPERTIES
    elif source is STRUCTURES:
        properties = STRUCTURE_PROPERTIES
    else:
        properties = _vector_properties(dataset.pk)
    return Collection(
        id=collection_id_for(dataset),
        title=dataset.title,
        description=dataset.abstract or dataset.title,
        source=source,
        properties=properties,
        where=one_dataset_where(source.table, "%s::bigint", [dataset.pk]),
        dataset=dataset,
        keywords=tuple(dataset.keywords),
    )


def aggregate_collection(states: tuple[str, ...] | None = None) -> Collection:
    return Collection(
        id=AGGREGATE_ID,
        title="Mineral occurrences",
        description=(
            "Mines, deposits, prospects and occurrences of every published dataset: "
            "each feature names its dataset, whose licence and citation apply."
        ),
        source=OCCURRENCES,
        properties=_occurrence_properties(_member_state_codes() if states is None else states),
        keywords=("mineral occurrences", "mines", "deposits", "ASEAN"),
    )


def _datasets_with_features(user: Any) -> Any:
    return (
        datasets_visible(user=user)
        .filter(kind__in=list(SOURCES))
        .select_related("member_state", "owner")
        # Never the boundaries (deposits.models.BOUNDARY_FIELDS): every items page read them.
        .defer(*without_boundaries("member_state"))
        .order_by("title", "slug")
    )


def dataset_collection(dataset: Dataset) -> Collection | None:
    """The collection of one dataset, whoever may see it (the caller checks)."""
    return _dataset_collection(dataset, _member_state_codes())


def collections_visible(*, user: Any) -> list[Collection]:
    """The aggregate first, then one collection per dataset layer the user may see."""
    states = _member_state_codes()
    found = [aggregate_collection(states)]
    for dataset in _datasets_with_features(user):
        collection = _dataset_collection(dataset, states)
        if collection is not None:
            found.append(collection)
    return found


def dataset_slug_of(collection_id: str) -> str | None:
    """The slug of the dataset a collection id names (None: a reserved id, not a dataset's)."""
    if collection_id.startswith(DATASET_PREFIX) and collection_id[len(DATASET_PREFIX) :] in (
        RESERVED_IDS
    ):
        return collection_id[len(DATASET_PREFIX) :]
    if collection_id in RESERVED_IDS:
        return None
    return collection_id


def collection_get(*, collection_id: str, user: Any) -> Collection | None:
    """None when there is no such collection or the user may not see it (the caller's 404)."""
    if collection_id == AGGREGATE_ID:
        return aggregate_collection()
    slug = dataset_slug_of(collection_id)
    if slug is None:
        return None
    # The member states' codes (the queryable's values) come with the dataset: one query.
    dataset = (
        _datasets_with_features(user)
        .filter(slug=slug)
        .annotate(
            member_state_codes=ArraySubquery(MemberState.objects.order_by("code").values("code"))
        )
        .first()
    )
    if dataset is None:
        return None
    return _dataset_collection(dataset, tuple(dataset.member_state_codes))
