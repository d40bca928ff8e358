"""Direct edits of a dataset's features change its data version.

The data version (layers.selectors.data_version) is what versioned tile URLs carry, so caches —
the browser's, a CDN's, AMDIS's own tile cache — keep a tile for good. Publishing and restoring
change it through the dataset's version; an edit in the admin, the shell or raw SQL did not, and
tiles stayed as they were until the next publish. Statement triggers on every feature table now
count such edits in `layers_dataset.revision`, which the data version includes.

`revision` is a column only, not a model field: Django would write back the value it loaded
when it saves a dataset, undoing an edit counted in the meantime.

A bulk publish of occurrences (deposits.occurrence_json.deferred_json) changes the dataset's
version itself: the triggers leave its million rows alone.
"""

from django.db import migrations

FEATURE_TABLES = [
    "deposits_mineraloccurrence",
    "layers_geologicalunit",
    "layers_structure",
    "layers_vectorfeature",
]


def _revise_function(name: str, datasets_of: str, on_truncate: str) -> str:
    """A trigger function counting an edit for each dataset whose rows the statement touched.

    `datasets_of` is a query for the dataset ids of a transition table named by `{rows}`."""
    new, old = datasets_of.format(rows="new_rows"), datasets_of.format(rows="old_rows")
    return f"""
CREATE FUNCTION {name}() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF current_setting('amdis.occurrence_json', true) = 'deferred' THEN
    RETURN NULL;
  END IF;
  IF TG_OP = 'TRUNCATE' THEN
    UPDATE layers_dataset SET revision = revision + 1 {on_truncate};
  ELSIF TG_OP = 'INSERT' THEN
    UPDATE layers_dataset SET revision = revision + 1 WHERE id IN ({new});
  ELSIF TG_OP = 'DELETE' THEN
    UPDATE layers_dataset SET revision = revision + 1 WHERE id IN ({old});
  ELSE
    UPDATE layers_dataset SET revision = revision + 1 WHERE id IN ({new} UNION {old});
  END IF;
  RETURN NULL;
END
$$;
"""


REVISE = _revise_function("layers_dataset_revise", "SELECT dataset_id FROM {rows}", "")
# Commodity links: the dataset is the occurrence's.
REVISE += _revise_function(
    "layers_dataset_revise_links",
    "SELECT o.dataset_id FROM deposits_mineraloccurrence o"
    " WHERE o.id IN (SELECT occurrence_id FROM {rows})",
    "WHERE kind = 'occurrences'",
)


def _triggers(table: str, function: str) -> str:
    return f"""
CREATE TRIGGER dataset_revise_insert AFTER INSERT ON {table}
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION {function}();
CREATE TRIGGER dataset_revise_update AFTER UPDATE ON {table}
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION {function}();
CREATE TRIGGER dataset_revise_delete AFTER DELETE ON {table}
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION {function}();
CREATE TRIGGER dataset_revise_truncate AFTER TRUNCATE ON {table}
  FOR EACH STATEMENT EXECUTE FUNCTION {function}();
"""


def _drop_triggers(table: str) -> str:
    return "".join(
        f"DROP TRIGGER dataset_revise_{event} ON {table};\n"
        for event in ("insert", "update", "delete", "truncate")
    )


FORWARD = "ALTER TABLE layers_dataset ADD COLUMN revision integer NOT NULL DEFAULT 0;\n" + REVISE
FORWARD += "".join(_triggers(t, "layers_dataset_revise") for t in FEATURE_TABLES)
FORWARD += _triggers("deposits_occurrencecommodity", "layers_dataset_revise_links")

REVERSE = "".join(_drop_triggers(t) for t in [*FEATURE_TABLES, "deposits_occurrencecommodity"])
REVERSE += """DROP FUNCTION layers_dataset_revise_links();
DROP FUNCTION layers_dataset_revise();
ALTER TABLE layers_dataset DROP COLUMN revision;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("layers", "0002_alter_dataset_kind_alter_dataset_organisation_and_more"),
        ("deposits", "0004_occurrence_json_bulk"),
    ]

    operations = [migrations.RunSQL(FORWARD, REVERSE)]
