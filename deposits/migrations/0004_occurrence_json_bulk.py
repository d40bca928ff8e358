"""Bulk publishing builds the occurrences' GeoJSON in one set-based pass.

The statement triggers of migration 0003 build each inserted occurrence's Feature text and then,
when its commodity links arrive, rewrite every one of those rows a second time: for a million
occurrences, 16 s and 17 s. A publisher that inserts a whole dataset sets the transaction-local
setting `amdis.occurrence_json` to `deferred` (deposits.occurrence_json.deferred_json): the
INSERT triggers then leave the work to it, and it writes each row once, after the links, with
the same functions. Deletes, updates and every other writer are unchanged.
"""

import importlib

from django.db import migrations

# The functions as 0003 made them (a migration's text never changes once applied).
previous = importlib.import_module("deposits.migrations.0003_occurrence_json")

SKIP_DEFERRED_INSERT = """
  IF TG_OP = 'INSERT' AND current_setting('amdis.occurrence_json', true) = 'deferred' THEN
    RETURN NULL;
  END IF;"""


def _with_skip(function_sql: str) -> str:
    """The 0003 function, replaced in place, with the deferred-insert test at its start."""
    return function_sql.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1).replace(
        "BEGIN", "BEGIN" + SKIP_DEFERRED_INSERT, 1
    )


def _function_only(trigger_sql: str) -> str:
    return trigger_sql.split("CREATE TRIGGER", 1)[0]


OCCURRENCES = _function_only(previous.OCCURRENCE_TRIGGER)
LINKS = _function_only(previous.LINK_TRIGGER)

# What the deferred triggers left undone: every occurrence of the dataset, head and commodity
# list, in one pass (a grouped join, not a lookup per row). The sort and the hash of a million
# links fit in 256 MB: with the default 4 MB they spill to disk (1M rows: 13 s, 9 s without).
BUILD = f"""
CREATE FUNCTION deposits_occurrencejson_build(dataset bigint) RETURNS bigint
LANGUAGE sql SET work_mem = '256MB' AS $$
  WITH written AS (
    INSERT INTO deposits_occurrencejson (occurrence_id, head, commodities)
    SELECT t.id, deposits_occurrence_head(t), coalesce(g.list, '[]')
    FROM deposits_mineraloccurrence t
    LEFT JOIN ({previous.GROUPED}
               WHERE oc.occurrence_id IN (SELECT id FROM deposits_mineraloccurrence
                                          WHERE dataset_id = dataset)
               GROUP BY oc.occurrence_id) g ON g.occurrence_id = t.id
    WHERE t.dataset_id = dataset
    ON CONFLICT (occurrence_id) DO UPDATE
      SET head = EXCLUDED.head, commodities = EXCLUDED.commodities
    RETURNING 1)
  SELECT count(*) FROM written
$$;
"""
FORWARD = _with_skip(OCCURRENCES) + _with_skip(LINKS) + BUILD
REVERSE = "DROP FUNCTION deposits_occurrencejson_build(bigint);\n"
REVERSE += OCCURRENCES.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1) + LINKS.replace(
    "CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1
)


class Migration(migrations.Migration):
    dependencies = [("deposits", "0003_occurrence_json")]

    operations = [migrations.RunSQL(FORWARD, REVERSE)]
