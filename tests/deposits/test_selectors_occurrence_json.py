"""Each occurrence's stored GeoJSON (deposits_occurrencejson, migration 0003) stays equal to what
its row and commodities give, after every write path: ORM (the admin), commodity links added,
changed and removed, a commodity renamed, the CLI import, an upload published, a version
restored, deletions; and a bulk write with the triggers deferred (migration 0004)."""

import json
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection, connections, transaction
from django.test import Client

from deposits.mapping import OccurrenceMapping
from deposits.models import Commodity, MineralOccurrence, OccurrenceCommodity
from deposits.occurrence_json import deferred_json
from deposits.selectors import OccurrenceFilters, occurrences_geojson_page
from deposits.services import (
    dataset_occurrences_delete,
    demo_occurrences_create,
    occurrence_import,
)
from tests.layers.test_dataset_revision import revision
from tests.layers.test_uploads import PHL_CSV, post_upload, publish

pytestmark = pytest.mark.django_db


def stale() -> list[tuple[Any, ...]]:
    """Occurrences whose stored text differs from a fresh one, and stored rows with no occurrence."""
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT t.id, j.occurrence_id FROM deposits_mineraloccurrence t
               FULL JOIN deposits_occurrencejson j ON j.occurrence_id = t.id
               WHERE t.id IS NULL OR j.occurrence_id IS NULL
                  OR j.head <> deposits_occurrence_head(t)
                  OR j.commodities <> deposits_occurrence_commodities(t.id)"""
        )
        return cursor.fetchall()


def feature(occurrence_id: int) -> dict[str, Any]:
    page = occurrences_geojson_page(filters=OccurrenceFilters(), user=None, limit=100_000, offset=0)
    features = json.loads(f"[{page.features_json}]")
    return next(f for f in features if f["id"] == occurrence_id)


def test_orm_writes_keep_the_stored_feature(make_occurrence: Any) -> None:
    occurrence = make_occurrence("Didipio", main=("gold",), secondary=("copper",))
    assert stale() == []
    props = feature(occurrence.pk)["properties"]
    assert props["name"] == "Didipio"
    assert [(c["code"], c["rank"]) for c in props["commodities"]] == [
        ("gold", "main"),
        ("copper", "secondary"),
    ]
    assert props["member_state"] == "PHL" and props["dataset"] == occurrence.dataset.slug

    # An admin edit: save() updates the row.
    occurrence.name = 'Didipio "East"'
    occurrence.resource_mt = 12.5
    occurrence.save()
    assert stale() == []
    props = feature(occurrence.pk)["properties"]
    assert (props["name"], props["resource_mt"]) == ('Didipio "East"', 12.5)

    # Links: rank changed, one removed, one added.
    OccurrenceCommodity.objects.filter(occurrence=occurrence, commodity__code="copper").update(
        rank="main"
    )
    assert stale() == []
    OccurrenceCommodity.objects.filter(occurrence=occurrence, commodity__code="gold").delete()
    assert [c["code"] for c in feature(occurrence.pk)["properties"]["commodities"]] == ["copper"]
    OccurrenceCommodity.objects.create(
        occurrence=occurrence, commodity=Commodity.objects.get(code="silver"), rank="secondary"
    )
    assert stale() == []
    OccurrenceCommodity.objects.filter(occurrence=occurrence).delete()
    assert feature(occurrence.pk)["properties"]["commodities"] == []
    assert stale() == []

    occurrence.delete()
    assert stale() == []


def test_renaming_a_commodity_updates_every_occurrence_listing_it(make_occurrence: Any) -> None:
    a = make_occurrence("A", main=("gold",))
    b = make_occurrence("B", main=("copper",), secondary=("gold",))
    gold = Commodity.objects.get(code="gold")
    gold.name = "Gold (Au)"
    gold.save()
    assert stale() == []
    for occurrence in (a, b):
        names = [c["name"] for c in feature(occurrence.pk)["properties"]["commodities"]]
        assert "Gold (Au)" in names
    gold.aliases = [*gold.aliases, "oro"]  # not shown: no change needed, none made
    gold.save()
    assert stale() == []


def test_member_state_and_dataset_names_are_read_when_served(make_occurrence: Any) -> None:
    occurrence = make_occurrence("A")
    dataset = occurrence.dataset
    dataset.title = "Renamed survey"
    dataset.save()
    assert feature(occurrence.pk)["properties"]["dataset_title"] == "Renamed survey"


def test_a_missing_stored_row_falls_back_to_the_same_text(make_occurrence: Any) -> None:
    occurrence = make_occurrence("A", main=("gold",))
    expected = feature(occurrence.pk)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM deposits_occurrencejson")
    assert feature(occurrence.pk) == expected


def test_the_cli_import_and_the_demo_data_keep_the_stored_features(shared_data: Path) -> None:
    mapping = OccurrenceMapping.load(
        Path(settings.BASE_DIR) / "fixtures" / "mappings" / "usgs_porphyry_copper_2008.json"
    )
    source = shared_data / "minerals_usgs_porphyry_copper_2008" / "porcu_seasia_bbox.csv"
    report = occurrence_import(path=source, mapping=mapping)
    assert report.imported > 0
    assert stale() == []
    with_commodities = MineralOccurrence.objects.filter(commodity_links__isnull=False).first()
    assert with_commodities is not None
    assert feature(with_commodities.pk)["properties"]["commodities"]
    occurrence_import(path=source, mapping=mapping)  # again: the dataset's rows are replaced
    assert stale() == []
    demo_occurrences_create(per_state=3)
    assert stale() == []


def test_uploads_published_and_versions_restored_keep_the_stored_features(
    editor_phl: Client, phl_survey: Any
) -> None:
    v1 = post_upload(
        editor_phl, phl_survey, "a.csv", PHL_CSV.replace("site,", "name,").encode(), "occurrences"
    )
    publish(editor_phl, v1)
    assert stale() == []
    changed = "name,lon,lat,commodity,status\nTampakan,125.05,6.48,Au,deposit\n"
    v2 = post_upload(
        editor_phl, phl_survey, "b.csv", changed.encode(), "occurrences", dataset=v1.dataset.pk
    )
    publish(editor_phl, v2)
    assert stale() == []
    tampakan = MineralOccurrence.objects.get(name="Tampakan")
    props = feature(tampakan.pk)["properties"]
    assert (props["status"], [c["code"] for c in props["commodities"]]) == ("deposit", ["gold"])

    response = editor_phl.post(f"/datasets/{v1.dataset.slug}/versions/1/restore")
    assert response.status_code == 302
    assert stale() == []
    tampakan = MineralOccurrence.objects.get(name="Tampakan")
    assert sorted(c["code"] for c in feature(tampakan.pk)["properties"]["commodities"]) == [
        "copper",
        "gold",
    ]


def stored(occurrence_id: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM deposits_occurrencejson WHERE occurrence_id = %s", [occurrence_id]
        )
        return cursor.fetchone() is not None


def test_a_deferred_bulk_write_is_built_on_leaving_then_the_triggers_resume(
    make_occurrence: Any,
) -> None:
    first = make_occurrence("A", main=("gold",))
    dataset = first.dataset
    with transaction.atomic():
        with deferred_json(dataset.pk):
            second = make_occurrence("B", dataset=dataset, main=("copper",), secondary=("gold",))
            # Inside, the INSERT triggers stood aside: nothing written for B yet.
            assert not stored(second.pk)
        assert stale() == []
        props = feature(second.pk)["properties"]
        assert [c["code"] for c in props["commodities"]] == ["copper", "gold"]
        # After the block the triggers do their work again, in the same transaction.
        third = make_occurrence("C", main=("silver",))
        assert stored(third.pk) and stale() == []
        # Updates were never deferred.
        with deferred_json(dataset.pk):
            MineralOccurrence.objects.filter(pk=first.pk).update(name="A renamed")
            assert stale() == []
    assert feature(first.pk)["properties"]["name"] == "A renamed"


@pytest.mark.parametrize("row_by_row", [True, False], ids=["row-by-row", "grouped"])
def test_both_ways_of_building_a_deferred_dataset_write_the_same_texts(
    make_occurrence: Any, make_dataset: Any, monkeypatch: pytest.MonkeyPatch, row_by_row: bool
) -> None:
    """A small dataset's texts are built one lookup each, a large one's in one grouped pass:
    the same texts either way (no commodity, one, several in rank and name order)."""
    import deposits.occurrence_json as occurrence_json

    asked: list[tuple[float, float]] = []

    def choose(occurrences: float, links: float) -> bool:
        asked.append((occurrences, links))
        return row_by_row

    monkeypatch.setattr(occurrence_json, "built_row_by_row", choose)
    make_occurrence("Elsewhere", main=("tin",))  # links of another dataset
    dataset = make_dataset(slug="built")
    with transaction.atomic():
        with deferred_json(dataset.pk):
            plain = make_occurrence("Plain", dataset=dataset, main=())
            one = make_occurrence("One", dataset=dataset, main=("gold",))
            many = make_occurrence(
                "Many", dataset=dataset, main=("copper", "gold"), secondary=("silver",)
            )
        assert stale() == []
    assert feature(plain.pk)["properties"]["commodities"] == []
    assert [c["code"] for c in feature(one.pk)["properties"]["commodities"]] == ["gold"]
    assert [(c["code"], c["rank"]) for c in feature(many.pk)["properties"]["commodities"]] == [
        ("copper", "main"),
        ("gold", "main"),
        ("silver", "secondary"),
    ]
    assert len(asked) == 1  # one choice, on leaving the block


def test_a_large_dataset_is_published_without_its_texts_and_a_job_writes_them_after(
    make_occurrence: Any,
    make_dataset: Any,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    """Above OCCURRENCE_JSON_JOB_ABOVE the texts wait for the commit; the pages serve the same
    features meanwhile (built as read), and the job writes exactly what the build would."""
    settings.OCCURRENCE_JSON_JOB_ABOVE = 2
    make_occurrence("Elsewhere", main=("tin",))  # links beside: the grouped way, not row by row
    dataset = make_dataset(slug="large")
    with (
        django_capture_on_commit_callbacks() as queued,
        transaction.atomic(),
        deferred_json(dataset.pk),
    ):
        made = [
            make_occurrence(name, dataset=dataset, main=("copper",), secondary=("gold",))
            for name in ("A", "B", "C")
        ]
    assert [stored(o.pk) for o in made] == [False, False, False]
    served = [feature(o.pk) for o in made]  # without a stored text: built as the page reads
    assert [f["properties"]["name"] for f in served] == ["A", "B", "C"]
    assert [c["code"] for c in served[0]["properties"]["commodities"]] == ["copper", "gold"]

    assert [c.func.__name__ for c in queued] == ["_fill_queue"]
    queued[0]()  # the commit's hook: the job runs inline (the tests' immediate backend)

    assert stale() == []
    assert [feature(o.pk) for o in made] == served


def test_a_small_dataset_keeps_its_texts_in_the_publish(
    make_occurrence: Any, make_dataset: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.OCCURRENCE_JSON_JOB_ABOVE = 3
    make_occurrence("Elsewhere", main=("tin",))
    dataset = make_dataset(slug="small")
    with (
        django_capture_on_commit_callbacks() as queued,
        transaction.atomic(),
        deferred_json(dataset.pk),
    ):
        made = [make_occurrence(name, dataset=dataset) for name in ("A", "B", "C")]
    assert all(stored(o.pk) for o in made) and stale() == []
    assert all(getattr(c, "func", c).__name__ != "_fill_queue" for c in queued)


def test_the_job_keeps_a_text_written_meanwhile_and_fills_only_the_missing(
    make_occurrence: Any, make_dataset: Any
) -> None:
    """An edit between the publish and the job writes its own text (the trigger), newer than
    the job's snapshot could build: the job leaves it."""
    from deposits.occurrence_json import fill

    dataset = make_dataset(slug="filled")
    edited = make_occurrence("Edited", dataset=dataset)
    missing = make_occurrence("Missing", dataset=dataset)
    other = make_occurrence("Other dataset")
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE deposits_occurrencejson SET head = head || ' ' WHERE occurrence_id = %s",
            [edited.pk],
        )
        cursor.execute(
            "DELETE FROM deposits_occurrencejson WHERE occurrence_id IN (%s, %s)",
            [missing.pk, other.pk],
        )
        cursor.execute(
            "SELECT head FROM deposits_occurrencejson WHERE occurrence_id = %s", [edited.pk]
        )
        (kept,) = cursor.fetchone()

    assert fill(dataset.pk) == 1

    assert stored(missing.pk) and not stored(other.pk)  # only its own dataset's
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT head FROM deposits_occurrencejson WHERE occurrence_id = %s", [edited.pk]
        )
        assert cursor.fetchone() == (kept,)
    assert fill(dataset.pk) == 0
    assert fill(10**9) == 0  # a dataset deleted since: nothing to do


def test_the_fill_job_runs_before_the_others_a_publish_queues() -> None:
    from catalogue.tasks import feature_blocks_build_task
    from deposits.tasks import occurrence_json_fill_task
    from webgis.tasks import tiles_warm_task

    assert occurrence_json_fill_task.priority > feature_blocks_build_task.priority
    assert feature_blocks_build_task.priority > tiles_warm_task.priority


def test_a_dataset_is_built_row_by_row_only_when_small_beside_the_links() -> None:
    from deposits.occurrence_json import built_row_by_row

    assert built_row_by_row(1_000, 2_000_000)
    assert not built_row_by_row(1_000_000, 2_000_000)
    assert not built_row_by_row(1, 0)  # no links known: one grouped pass costs nothing


def test_a_deferred_bulk_write_needs_a_transaction(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(connections["default"], "in_atomic_block", False)
    with pytest.raises(RuntimeError, match="needs a transaction"), deferred_json(1):
        pass


def json_setting() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(current_setting('amdis.occurrence_json', true), '')")
        (value,) = cursor.fetchone() or ("",)
    return str(value)


def test_a_whole_dataset_delete_takes_its_stored_features_and_leaves_the_rest(
    make_occurrence: Any, make_dataset: Any
) -> None:
    gone, kept = make_dataset(), make_dataset()
    doomed = [
        make_occurrence("A", dataset=gone, main=("gold",), secondary=("copper",)),
        make_occurrence("B", dataset=gone, main=("tin",)),
    ]
    survivor = make_occurrence("C", dataset=kept, main=("gold",))
    before = revision(gone)
    with transaction.atomic():
        dataset_occurrences_delete(gone.pk)
        # The triggers stood aside only inside: the setting is as it was.
        assert json_setting() == ""
    assert not MineralOccurrence.objects.filter(dataset=gone).exists()
    assert not OccurrenceCommodity.objects.filter(occurrence__in=[o.pk for o in doomed]).exists()
    assert not any(stored(o.pk) for o in doomed)
    assert stored(survivor.pk) and stale() == []
    # The edit counter still counts the delete (it versions tile and page caches).
    assert revision(gone) > before
    # The triggers are back for everything else.
    MineralOccurrence.objects.filter(pk=survivor.pk).delete()
    assert not stored(survivor.pk) and stale() == []


def test_deletes_inside_a_deferred_block_are_the_deleters_to_clean(make_occurrence: Any) -> None:
    """What lets the whole-dataset delete skip the per-row work: inside `deferred`, the DELETE
    triggers stand aside, so a deleter in that mode removes the JSON rows itself."""
    occurrence = make_occurrence("A", main=("gold",))
    other = make_occurrence("B", main=("copper",))
    with transaction.atomic():
        with deferred_json(occurrence.dataset_id):
            with connection.cursor() as cursor:
                cursor.execute(
                    "DELETE FROM deposits_occurrencecommodity WHERE occurrence_id = %s",
                    [occurrence.pk],
                )
                cursor.execute(
                    "DELETE FROM deposits_mineraloccurrence WHERE id = %s", [occurrence.pk]
                )
            assert stored(occurrence.pk)
            # A whole-dataset delete inside keeps the enclosing block's setting.
            dataset_occurrences_delete(other.dataset_id)
            assert json_setting() == "deferred"
        # Leaving the block rebuilds the dataset; the row the raw delete left is the caller's.
        assert [row[1] for row in stale()] == [occurrence.pk]
        transaction.set_rollback(True)


def test_a_whole_dataset_delete_needs_a_transaction(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(connections["default"], "in_atomic_block", False)
    with pytest.raises(RuntimeError, match="needs a transaction"):
        dataset_occurrences_delete(1)
