"""Deleting a dataset: everything it holds goes, set-based and audited; a busy dataset is refused;
a failure changes nothing; the admin's confirmation page counts instead of listing."""

import re
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client

from deposits.models import MineralOccurrence, OccurrenceCommodity
from layers.ingest import pipeline
from layers.models import AuditAction, AuditEntry, Dataset, GeologicalUnit, Upload, UploadStatus
from layers.services import dataset_delete, demo_geology_create
from tests.deposits.test_selectors_occurrence_json import stale
from tests.layers.test_uploads import PHL_CSV, post_upload, publish

pytestmark = pytest.mark.django_db

CHANGED_CSV = "name,lon,lat,commodity,status\nTampakan,125.05,6.48,Au,deposit\n"


def table_exists(schema: str, table: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [f'{schema}."{table}"'])
        (exists,) = cursor.fetchone() or (False,)
    return bool(exists)


@pytest.fixture
def published(editor_phl: Client, phl_survey: Any) -> Dataset:
    """An occurrence dataset with two published versions and a checked, unpublished upload."""
    v1 = post_upload(
        editor_phl, phl_survey, "a.csv", PHL_CSV.replace("site,", "name,").encode(), "occurrences"
    )
    publish(editor_phl, v1)
    dataset = Dataset.objects.get(pk=v1.dataset_id)
    v2 = post_upload(
        editor_phl, phl_survey, "b.csv", CHANGED_CSV.encode(), "occurrences", dataset=dataset.pk
    )
    publish(editor_phl, v2)
    pending = post_upload(
        editor_phl, phl_survey, "c.csv", CHANGED_CSV.encode(), "occurrences", dataset=dataset.pk
    )
    assert pending.status == UploadStatus.READY and pending.staging_table
    return dataset


def test_a_dataset_goes_with_everything_it_holds(
    published: Dataset, make_occurrence: Any, django_capture_on_commit_callbacks: Any
) -> None:
    other = make_occurrence("Elsewhere", main=("gold",))
    snapshots = list(published.versions.values_list("snapshot_table", flat=True))
    uploads = list(published.uploads.all())
    staging = [u.staging_table for u in uploads if u.staging_table]
    folders = [pipeline.upload_dir(u) for u in uploads]
    assert len(snapshots) == 2 and staging and all(f.exists() for f in folders)
    ids = list(published.occurrences.values_list("pk", flat=True))
    assert ids

    with django_capture_on_commit_callbacks(execute=True):
        summary = dataset_delete(published, actor=None)

    assert summary["features"] == len(ids) and summary["versions"] == 2
    assert summary["uploads"] == 3
    assert not Dataset.objects.filter(pk=published.pk).exists()
    assert not MineralOccurrence.objects.filter(pk__in=ids).exists()
    assert not OccurrenceCommodity.objects.filter(occurrence_id__in=ids).exists()
    assert stale() == []  # no stored GeoJSON left behind, the other dataset's intact
    assert MineralOccurrence.objects.filter(pk=other.pk).exists()
    assert not any(table_exists(pipeline.VERSIONS_SCHEMA, t) for t in snapshots)
    assert not any(table_exists(pipeline.STAGING_SCHEMA, t) for t in staging)
    assert not Upload.objects.filter(pk__in=[u.pk for u in uploads]).exists()
    assert not any(f.exists() for f in folders)
    entry = AuditEntry.objects.get(action=AuditAction.DELETED)
    assert entry.details["slug"] == published.slug and entry.details["features"] == len(ids)


def test_a_geology_dataset_goes_with_its_units() -> None:
    demo_geology_create()
    dataset = Dataset.objects.get(kind="geology")
    units = dataset.units.count()
    assert units
    summary = dataset_delete(dataset, actor=None)
    assert summary["features"] == units
    assert not GeologicalUnit.objects.filter(dataset_id=dataset.pk).exists()


def test_a_raster_file_goes_once_the_delete_commits(
    make_dataset: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from django.contrib.gis.geos import Polygon

    from layers.models import RasterLayer

    dataset = make_dataset(kind="raster")
    path = Path(settings.MEDIA_ROOT) / "rasters" / "test.tif"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"not read")
    RasterLayer.objects.create(
        dataset=dataset,
        version=1,
        path="rasters/test.tif",
        width=1,
        height=1,
        band_count=1,
        dtype="float32",
        srid=4326,
        footprint=Polygon.from_bbox((100, 0, 101, 1)),
    )
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        dataset_delete(dataset, actor=None)
    assert path.exists()  # not before the commit
    for callback in callbacks:
        callback()
    assert not path.exists()


def test_a_dataset_with_an_upload_in_progress_is_refused(published: Dataset) -> None:
    Upload.objects.filter(dataset=published, status=UploadStatus.READY).update(
        status=UploadStatus.PUBLISHING
    )
    count = published.occurrences.count()
    with pytest.raises(
        ValidationError, match=re.escape("c.csv) is publishing: wait for it to finish")
    ):
        dataset_delete(published, actor=None)
    assert published.occurrences.count() == count
    assert not AuditEntry.objects.filter(action=AuditAction.DELETED).exists()


def test_a_failure_midway_changes_nothing(
    published: Dataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = list(published.occurrences.values_list("pk", flat=True))
    snapshots = list(published.versions.values_list("snapshot_table", flat=True))

    def broken(self: Dataset, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(Dataset, "delete", broken)
    with pytest.raises(RuntimeError):
        dataset_delete(published, actor=None)
    assert sorted(
        MineralOccurrence.objects.filter(pk__in=ids).values_list("pk", flat=True)
    ) == sorted(ids)
    assert all(table_exists(pipeline.VERSIONS_SCHEMA, t) for t in snapshots)
    assert all(pipeline.upload_dir(u).exists() for u in published.uploads.all())
    assert not AuditEntry.objects.filter(action=AuditAction.DELETED).exists()
    assert stale() == []


@pytest.fixture
def admin_client_(verified_client: Any) -> Client:
    return verified_client(User.objects.create_superuser("ada-admin", password="x-unused-x"))


def test_the_admin_counts_what_goes_and_deletes_through_the_service(
    admin_client_: Client, published: Dataset, django_assert_max_num_queries: Any
) -> None:
    url = f"/admin/layers/dataset/{published.pk}/delete/"
    Upload.objects.filter(dataset=published, status=UploadStatus.READY).update(
        status=UploadStatus.RUNNING
    )
    busy = admin_client_.get(url)
    assert b"is being read and checked: wait for it to finish" in busy.content
    admin_client_.post(url, {"post": "yes"})
    assert Dataset.objects.filter(pk=published.pk).exists()  # protected: nothing deleted

    Upload.objects.filter(dataset=published, status=UploadStatus.RUNNING).update(
        status=UploadStatus.READY
    )
    count = published.occurrences.count()
    # The page no longer loads each feature: its queries do not grow with them.
    with django_assert_max_num_queries(40):
        page = admin_client_.get(url)
    text = page.content.decode()
    assert f"{count:,} features, 2 versions, 3 uploads" in text
    assert "Mineral occurrence:" not in text
    response = admin_client_.post(url, {"post": "yes"})
    assert response.status_code == 302
    assert not Dataset.objects.filter(pk=published.pk).exists()
    assert AuditEntry.objects.get(action=AuditAction.DELETED).actor.username == "ada-admin"  # type: ignore[union-attr]
