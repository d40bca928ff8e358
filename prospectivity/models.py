"""Prospectivity model runs (jobs cached by their recipe's hash) and published prospectivity maps."""

import uuid
from typing import Any

from django.conf import settings
from django.contrib.gis.db import models


class Method(models.TextChoices):
    WEIGHTS_OF_EVIDENCE = "wofe", "Weights of evidence"
    INDEX_OVERLAY = "index_overlay", "Weighted index overlay"
    FUZZY_GAMMA = "fuzzy_gamma", "Fuzzy gamma overlay"
    OTHER = "other", "Other"


class RunStatus(models.TextChoices):
    QUEUED = "queued", "Waiting for a worker"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class ProspectivityRun(models.Model):
    """One model run: its recipe, progress and results (the raster is a COG under MEDIA_ROOT).

    `recipe_hash` covers the normalised recipe and the state of the data the requester could
    see, so an identical request over unchanged data gets the finished run back.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    recipe_hash = models.CharField(max_length=64, db_index=True)
    recipe = models.JSONField()
    data_state = models.CharField(
        max_length=64, help_text="Hash of the datasets read, with versions"
    )
    is_private = models.BooleanField(
        default=False, help_text="Made from data the public cannot see: shown to its maker only."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    progress_message = models.CharField(max_length=200, blank=True)
    error_message = models.TextField(blank=True)
    path = models.CharField(
        max_length=300, blank=True, help_text="Result GeoTIFF, relative to MEDIA_ROOT."
    )
    result = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Written when the worker starts and at each step: a running run silent for longer than
    # webgis.lib.jobs.STALLED_AFTER has lost its worker.
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return (
            f"{self.recipe.get('method', '?')} {self.recipe.get('commodity', '?')} ({self.status})"
        )


class ProspectivityMap(models.Model):
    """Makes a raster dataset a prospectivity map: how it was made and how well it predicts."""

    dataset = models.OneToOneField(
        "layers.Dataset", on_delete=models.CASCADE, related_name="prospectivity_map"
    )
    method = models.CharField(max_length=20, choices=Method.choices)
    commodity = models.ForeignKey("deposits.Commodity", on_delete=models.PROTECT, related_name="+")
    evidence = models.JSONField(
        default=list, blank=True, help_text='Evidence layers: [{"name": ..., "description": ...}]'
    )
    validation = models.JSONField(
        default=dict,
        blank=True,
        help_text='Figures such as {"success_auc": 0.82, "prediction_auc": 0.78, "training_points": 40}',
    )
    recipe = models.JSONField(
        default=dict, blank=True, help_text="The AMDIS recipe that re-makes the map, if any."
    )
    run = models.ForeignKey(
        ProspectivityRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    def __str__(self) -> str:
        return f"Prospectivity map: {self.dataset}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "method_name": self.get_method_display(),
            "commodity": self.commodity.code,
            "commodity_name": self.commodity.name,
            "evidence": list(self.evidence or []),
            "validation": dict(self.validation or {}),
            "has_recipe": bool(self.recipe),
        }
