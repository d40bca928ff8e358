"""Writes of the catalogue app: download files built in a request or by the job worker."""

import hashlib
import json
import shutil
import tempfile
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.http import QueryDict
from django.utils import timezone

from catalogue.collections import collection_get
from catalogue.downloads import DownloadSpec, write_gdal, zip_files
from catalogue.filters import features_where, parse_clip, parse_csv_geometry
from catalogue.models import DownloadJob, DownloadStatus
from catalogue.selectors import download_count, download_datasets
from layers.selectors import data_version, visibility_scope
from webgis.lib.jobs import lost_jobs_fail


class DownloadsBusy(Exception):
    """Too many download jobs wait or run: the caller answers 503 with Retry-After."""


def download_scope(user: Any) -> str:
    """Who may fetch a job's file: anyone for public data, else only the user who asked."""
    return visibility_scope(user)


def download_spec_build(
    params: QueryDict | dict[str, str], *, collection_id: str, fmt: str, user: Any, url: str = ""
) -> DownloadSpec | None:
    """None when the collection is unknown or not visible; a BadRequest for a bad parameter."""
    collection = collection_get(collection_id=collection_id, user=user)
    if collection is None:
        return None
    return DownloadSpec(
        collection=collection,
        user=user,
        where=features_where(params, collection=collection, user=user),
        clip=parse_clip(params),
        format=fmt,
        csv_geometry=parse_csv_geometry(params, collection) if fmt == "csv" else "wkt",
        request_url=url,
    )


def download_build(spec: DownloadSpec, folder: Path, job: DownloadJob | None = None) -> Path:
    """Writes the zipped GeoPackage or Shapefile into `folder` and returns its path."""
    count = download_count(
        collection=spec.collection, user=spec.user, where=spec.where, clip=spec.clip
    )
    datasets = download_datasets(
        collection=spec.collection, user=spec.user, where=spec.where, clip=spec.clip
    )

    def progress(done: int) -> None:
        if job is not None:
            DownloadJob.objects.filter(pk=job.pk).update(
                written=done, feature_count=count, heartbeat_at=timezone.now()
            )

    parts = folder / "parts"
    parts.mkdir(parents=True, exist_ok=True)
    files = write_gdal(spec, parts, progress)
    progress(count)  # and the zip is next
    destination = folder / f"{spec.collection.id}-{spec.format}.zip"
    zip_files(files, destination, spec, datasets, count)
    shutil.rmtree(parts, ignore_errors=True)
    return destination


def download_build_temporary(spec: DownloadSpec) -> tuple[Path, Path]:
    """A direct (small) download built in a temporary folder: (zip path, folder to remove)."""
    folder = Path(tempfile.mkdtemp(prefix="amdis-download-"))
    try:
        return download_build(spec, folder), folder
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


def _job_key(spec: DownloadSpec, params: dict[str, str], scope: str) -> str:
    state = json.dumps(
        [spec.collection.id, spec.format, sorted(params.items()), scope, data_version()]
    )
    return hashlib.sha256(state.encode()).hexdigest()


def downloads_prune() -> int:
    """Removes jobs (and their files) older than DOWNLOAD_KEEP_HOURS."""
    cutoff = timezone.now() - timedelta(hours=settings.DOWNLOAD_KEEP_HOURS)
    old = list(DownloadJob.objects.filter(created_at__lt=cutoff))
    for job in old:
        shutil.rmtree(Path(settings.MEDIA_ROOT) / "downloads" / str(job.pk), ignore_errors=True)
    DownloadJob.objects.filter(pk__in=[j.pk for j in old]).delete()
    return len(old)


# A running job that wrote nothing for webgis.lib.jobs.STALLED_AFTER has lost its worker (killed, restarted).
# The worker writes after every batch of features and before zipping.
LOST_MESSAGE = "The worker stopped while writing the file. Ask for the download again."


def downloads_mark_lost() -> int:
    """Running jobs whose worker died are marked failed and their folders removed: every
    identical request would wait on them, and they would count against
    DOWNLOAD_MAX_ACTIVE_JOBS (webgis.lib.jobs). Returns how many."""
    lost = lost_jobs_fail(
        DownloadJob,
        running=DownloadStatus.RUNNING,
        status=DownloadStatus.FAILED,
        error_message=LOST_MESSAGE,
    )
    for pk in lost:
        shutil.rmtree(Path(settings.MEDIA_ROOT) / "downloads" / str(pk), ignore_errors=True)
    return len(lost)


def download_job_start(spec: DownloadSpec, params: dict[str, str]) -> DownloadJob:
    """The job for this request: an identical one (same data version, filters and viewer)
    that is running or done is reused; otherwise a new one is queued."""
    from catalogue.tasks import download_build_task

    downloads_mark_lost()
    scope = download_scope(spec.user)
    key = _job_key(spec, params, scope)
    existing = (
        DownloadJob.objects.filter(key=key)
        .exclude(status=DownloadStatus.FAILED)
        .order_by("-created_at")
        .first()
    )
    if existing is not None:
        return existing
    downloads_prune()
    active = DownloadJob.objects.filter(
        status__in=[DownloadStatus.QUEUED, DownloadStatus.RUNNING],
        created_at__gte=timezone.now() - timedelta(hours=1),
    ).count()
    if active >= settings.DOWNLOAD_MAX_ACTIVE_JOBS:
        raise DownloadsBusy
    job = DownloadJob.objects.create(
        key=key,
        collection_id=spec.collection.id,
        format=spec.format,
        params=params,
        scope=scope,
        created_by=spec.user if scope != "public" else None,
    )
    download_build_task.enqueue(str(job.pk), spec.user.pk if scope != "public" else None)
    job.refresh_from_db()
    return job


def download_job_run(job_id: str, user_id: int | None) -> None:
    """The job's body: re-reads the request with the requester's permissions of now."""
    job = DownloadJob.objects.get(pk=job_id)
    if job.status != DownloadStatus.QUEUED:
        return
    DownloadJob.objects.filter(pk=job.pk).update(
        status=DownloadStatus.RUNNING, heartbeat_at=timezone.now()
    )
    user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    folder = Path(settings.MEDIA_ROOT) / "downloads" / str(job.pk)
    try:
        spec = download_spec_build(
            job.params,
            collection_id=job.collection_id,
            fmt=job.format,
            user=user,
        )
        if spec is None:
            raise LookupError("The collection is no longer available.")
        spec = replace(spec, request_url=f"{job.collection_id} ({job.format}) {job.params}")
        path = download_build(spec, folder, job)
    except Exception as exc:
        shutil.rmtree(folder, ignore_errors=True)
        message = str(exc) if isinstance(exc, LookupError) else "Writing the file failed."
        DownloadJob.objects.filter(pk=job.pk).update(
            status=DownloadStatus.FAILED,
            error_message=message[:300],
            finished_at=timezone.now(),
        )
        if not isinstance(exc, LookupError):
            raise
        return
    DownloadJob.objects.filter(pk=job.pk).update(
        status=DownloadStatus.DONE,
        path=str(path.relative_to(settings.MEDIA_ROOT)),
        size_bytes=path.stat().st_size,
        finished_at=timezone.now(),
    )
