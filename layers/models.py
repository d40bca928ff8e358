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
    VECTOR = "vector", "Vector layer"
    RASTER = "raster", "Raster layer"
    MIXED = "mixed", "Several layers"


class Dataset(models.Model):
    """Metadata for one published body of data; features point at the dataset they came from."""

    slug = models.SlugField(max_length=120, unique=True)
    title = models.CharField(max_length=300)
    abstract = models.TextField(blank=True)
    kind = models.CharField(max_length=20, choices=DatasetKind.choices)
    organisation = models.CharField(max_length=300, blank=True, help_text="Credited publisher")
    owner = models.ForeignKey(
        "layers.Organisation",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="datasets",
        help_text="The organisation whose editors manage this dataset.",
    )
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
    # Indexed with the id (Meta.indexes): a dataset's pages in id order (webgis.lib.mvt.Where).
    dataset = models.ForeignKey(
        Dataset, on_delete=models.CASCADE, related_name="units", db_index=False
    )
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
        indexes = [
            GistIndex(name="geologicalunit_geom_3857", fields=["geom_3857"]),
            models.Index(fields=["dataset", "id"], name="geologicalunit_dataset_id"),
        ]

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
    dataset = models.ForeignKey(
        Dataset, on_delete=models.CASCADE, related_name="structures", db_index=False
    )
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
        indexes = [
            GistIndex(name="structure_geom_3857", fields=["geom_3857"]),
            models.Index(fields=["dataset", "id"], name="structure_dataset_id"),
        ]

    def __str__(self) -> str:
        return self.name or self.get_structure_type_display()


class OrganisationKind(models.TextChoices):
    SURVEY = "survey", "National geological survey"
    SECRETARIAT = "secretariat", "ASEAN Secretariat"


class Organisation(models.Model):
    """A national survey (of one member state) or the ASEAN Secretariat."""

    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=80, unique=True)
    kind = models.CharField(max_length=20, choices=OrganisationKind.choices)
    member_state = models.ForeignKey(
        "deposits.MemberState",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        help_text="The member state a survey publishes for; empty for the Secretariat.",
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind="secretariat") | models.Q(member_state__isnull=False),
                name="survey_has_member_state",
            )
        ]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    EDITOR = "editor", "Editor (uploads and publishes for the organisation's member state)"
    REVIEWER = "reviewer", "Reviewer (sees everything, publishes nothing)"


class Membership(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=20, choices=Role.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "organisation"], name="one_membership_per_organisation"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.organisation} ({self.role})"


class UploadTarget(models.TextChoices):
    OCCURRENCES = "occurrences", "Mineral occurrences (points)"
    GEOLOGY = "geology", "Geological units (polygons)"
    STRUCTURES = "structures", "Structures such as faults (lines)"
    VECTOR = "vector", "Other vector layer (kept with its own attributes)"
    RASTER = "raster", "Raster layer (GeoTIFF)"


class UploadStatus(models.TextChoices):
    QUEUED = "queued", "Waiting for a worker"
    RUNNING = "running", "Being read and checked"
    NEEDS_INPUT = "needs_input", "Needs your answer"
    READY = "ready", "Checked: review the report, then publish"
    PUBLISHING = "publishing", "Publishing"
    PUBLISHED = "published", "Published"
    FAILED = "failed", "Failed"
    DISCARDED = "discarded", "Discarded"


class PublishMode(models.TextChoices):
    REPLACE = "replace", "Replace the dataset's features"
    APPEND = "append", "Add to the dataset's features"


class Upload(models.Model):
    """One uploaded file on its way to becoming a dataset version; also the ingest job's state."""

    id = models.UUIDField(primary_key=True)
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="uploads")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    target = models.CharField(max_length=20, choices=UploadTarget.choices)
    dataset = models.ForeignKey(
        Dataset,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="uploads",
        help_text="The dataset this upload becomes a new version of.",
    )
    mode = models.CharField(max_length=10, choices=PublishMode.choices, default=PublishMode.REPLACE)
    original_name = models.CharField(max_length=255)
    size_bytes = models.BigIntegerField()
    sha256 = models.CharField(max_length=64)
    status = models.CharField(
        max_length=20, choices=UploadStatus.choices, default=UploadStatus.QUEUED
    )
    stage = models.CharField(max_length=30, blank=True)
    progress = models.PositiveSmallIntegerField(default=0)
    progress_message = models.CharField(max_length=300, blank=True)
    error_code = models.CharField(max_length=60, blank=True)
    error_message = models.TextField(blank=True)
    options = models.JSONField(default=dict, blank=True, help_text="layer, srid, encoding, mapping")
    report = models.JSONField(default=dict, blank=True)
    staging_table = models.CharField(max_length=63, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.original_name} ({self.get_status_display()})"

    @property
    def is_active(self) -> bool:
        return self.status in {UploadStatus.QUEUED, UploadStatus.RUNNING, UploadStatus.PUBLISHING}


class JobProgress(models.Model):
    """How far a running publish or version restore has got (layers.ingest.progress), for the
    upload's page and the dataset's versions page.

    Both run in one transaction that holds a row locked, and nothing they write shows before it
    commits, a million rows taking minutes; the worker writes this row on a connection of its
    own, committed at once. `job_id` is the upload's id for a publish (its page polls by it) and
    the restore job's id for a restore (django-tasks ids are strings, UUIDs in the database
    backend). No foreign key: checking one would wait on that lock.
    """

    job_id = models.CharField(max_length=64, primary_key=True)
    percent = models.PositiveSmallIntegerField()
    message = models.CharField(max_length=300)
    updated_at = models.DateTimeField()


class ColumnMapping(models.Model):
    """The last column mapping an organisation used for a target, offered for its next upload."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="column_mappings"
    )
    target = models.CharField(max_length=20, choices=UploadTarget.choices)
    mapping = models.JSONField(default=dict)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "target"], name="one_mapping_per_target"
            )
        ]


class DatasetVersion(models.Model):
    """A published state of a dataset; its full feature set is kept in `snapshot_table`."""

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    upload = models.ForeignKey(
        Upload, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    restored_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    mode = models.CharField(max_length=10, choices=PublishMode.choices)
    feature_count = models.PositiveIntegerField()
    snapshot_table = models.CharField(max_length=63)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["dataset", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["dataset", "number"], name="one_version_number")
        ]

    def __str__(self) -> str:
        return f"{self.dataset} v{self.number}"


class AuditAction(models.TextChoices):
    UPLOADED = "uploaded", "Uploaded"
    CHECKED = "checked", "Checked"
    OPTIONS_CHANGED = "options_changed", "Changed the import options"
    PUBLISHED = "published", "Published"
    RESTORED = "restored", "Restored a version"
    DISCARDED = "discarded", "Discarded"
    FAILED = "failed", "Failed"
    RETRIED = "retried", "Retried"
    DELETED = "deleted", "Deleted a dataset"


class AuditEntry(models.Model):
    """Who did what to which upload or dataset, and when (visible to reviewers)."""

    at = models.DateTimeField(auto_now_add=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(max_length=30, choices=AuditAction.choices)
    dataset = models.ForeignKey(
        Dataset, null=True, blank=True, on_delete=models.SET_NULL, related_name="audit"
    )
    upload = models.ForeignKey(
        Upload, null=True, blank=True, on_delete=models.SET_NULL, related_name="audit"
    )
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at"]
        verbose_name_plural = "audit entries"


class VectorFeature(models.Model):
    """A feature of a generic vector layer, kept with its own attributes."""

    dataset = models.ForeignKey(
        Dataset, on_delete=models.CASCADE, related_name="vector_features", db_index=False
    )
    attributes = models.JSONField(default=dict)
    geom = models.GeometryField(srid=4326)
    geom_3857 = models.GeneratedField(
        expression=Transform("geom", 3857),
        output_field=models.GeometryField(srid=3857),
        db_persist=True,
    )

    class Meta:
        indexes = [
            GistIndex(name="vectorfeature_geom_3857", fields=["geom_3857"]),
            models.Index(fields=["dataset", "id"], name="vectorfeature_dataset_id"),
        ]


class RasterLayer(models.Model):
    """A raster stored as a Cloud Optimised GeoTIFF under MEDIA_ROOT; one per dataset version."""

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="rasters")
    version = models.PositiveIntegerField()
    path = models.CharField(
        max_length=300, help_text="Relative to MEDIA_ROOT; never user-supplied."
    )
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    band_count = models.PositiveSmallIntegerField()
    dtype = models.CharField(max_length=20)
    srid = models.PositiveIntegerField()
    nodata = models.FloatField(null=True, blank=True)
    footprint = models.PolygonField(srid=4326)
    statistics = models.JSONField(
        default=list, blank=True, help_text="Per band: min, max, mean, std, percentiles"
    )
    units = models.CharField(max_length=50, blank=True)
    colormap = models.CharField(max_length=40, default="viridis")
    value_min = models.FloatField(null=True, blank=True)
    value_max = models.FloatField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["dataset", "version"], name="one_raster_per_version")
        ]
