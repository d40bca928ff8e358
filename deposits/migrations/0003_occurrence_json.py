"""Each occurrence's GeoJSON, built once when it is written rather than on every read.

`deposits_occurrencejson` holds, per occurrence, the Feature text up to the end of its own
properties (`head`) and its commodity list as a JSON array (`commodities`). Statement-level
triggers keep it right on every write path, whatever issues the SQL (the CLI import, an upload
being published, the admin, a version restore, raw SQL): inserting, updating, deleting or
truncating occurrences; adding, changing or removing their commodities; renaming a commodity.
Member state and dataset names are joined when read (renaming either touches no feature).
Readers fall back to the same functions when a row is missing (deposits.selectors).
Not a Django model: nothing in Python reads or writes it except through SQL.
"""

from django.db import migrations

HEAD = """
CREATE FUNCTION deposits_occurrence_head(t deposits_mineraloccurrence) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT '{"type":"Feature","id":' || t.id || ',"geometry":' || ST_AsGeoJSON(t.geom, 6)
    || ',"properties":{"name":' || to_json(t.name) || ',"other_names":' || to_json(t.other_names)
    || ',"province":' || to_json(t.province) || ',"deposit_type":' || to_json(t.deposit_type)
    || ',"status":' || to_json(t.status)
    || ',"resource_mt":' || coalesce(to_json(t.resource_mt)::text, 'null')
    || ',"grades":' || t.grades::text || ',"reporting_code":' || to_json(t.reporting_code)
    || ',"resource_date":' || coalesce(to_json(t.resource_date)::text, 'null')
    || ',"location_accuracy":' || to_json(t.location_accuracy)
    || ',"url":"/occurrences/' || t.id || '/"'
$$;
"""

COMMODITY_ITEM = (
    """'{"code":' || to_json(c.code) || ',"name":' || to_json(c.name)"""
    """ || ',"symbol":' || to_json(c.symbol) || ',"group":' || to_json(c."group")"""
    """ || ',"rank":' || to_json(oc.rank) || '}'"""
)

COMMODITIES = f"""
CREATE FUNCTION deposits_occurrence_commodities(occurrence bigint) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT '[' || coalesce(string_agg({COMMODITY_ITEM}, ',' ORDER BY oc.rank, c.name), '') || ']'
  FROM deposits_occurrencecommodity oc JOIN deposits_commodity c ON c.id = oc.commodity_id
  WHERE oc.occurrence_id = occurrence
$$;
"""

# Grouped: one pass over the commodities of many occurrences (bulk imports).
GROUPED = f"""
  SELECT oc.occurrence_id,
         '[' || string_agg({COMMODITY_ITEM}, ',' ORDER BY oc.rank, c.name) || ']' AS list
  FROM deposits_occurrencecommodity oc JOIN deposits_commodity c ON c.id = oc.commodity_id
"""

TABLE = """
CREATE TABLE deposits_occurrencejson (
  occurrence_id bigint PRIMARY KEY,
  head text NOT NULL,
  commodities text NOT NULL
);
"""

BACKFILL = f"""
INSERT INTO deposits_occurrencejson (occurrence_id, head, commodities)
SELECT t.id, deposits_occurrence_head(t), coalesce(g.list, '[]')
FROM deposits_mineraloccurrence t
LEFT JOIN ({GROUPED} GROUP BY oc.occurrence_id) g ON g.occurrence_id = t.id;
"""

OCCURRENCE_TRIGGER = """
CREATE FUNCTION deposits_occurrencejson_occurrences() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    TRUNCATE deposits_occurrencejson;
    RETURN NULL;
  END IF;
  IF TG_OP = 'DELETE' THEN
    DELETE FROM deposits_occurrencejson j USING old_rows o WHERE j.occurrence_id = o.id;
    RETURN NULL;
  END IF;
  IF TG_OP = 'UPDATE' THEN  -- an id changed: its old row goes
    DELETE FROM deposits_occurrencejson j USING old_rows o
    WHERE j.occurrence_id = o.id AND NOT EXISTS (SELECT 1 FROM new_rows n WHERE n.id = o.id);
  END IF;
  INSERT INTO deposits_occurrencejson (occurrence_id, head, commodities)
    SELECT n.id, deposits_occurrence_head(n), deposits_occurrence_commodities(n.id)
    FROM new_rows n
    ON CONFLICT (occurrence_id) DO UPDATE
      SET head = EXCLUDED.head, commodities = EXCLUDED.commodities;
  RETURN NULL;
END
$$;
CREATE TRIGGER occurrencejson_insert AFTER INSERT ON deposits_mineraloccurrence
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION deposits_occurrencejson_occurrences();
CREATE TRIGGER occurrencejson_update AFTER UPDATE ON deposits_mineraloccurrence
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION deposits_occurrencejson_occurrences();
CREATE TRIGGER occurrencejson_delete AFTER DELETE ON deposits_mineraloccurrence
  REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION deposits_occurrencejson_occurrences();
CREATE TRIGGER occurrencejson_truncate AFTER TRUNCATE ON deposits_mineraloccurrence
  FOR EACH STATEMENT EXECUTE FUNCTION deposits_occurrencejson_occurrences();
"""

# Rows inserted: one grouped pass (every changed occurrence has a commodity now). Rows changed
# or removed: recomputed one by one (an occurrence may have none left: '[]').
LINK_TRIGGER = f"""
CREATE FUNCTION deposits_occurrencejson_links() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    UPDATE deposits_occurrencejson j SET commodities = g.list
    FROM ({GROUPED}
          WHERE oc.occurrence_id IN (SELECT occurrence_id FROM new_rows)
          GROUP BY oc.occurrence_id) g
    WHERE j.occurrence_id = g.occurrence_id AND j.commodities IS DISTINCT FROM g.list;
  ELSIF TG_OP = 'UPDATE' THEN
    UPDATE deposits_occurrencejson j
    SET commodities = deposits_occurrence_commodities(j.occurrence_id)
    WHERE j.occurrence_id IN (SELECT occurrence_id FROM new_rows
                              UNION SELECT occurrence_id FROM old_rows);
  ELSIF TG_OP = 'DELETE' THEN
    UPDATE deposits_occurrencejson j
    SET commodities = deposits_occurrence_commodities(j.occurrence_id)
    WHERE j.occurrence_id IN (SELECT occurrence_id FROM old_rows);
  ELSE
    UPDATE deposits_occurrencejson SET commodities = '[]' WHERE commodities <> '[]';
  END IF;
  RETURN NULL;
END
$$;
CREATE TRIGGER occurrencejson_insert AFTER INSERT ON deposits_occurrencecommodity
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION deposits_occurrencejson_links();
CREATE TRIGGER occurrencejson_update AFTER UPDATE ON deposits_occurrencecommodity
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION deposits_occurrencejson_links();
CREATE TRIGGER occurrencejson_delete AFTER DELETE ON deposits_occurrencecommodity
  REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION deposits_occurrencejson_links();
CREATE TRIGGER occurrencejson_truncate AFTER TRUNCATE ON deposits_occurrencecommodity
  FOR EACH STATEMENT EXECUTE FUNCTION deposits_occurrencejson_links();
"""

# A commodity's code, name, symbol or group changed: every occurrence listing it.
COMMODITY_TRIGGER = """
CREATE FUNCTION deposits_occurrencejson_commodity() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  UPDATE deposits_occurrencejson j
  SET commodities = deposits_occurrence_commodities(j.occurrence_id)
  WHERE j.occurrence_id IN (
    SELECT oc.occurrence_id FROM deposits_occurrencecommodity oc
    WHERE oc.commodity_id IN (
      SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id
      WHERE (n.code, n.name, n.symbol, n."group") IS DISTINCT FROM (o.code, o.name, o.symbol, o."group")
    )
  );
  RETURN NULL;
END
$$;
CREATE TRIGGER occurrencejson_update AFTER UPDATE ON deposits_commodity
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION deposits_occurrencejson_commodity();
"""

FORWARD = HEAD + COMMODITIES + TABLE + BACKFILL + OCCURRENCE_TRIGGER + LINK_TRIGGER
FORWARD += COMMODITY_TRIGGER + "ANALYZE deposits_occurrencejson;"

REVERSE = """
DROP TRIGGER occurrencejson_update ON deposits_commodity;
DROP TRIGGER occurrencejson_insert ON deposits_occurrencecommodity;
DROP TRIGGER occurrencejson_update ON deposits_occurrencecommodity;
DROP TRIGGER occurrencejson_delete ON deposits_occurrencecommodity;
DROP TRIGGER occurrencejson_truncate ON deposits_occurrencecommodity;
DROP TRIGGER occurrencejson_insert ON deposits_mineraloccurrence;
DROP TRIGGER occurrencejson_update ON deposits_mineraloccurrence;
DROP TRIGGER occurrencejson_delete ON deposits_mineraloccurrence;
DROP TRIGGER occurrencejson_truncate ON deposits_mineraloccurrence;
DROP FUNCTION deposits_occurrencejson_commodity();
DROP FUNCTION deposits_occurrencejson_links();
DROP FUNCTION deposits_occurrencejson_occurrences();
DROP TABLE deposits_occurrencejson;
DROP FUNCTION deposits_occurrence_commodities(bigint);
DROP FUNCTION deposits_occurrence_head(deposits_mineraloccurrence);
"""


class Migration(migrations.Migration):
    dependencies = [("deposits", "0002_initial")]

    operations = [migrations.RunSQL(FORWARD, REVERSE)]
