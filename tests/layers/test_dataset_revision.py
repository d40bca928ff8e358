"""Editing a dataset's features directly (the admin, the shell, raw SQL) changes the data version
that versioned tile URLs carry (migration layers 0003), so no cache keeps serving the old tiles;
a bulk publish of occurrences, which changes the version itself, is left alone."""

import json
from typing import Any

import pytest
from django.contrib.gis.geos import Point
from django.db import connection, transaction
from django.test import Client

from deposits.models import Commodity, MineralOccurrence, OccurrenceCommodity
from deposits.occurrence_json import deferred_json
from layers.models import Dataset, DatasetKind, VectorFeature
from layers.selectors import data_version

pytestmark = pytest.mark.django_db


def revision(dataset: Dataset) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT revision FROM layers_dataset WHERE id = %s", [dataset.pk])
        (value,) = cursor.fetchone() or (None,)
    return int(value)


def tile_version(client: Client) -> str:
    return str(json.loads(client.get("/tiles/occurrences.json").content)["data_version"])


def test_an_occurrence_edited_in_place_changes_the_tile_version(
    anonymous: Client, make_occurrence: Any
) -> None:
    occurrence = make_occurrence("Didipio", main=("gold",))
    dataset = occurrence.dataset
    versions = [tile_version(anonymous)]

    occurrence.name = "Didipio East"
    occurrence.save()  # what the admin's change form does
    versions.append(tile_version(anonymous))

    OccurrenceCommodity.objects.create(
        occurrence=occurrence, commodity=Commodity.objects.get(code="copper"), rank="secondary"
    )
    versions.append(tile_version(anonymous))

    with connection.cursor() as cursor:  # raw SQL is counted too
        cursor.execute(
            "UPDATE deposits_mineraloccurrence SET status = 'deposit' WHERE id = %s",
            [occurrence.pk],
        )
    versions.append(tile_version(anonymous))

    occurrence.delete()
    versions.append(tile_version(anonymous))

    assert len(set(versions)) == len(versions), versions
    assert revision(dataset) >= 4
    # A statement that changes no row changes nothing.
    before = data_version()
    MineralOccurrence.objects.filter(pk=-1).update(name="none")
    assert data_version() == before


def test_saving_a_dataset_loaded_before_an_edit_does_not_undo_the_count(
    make_occurrence: Any,
) -> None:
    occurrence = make_occurrence("A")
    stale = Dataset.objects.get(pk=occurrence.dataset_id)
    created = revision(stale)
    occurrence.name = "B"
    occurrence.save()
    assert revision(stale) == created + 1
    stale.title = "Renamed in the admin"
    stale.save()  # every model field written back: `revision` is not one of them
    assert revision(stale) == created + 1


def test_vector_geology_and_structure_edits_are_counted(make_dataset: Any) -> None:
    dataset = make_dataset(kind=DatasetKind.VECTOR)
    feature = VectorFeature.objects.create(dataset=dataset, geom=Point(121, 15, srid=4326))
    after_insert = revision(dataset)
    feature.attributes = {"note": "checked"}
    feature.save()
    assert revision(dataset) == after_insert + 1
    VectorFeature.objects.filter(dataset=dataset).delete()
    assert revision(dataset) == after_insert + 2
    with connection.cursor() as cursor:
        for table in ("layers_geologicalunit", "layers_structure"):
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass AND NOT tgisinternal",
                [table],
            )
            assert {r[0] for r in cursor.fetchall()} >= {
                "dataset_revise_insert",
                "dataset_revise_update",
                "dataset_revise_delete",
                "dataset_revise_truncate",
            }


def test_a_deferred_bulk_write_leaves_the_count_alone(make_occurrence: Any) -> None:
    occurrence = make_occurrence("A")
    dataset = occurrence.dataset
    before = revision(dataset)
    with transaction.atomic(), deferred_json(dataset.pk):
        MineralOccurrence.objects.create(
            name="Bulk",
            geom=Point(121, 15, srid=4326),
            dataset=dataset,
            member_state=occurrence.member_state,
        )
    assert revision(dataset) == before
