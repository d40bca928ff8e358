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
from django.db import connection

from deposits.models import MineralOccurrence
from layers import services
from layers.ingest import pipeline
from layers.models import Upload, UploadStatus

pytestmark = pytest.mark.django_db(transaction=True)
CSV = b"name,lon,lat,commodity\nTampakan,125.05,6.48,Cu\nDidipio,121.46,16.33,Au\n"


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
