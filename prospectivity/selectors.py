"""Reads for the modeller: what a user may model with, and which runs they may see."""

from typing import Any
from uuid import UUID

from django.db.models import Count, Q
from django.urls import reverse

from deposits.models import Commodity, MemberState
from layers.raster_selectors import rasters_visible
from layers.selectors import datasets_visible
from prospectivity.models import ProspectivityRun, RunStatus
from prospectivity.recipes import (
    GEOLOGY_ATTRIBUTES,
    MAX_CELL_SIZE_M,
    METHODS,
    MIN_CELL_SIZE_M,
)


def modeller_options(*, user: Any, max_cells: int) -> dict[str, Any]:
    """Commodities with visible occurrences, member states, evidence layers and limits."""
    visible = datasets_visible(user=user)
    commodities = (
        Commodity.objects.annotate(
            occurrence_count=Count(
                "occurrences", filter=Q(occurrences__dataset__in=visible), distinct=True
            )
        )
        .filter(occurrence_count__gt=0)
        .order_by("name")
    )
    return {
        "methods": list(METHODS),
        "commodities": [
            {"code": c.code, "name": c.name, "occurrences": c.occurrence_count} for c in commodities
        ],
        "member_states": list(
            MemberState.objects.filter(boundary__isnull=False)
            .order_by("name")
            .values("code", "name")
        ),
        "geology_attributes": list(GEOLOGY_ATTRIBUTES),
        "rasters": [
            {
                "layer": r.dataset.slug,
                "title": r.dataset.title,
                "version": r.version,
                "units": r.units,
                "bands": r.band_count,
            }
            for r in rasters_visible(user=user)[:200]
        ],
        "limits": {"max_cells": max_cells, "cell_size": [MIN_CELL_SIZE_M, MAX_CELL_SIZE_M]},
    }


def run_visible(*, user: Any, pk: UUID, data_state: Any) -> ProspectivityRun | None:
    """A run made from public data is anyone's; one made from unpublished data is its maker's,
    or that of a user who sees exactly the same data."""
    run = ProspectivityRun.objects.filter(pk=pk).first()
    if run is None or not run.is_private:
        return run
    if not getattr(user, "is_authenticated", False):
        return None
    if run.created_by_id == user.pk or data_state(user=user)[0] == run.data_state:
        return run
    return None


def run_dict(run: ProspectivityRun, *, cached: bool = False) -> dict[str, Any]:
    pk = str(run.pk)
    done = run.status == RunStatus.DONE
    body: dict[str, Any] = {
        "id": pk,
        "status": run.status,
        "progress": run.progress,
        "progress_message": run.progress_message,
        "error": run.error_message or None,
        "cached": cached,
        "recipe": run.recipe,
        "result": run.result if done else None,
        "links": {
            "self": reverse("api-prospectivity-run", args=[pk]),
            "recipe": reverse("prospectivity-recipe", args=[pk]),
        },
    }
    if done:
        tiles = reverse("prospectivity-tile", args=[pk, "0", "0", "0"]).replace(
            "/0/0/0.png", "/{z}/{x}/{y}.png"
        )
        body["links"].update(
            {
                "geotiff": reverse("prospectivity-geotiff", args=[pk]),
                "tiles": tiles,
                "point": reverse("api-prospectivity-point", args=[pk]),
            }
        )
    return body
