"""Background jobs (django-tasks, stored in PostgreSQL: no other server is needed).
`make run` starts the worker: `manage.py db_worker`."""

from django.db import transaction
from django_tasks import TaskContext, task

from layers.ingest import pipeline
from layers.ingest.progress import ProgressWriter, progress_clear
from layers.models import DatasetVersion, Upload, UploadStatus


@task()
def upload_process_task(upload_id: str) -> None:
    pipeline.upload_process(upload_id)


@task()
def upload_publish_task(upload_id: str, actor_id: int | None) -> None:
    from django.contrib.auth import get_user_model

    upload = Upload.objects.get(pk=upload_id)
    if upload.status != UploadStatus.PUBLISHING:
        return
    actor = get_user_model().objects.filter(pk=actor_id).first() if actor_id else None
    try:
        pipeline.upload_publish(upload, actor=actor)
    except Exception as exc:
        # The publish transaction rolled back: the published data and the staged rows are as they were.
        progress_clear(upload.pk)
        Upload.objects.filter(pk=upload_id).update(
            status=UploadStatus.READY,
            **pipeline.CHECKED_PROGRESS,
            error_code="publish_failed",
            error_message=f"Publishing failed ({type(exc).__name__}); nothing changed. Try again.",
        )
        raise


@task(takes_context=True)
def version_restore_task(context: TaskContext, version_id: int, actor_id: int | None) -> None:
    """Restoring reloads a whole version into the live tables: a job, like publishing. A failure
    rolls the restore back; the versions page reports it from the job's result, and its steps
    from the progress this job writes under its own id while it runs."""
    from django.contrib.auth import get_user_model

    job_id = context.task_result.id
    version = DatasetVersion.objects.select_related("dataset").get(pk=version_id)
    actor = get_user_model().objects.filter(pk=actor_id).first() if actor_id else None
    try:
        with ProgressWriter(job_id) as progress:
            pipeline.version_restore(version, actor=actor, progress=progress)
    except Exception:
        progress_clear(job_id)
        raise
    # Robust: a failure here must not reach the job, which would report the restore failed.
    transaction.on_commit(lambda: progress_clear(job_id), robust=True)
