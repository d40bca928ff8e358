"""Datasets (the unit of publication and versioning) and the geological map layers they own."""

from django.conf import settings
from django.contrib.gis.db import models
from django.contrib.gis.db.models.functions import Transform
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GistIndex


class DatasetKind(models.TextChoices):
    OCCURRENCES = "occurrences", "Mineral occurrences"
    GEOLOGY = "geology", "Geological units"
    STRUCTURES = "structures", "Structures"
    MIXED = "mixed", "Several layers"


class Dataset(models.Model):
    """Metadata for one published body of data; features point at the dataset they came from."""

    slug = models.SlugField(max_length=120, unique=True)
    title = models.CharField(max_length=300)
    abstract = models.TextField(blank=True)
    kind = models.CharField(max_length=20, choices=DatasetKind.choices)
    organisation = models.CharField(max_length=300, blank=True)
    member_state = models.ForeignKey(
        "deposits.MemberState",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        help_text="Empty for regional datasets.",
    )
    licence = models.CharField(max_length=200)
    citation = models.TextField(blank=True)
    source_url = models.URLField(blank=True)
    scale_denominator = models.PositiveIntegerField(null=True, blank=True)
    keywords = ArrayField(models.CharField(max_length=100), default=list, blank=True)
    version = models.PositiveIntegerField(default=1)
    is_published = models.BooleanField(default=False)
    is_demo = models.BooleanField(default=False, help_text="Made-up demonstration data.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title


class GeologicalUnit(models.Model):
    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="units")
    name = models.CharField(max_length=300)
    lithology = models.CharField(max_length=300, blank=True)
    age = models.CharField(max_length=200, blank=True, help_text="Chronostratigraphic name.")
    age_min_ma = models.FloatField(null=True, blank=True)
    age_max_ma = models.FloatField(null=True, blank=True)
    description = models.TextField(blank=True)
    geom = models.MultiPolygonField(srid=4326)
    # Stored in Web Mercator so a tile query never transforms a whole table.
    geom_3857 = models.GeneratedField(
        expression=Transform("geom", 3857),
        output_field=models.MultiPolygonField(srid=3857),
        db_persist=True,
    )

    class Meta:
        indexes = [GistIndex(name="geologicalunit_geom_3857", fields=["geom_3857"])]

    def __str__(self) -> str:
        return self.name


class StructureType(models.TextChoices):
    NORMAL_FAULT = "normal_fault", "Normal fault"
    REVERSE_FAULT = "reverse_fault", "Reverse fault"
    THRUST_FAULT = "thrust_fault", "Thrust fault"
    STRIKE_SLIP_FAULT = "strike_slip_fault", "Strike-slip fault"
    FAULT = "fault", "Fault (unspecified)"
    FOLD_AXIS = "fold_axis", "Fold axis"
    LINEAMENT = "lineament", "Lineament"


class Structure(models.Model):
    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="structures")
    name = models.CharField(max_length=300, blank=True)
    structure_type = models.CharField(max_length=30, choices=StructureType.choices)
    description = models.TextField(blank=True)
    attributes = models.JSONField(default=dict, blank=True)
    geom = models.MultiLineStringField(srid=4326)
    geom_3857 = models.GeneratedField(
        expression=Transform("geom", 3857),
        output_field=models.MultiLineStringField(srid=3857),
        db_persist=True,
    )

    class Meta:
        indexes = [GistIndex(name="structure_geom_3857", fields=["geom_3857"])]

    def __str__(self) -> str:
        return self.name or self.get_structure_type_display()
