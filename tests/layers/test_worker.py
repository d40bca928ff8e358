"""The real job worker (manage.py db_worker) in its own process: jobs run there, and a worker
killed at any stage leaves nothing published, the job marked failed with its reason, no
temporary table or file behind, and a retry that succeeds."""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from deposits.models import MineralOccurrence
from layers import services
from layers.ingest import pipeline
from layers.models import (
    AuditAction,
    AuditEntry,
    Dataset,
    JobProgress,
    Upload,
    UploadStatus,
)

pytestmark = pytest.mark.django_db(transaction=True)
CSV = b"name,lon,lat,commodity\nTampakan,125.05,6.48,Cu\nDidipio,121.46,16.33,Au\n"


@pytest.fixture(autouse=True)
def _no_progress_from_earlier_tests(transactional_db: None) -> None:
    """This module asserts that no progress row is left. Tests run inline in a rolled-back
    transaction leave theirs: progress is committed on a second connection
    (layers.ingest.progress) and the commit that clears it never comes. Start without them."""
    JobProgress.objects.all().delete()


@pytest.fixture
def queued_jobs(settings: Any, reference_data: None) -> None:
    """Jobs go to the PostgreSQL queue, as in production, instead of running inline."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def worker_env(failpoint: str | None) -> dict[str, str]:
    db = connection.settings_dict
    env = dict(os.environ)
    env["DATABASE_URL"] = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    env["MEDIA_ROOT"] = str(settings.MEDIA_ROOT)
    env["TASKS_BACKEND"] = "database"
    env.pop("AMDIS_FAILPOINT", None)
    if failpoint:
        env["AMDIS_FAILPOINT"] = failpoint
    return env


@pytest.fixture
def worker() -> Iterator[Any]:
    started: list[subprocess.Popen[bytes]] = []

    def start(failpoint: str | None = None, *, batch: bool = False) -> subprocess.Popen[bytes]:
        args = [sys.executable, "manage.py", "db_worker", "--no-startup-delay", "--interval", "0.2"]
        if batch:
            args.append("--batch")
        process = subprocess.Popen(
            args,
            cwd=settings.BASE_DIR,
            env=worker_env(failpoint),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


def wait_for(predicate: Any, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError("condition not reached in time")


def staged_tables() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema IN ('ingest', 'dataset_versions')"
        )
        return {r[0] for r in cursor.fetchall()}


def new_upload(user: Any, organisation: Any) -> Upload:
    return services.upload_create(
        user=user,
        organisation=organisation,
        file=SimpleUploadedFile("a.csv", CSV),
        target="occurrences",
        dataset_fields={"title": "Worker test"},
    )


def test_the_worker_process_runs_upload_jobs(
    queued_jobs: None, worker: Any, editor_phl_user: Any, phl_survey: Any
) -> None:
    upload = new_upload(editor_phl_user, phl_survey)
    assert (
        Upload.objects.get(pk=upload.pk).status == UploadStatus.QUEUED
    )  # the request did not wait

    worker(batch=True).wait(timeout=120)

    assert Upload.objects.get(pk=upload.pk).status == UploadStatus.READY


@pytest.mark.parametrize("stage", ["extract", "read", "check"])
def test_a_worker_killed_while_checking_leaves_nothing_and_a_retry_works(
    queued_jobs: None, worker: Any, editor_phl_user: Any, phl_survey: Any, stage: str
) -> None:
    upload = new_upload(editor_phl_user, phl_survey)
    process = worker(f"{stage}:hang")
    wait_for(lambda: Upload.objects.get(pk=upload.pk).stage == stage)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)

    Upload.objects.filter(pk=upload.pk).update(
        heartbeat_at=Upload.objects.get(pk=upload.pk).heartbeat_at - services.STALLED_AFTER * 2
    )
    upload = services.upload_mark_stalled(Upload.objects.get(pk=upload.pk))

    assert upload.status == UploadStatus.FAILED
    assert upload.error_code == "worker_lost" and stage in upload.error_message
    assert pipeline.staging_name(upload) not in staged_tables()
    assert not (pipeline.upload_dir(upload) / "files").exists()
    assert not MineralOccurrence.objects.exists()

    services.upload_retry(user=editor_phl_user, upload=upload)
    worker(batch=True).wait(timeout=120)
    assert Upload.objects.get(pk=upload.pk).status == UploadStatus.READY


def test_a_worker_killed_while_publishing_publishes_nothing(
    queued_jobs: None, worker: Any, editor_phl_user: Any, phl_survey: Any
) -> None:
    upload = new_upload(editor_phl_user, phl_survey)
    worker(batch=True).wait(timeout=120)
    upload = services.upload_publish_request(
        user=editor_phl_user, upload=Upload.objects.get(pk=upload.pk)
    )
    process = worker("publish:hang")
    # The publish transaction is open and waiting: the new rows exist only inside it.
    time.sleep(3)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    assert not MineralOccurrence.objects.exists()

    Upload.objects.filter(pk=upload.pk).update(
        heartbeat_at=Upload.objects.get(pk=upload.pk).heartbeat_at - services.STALLED_AFTER * 2
    )
    upload = services.upload_mark_stalled(Upload.objects.get(pk=upload.pk))
    assert upload.status == UploadStatus.READY
    assert upload.error_code == "worker_lost"
    assert Path(pipeline.upload_dir(upload)).exists()

    services.upload_publish_request(user=editor_phl_user, upload=upload)
    worker(batch=True).wait(timeout=120)
    assert Upload.objects.get(pk=upload.pk).status == UploadStatus.PUBLISHED
    assert sorted(MineralOccurrence.objects.values_list("name", flat=True)) == [
        "Didipio",
        "Tampakan",
    ]


def _locked(model: Any, pk: Any) -> bool:
    """Whether a transaction elsewhere (a publish, a restore) holds this row."""
    with transaction.atomic():
        return not model.objects.select_for_update(skip_locked=True).filter(pk=pk).exists()


def test_a_long_publish_is_not_taken_for_a_lost_worker(
    queued_jobs: None, worker: Any, editor_phl_user: Any, phl_survey: Any
) -> None:
    """Minutes into a big publish the heartbeat is as old as the request; the page polls every
    second. It must neither wait on the publish's row lock nor mark the upload lost."""
    upload = new_upload(editor_phl_user, phl_survey)
    worker(batch=True).wait(timeout=120)
    upload = services.upload_publish_request(
        user=editor_phl_user, upload=Upload.objects.get(pk=upload.pk)
    )
    Upload.objects.filter(pk=upload.pk).update(
        heartbeat_at=timezone.now() - services.STALLED_AFTER * 2
    )
    process = worker("publish:hang")  # alive, inside its publish transaction
    wait_for(lambda: _locked(Upload, upload.pk))

    seen = services.upload_mark_stalled(Upload.objects.get(pk=upload.pk))
    assert (seen.status, seen.error_code) == (UploadStatus.PUBLISHING, "")
    client = Client()
    client.force_login(editor_phl_user)
    status = client.get(f"/api/uploads/{upload.pk}/").json()
    assert status["status"] == "publishing" and status["error"] is None
    # The worker's progress, written outside its open transaction (layers.ingest.progress).
    assert (status["progress"], status["message"]) == (
        78,
        "Saving 2 features: the database checks every reference, then commits",
    )
    assert not AuditEntry.objects.filter(upload=upload, action=AuditAction.FAILED).exists()

    process.send_signal(signal.SIGKILL)  # now the worker is lost: the lock goes with it
    process.wait(timeout=10)
    wait_for(lambda: not _locked(Upload, upload.pk))
    seen = services.upload_mark_stalled(Upload.objects.get(pk=upload.pk))
    assert (seen.status, seen.error_code) == (UploadStatus.READY, "worker_lost")
    assert (seen.progress, seen.progress_message) == (
        100,
        "Checked: review the report, then publish.",
    )
    assert not MineralOccurrence.objects.exists()
    assert not JobProgress.objects.exists()  # the lost publish's progress went with it


def two_versions(editor: Any, organisation: Any) -> Any:
    """A dataset published twice (v1: Tampakan and Didipio; v2: Siana only), jobs run inline."""
    first = new_upload(editor, organisation)
    pipeline.upload_process(str(first.pk))
    pipeline.upload_publish(Upload.objects.get(pk=first.pk), actor=editor)
    second = services.upload_create(
        user=editor,
        organisation=organisation,
        file=SimpleUploadedFile("b.csv", b"name,lon,lat,commodity\nSiana,125.9,9.7,Au\n"),
        target="occurrences",
        dataset=Upload.objects.get(pk=first.pk).dataset,
    )
    pipeline.upload_process(str(second.pk))
    pipeline.upload_publish(Upload.objects.get(pk=second.pk), actor=editor)
    return Upload.objects.get(pk=first.pk).dataset


def test_a_restore_runs_in_the_worker_and_the_page_follows_it(
    queued_jobs: None, worker: Any, editor_phl_user: Any, phl_survey: Any, client: Any
) -> None:
    dataset = two_versions(editor_phl_user, phl_survey)
    client.force_login(editor_phl_user)
    versions_page = f"/datasets/{dataset.slug}/versions/"

    response = client.post(f"{versions_page}1/restore", follow=True)
    # The request only queued the job: nothing restored yet, and the page says what is going on.
    assert "Restoring version 1: it becomes version 3 when done." in response.content.decode()
    assert b'id="restore-running"' in response.content
    assert b'Version 1: <span class="restore-message">Waiting for a worker</span>' in (
        response.content
    )
    assert b'http-equiv="refresh"' in response.content
    assert sorted(MineralOccurrence.objects.values_list("name", flat=True)) == ["Siana"]
    again = client.post(f"{versions_page}1/restore", follow=True)
    assert "Version 1 is being restored; wait for it to finish" in again.content.decode()

    worker(batch=True).wait(timeout=120)

    dataset.refresh_from_db()
    assert dataset.version == 3
    assert sorted(MineralOccurrence.objects.values_list("name", flat=True)) == [
        "Didipio",
        "Tampakan",
    ]
    page = client.get(versions_page).content
    assert b'id="restore-running"' not in page and b'id="restore-failed"' not in page
    assert not JobProgress.objects.exists()  # the restore's progress went when it committed
    current = client.post(f"{versions_page}3/restore", follow=True)
    assert "Version 3 is already the current version." in current.content.decode()


def test_a_failed_restore_changes_nothing_and_the_page_says_so(
    queued_jobs: None, worker: Any, editor_phl_user: Any, phl_survey: Any, client: Any
) -> None:
    dataset = two_versions(editor_phl_user, phl_survey)
    client.force_login(editor_phl_user)
    client.post(f"/datasets/{dataset.slug}/versions/1/restore")
    snapshot = dataset.versions.get(number=1).snapshot_table
    with connection.cursor() as cursor:  # the version's rows are lost before the job runs
        cursor.execute(f'DROP TABLE {pipeline.VERSIONS_SCHEMA}."{snapshot}"')

    worker(batch=True).wait(timeout=120)

    dataset.refresh_from_db()
    assert dataset.version == 2
    assert sorted(MineralOccurrence.objects.values_list("name", flat=True)) == ["Siana"]
    page = client.get(f"/datasets/{dataset.slug}/versions/").content
    assert b'id="restore-failed"' in page and b"Restoring version 1 failed" in page
    assert b'id="restore-running"' not in page


def test_a_restore_whose_worker_died_is_marked_failed_and_can_be_asked_again(
    queued_jobs: None, worker: Any, editor_phl_user: Any, phl_survey: Any, client: Any
) -> None:
    """The queue records a job as running when a worker takes it, and nothing more: a killed
    worker's restore ran forever, and the page refused every new restore."""
    dataset = two_versions(editor_phl_user, phl_survey)
    client.force_login(editor_phl_user)
    versions_page = f"/datasets/{dataset.slug}/versions/"
    client.post(f"{versions_page}1/restore")
    process = worker("restore:hang")  # alive, inside its restore transaction
    wait_for(lambda: _locked(Dataset, dataset.pk))
    # The hang comes after the restore's last step: once that is written, the page shows it.
    wait_for(lambda: JobProgress.objects.filter(percent=78).exists())
    job = DBTaskResult.objects.get(status=TaskResultStatus.RUNNING)
    DBTaskResult.objects.filter(pk=job.pk).update(  # minutes into a long restore
        started_at=timezone.now() - services.STALLED_AFTER * 2
    )

    assert services.version_restores_mark_lost(dataset) == 0  # at work: left alone
    running = client.get(versions_page).content.decode()
    assert 'id="restore-running"' in running
    # The step the worker reached, written outside its open transaction.
    assert (
        'Version 1: <span class="restore-message">Saving 2 features: the database checks every'
        ' reference, then commits</span> <progress max="100" value="78">'
    ) in running

    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    wait_for(lambda: not _locked(Dataset, dataset.pk))
    page = client.get(versions_page).content  # the page finds it lost
    assert b'id="restore-failed"' in page and b'id="restore-running"' not in page
    job.refresh_from_db()
    assert job.status == TaskResultStatus.FAILED
    assert job.exception_class_path == "layers.services.WorkerLost"
    assert not JobProgress.objects.exists()  # the lost restore's progress went with it
    assert AuditEntry.objects.filter(
        dataset=dataset, action=AuditAction.FAILED, details__code="worker_lost"
    ).exists()
    dataset.refresh_from_db()
    assert dataset.version == 2  # nothing changed
    assert sorted(MineralOccurrence.objects.values_list("name", flat=True)) == ["Siana"]

    again = client.post(f"{versions_page}1/restore", follow=True)
    assert "it becomes version 3 when done" in again.content.decode()
    worker(batch=True).wait(timeout=120)
    dataset.refresh_from_db()
    assert dataset.version == 3
