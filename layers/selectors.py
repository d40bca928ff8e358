"""Reads about datasets, including the one rule for who may see what."""

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from django.core.cache import cache
from django.db import connection
from django.db.models import Q, QuerySet
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from layers.models import AuditEntry, Dataset, JobProgress, Upload, UploadStatus
from layers.permissions import access_for, dataset_visibility_q, visible_dataset_ids_sql
from webgis.lib.mvt import Where, state_version


def datasets_visible(*, user: Any) -> QuerySet[Dataset]:
    return Dataset.objects.filter(dataset_visibility_q(user))


def dataset_visibility_where(*, user: Any, column: str = "t.dataset_id") -> Where:
    """The permission rule (layers.permissions) as SQL over a table with a dataset id column."""
    if access_for(user).sees_everything:
        return Where()
    subquery, params = visible_dataset_ids_sql(user)
    return Where(f"{column} IN ({subquery})", params)


# The state of every dataset: it changes whenever one is published, withdrawn or re-versioned,
# or has its features edited directly (`revision`, counted by triggers: migration 0003).
DATA_STATE_SQL = (
    "SELECT coalesce(string_agg(id || ':' || version || ':' || revision || ':'"
    " || is_published::int, ',' ORDER BY id), '') FROM layers_dataset"
)


def data_version() -> str:
    """A short hash of DATA_STATE_SQL.

    Tile URLs carry it, so caches can keep tiles forever and never serve stale ones.
    """
    with connection.cursor() as cursor:
        cursor.execute(DATA_STATE_SQL)
        (state,) = cursor.fetchone() or ("",)
    return state_version(state)


def visibility_scope(user: Any) -> str:
    """Who sees the same data as this user: everyone ("public"), or this user alone (an editor
    or reviewer sees unpublished datasets too)."""
    return f"user-{user.pk}" if access_for(user).is_restricted_viewer else "public"


T = TypeVar("T")
# Keys carry the data version, so a stale entry is never read; the timeout only frees memory.
PER_DATA_VERSION_TIMEOUT_S = 24 * 3600


def portable_cache_key(key: str) -> str:
    """`key`, or its digest when a cache server would refuse it: memcached takes at most 250
    characters and no spaces or control characters (a name may hold a timestamp's text)."""
    if len(key) <= 200 and key.isprintable() and " " not in key:
        return key
    return "sha256:" + hashlib.sha256(key.encode()).hexdigest()


def cached_per_data_version(name: str, *, user: Any, compute: Callable[[], T]) -> T:
    """`compute()` once per data version and visibility scope, then from the cache.

    For aggregates over every visible feature (counts by commodity, by status, by member state)
    that a page shows on every view: they grow with the data (a landing page over 1M
    occurrences took 1.3 s a view), while the data change only when a dataset is published,
    withdrawn or edited, which changes `data_version()`."""
    key = portable_cache_key(f"{name}:{visibility_scope(user)}:{data_version()}")
    cached = cache.get(key)
    if cached is None:
        cached = compute()
        cache.set(key, cached, PER_DATA_VERSION_TIMEOUT_S)
    return cached


def cached_per_dataset(name: str, compute: Callable[[list[int]], Mapping[int, T]]) -> dict[int, T]:
    """A fact of every dataset that has one (its extent, its commodities), computed only for the
    datasets that changed since it was cached: each dataset's entry holds its version and
    revision, which a publish, a restore or an edit of its features raises. `compute(ids)` gives
    the facts of those of `ids` that have one. Publishing one small dataset then costs the
    catalogue a query over that dataset, not over all (2.2 s for 1M occurrences' commodities).

    One cache entry holds every dataset's (not one each), so hundreds of datasets do not crowd
    the cache's other entries out; a dataset deleted since is dropped at the next write."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, version || ':' || revision FROM layers_dataset")
        states: dict[int, str] = dict(cursor.fetchall())
    # dataset id -> (its state, [its fact]) with an empty list for a dataset without the fact.
    entries: dict[int, tuple[str, list[T]]] = cache.get(name) or {}
    missing = [pk for pk, state in states.items() if entries.get(pk, ("",))[0] != state]
    if missing:
        computed = compute(missing)
        entries = {
            pk: (state, [computed[pk]] if pk in computed else []) if pk in missing else entries[pk]
            for pk, state in states.items()
        }
        cache.set(name, entries, PER_DATA_VERSION_TIMEOUT_S)
    return {pk: fact[0] for pk, (_, fact) in entries.items() if fact and pk in states}


@dataclass(frozen=True)
class RestoreProgress:
    version: int  # the version being restored
    percent: int
    message: str


@dataclass(frozen=True)
class VersionRestores:
    running: list[int]  # version numbers queued or being restored
    failed: int | None  # the version whose restore failed since the last change, if any
    # Each running restore's bar: the steps its job writes (layers.ingest.progress), or "waiting".
    progress: list[RestoreProgress]


def version_restores(dataset: Dataset) -> VersionRestores:
    """Restores of this dataset in the job queue (jobs run inline in tests leave no record)."""
    from layers.tasks import version_restore_task

    versions = {
        pk: (number, created)
        for pk, number, created in dataset.versions.values_list("pk", "number", "created_at")
    }
    jobs = DBTaskResult.objects.filter(
        task_path=version_restore_task.module_path, args_kwargs__args__0__in=list(versions)
    ).order_by("-enqueued_at")
    active = list(jobs.filter(status__in=[TaskResultStatus.READY, TaskResultStatus.RUNNING]))
    running = [versions[job.args_kwargs["args"][0]][0] for job in active]
    steps = {
        row.job_id: row for row in JobProgress.objects.filter(job_id__in=[j.id for j in active])
    }
    progress = [
        RestoreProgress(number, row.percent, row.message)
        if (row := steps.get(str(job.id)))
        else RestoreProgress(number, 0, "Waiting for a worker")
        for number, job in zip(running, active, strict=True)
    ]
    failure = jobs.filter(status=TaskResultStatus.FAILED)
    if versions:  # only a failure since the latest version counts: a later change supersedes it
        failure = failure.filter(finished_at__gt=max(c for _, c in versions.values()))
    failed = failure.first()
    return VersionRestores(
        running=running,
        failed=versions[failed.args_kwargs["args"][0]][0] if failed else None,
        progress=progress,
    )


def audit_entries(*, action: str = "", dataset: str = "", actor: str = "") -> QuerySet[AuditEntry]:
    """The upload and dataset audit trail, newest first, filtered. `dataset` matches a slug or
    title, also of a deleted dataset (its entry keeps them in `details`)."""
    entries = AuditEntry.objects.select_related("actor", "dataset", "upload")
    if action:
        entries = entries.filter(action=action)
    if dataset:
        entries = entries.filter(
            Q(dataset__slug__icontains=dataset)
            | Q(dataset__title__icontains=dataset)
            | Q(details__slug__icontains=dataset)
            | Q(details__title__icontains=dataset)
        )
    if actor:
        entries = entries.filter(actor__username=actor)
    return entries


@dataclass(frozen=True)
class UploadProgress:
    percent: int
    message: str


def upload_progress(upload: Upload) -> UploadProgress:
    """The progress bar's figures: a publishing upload's from the worker's progress row
    (layers.ingest.progress), written outside the publish transaction; any other upload's own."""
    if upload.status == UploadStatus.PUBLISHING:
        row = JobProgress.objects.filter(job_id=upload.pk).first()
        if row is not None:
            return UploadProgress(row.percent, row.message)
    return UploadProgress(upload.progress, upload.progress_message)
