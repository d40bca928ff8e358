"""Writing a whole dataset of occurrences at once, with their GeoJSON built in one pass.

The triggers of migration 0003 keep `deposits_occurrencejson` right for every writer, row set by
row set; for a bulk publish that means writing each of a million rows twice (once with the
occurrence, again when its commodity links arrive). Inside `deferred_json` the INSERT and DELETE
triggers stand aside (migrations 0004 and 0007) and the rows are written once, on the way out. A
whole-dataset delete uses the same mode (deposits.services.dataset_occurrences_delete).

A dataset of more than OCCURRENCE_JSON_JOB_ABOVE occurrences is published without its texts:
building them is a seventh of a million-point upload (9 s of 58), and the pages need none of them
to be right. A job writes them once the publish has committed (`fill`, migration 0010); until
then a page builds a missing text as it reads it, with the same functions.
"""

import math
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any

from django.conf import settings
from django.db import connection, transaction

from webgis.lib.pgtools import planner_rows, statement_timeout_lift


@contextmanager
def deferred_json(dataset_id: int) -> Iterator[None]:
    """Insert the dataset's occurrences and links inside; their GeoJSON is built on leaving.

    Every occurrence of the dataset is (re)built, so use it where the block writes the whole
    dataset (a publish, a restore). Rows deleted inside keep their JSON: delete through
    `dataset_occurrences_delete`, which removes it. Needs a transaction: the setting is transaction-local, so
    a failure inside rolls it back with everything else.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("deferred_json needs a transaction (the setting is transaction-local)")
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('amdis.occurrence_json', 'deferred', true)")
        yield
        cursor.execute("SELECT set_config('amdis.occurrence_json', '', true)")
        occurrences, links = _sizes(cursor, dataset_id)
        if built_row_by_row(occurrences, links):
            cursor.execute(ROW_BY_ROW, [dataset_id])
        elif occurrences > settings.OCCURRENCE_JSON_JOB_ABOVE:
            # Published without them: the pages build a missing text as they read it, the
            # same functions (deposits.selectors), until the job has written them all.
            transaction.on_commit(partial(_fill_queue, dataset_id), robust=True)
        else:
            cursor.execute("SELECT deposits_occurrencejson_build(%s)", [dataset_id])


def _fill_queue(dataset_id: int) -> None:
    from deposits.tasks import occurrence_json_fill_task

    occurrence_json_fill_task.enqueue(dataset_id)


def fill(dataset_id: int) -> int:
    """Writes the texts the dataset's occurrences lack (after a large publish); returns how many.

    Rows already there are kept: an edit's trigger writes a newer text than this statement's
    snapshot could. The dataset's row is share-locked first, so a publish or restore that
    replaces its occurrences meanwhile waits, or is waited for and its rows are the ones
    filled: no text is left for an occurrence that is gone."""
    with transaction.atomic(), connection.cursor() as cursor:
        statement_timeout_lift()
        cursor.execute("SELECT 1 FROM layers_dataset WHERE id = %s FOR SHARE", [dataset_id])
        if cursor.fetchone() is None:
            return 0
        cursor.execute("SELECT deposits_occurrencejson_fill(%s)", [dataset_id])
        (written,) = cursor.fetchone() or (0,)
    return int(written)


# Two ways to build a dataset's texts. deposits_occurrencejson_build groups every commodity link
# of the table in one pass (a million occurrences: 11 s, where a lookup per occurrence takes
# twice as long); but that pass reads every link, about 65 ns each, whatever the dataset's size:
# 0.15 s for 1,000 occurrences beside 2M links. One occurrence's own lookup (the functions the
# triggers use, through the links' index) costs about 14 µs: below half a per cent of the links,
# it is cheaper.
ROW_BY_ROW_PER_LINK = 0.005
ROW_BY_ROW = """
INSERT INTO deposits_occurrencejson (occurrence_id, head, commodities)
SELECT t.id, deposits_occurrence_head(t), deposits_occurrence_commodities(t.id)
FROM deposits_mineraloccurrence t WHERE t.dataset_id = %s
ON CONFLICT (occurrence_id) DO UPDATE
  SET head = EXCLUDED.head, commodities = EXCLUDED.commodities
"""


def built_row_by_row(occurrences: float, links: float) -> bool:
    """Whether a dataset of `occurrences` is built one lookup each, beside `links` links."""
    return occurrences < links * ROW_BY_ROW_PER_LINK


def _sizes(cursor: Any, dataset_id: int) -> tuple[int, float]:
    """The dataset's occurrences, counted only up to the thresholds (a million would take a
    scan), and the links as the planner knows them."""
    (links,) = planner_rows("deposits_occurrencecommodity")
    enough = max(math.ceil(links * ROW_BY_ROW_PER_LINK), settings.OCCURRENCE_JSON_JOB_ABOVE) + 1
    cursor.execute(
        "SELECT count(*) FROM (SELECT 1 FROM deposits_mineraloccurrence WHERE dataset_id = %s"
        " LIMIT %s) s",
        [dataset_id, enough],
    )
    (occurrences,) = cursor.fetchone()
    return occurrences, links
