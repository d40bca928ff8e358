"""Member states, the commodity vocabulary and mineral occurrences."""

from typing import Any

from django.contrib.gis.db import models
from django.contrib.gis.db.models.functions import Transform
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex, GistIndex, OpClass
from django.db.models import F, Func, Lookup, TextField

# A member state's boundaries are large (Indonesia's: 316 KB, stored twice) and only SQL needs
# them (tiles, checks). Queries leave them out: every landing page read them with the indicator
# values, 155 of its 213 ms. Reading one on an instance loads it then.
BOUNDARY_FIELDS = ("boundary", "boundary_3857")


def without_boundaries(*paths: str) -> list[str]:
    """For `.defer()` on a query that selects member states through `paths` (select_related)."""
    return [f"{path}__{name}" for path in paths for name in BOUNDARY_FIELDS]


class MemberStateManager(models.Manager["MemberState"]):
    def get_queryset(self) -> models.QuerySet["MemberState"]:
        return super().get_queryset().defer(*BOUNDARY_FIELDS)


class MemberState(models.Model):
    """An ASEAN member state; the list is data (Timor-Leste joined in 2025)."""

    code = models.CharField(max_length=3, unique=True, help_text="ISO 3166-1 alpha-3")
    name = models.CharField(max_length=100, unique=True)
    accession_year = models.PositiveSmallIntegerField()
    boundary = models.MultiPolygonField(srid=4326, null=True, blank=True)
    boundary_3857 = models.GeneratedField(
        expression=Transform("boundary", 3857),
        output_field=models.MultiPolygonField(srid=3857, null=True),
        db_persist=True,
    )
    boundary_source = models.CharField(max_length=300, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = MemberStateManager()

    class Meta:
        ordering = ["name"]
        indexes = [GistIndex(name="memberstate_boundary_3857", fields=["boundary_3857"])]

    def __str__(self) -> str:
        return self.name


class CommodityGroup(models.TextChoices):
    PRECIOUS = "precious", "Precious metals"
    BASE = "base", "Base metals"
    CRITICAL = "critical", "Battery and critical minerals"
    RARE_EARTHS = "rare_earths", "Rare earths"
    INDUSTRIAL = "industrial", "Industrial minerals"
    ENERGY = "energy", "Energy minerals"
    CONSTRUCTION = "construction", "Construction materials"


class Commodity(models.Model):
    """A term of the CGI commodity code vocabulary (http://resource.geosciml.org/classifier/cgi/commodity-code/)."""

    code = models.SlugField(max_length=60, unique=True, help_text="CGI commodity-code term")
    name = models.CharField(max_length=100)
    symbol = models.CharField(max_length=10, blank=True, help_text="Chemical symbol, if any")
    group = models.CharField(max_length=20, choices=CommodityGroup.choices)
    aliases = ArrayField(
        models.CharField(max_length=100),
        default=list,
        blank=True,
        help_text="Other names met in source files, matched case-insensitively on import.",
    )

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "commodities"

    def __str__(self) -> str:
        return self.name

    @property
    def uri(self) -> str:
        return f"http://resource.geosciml.org/classifier/cgi/commodity-code/{self.code}"


class OccurrenceStatus(models.TextChoices):
    OCCURRENCE = "occurrence", "Occurrence"
    PROSPECT = "prospect", "Prospect"
    DEPOSIT = "deposit", "Deposit"
    OPERATING_MINE = "operating_mine", "Operating mine"
    CLOSED_MINE = "closed_mine", "Closed mine"
    PAST_PRODUCER = "past_producer", "Past producer"


class ReportingCode(models.TextChoices):
    JORC = "jorc", "JORC"
    NI_43_101 = "ni43101", "NI 43-101"
    OTHER = "other", "Other"
    NONE = "", "Not reported"


class LocationAccuracy(models.TextChoices):
    EXACT = "exact", "Within 100 m"
    APPROXIMATE = "approximate", "Within 1 km"
    DISTRICT = "district", "District or area"
    UNKNOWN = "unknown", "Unknown"


SEARCH_TEXT_FUNCTION = "deposits_occurrence_search_text"


class ILike(Lookup):
    """`ILIKE`, which the trigram index serves: Django's `icontains` writes `UPPER(x) LIKE
    UPPER(y)`, an expression no index of ours holds. The right side is a LIKE pattern."""

    lookup_name = "ilike"

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} ILIKE {rhs}", [*lhs_params, *rhs_params]


class SearchText(TextField):
    """The type of `occurrence_search_text`: a text that can be matched with `ilike`."""


SearchText.register_lookup(ILike)


def _search_text(output_field: TextField) -> Func:
    """An occurrence's name and other names as one text, each apart (an SQL function,
    migration 0009: IMMUTABLE, so it can be indexed)."""
    return Func(
        F("name"), F("other_names"), function=SEARCH_TEXT_FUNCTION, output_field=output_field
    )


def occurrence_search_text() -> Func:
    """The searched text, for `ilike` (queries; the index declares it as a plain text)."""
    return _search_text(SearchText())


def like_pattern(text: str) -> str:
    """A LIKE pattern that finds `text` anywhere, its own `%`, `_` and `\\` taken literally."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


class MineralOccurrence(models.Model):
    name = models.CharField(max_length=300)
    other_names = ArrayField(models.CharField(max_length=300), default=list, blank=True)
    member_state = models.ForeignKey(MemberState, on_delete=models.PROTECT)
    province = models.CharField(max_length=200, blank=True)
    # Indexed with its dataset (Meta.indexes), not alone: see occurrence_geom_dataset.
    geom = models.PointField(srid=4326, spatial_index=False)
    geom_3857 = models.GeneratedField(
        expression=Transform("geom", 3857),
        output_field=models.PointField(srid=3857),
        db_persist=True,
    )
    commodities: "models.ManyToManyField[Commodity, OccurrenceCommodity]" = models.ManyToManyField(
        Commodity, through="OccurrenceCommodity", related_name="occurrences"
    )
    deposit_type = models.CharField(max_length=200, blank=True)
    status = models.CharField(
        max_length=20, choices=OccurrenceStatus.choices, default=OccurrenceStatus.OCCURRENCE
    )
    resource_mt = models.FloatField(
        null=True, blank=True, help_text="Ore resource, million metric tonnes"
    )
    grades = models.JSONField(
        default=dict,
        blank=True,
        help_text='Grades by commodity code, e.g. {"copper": {"value": 0.5, "unit": "%"}}',
    )
    reporting_code = models.CharField(
        max_length=10, choices=ReportingCode.choices, default=ReportingCode.NONE, blank=True
    )
    resource_date = models.DateField(null=True, blank=True)
    location_accuracy = models.CharField(
        max_length=20, choices=LocationAccuracy.choices, default=LocationAccuracy.UNKNOWN
    )
    # Indexed with the id (Meta.indexes), not alone: see occurrence_dataset_id.
    dataset = models.ForeignKey(
        "layers.Dataset", on_delete=models.CASCADE, related_name="occurrences", db_index=False
    )
    source_id = models.CharField(max_length=100, blank=True, help_text="Identifier in the source")
    references = models.TextField(blank=True)
    attributes = models.JSONField(
        default=dict, blank=True, help_text="Source columns kept as found, for lossless export."
    )

    class Meta:
        ordering = ["name", "id"]
        indexes = [
            # A dataset's pages (its OGC API collection, `?dataset=`) are its rows in id order.
            # With the dataset alone indexed, PostgreSQL walked the primary key and skipped the
            # other datasets' rows: a dataset published after a million others took 0.70-0.75 s
            # for its first 1,000-feature page (webgis.lib.mvt.one_dataset_where). Serves the
            # dataset's deletes and counts as the plain one did.
            models.Index(fields=["dataset", "id"], name="occurrence_dataset_id"),
            models.Index(fields=["status"]),
            models.Index(fields=["deposit_type"]),
            # The text searched by `q` (the map's search box, the APIs): the name and the other
            # names (migration 0009). Indexed together, since a name-only index could not
            # serve `name OR other names`: every search read every occurrence.
            GinIndex(
                OpClass(_search_text(TextField()), name="gin_trgm_ops"),
                name="occurrence_search_trgm",
            ),
            GistIndex(name="occurrence_geom_3857", fields=["geom_3857"]),
            # A bbox within one dataset (an OGC API collection) is one index condition: 2.7 ms
            # against 10.4 ms for the bbox index ANDed with the dataset's 100,000-row bitmap.
            # Geometry first, so a bbox over every dataset uses it as well as a plain one.
            # btree_gist gives GiST the bigint; the SQL compares with a bigint (`%s::bigint`).
            GistIndex(name="occurrence_geom_dataset", fields=["geom", "dataset"]),
        ]

    def __str__(self) -> str:
        return self.name


class CommodityRank(models.TextChoices):
    MAIN = "main", "Main"
    SECONDARY = "secondary", "Secondary"


class OccurrenceCommodity(models.Model):
    # No index of their own: the unique (occurrence, commodity) and the (commodity, occurrence)
    # indexes below serve both lookups, and every extra index slows a bulk publish.
    occurrence = models.ForeignKey(
        MineralOccurrence,
        on_delete=models.CASCADE,
        related_name="commodity_links",
        db_index=False,
    )
    commodity = models.ForeignKey(
        Commodity, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    rank = models.CharField(max_length=10, choices=CommodityRank.choices)

    class Meta:
        verbose_name = "occurrence commodity link"
        verbose_name_plural = "occurrence commodity links"
        constraints = [
            models.UniqueConstraint(
                fields=["occurrence", "commodity"], name="one_rank_per_commodity"
            )
        ]
        indexes = [models.Index(fields=["commodity", "occurrence"])]
