"""Download jobs: a GeoPackage or Shapefile too large to build within a request is built by
the job worker; identical requests (same data version, filters and viewer) share one job."""

import uuid

from django.conf import settings
from django.contrib.gis.db import models as gis_models
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GistIndex
from django.db import models


class DownloadStatus(models.TextChoices):
    QUEUED = "queued", "Waiting for a worker"
    RUNNING = "running", "Being written"
    DONE = "done", "Ready"
    FAILED = "failed", "Failed"


class DownloadJob(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    key = models.CharField(
        max_length=64, db_index=True, help_text="Hash of the request and data version"
    )
    collection_id = models.CharField(max_length=140)
    format = models.CharField(max_length=10)
    # The validated query parameters, re-parsed by the job with the requester's permissions.
    params = models.JSONField(default=dict)
    scope = models.CharField(
        max_length=40, help_text="`public`, or `user-<id>` for restricted viewers"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    status = models.CharField(
        max_length=10, choices=DownloadStatus.choices, default=DownloadStatus.QUEUED
    )
    feature_count = models.PositiveIntegerField(default=0)
    written = models.PositiveIntegerField(default=0)
    path = models.CharField(max_length=300, blank=True, help_text="Relative to MEDIA_ROOT")
    size_bytes = models.BigIntegerField(default=0)
    error_message = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Written when the worker starts and after each batch: a running job silent for longer than
    # webgis.lib.jobs.STALLED_AFTER has lost its worker.
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.collection_id}.{self.format} ({self.get_status_display()})"

    @property
    def progress(self) -> int:
        """Percent written."""
        if self.status == DownloadStatus.DONE:
            return 100
        if not self.feature_count:
            return 0
        return min(99, self.written * 100 // self.feature_count)

    @property
    def is_active(self) -> bool:
        return self.status in {DownloadStatus.QUEUED, DownloadStatus.RUNNING}


class FeatureBlock(models.Model):
    """A run of consecutive features of one published dataset, as the items API sends them.

    A dataset's features, ordered by id, are cut into blocks of `block_size`; `features` holds a
    block's GeoJSON Feature texts joined by commas (built by PostGIS, catalogue.blocks) and
    `ends` the byte offset where each feature ends. An unfiltered page of the OGC API is then
    a few block reads and at most two byte slices, instead of one index lookup and one JSON
    build per feature. Blocks are of one (version, revision) of the dataset; triggers delete them
    when the dataset or anything its features show (member states, commodities) changes.
    """

    dataset = models.ForeignKey("layers.Dataset", on_delete=models.CASCADE, related_name="+")
    version = models.PositiveIntegerField()
    revision = models.IntegerField()
    block_size = models.PositiveIntegerField()
    seq = models.PositiveIntegerField(help_text="Block number: features seq*size onwards")
    matched = models.PositiveIntegerField(help_text="Features in the whole dataset")
    features = models.TextField()
    ends = ArrayField(models.PositiveIntegerField())

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["dataset", "seq"], name="featureblock_dataset_seq")
        ]

    def __str__(self) -> str:
        return f"{self.dataset_id} v{self.version} block {self.seq}"


class FeatureText(models.Model):
    """One feature of a published occurrence dataset, as the items API sends it, stored in
    spatial order (by geohash) for bbox pages: the features in a box sit in a few adjacent table
    pages, read through the `(geom, dataset)` index, instead of one index lookup per feature.
    The texts are the blocks' texts, written and deleted with them (catalogue.blocks): they are
    read only while the dataset's blocks are current."""

    dataset = models.ForeignKey(
        "layers.Dataset", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    feature_id = models.BigIntegerField()
    geom = gis_models.GeometryField(srid=4326, spatial_index=False)
    feature = models.TextField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["dataset", "feature_id"], name="featuretext_dataset_feature"
            )
        ]
        indexes = [GistIndex(fields=["geom", "dataset"], name="featuretext_geom_dataset")]

    def __str__(self) -> str:
        return f"{self.dataset_id} feature {self.feature_id}"
