"""The stored GeoJSON of a large publish is written by a job after it commits.

`deposits_occurrencejson_fill(dataset)` writes the Feature text of each occurrence of the dataset
that has none, and leaves every row that is there: one written meanwhile by an edit's trigger is
newer than what this statement's snapshot could build (deposits.occurrence_json.fill).
"""

import importlib

from django.db import migrations

# As 0003 made it (a migration's text never changes once applied).
previous = importlib.import_module("deposits.migrations.0003_occurrence_json")

FILL = f"""
CREATE FUNCTION deposits_occurrencejson_fill(dataset bigint) RETURNS bigint
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
      AND NOT EXISTS (SELECT 1 FROM deposits_occurrencejson j WHERE j.occurrence_id = t.id)
    ON CONFLICT (occurrence_id) DO NOTHING
    RETURNING 1)
  SELECT count(*) FROM written
$$;
"""


class Migration(migrations.Migration):
    dependencies = [("deposits", "0009_occurrence_search_text")]

    operations = [
        migrations.RunSQL(FILL, "DROP FUNCTION deposits_occurrencejson_fill(bigint);")
    ]
