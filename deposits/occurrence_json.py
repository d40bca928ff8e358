"""Writing a whole dataset of occurrences at once, with their GeoJSON built in one pass.

The triggers of migration 0003 keep `deposits_occurrencejson` right for every writer, row set by
row set; for a bulk publish that means writing each of a million rows twice (once with the
occurrence, again when its commodity links arrive). Inside `deferred_json` the INSERT and DELETE
triggers stand aside (migrations 0004 and 0007) and the rows are written once, on the way out. A
whole-dataset delete uses the same mode (deposits.services.dataset_occurrences_delete).
"""

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection


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
        cursor.execute("SELECT deposits_occurrencejson_build(%s)", [dataset_id])
