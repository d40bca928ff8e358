"""Deleting a whole dataset removes its occurrences' GeoJSON in one statement.

Inside `amdis.occurrence_json = deferred` (migration 0004) only the INSERT triggers stood aside.
A whole-dataset delete (a replacing publish, a restore, an import that replaces its dataset) then
paid the DELETE triggers: as the commodity links went, each occurrence's commodity list was
recomputed, one function call a row, only for the row to be deleted with its occurrence next.
For a million occurrences the two deletes took 84 s, 55 s of it in that trigger. Now the DELETE
triggers stand aside too, and the deleter (deposits.services.dataset_occurrences_delete) removes
the dataset's JSON rows itself. Updates and every other writer are unchanged.
"""

import importlib

from django.db import migrations

# The functions as 0003 made them (a migration's text never changes once applied).
first = importlib.import_module("deposits.migrations.0003_occurrence_json")
bulk = importlib.import_module("deposits.migrations.0004_occurrence_json_bulk")

SKIP_DEFERRED_WRITE = """
  IF TG_OP IN ('INSERT', 'DELETE') AND current_setting('amdis.occurrence_json', true) = 'deferred' THEN
    RETURN NULL;
  END IF;"""


def _with_skip(function_sql: str) -> str:
    """The 0003 function, replaced in place, with the deferred insert-or-delete test first."""
    return function_sql.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1).replace(
        "BEGIN", "BEGIN" + SKIP_DEFERRED_WRITE, 1
    )


FORWARD = _with_skip(bulk.OCCURRENCES) + _with_skip(bulk.LINKS)
REVERSE = bulk._with_skip(bulk.OCCURRENCES) + bulk._with_skip(bulk.LINKS)


class Migration(migrations.Migration):
    dependencies = [("deposits", "0006_occurrence_geom_dataset_index")]

    operations = [migrations.RunSQL(FORWARD, REVERSE)]
