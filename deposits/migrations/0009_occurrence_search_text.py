"""The text that `q` searches (name and other names) gets one trigram index.

The filter was `name ILIKE x OR array_to_string(other_names, ' ') ILIKE x`, and only `name` had
a trigram index: PostgreSQL cannot use an index for one side of an OR, so every search read
every occurrence (0.43 s a keystroke in the map's search box over 1M occurrences). The filter
now reads one expression, `deposits_occurrence_search_text(name, other_names)`, indexed in its
place; the name-only index served nothing else.

The function is IMMUTABLE so that it can be indexed. `array_to_string` itself is only STABLE
(in general it calls each element type's output function); for varchar it does not change.
The names are joined with the unit separator (chr 31), so a search cannot match across two of
them.
"""

from django.contrib.postgres.indexes import GinIndex, OpClass
from django.db import migrations
from django.db.models import F, Func, TextField

FUNCTION = """
CREATE FUNCTION deposits_occurrence_search_text(name varchar, other_names varchar[])
RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT name || chr(31) || array_to_string(other_names, chr(31)) $$;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("deposits", "0008_occurrence_commodity_link_names"),
    ]

    operations = [
        migrations.RunSQL(FUNCTION, "DROP FUNCTION deposits_occurrence_search_text;"),
        migrations.RemoveIndex(model_name="mineraloccurrence", name="occurrence_name_trgm"),
        migrations.AddIndex(
            model_name="mineraloccurrence",
            index=GinIndex(
                OpClass(
                    Func(
                        F("name"),
                        F("other_names"),
                        function="deposits_occurrence_search_text",
                        output_field=TextField(),
                    ),
                    name="gin_trgm_ops",
                ),
                name="occurrence_search_trgm",
            ),
        ),
    ]
