"""Model runs through the API: a job per recipe, cached by its hash, results as GeoTIFF, tiles,
values and a recipe that re-makes the same raster."""

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np
import pytest
import rasterio
from django.conf import settings
from django.test import Client
from django.utils import timezone

from deposits.models import MineralOccurrence
from layers.models import Dataset, DatasetKind
from prospectivity import services
from prospectivity.models import ProspectivityRun, RunStatus
from prospectivity.services import prospectivity_map_publish
from tests.prospectivity.conftest import recipe
from tests.rasters.factories import raster_layer_from_array
from webgis.lib.jobs import STALLED_AFTER

pytestmark = pytest.mark.django_db


def post(client: Client, body: Any) -> Any:
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post("/api/prospectivity/runs/", data, content_type="application/json")


def result_array(run: dict[str, Any], client: Client) -> np.ndarray:
    response = client.get(run["links"]["geotiff"])
    assert response.status_code == 200
    with rasterio.MemoryFile(b"".join(response.streaming_content)) as memory, memory.open() as src:
        assert src.crs.to_epsg() == 6933
        assert src.overviews(1) or max(src.width, src.height) <= 512
        return src.read(1)


def test_a_weights_of_evidence_run_gives_weights_curves_and_a_raster(
    anonymous: Client, world: Any
) -> None:
    response = post(anonymous, recipe())

    assert response.status_code == 202
    run = response.json()
    assert run["status"] == "done", run["error"]
    result = run["result"]
    granite = next(c for c in result["layers"][0]["classes"] if c["class"] == "granite")
    assert granite["deposits"] > 0 and granite["w_plus"] > 0 and granite["contrast"] > 0
    assert {"w_minus", "s_contrast", "studentised_contrast"} <= set(granite)
    nearest = result["layers"][1]["classes"][0]
    assert nearest["class"] == "0 m–2 km" and nearest["w_plus"] > 0
    assert 0.5 < result["success_rate"]["auc"] <= 1
    assert result["prediction_rate"]["points"] >= 1
    assert result["training"]["points"] + result["holdout"]["points"] == 11
    values = result_array(run, anonymous)
    finite = values[np.isfinite(values)]
    assert finite.size and finite.min() >= 0 and finite.max() <= 1


def test_the_same_recipe_returns_the_cached_run(anonymous: Client, world: Any) -> None:
    first = post(anonymous, recipe()).json()

    again = post(anonymous, recipe())

    assert again.status_code == 200
    assert again.json()["id"] == first["id"] and again.json()["cached"] is True
    assert ProspectivityRun.objects.count() == 1


def test_an_occurrence_edited_in_place_means_a_new_run(anonymous: Client, world: Any) -> None:
    """A direct edit (the admin) changes no dataset version, only its revision: the cached run,
    made over the old data, must not be served for it."""
    first = post(anonymous, recipe()).json()
    occurrence = MineralOccurrence.objects.order_by("id").first()
    assert occurrence is not None
    occurrence.name = f"{occurrence.name} (checked)"
    occurrence.save()

    again = post(anonymous, recipe())

    assert again.json()["id"] != first["id"] and again.json()["cached"] is False
    assert ProspectivityRun.objects.count() == 2


def test_the_exported_recipe_remakes_an_identical_raster(anonymous: Client, world: Any) -> None:
    first = post(anonymous, recipe()).json()
    before = result_array(first, anonymous)
    exported = json.loads(anonymous.get(first["links"]["recipe"]).content)
    # Remove the result so the recipe must be computed again.
    (Path(settings.MEDIA_ROOT) / ProspectivityRun.objects.get().path).unlink()

    second = post(anonymous, exported).json()

    assert second["id"] != first["id"] and second["status"] == "done"
    after = result_array(second, anonymous)
    np.testing.assert_array_equal(before, after)
    assert second["result"]["layers"] == first["result"]["layers"]


def test_index_overlay_and_fuzzy_gamma_run(anonymous: Client, world: Any) -> None:
    evidence = [
        {"type": "geology", "attribute": "lithology", "favourable": ["granite"], "weight": 2},
        {"type": "structures", "buffers": [2000, 5000], "weight": 1},
    ]
    overlay = post(anonymous, recipe(method="index_overlay", evidence=evidence)).json()
    fuzzy = post(anonymous, recipe(method="fuzzy_gamma", evidence=evidence, gamma=0.8)).json()

    assert overlay["status"] == fuzzy["status"] == "done"
    scores = {c["class"]: c["score"] for c in overlay["result"]["layers"][0]["classes"]}
    assert scores == {"granite": 1.0, "sandstone": 0.0}
    assert overlay["result"]["success_rate"]["auc"] > 0.5


def test_a_raster_layer_is_binned_into_classes(
    anonymous: Client, world: Any, make_dataset: Callable[..., Dataset], tmp_path: Path
) -> None:
    dataset = make_dataset(slug="magnetics", title="Magnetics", kind=DatasetKind.RASTER)
    gradient = np.tile(np.linspace(0, 100, 50, dtype="float32"), (50, 1))
    raster_layer_from_array(
        dataset, gradient, bounds=(120.5, 11.5, 123.5, 14.5), units="nT", tmp=tmp_path
    )

    run = post(
        anonymous, recipe(evidence=[{"type": "raster", "layer": "magnetics", "bins": 4}])
    ).json()

    assert run["status"] == "done", run["error"]
    assert run["recipe"]["evidence"][0]["version"] == 1  # pinned, so the recipe re-runs exactly
    layer = run["result"]["layers"][0]
    assert (
        layer["name"] == "Magnetics (nT)"
        and len(layer["classes"]) == 4
        and len(layer["breaks"]) == 3
    )


def test_the_result_is_served_as_tiles_and_values(anonymous: Client, world: Any) -> None:
    run = post(anonymous, recipe()).json()

    tile = anonymous.get(run["links"]["tiles"].replace("{z}/{x}/{y}", "7/107/58"))
    value = anonymous.get(run["links"]["point"] + "?lon=121.5&lat=13.0").json()

    assert tile.status_code == 200 and tile["Content-Type"] == "image/png"
    assert tile["Cache-Control"] == "public, max-age=31536000, immutable"
    assert value["inside"] and 0 < value["values"][0]["value"] <= 1
    assert anonymous.get(run["links"]["tiles"].replace("{z}/{x}/{y}", "99/0/0")).status_code == 400
    assert anonymous.get(run["links"]["point"] + "?lon=500&lat=0").status_code == 400


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (recipe(evidence=[{"type": "raster", "layer": "no-such-layer"}]), "no raster layer 'no-such-layer'"),
        (recipe(area={"bbox": [121, 12, 121, 13]}), "area.bbox is empty"),
        (recipe(area={"polygon": {"type": "Polygon", "coordinates": [[[121, 12], [122, 12], [121, 12]]]}}),
         "encloses no area"),
        (recipe(area={"bbox": [100, 0, 101, 1]}), "No copper occurrences lie in the area"),
        (recipe(commodity="unobtainium"), "Unknown commodity"),
        (recipe(area={"member_state": "XXX"}), "Unknown member state"),
        (recipe(cell_size=50), "cells of 50 m; the most is"),
        (recipe(method="neural"), "Unknown method"),
        (recipe(evidence=[]), "evidence must be a list"),
        (recipe(evidence=[{"type": "structures", "buffers": [5000, 1000]}]), "increasing order"),
        (recipe(evidence=[{"type": "geology", "attribute": "exec(1)"}]), "Unknown evidence[0].attribute"),
        (recipe(surprise=1), "Unknown key 'surprise'"),
        (recipe(area={"polygon": {"type": "Polygon", "coordinates": [[[121, 12], [200, 12], [121, 13], [121, 12]]]}}),
         "positions must lie within"),
        ("{not json", "not valid JSON"),
        ([1, 2], "recipe must be a JSON object"),
    ],
)  # fmt: skip
def test_bad_recipes_get_a_clear_400(
    anonymous: Client, world: Any, body: Any, message: str
) -> None:
    response = post(anonymous, body)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_recipe"
    assert message in response.json()["error"]["message"]
    assert not ProspectivityRun.objects.exists()


def test_a_run_over_unpublished_data_is_its_makers_only(
    reviewer: Client, anonymous: Client, world: Any
) -> None:
    Dataset.objects.filter(slug="faults").update(is_published=False)

    run = post(reviewer, recipe()).json()

    assert reviewer.get(run["links"]["self"]).status_code == 200
    assert anonymous.get(run["links"]["self"]).status_code == 404
    assert anonymous.get(run["links"]["geotiff"]).status_code == 404
    assert reviewer.get(run["links"]["geotiff"])["Cache-Control"].startswith("private")
    # The public, who cannot see the faults, gets its own run rather than the reviewer's.
    assert post(anonymous, recipe()).json()["id"] != run["id"]


def test_a_post_without_a_csrf_token_is_refused(world: Any) -> None:
    client = Client(enforce_csrf_checks=True)

    assert post(client, recipe()).status_code == 403


def test_a_finished_run_becomes_a_published_prospectivity_map(
    anonymous: Client, world: Any
) -> None:
    run = post(anonymous, recipe()).json()

    prospectivity_map_publish(
        run=ProspectivityRun.objects.get(pk=run["id"]),
        slug="copper-prospectivity",
        title="Copper prospectivity",
        licence="CC BY 4.0",
        is_published=True,
    )

    detail = anonymous.get("/api/rasters/copper-prospectivity/").json()
    assert detail["prospectivity"]["method_name"] == "Weights of evidence"
    assert detail["prospectivity"]["commodity"] == "copper"
    assert (
        detail["prospectivity"]["validation"]["success_auc"] == run["result"]["success_rate"]["auc"]
    )
    assert [e["type"] for e in detail["prospectivity"]["evidence"]] == ["geology", "structures"]
    assert anonymous.get("/tiles/raster/copper-prospectivity/7/107/58.png").status_code == 200


def test_the_options_list_commodities_with_occurrences_and_rasters(
    anonymous: Client, world: Any
) -> None:
    options = anonymous.get("/api/prospectivity/options").json()

    assert {c["code"] for c in options["commodities"]} == {"copper", "gold"}
    assert "lithology" in options["geology_attributes"]
    assert options["limits"]["max_cells"] > 0


def test_the_modeller_page_renders(anonymous: Client, world: Any, settings: Any) -> None:
    # Static files named without the manifest that collectstatic would make.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    response = anonymous.get("/prospectivity/")

    assert response.status_code == 200
    assert b"prospectivity-config" in response.content
    assert RunStatus.DONE == "done"


def test_the_demo_includes_a_published_prospectivity_map(anonymous: Client) -> None:
    from django.core.management import call_command

    from layers.models import RasterLayer
    from prospectivity.models import ProspectivityMap

    call_command("load_demo")

    prospectivity = ProspectivityMap.objects.select_related("dataset").get()
    assert prospectivity.dataset.is_published and prospectivity.dataset.is_demo
    assert prospectivity.validation["success_auc"] > 0.5
    raster = RasterLayer.objects.get(dataset=prospectivity.dataset)
    assert anonymous.get(f"/tiles/raster/{prospectivity.dataset.slug}.json").status_code == 200
    assert raster.units == "probability"


def test_a_run_is_published_as_a_map_by_command(anonymous: Client, world: Any) -> None:
    from django.core.management import CommandError, call_command

    response = anonymous.post(
        "/api/prospectivity/runs/", data=recipe(), content_type="application/json"
    )
    run_id = response.json()["id"]

    call_command(
        "publish_prospectivity_map",
        run_id,
        "--slug",
        "cu-test",
        "--title",
        "Copper test",
        "--publish",
    )

    assert anonymous.get("/tiles/raster/cu-test.json").status_code == 200
    with pytest.raises(CommandError, match="exists"):
        call_command("publish_prospectivity_map", run_id, "--slug", "cu-test", "--title", "Again")
    with pytest.raises(CommandError, match="No prospectivity run"):
        call_command(
            "publish_prospectivity_map",
            "00000000-0000-0000-0000-000000000000",
            "--slug",
            "x",
            "--title",
            "x",
        )


def test_the_exported_recipe_pins_every_dataset_it_read(anonymous: Client, world: Any) -> None:
    run = post(anonymous, recipe()).json()

    exported = json.loads(anonymous.get(run["links"]["recipe"]).content)

    assert exported["data"] == {"faults": 1, "geology": 1, "occurrences": 1}


def test_a_recipe_over_changed_data_is_refused_naming_what_changed(
    anonymous: Client, world: Any, make_dataset: Callable[..., Dataset]
) -> None:
    first = post(anonymous, recipe()).json()
    exported = json.loads(anonymous.get(first["links"]["recipe"]).content)
    Dataset.objects.filter(slug="occurrences").update(version=2)
    make_dataset(slug="more-faults", kind=DatasetKind.STRUCTURES)

    response = post(anonymous, exported)

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_recipe" and error["field"] == "data"
    assert "occurrences is at version 2, the recipe has 1" in error["message"]
    assert "more-faults (version 1) is new since the recipe" in error["message"]
    assert 'Remove "data"' in error["message"]
    assert ProspectivityRun.objects.count() == 1
    # Without the pins, the same model runs over today's data.
    del exported["data"]
    rerun = post(anonymous, exported)
    assert rerun.status_code == 202 and rerun.json()["status"] == "done"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([1], "data must be a JSON object"),
        ({"occurrences": "one"}, "data.occurrences must be a whole number"),
        ({"occurrences": 0}, "data.occurrences must be from 1"),
    ],
)
def test_malformed_data_pins_get_a_clear_400(
    anonymous: Client, world: Any, data: Any, message: str
) -> None:
    response = post(anonymous, recipe(data=data))

    assert response.status_code == 400
    assert message in response.json()["error"]["message"]
    assert not ProspectivityRun.objects.exists()


def test_a_run_whose_worker_died_fails_and_the_same_recipe_runs_again(
    anonymous: Client, world: Any
) -> None:
    """The queue would call it running forever, and the same recipe waited on it."""
    first = post(anonymous, recipe()).json()
    ProspectivityRun.objects.filter(pk=first["id"]).update(
        status=RunStatus.RUNNING, heartbeat_at=timezone.now(), finished_at=None
    )
    # Reporting recently: at work; the same recipe waits on it.
    assert post(anonymous, recipe()).json()["id"] == first["id"]

    ProspectivityRun.objects.filter(pk=first["id"]).update(
        heartbeat_at=timezone.now() - STALLED_AFTER * 2
    )
    status = anonymous.get(f"/api/prospectivity/runs/{first['id']}/").json()
    assert status["status"] == "failed" and status["error"] == services.LOST_MESSAGE

    again = post(anonymous, recipe())
    assert again.status_code == 202
    assert again.json()["id"] != first["id"] and again.json()["status"] == "done"


def test_a_run_that_reports_meanwhile_is_not_marked_lost(world: Any) -> None:
    stale = timezone.now() - STALLED_AFTER * 2
    run = ProspectivityRun.objects.create(
        recipe_hash="h", recipe={}, data_state="s", status=RunStatus.RUNNING, heartbeat_at=stale
    )
    real_filter = ProspectivityRun.objects.filter

    def report_in_between(*args: Any, **kwargs: Any) -> Any:
        if kwargs.get("heartbeat_at") == stale:  # the marking update: the worker reported first
            real_filter(pk=run.pk).update(heartbeat_at=timezone.now())
        return real_filter(*args, **kwargs)

    with mock.patch.object(ProspectivityRun.objects, "filter", side_effect=report_in_between):
        assert services.runs_mark_lost() == 0
    run.refresh_from_db()
    assert run.status == RunStatus.RUNNING
