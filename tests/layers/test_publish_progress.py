"""A publish's or a restore's progress (layers.ingest.progress): each step is written on a
connection of its own, so the upload's page (or the versions page) sees it while the transaction
is still open; progress that cannot be written never stops a job; the row goes when it ends."""

from typing import Any

import pytest
from django.db import OperationalError, connection, connections
from django.test import Client

from layers.ingest import pipeline, progress
from layers.models import JobProgress, Upload, UploadStatus
from layers.selectors import upload_progress
from tests.layers.test_uploads import post_upload

pytestmark = pytest.mark.django_db
CSV = b"name,lon,lat,commodity\nTampakan,125.05,6.48,Cu;Au\nDidipio,121.46,16.33,Au\n"


@pytest.fixture(autouse=True)
def _no_rows_left() -> None:
    """The worker's connection commits its rows for real, outside the test's transaction: the
    last test's go before the next (not after it, where the test's open transaction may still
    hold them)."""
    other = connections.create_connection("default")
    other.settings_dict["NAME"] = connection.settings_dict["NAME"]
    try:
        with other.cursor() as cursor:
            cursor.execute("DELETE FROM layers_jobprogress")
    finally:
        other.close()


@pytest.fixture
def checked(editor_phl: Client, phl_survey: Any) -> Upload:
    upload = post_upload(editor_phl, phl_survey, "sites.csv", CSV, "occurrences")
    assert upload.status == UploadStatus.READY, upload.report
    return upload


def _committed_row(upload_id: Any) -> tuple[int, str] | None:
    """The progress row as another session sees it (committed, not inside the publish)."""
    other = connections.create_connection("default")
    other.settings_dict["NAME"] = connection.settings_dict["NAME"]
    try:
        with other.cursor() as cursor:
            cursor.execute(
                "SELECT percent, message FROM layers_jobprogress WHERE job_id = %s",
                [str(upload_id)],
            )
            return cursor.fetchone()
    finally:
        other.close()


def test_each_step_is_seen_outside_the_publish_while_it_runs(
    editor_phl: Client, checked: Upload, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[Any, ...]] = []
    real_step = progress.ProgressWriter.step

    def step(self: progress.ProgressWriter, percent: int, message: str) -> None:
        real_step(self, percent, message)
        upload = Upload.objects.get(pk=checked.pk)  # inside the publish transaction
        shown = upload_progress(upload)
        seen.append((upload.status, shown.percent, shown.message, _committed_row(checked.pk)))

    monkeypatch.setattr(progress.ProgressWriter, "step", step)
    response = editor_phl.post(f"/uploads/{checked.pk}/publish")
    assert response.status_code == 302
    assert [s[1:3] for s in seen] == [
        (2, "Publishing 2 checked features as version 1"),
        (6, "Writing the features into the live tables"),
        (48, "Linking the features to their commodities"),
        (56, "Building each feature's GeoJSON (a large dataset's: by a job right after)"),
        (78, "Saving 2 features: the database checks every reference, then commits"),
    ]
    assert all(status == UploadStatus.PUBLISHING for status, *_ in seen)
    assert all(row == (percent, message) for _, percent, message, row in seen)

    status = editor_phl.get(f"/api/uploads/{checked.pk}/").json()
    assert (status["status"], status["progress"], status["message"]) == (
        "published",
        100,
        "Published as version 1",
    )


def test_a_new_version_says_it_removes_the_previous_ones_features(
    editor_phl: Client, phl_survey: Any, checked: Upload, monkeypatch: pytest.MonkeyPatch
) -> None:
    editor_phl.post(f"/uploads/{checked.pk}/publish")
    second = post_upload(
        editor_phl,
        phl_survey,
        "sites.csv",
        CSV,
        "occurrences",
        dataset=Upload.objects.get(pk=checked.pk).dataset_id,
    )
    messages: list[str] = []
    real_step = progress.ProgressWriter.step
    monkeypatch.setattr(
        progress.ProgressWriter,
        "step",
        lambda self, percent, message: (
            messages.append(message) or real_step(self, percent, message)
        ),
    )
    editor_phl.post(f"/uploads/{second.pk}/publish")
    assert "Removing version 1's features" in messages


def test_progress_that_cannot_be_written_never_stops_a_publish(
    editor_phl: Client, checked: Upload, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(self: progress.ProgressWriter) -> Any:
        raise OperationalError("too many connections")

    monkeypatch.setattr(progress.ProgressWriter, "_connection", refuse)
    editor_phl.post(f"/uploads/{checked.pk}/publish")
    assert Upload.objects.get(pk=checked.pk).status == UploadStatus.PUBLISHED
    assert _committed_row(checked.pk) is None


def test_a_failed_publish_takes_its_progress_away(
    editor_phl: Client, checked: Upload, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(dataset: Any) -> None:
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(pipeline, "_announce_published", fail)
    editor_phl.post(f"/uploads/{checked.pk}/publish")  # the job fails; the request does not
    upload = Upload.objects.get(pk=checked.pk)
    assert (upload.status, upload.error_code) == (UploadStatus.READY, "publish_failed")
    # The bar is the check's again, not "waiting for the worker".
    assert (upload.progress, upload.progress_message) == (
        100,
        "Checked: review the report, then publish.",
    )
    assert not JobProgress.objects.filter(job_id=checked.pk).exists()


def test_the_checks_move_the_bar_and_the_heartbeat_step_by_step(
    editor_phl: Client, phl_survey: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Five million rows take minutes to check: a check phase that said nothing for longer than
    webgis.lib.jobs.STALLED_AFTER was taken for a lost worker and its staging table dropped."""
    steps: list[tuple[str, int, str]] = []
    real_progress = pipeline._progress

    def record(upload: Upload, stage: str, percent: int, message: str) -> None:
        real_progress(upload, stage, percent, message)
        steps.append((stage, percent, message))

    monkeypatch.setattr(pipeline, "_progress", record)
    upload = post_upload(editor_phl, phl_survey, "sites.csv", CSV, "occurrences")
    assert upload.status == UploadStatus.READY
    checks = [(percent, message) for stage, percent, message in steps if stage == "check"]
    assert checks == [
        (75, "Building the geometries in PostGIS"),
        (80, "Checking each geometry's size and coordinates"),
        (84, "Checking geometry validity"),
        (88, "Checking the member state's boundary and possible duplicates"),
        (95, "Writing the report"),
    ]


def test_a_restore_reports_its_steps_under_its_own_job(
    editor_phl: Client,
    phl_survey: Any,
    checked: Upload,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    """The versions page reads them by the restore job's id (tests.layers.test_worker follows
    one in the real worker); jobs run inline here."""
    editor_phl.post(f"/uploads/{checked.pk}/publish")
    dataset = Upload.objects.get(pk=checked.pk).dataset
    second = post_upload(
        editor_phl, phl_survey, "b.csv", CSV[:50], "occurrences", dataset=dataset.pk
    )
    editor_phl.post(f"/uploads/{second.pk}/publish")
    seen: list[tuple[str | None, int, str, tuple[int, str] | None]] = []
    real_step = progress.ProgressWriter.step

    def step(self: progress.ProgressWriter, percent: int, message: str) -> None:
        real_step(self, percent, message)
        seen.append((self.job_id, percent, message, _committed_row(self.job_id)))

    monkeypatch.setattr(progress.ProgressWriter, "step", step)
    with django_capture_on_commit_callbacks(execute=True):
        response = editor_phl.post(f"/datasets/{dataset.slug}/versions/1/restore")
    assert response.status_code == 302
    assert [s[1:3] for s in seen] == [
        (2, "Copying version 1's features as version 3"),
        (4, "Removing version 2's features"),
        (6, "Writing the features into the live tables"),
        (48, "Linking the features to their commodities"),
        (56, "Building each feature's GeoJSON (a large dataset's: by a job right after)"),
        (78, "Saving 2 features: the database checks every reference, then commits"),
    ]
    job_ids = {job_id for job_id, *_ in seen}
    assert len(job_ids) == 1 and None not in job_ids and str(checked.pk) not in job_ids
    assert all(row == (percent, message) for _, percent, message, row in seen)
    assert not JobProgress.objects.filter(job_id__in=job_ids).exists()  # committed: it went


def test_a_failed_restore_takes_its_progress_away(
    editor_phl: Client, phl_survey: Any, checked: Upload, monkeypatch: pytest.MonkeyPatch
) -> None:
    editor_phl.post(f"/uploads/{checked.pk}/publish")
    dataset = Upload.objects.get(pk=checked.pk).dataset
    second = post_upload(
        editor_phl, phl_survey, "b.csv", CSV[:50], "occurrences", dataset=dataset.pk
    )
    editor_phl.post(f"/uploads/{second.pk}/publish")

    def fail(dataset: Any) -> None:
        raise RuntimeError("the disk is full")

    job_ids: set[str | None] = set()
    real_step = progress.ProgressWriter.step

    def step(self: progress.ProgressWriter, percent: int, message: str) -> None:
        job_ids.add(self.job_id)
        real_step(self, percent, message)

    monkeypatch.setattr(progress.ProgressWriter, "step", step)
    monkeypatch.setattr(pipeline, "_announce_published", fail)
    editor_phl.post(f"/datasets/{dataset.slug}/versions/1/restore")  # the job fails inline
    dataset.refresh_from_db()
    assert dataset.version == 2
    assert len(job_ids) == 1
    assert not JobProgress.objects.filter(job_id__in=job_ids).exists()
