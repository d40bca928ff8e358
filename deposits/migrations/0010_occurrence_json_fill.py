"""The stored GeoJSON of a large publish is written by a job after it commits.

`deposits_occurrencejson_fill(dataset)` is 0004's `deposits_occurrencejson_build` but for its
last step: it writes the Feature text of each occurrence of the dataset that has none, and
leaves every row that is there: one written meanwhile by an edit's trigger is newer than what
this statement's snapshot could build (deposits.occurrence_json.fill).
"""

import importlib

from django.db import migrations

# As 0004 made it (a migration's text never changes once applied).
bulk = importlib.import_module("deposits.migrations.0004_occurrence_json_bulk")

REWRITE = """
    WHERE t.dataset_id = dataset
    ON CONFLICT (occurrence_id) DO UPDATE
      SET head = EXCLUDED.head, commodities = EXCLUDED.commodities"""
ONLY_MISSING = """
    WHERE t.dataset_id = dataset
      AND NOT EXISTS (SELECT 1 FROM deposits_occurrencejson j WHERE j.occurrence_id = t.id)
    ON CONFLICT (occurrence_id) DO NOTHING"""
assert bulk.BUILD.count(REWRITE) == 1
FILL = bulk.BUILD.replace("deposits_occurrencejson_build", "deposits_occurrencejson_fill").replace(
    REWRITE, ONLY_MISSING
)


class Migration(migrations.Migration):
    dependencies = [("deposits", "0009_occurrence_search_text")]

    operations = [
        migrations.RunSQL(FILL, "DROP FUNCTION deposits_occurrencejson_fill(bigint);")
    ]
