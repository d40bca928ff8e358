"""Background jobs of the modeller (django-tasks; `manage.py db_worker` runs them)."""

from django_tasks import task

from prospectivity import services


@task()
def prospectivity_run_task(run_id: str) -> None:
    services.run_execute(run_id)
