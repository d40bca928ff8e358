"""Background jobs of the core (django-tasks; `manage.py db_worker` runs them)."""

from django_tasks import task

from webgis.lib import tilewarm


# After the jobs a publish or an upload needs: a warm-up only saves the first visitors a wait.
@task(priority=-10)
def tiles_warm_task() -> None:
    """After a dataset or boundary change has committed (webgis.lib.tilecache.on_data_change)."""
    tilewarm.warm()
