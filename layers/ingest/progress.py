"""A publish's progress, written where the upload's page can see it while the publish runs.

pipeline.upload_publish is one transaction: the upload's row is locked and nothing it writes
is visible until it commits. Its steps are reported here on a second connection to the same
database, in autocommit, into `layers_publishprogress` (layers.models.PublishProgress); the
status API reads that row while the upload is publishing (layers.selectors.upload_progress).

Progress is a courtesy: if the second connection cannot be opened or written, the publish goes
on without it (logged), never fails because of it.
"""

import logging
from enum import IntEnum
from types import TracebackType
from typing import Any
from uuid import UUID

from django.db import DatabaseError, connection, connections

logger = logging.getLogger(__name__)


class Step(IntEnum):
    """Where each step starts, in percent of a publish: from the stages of a 1,000,000-point
    publish on the bench (bench/results/full.md, "AMDIS upload ingest-1000k, stage by stage"):
    writing the live rows 42 %, commodity links 7 %, GeoJSON 25 %, the commit and its
    reference checks 25 %."""

    MOVING = 2
    REMOVING = 4
    WRITING = 6
    LINKING = 48
    GEOJSON = 56
    SAVING = 78


UPSERT = """
    INSERT INTO layers_publishprogress (upload_id, percent, message, updated_at)
    VALUES (%s, %s, %s, now())
    ON CONFLICT (upload_id) DO UPDATE
      SET percent = EXCLUDED.percent, message = EXCLUDED.message, updated_at = now()"""


class PublishProgress:
    """`step(percent, message)` for one upload's publish; a context manager that closes its
    connection. `PublishProgress(None)` reports nothing (a version restore, a script)."""

    def __init__(self, upload_id: UUID | None) -> None:
        self.upload_id = upload_id
        self._side: Any = None
        self._broken = upload_id is None

    def __enter__(self) -> "PublishProgress":
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
                cursor.execute(UPSERT, [self.upload_id, percent, message[:300]])
        except DatabaseError:
            logger.exception("Publish progress could not be written; the publish goes on")
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


def progress_clear(upload_id: UUID) -> None:
    """The publish ended (committed, failed or lost): its progress row goes."""
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM layers_publishprogress WHERE upload_id = %s", [upload_id])
