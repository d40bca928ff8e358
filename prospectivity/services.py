"""Requesting and running prospectivity models, and publishing a result as a prospectivity map."""

import json
import logging
import os
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
from django.conf import settings
from django.db import transaction
from django.db.models.expressions import RawSQL
from django.utils import timezone
from rasterio.io import MemoryFile
from rasterio.shutil import copy as raster_copy

from deposits.models import Commodity, MemberState
from layers.ingest.gdalenv import gdal_safe_env
from layers.models import Dataset, DatasetKind, RasterLayer
from layers.rasters import RasterFileMissing, media_path
from layers.selectors import datasets_visible
from prospectivity import engine, evidence
from prospectivity.models import Method, ProspectivityMap, ProspectivityRun, RunStatus
from prospectivity.recipes import BadRecipe, canonical_json, parse_recipe, recipe_hash
from webgis.lib.jobs import lost_jobs_fail

logger = logging.getLogger(__name__)

RESULTS_DIR = "prospectivity"


def max_cells() -> int:
    return int(getattr(settings, "PROSPECTIVITY_MAX_CELLS", 4_000_000))


def data_state(*, user: Any) -> tuple[str, bool]:
    """A hash of every dataset the user may see, with its version and its count of direct edits
    (`revision`, kept by triggers: layers migration 0003), so a run over data edited in place is
    not served from the cache; and whether any is unpublished."""
    import hashlib

    rows = list(
        datasets_visible(user=user)
        .annotate(revision=RawSQL("layers_dataset.revision", []))
        .order_by("id")
        .values_list("id", "version", "revision", "is_published")
    )
    text = ";".join(f"{i}:{v}.{r}:{int(p)}" for i, v, r, p in rows)
    return hashlib.sha256(text.encode()).hexdigest(), any(not p for *_, p in rows)


def _raster_for(item: dict[str, Any], index: int, *, user: Any) -> RasterLayer:
    rasters = RasterLayer.objects.filter(
        dataset__in=datasets_visible(user=user), dataset__slug=item["layer"]
    ).select_related("dataset")
    if "version" in item:
        raster = rasters.filter(version=item["version"]).first()
    else:
        raster = next((r for r in rasters if r.version == r.dataset.version), None)
    if raster is None:
        raise BadRecipe(
            f"evidence[{index}]: no raster layer {item['layer'][:60]!r}"
            + (f" at version {item['version']}" if "version" in item else "")
            + ". The layers are listed at /api/prospectivity/options.",
            field=f"evidence[{index}].layer",
        )
    if item["band"] > raster.band_count:
        raise BadRecipe(
            f"evidence[{index}].band must be from 1 to {raster.band_count}.",
            field=f"evidence[{index}].band",
        )
    return raster


def _vector_data_read(recipe: dict[str, Any], *, user: Any) -> dict[str, int]:
    """{slug: version} of every vector dataset the model reads: the visible occurrence datasets
    (training points) and, when used as evidence, the visible geology and structure datasets."""
    kinds = {DatasetKind.OCCURRENCES}
    types = {item["type"] for item in recipe["evidence"]}
    if "geology" in types:
        kinds.add(DatasetKind.GEOLOGY)
    if "structures" in types:
        kinds.add(DatasetKind.STRUCTURES)
    return dict(
        datasets_visible(user=user)
        .filter(kind__in=kinds)
        .order_by("slug")
        .values_list("slug", "version")
    )


def _data_changes(pinned: dict[str, int], current: dict[str, int]) -> list[str]:
    changes = []
    for slug in sorted(set(pinned) | set(current)):
        if slug not in current:
            changes.append(f"{slug} (version {pinned[slug]} in the recipe) is gone or not visible")
        elif slug not in pinned:
            changes.append(f"{slug} (version {current[slug]}) is new since the recipe")
        elif pinned[slug] != current[slug]:
            changes.append(f"{slug} is at version {current[slug]}, the recipe has {pinned[slug]}")
    return changes


def recipe_resolve(recipe: dict[str, Any], *, user: Any) -> dict[str, Any]:
    """Checks names against the database and pins the version of every dataset read (rasters in
    their evidence items, vector data in `data`), so the recipe re-runs exactly or not at all."""
    if not Commodity.objects.filter(code=recipe["commodity"]).exists():
        raise BadRecipe(
            f"Unknown commodity {recipe['commodity'][:60]!r}. Codes are listed at /api/vocabularies/.",
            field="commodity",
        )
    code = recipe["area"].get("member_state")
    if code and not MemberState.objects.filter(code=code, boundary__isnull=False).exists():
        raise BadRecipe(
            f"Unknown member state {code!r} (or it has no boundary).", field="area.member_state"
        )
    for i, item in enumerate(recipe["evidence"]):
        if item["type"] == "raster":
            item["version"] = _raster_for(item, i, user=user).version
    current = _vector_data_read(recipe, user=user)
    if "data" in recipe and (changes := _data_changes(recipe["data"], current)):
        raise BadRecipe(
            "The data this recipe was made over has changed, so it cannot give the same result: "
            + "; ".join(changes[:10])
            + '. Remove "data" from the recipe to run the model over today\'s data.',
            field="data",
        )
    recipe["data"] = current
    return recipe


def _training(
    recipe: dict[str, Any], grid: evidence.Grid, *, user: Any
) -> tuple[np.ndarray, np.ndarray]:
    commodity = Commodity.objects.get(code=recipe["commodity"])
    ids, cells = evidence.training_points(
        user=user,
        commodity_id=commodity.pk,
        main_only=recipe["commodity_rank"] == "main",
        area=recipe["area"],
        grid=grid,
    )
    if ids.size == 0:
        raise BadRecipe(
            f"No {commodity.name.lower()} occurrences lie in the area of interest: "
            "choose another area or commodity.",
            field="area",
        )
    if np.unique(cells).size < 2:
        raise BadRecipe(
            f"Only one cell of the area holds {commodity.name.lower()} occurrences; a model needs "
            "at least two. Choose a larger area or a smaller cell size.",
            field="area",
        )
    return ids, cells


def run_request(*, payload: Any, user: Any) -> tuple[ProspectivityRun, bool]:
    """The run for a recipe: a cached one when the same recipe ran over the same data, else a new
    job. Bad recipes raise BadRecipe before anything is stored."""
    recipe = recipe_resolve(parse_recipe(payload), user=user)
    state, private = data_state(user=user)
    key = recipe_hash(recipe, state)
    runs_mark_lost()
    for run in ProspectivityRun.objects.filter(recipe_hash=key).exclude(status=RunStatus.FAILED):
        if run.status != RunStatus.DONE or _result_exists(run):
            return run, False
    # The cheap checks run now, so a bad area or a commodity absent from it is a 400, not a failed job.
    grid = evidence.grid_for(recipe["area"], recipe["cell_size"], max_cells=max_cells())
    _training(recipe, grid, user=user)
    run = ProspectivityRun.objects.create(
        recipe_hash=key,
        recipe=recipe,
        data_state=state,
        is_private=private,
        created_by=user if getattr(user, "is_authenticated", False) else None,
    )
    from prospectivity.tasks import prospectivity_run_task

    prospectivity_run_task.enqueue(str(run.pk))
    run.refresh_from_db()
    return run, True


def _result_exists(run: ProspectivityRun) -> bool:
    try:
        media_path(run.path)
    except RasterFileMissing:
        return False
    return True


def _progress(run: ProspectivityRun, percent: int, message: str) -> None:
    ProspectivityRun.objects.filter(pk=run.pk).update(
        progress=percent, progress_message=message[:200], heartbeat_at=timezone.now()
    )


# A running run that reported nothing for webgis.lib.jobs.STALLED_AFTER has lost its worker.
LOST_MESSAGE = "The worker stopped while computing the model. Run it again."


def runs_mark_lost() -> int:
    """Running runs whose worker died are marked failed, so the same recipe runs again instead
    of waiting on them (webgis.lib.jobs). Returns how many."""
    return len(
        lost_jobs_fail(
            ProspectivityRun,
            running=RunStatus.RUNNING,
            status=RunStatus.FAILED,
            error_message=LOST_MESSAGE,
            progress_message="Failed",
        )
    )


def _default_scores(item: dict[str, Any], layer: engine.Evidence) -> list[float]:
    n = len(layer.labels)
    if item["type"] == "geology":
        given = item.get("scores") or {}
        favourable = set(item.get("favourable") or [])
        default = 0.0 if favourable else 0.5
        return [
            float(given[label]) if label in given else (1.0 if label in favourable else default)
            for label in layer.labels
        ]
    if "scores" in item and len(item["scores"]) == n:
        return [float(s) for s in item["scores"]]
    ramp = [k / (n - 1) for k in range(n)] if n > 1 else [1.0]
    if item["type"] == "structures":
        return ramp[::-1]  # nearest ring scores 1, beyond every buffer 0
    return ramp if item.get("ascending", True) else ramp[::-1]


def model_compute(
    recipe: dict[str, Any], *, user: Any, progress: Any = None
) -> tuple[np.ndarray, evidence.Grid, dict[str, Any]]:
    """Builds the grid and evidence, fits and validates the model: (values, grid, report)."""
    say = progress or (lambda percent, message: None)
    say(10, "Building the grid over the area of interest")
    grid = evidence.grid_for(recipe["area"], recipe["cell_size"], max_cells=max_cells())
    ids, cells = _training(recipe, grid, user=user)
    holdout = recipe["validation"]
    train_mask, test_mask = engine.split_holdout(ids, holdout["holdout"], holdout["seed"])
    train = np.unique(cells[train_mask])
    test = np.unique(cells[test_mask])
    layers: list[engine.Evidence] = []
    for i, item in enumerate(recipe["evidence"]):
        say(
            20 + int(50 * i / len(recipe["evidence"])),
            f"Evidence layer {i + 1} of {len(recipe['evidence'])}",
        )
        if item["type"] == "geology":
            layer = evidence.geology_evidence(user=user, attribute=item["attribute"], grid=grid)
        elif item["type"] == "structures":
            layer = evidence.structures_evidence(user=user, buffers=item["buffers"], grid=grid)
        else:
            layer = evidence.raster_evidence(
                raster=_raster_for(item, i, user=user), item=item, grid=grid
            )
        layer.weight = float(item.get("weight", 1.0))
        layer.scores = _default_scores(item, layer)
        layers.append(layer)
    if train.size < 1:
        raise BadRecipe(
            "Every occurrence was held out: lower validation.holdout.", field="validation.holdout"
        )
    say(75, "Fitting the model")
    values, report = engine.run_model(
        method=recipe["method"],
        evidence=layers,
        study=grid.study,
        train=train,
        test=test,
        cell_area_km2=grid.cell_area_km2(),
        gamma=recipe.get("gamma", 0.9),
    )
    report["grid"] = {
        "crs": evidence.GRID_CRS,
        "cell_size": grid.cell_size,
        "width": grid.width,
        "height": grid.height,
        "study_cells": int(grid.study.sum()),
        "area_km2": round(float(grid.study.sum()) * grid.cell_area_km2(), 1),
        "bounds": grid.bounds_4326(),
    }
    report["training"] = {"points": int(train_mask.sum()), "cells": int(train.size)}
    report["holdout"] = {"points": int(test_mask.sum()), "cells": int(test.size)}
    return values, grid, report


def write_cog(values: np.ndarray, grid: evidence.Grid, path: Path, tags: dict[str, str]) -> None:
    """A float32 Cloud Optimised GeoTIFF (NaN = no data), written beside and moved into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial.tif")
    profile = {
        "driver": "GTiff",
        "width": grid.width,
        "height": grid.height,
        "count": 1,
        "dtype": "float32",
        "crs": evidence.GRID_CRS,
        "transform": grid.transform,
        "nodata": float("nan"),
    }
    with gdal_safe_env(), MemoryFile() as memory, memory.open(**profile) as scratch:
        scratch.write(values.astype("float32"), 1)
        scratch.update_tags(**tags)
        raster_copy(
            scratch,
            partial,
            driver="COG",
            compress="DEFLATE",
            predictor="YES",
            overview_resampling="average",
            blocksize=256,
        )
    os.replace(partial, path)


def run_execute(run_id: str) -> None:
    """The job: computes the model, writes the GeoTIFF and the report, or records why it failed."""
    run = ProspectivityRun.objects.select_related("created_by").get(pk=run_id)
    if run.status == RunStatus.DONE and _result_exists(run):
        return
    ProspectivityRun.objects.filter(pk=run.pk).update(
        status=RunStatus.RUNNING,
        progress=5,
        progress_message="Starting",
        error_message="",
        heartbeat_at=timezone.now(),
    )
    try:
        values, grid, report = model_compute(
            run.recipe, user=run.created_by, progress=lambda p, m: _progress(run, p, m)
        )
        _progress(run, 90, "Writing the GeoTIFF")
        relative = f"{RESULTS_DIR}/{run.recipe_hash[:40]}.tif"
        write_cog(
            values,
            grid,
            Path(settings.MEDIA_ROOT) / relative,
            {"AMDIS_RECIPE": canonical_json(run.recipe), "AMDIS_METHOD": run.recipe["method"]},
        )
    except BadRecipe as exc:
        _fail(run, exc.message)
        return
    except Exception as exc:
        logger.exception("Prospectivity run %s failed", run.pk)
        _fail(
            run,
            f"The model could not be computed ({type(exc).__name__}). Try again or change the recipe.",
        )
        raise
    report["data_state"] = run.data_state
    ProspectivityRun.objects.filter(pk=run.pk).update(
        status=RunStatus.DONE,
        progress=100,
        progress_message="Done",
        path=relative,
        result=json.loads(json.dumps(report, allow_nan=False, default=_json_default)),
        finished_at=timezone.now(),
    )


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(type(value).__name__)


def _fail(run: ProspectivityRun, message: str) -> None:
    ProspectivityRun.objects.filter(pk=run.pk).update(
        status=RunStatus.FAILED,
        error_message=message,
        progress_message="Failed",
        finished_at=timezone.now(),
    )


def recipe_export(run: ProspectivityRun) -> dict[str, Any]:
    """The recipe as a user downloads it: re-posting it re-runs the same model exactly."""
    return {**run.recipe, "made_with": {"run": str(run.pk), "data_state": run.data_state}}


@transaction.atomic
def prospectivity_map_publish(
    *,
    run: ProspectivityRun,
    slug: str,
    title: str,
    licence: str,
    is_published: bool = False,
    **fields: Any,
) -> Dataset:
    """A finished run becomes a raster dataset with prospectivity metadata (an operator's command)."""
    if run.status != RunStatus.DONE:
        raise ValueError("Only a finished run can be published.")
    source = media_path(run.path)
    dataset = Dataset.objects.create(
        slug=slug,
        title=title,
        kind=DatasetKind.RASTER,
        licence=licence,
        is_published=is_published,
        **fields,
    )
    relative = Path("rasters") / f"d{dataset.pk}_v1.tif"
    destination = Path(settings.MEDIA_ROOT) / relative
    destination.parent.mkdir(parents=True, exist_ok=True)
    destination.write_bytes(source.read_bytes())
    with gdal_safe_env(), rasterio.open(destination, driver="GTiff") as src:
        from django.contrib.gis.geos import Polygon

        from layers.ingest.rasters import band_statistics

        stats = band_statistics(src)
        west, south, east, north = run.result["grid"]["bounds"]
        low, high = run.result["value_range"]
        RasterLayer.objects.create(
            dataset=dataset,
            version=1,
            path=str(relative),
            width=src.width,
            height=src.height,
            band_count=1,
            dtype="float32",
            srid=evidence.GRID_SRID,
            nodata=None,
            footprint=Polygon.from_bbox((west, south, east, north)),
            statistics=stats,
            units="probability" if run.recipe["method"] == "wofe" else "index (0–1)",
            colormap="ylorrd",
            value_min=low,
            value_max=high,
        )
    ProspectivityMap.objects.create(
        dataset=dataset,
        method=run.recipe["method"] if run.recipe["method"] in Method.values else Method.OTHER,
        commodity=Commodity.objects.get(code=run.recipe["commodity"]),
        evidence=[{"name": layer["name"], "type": layer["type"]} for layer in run.result["layers"]],
        validation={
            "success_auc": run.result["success_rate"]["auc"],
            "prediction_auc": (run.result.get("prediction_rate") or {}).get("auc"),
            "training_points": run.result["training"]["points"],
            "held_out_points": run.result["holdout"]["points"],
        },
        recipe=run.recipe,
        run=run,
    )
    return dataset


DEMO_MAP_SLUG = "amdis-demo-prospectivity-gold-phl"
DEMO_RECIPE = {
    "method": "wofe",
    "commodity": "gold",
    "area": {"member_state": "PHL"},
    "cell_size": 5000,
    "evidence": [
        {"type": "geology", "attribute": "lithology"},
        {"type": "structures", "buffers": [5000, 15000, 30000]},
    ],
    "validation": {"holdout": 0.2, "seed": 1},
}


def demo_prospectivity_map_create() -> Dataset | None:
    """A published demo prospectivity map made from the demo data, so the map shows one at once."""
    existing = Dataset.objects.filter(slug=DEMO_MAP_SLUG).first()
    if existing is not None:
        return existing
    try:
        run, _ = run_request(payload=DEMO_RECIPE, user=None)
    except BadRecipe:
        return None  # no demo gold occurrences in the area: nothing to learn from
    run_execute(str(run.pk))  # inline: the demo must be there when `make run` opens the map
    run.refresh_from_db()
    if run.status != RunStatus.DONE:
        return None
    return prospectivity_map_publish(
        run=run,
        slug=DEMO_MAP_SLUG,
        title="Demo gold prospectivity, Philippines (weights of evidence)",
        licence="CC0 1.0",
        is_published=True,
        is_demo=True,
        organisation="AMDIS",
        abstract="Made from the demonstration occurrences, geology and faults: shows how AMDIS publishes "
        "prospectivity maps. Not a real assessment.",
        member_state=MemberState.objects.get(code="PHL"),
    )
