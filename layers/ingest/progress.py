"""A publish's or a version restore's progress, written where a page can see it while it runs.

pipeline.upload_publish and pipeline.version_restore are one transaction each: a row is locked
and nothing they write is visible until they commit. Their steps are reported here on a second
connection to the same database, in autocommit, into `layers_jobprogress`
(layers.models.JobProgress), keyed by the job: the upload's status API reads it while the upload
is publishing (layers.selectors.upload_progress), the versions page while a restore runs
(layers.selectors.version_restores).

Progress is a courtesy: if the second connection cannot be opened or written, the job goes on
without it (logged), never fails because of it.
"""

import logging
from enum import IntEnum
from types import TracebackType
from typing import Any
from uuid import UUID

from django.db import DatabaseError, connection, connections

logger = logging.getLogger(__name__)


class Step(IntEnum):
    """Where each step starts, in percent of a publish (a restore takes the same steps): from
    the stages of a 1,000,000-point publish on the bench (bench/results/full.md, "AMDIS upload
    ingest-1000k, stage by stage"): writing the live rows 42 %, commodity links 7 %, GeoJSON
    25 %, the commit and its reference checks 25 %."""

    MOVING = 2
    REMOVING = 4
    WRITING = 6
    LINKING = 48
    GEOJSON = 56
    SAVING = 78


UPSERT = """
    INSERT INTO layers_jobprogress (job_id, percent, message, updated_at)
    VALUES (%s, %s, %s, now())
    ON CONFLICT (job_id) DO UPDATE
      SET percent = EXCLUDED.percent, message = EXCLUDED.message, updated_at = now()"""


class ProgressWriter:
    """`step(percent, message)` for one job (a publish: the upload's id; a restore: its job's
    id); a context manager that closes its connection. `ProgressWriter(None)` reports nothing
    (a script, a restore run outside the job queue)."""

    def __init__(self, job_id: UUID | str | None) -> None:
        self.job_id = None if job_id is None else str(job_id)
        self._side: Any = None
        self._broken = job_id is None

    def __enter__(self) -> "ProgressWriter":
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def step(self, percent: int, message: str) -> None:
        if self._broken:
            return
        try:
            with self._connection().cursor() as cursor:
                cursor.execute(UPSERT, [self.job_id, percent, message[:300]])
        except DatabaseError:
            logger.exception("Job progress could not be written; the job goes on")
            self._broken = True
            self.close()

    def _connection(self) -> Any:
        if self._side is None:
            side = connections.create_connection("default")
            # The database this process uses (a test run's own, too), not the settings' name.
            side.settings_dict["NAME"] = connection.settings_dict["NAME"]
            side.ensure_connection()
            side.set_autocommit(True)
            self._side = side
        return self._side

    def close(self) -> None:
        if self._side is not None:
            self._side.close()
            self._side = None


def progress_clear(job_id: UUID | str) -> None:
    """The publish or restore ended (committed, failed or lost): its progress row goes."""
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM layers_jobprogress WHERE job_id = %s", [str(job_id)])
