"""Jobs whose worker died, found by their heartbeat and marked failed.

The job queue (django-tasks) records a job as running when a worker takes it, and nothing more
until it ends: a killed worker's job would run forever, and whatever waits on it (the same
download, the same model recipe) would wait forever too. Each kind of job keeps its own
`heartbeat_at`, written by the worker at every step.
"""

from datetime import timedelta
from typing import Any

from django.db.models import Model, Q
from django.utils import timezone

# A job silent for this long has lost its worker: uploads, restores, downloads and model runs
# (each writes at every step; the longest known silent step, a member-state check of a
# million points, takes seconds).
STALLED_AFTER = timedelta(seconds=120)


def lost_jobs_fail(model: type[Model], *, running: str, **failed: Any) -> list[Any]:
    """Rows of `model` with `status=running` and no heartbeat for STALLED_AFTER (or none at all
    since they were created) get `failed` (field values) and `finished_at`. Compare-and-set on
    the heartbeat read: a worker that writes meanwhile keeps its job. Returns their keys."""
    cutoff = timezone.now() - STALLED_AFTER
    manager: Any = model._default_manager
    candidates = list(
        manager.filter(status=running)
        .filter(Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, created_at__lt=cutoff))
        .values_list("pk", "heartbeat_at")
    )
    return [
        pk
        for pk, heartbeat in candidates
        if manager.filter(pk=pk, status=running, heartbeat_at=heartbeat).update(
            **failed, finished_at=timezone.now()
        )
    ]
