"""Background jobs of the catalogue app (django-tasks; `manage.py db_worker` runs them)."""

from django_tasks import task

from catalogue import blocks, services


@task()
def download_build_task(job_id: str, user_id: int | None) -> None:
    services.download_job_run(job_id, user_id)


@task()
def feature_blocks_build_task(dataset_id: int) -> None:
    """After a publish or restore, or when a page found no current blocks (catalogue.blocks)."""
    blocks.blocks_build(dataset_id)
