"""Background jobs of the deposits app (django-tasks; `manage.py db_worker` runs them)."""

from django_tasks import task

from deposits import occurrence_json


# Before the other jobs a publish queues (the feature blocks are cut from these texts), and
# before any upload waiting: the pages are slower until it has run.
@task(priority=10)
def occurrence_json_fill_task(dataset_id: int) -> None:
    """After a large publish or restore (deposits.occurrence_json.deferred_json)."""
    occurrence_json.fill(dataset_id)
