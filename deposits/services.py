"""Writes: reference data, member-state boundaries and bulk occurrence imports.

Imports stage rows with COPY into a temporary table and do the spatial work (member state by
point-in-polygon, reprojection) in PostGIS, in one transaction: a failure leaves the
published data exactly as it was."""

import csv
import io
import json
import math
import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from json.encoder import encode_basestring_ascii
from pathlib import Path
from typing import Any, Protocol

from django.conf import settings
from django.db import connection, transaction

from deposits.mapping import OccurrenceMapping
from deposits.models import (
    Commodity,
    LocationAccuracy,
    MemberState,
    OccurrenceStatus,
    ReportingCode,
)
from layers.models import Dataset, DatasetKind
from webgis.lib.pgtools import statement_timeout_lift
from webgis.lib.vector_files import FileReadError, Records, read_any, read_vector

FIXTURES = Path(settings.BASE_DIR) / "fixtures"
# Points this close to a member state's coast (but outside its generalised boundary) belong to it.
COAST_TOLERANCE_M = 20_000
COAST_TOLERANCE_DEGREES = 0.25  # a box surely wider than COAST_TOLERANCE_M at these latitudes


class OccurrenceImportError(Exception):
    """The import cannot go ahead; nothing was written."""


def _read_fixture_csv(name: str) -> list[dict[str, str]]:
    with (FIXTURES / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@transaction.atomic
def reference_data_load() -> tuple[int, int]:
    """Upserts the member states and the commodity vocabulary from `fixtures/`."""
    states = _read_fixture_csv("member_states.csv")
    for row in states:
        MemberState.objects.update_or_create(
            code=row["code"],
            defaults={"name": row["name"], "accession_year": int(row["accession_year"])},
        )
    commodities = _read_fixture_csv("commodities.csv")
    for row in commodities:
        Commodity.objects.update_or_create(
            code=row["code"],
            defaults={
                "name": row["name"],
                "symbol": row["symbol"],
                "group": row["group"],
                "aliases": [a for a in row["aliases"].split("|") if a],
            },
        )
    return len(states), len(commodities)


def member_state_lookup() -> dict[str, str]:
    """Every way a source may name a member state (ISO alpha-3, numeric, names) -> alpha-3."""
    lookup: dict[str, str] = {}
    for row in _read_fixture_csv("member_states.csv"):
        code = row["code"]
        for key in [
            code,
            row["numeric"],
            str(int(row["numeric"])),
            row["name"],
            *row["other_names"].split("|"),
        ]:
            if key:
                lookup[key.strip().lower()] = code
    return lookup


@dataclass
class BoundaryReport:
    loaded: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)


BOUNDARY_KEY_COLUMNS = (
    "ISO_A3",
    "ADM0_A3",
    "iso_a3",
    "adm0_a3",
    "id",
    "ISO_N3",
    "NAME",
    "name",
    "ADMIN",
)


@transaction.atomic
def boundaries_import(
    *, path: Path, srid: int | None = None, layer: str | None = None
) -> BoundaryReport:
    """Loads member-state boundaries from any admin-0 file GDAL reads; the rest of the world is ignored."""
    if layer is None and path.suffix.lower() == ".json":
        layer = "countries"  # TopoJSON from world-atlas keeps countries in this object
    records = read_vector(path, layer=layer, srid=srid)
    lookup = member_state_lookup()
    found: dict[str, list[bytes]] = {}
    for row, wkb in zip(records.rows, records.geometries, strict=True):
        code = next(
            (
                lookup[str(row[c]).strip().lower()]
                for c in BOUNDARY_KEY_COLUMNS
                if c in row and row[c] is not None and str(row[c]).strip().lower() in lookup
            ),
            None,
        )
        if code and wkb:
            found.setdefault(code, []).append(wkb)
    report = BoundaryReport()
    source = path.name
    with connection.cursor() as cursor:
        for code, parts in found.items():
            cursor.execute(
                """UPDATE deposits_memberstate SET boundary = ST_Multi(ST_CollectionExtract(
                       ST_MakeValid(ST_Transform(ST_Union(ARRAY(
                           SELECT ST_SetSRID(ST_GeomFromWKB(w), %s) FROM unnest(%s::bytea[]) w
                       )), 4326)), 3)),
                       boundary_source = %s, updated_at = now()
                   WHERE code = %s""",
                [records.srid, parts, source, code],
            )
            report.loaded.append(code)
    report.missing = sorted(set(MemberState.objects.values_list("code", flat=True)) - set(found))
    report.loaded.sort()
    return report


@dataclass
class OccurrenceImportReport:
    dataset: str = ""
    read: int = 0
    imported: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)  # (row number, reason)
    outside_member_states: list[tuple[int, str]] = field(default_factory=list)
    unmapped_terms: dict[str, Counter[str]] = field(default_factory=dict)
    by_member_state: dict[str, int] = field(default_factory=dict)

    def note_unmapped(self, kind: str, term: str) -> None:
        self.unmapped_terms.setdefault(kind, Counter())[term] += 1


def _commodity_lookup() -> dict[str, int]:
    lookup: dict[str, int] = {}
    for pk, code, name, symbol, aliases in Commodity.objects.values_list(
        "id", "code", "name", "symbol", "aliases"
    ):
        for key in [code, name, symbol, *aliases]:
            if key:
                lookup.setdefault(key.strip().lower(), pk)
    return lookup


def _number(value: Any) -> float | None:
    if value is None or value == "":
        return None
    try:
        number = float(str(value).replace(",", "").strip())
    except ValueError:
        return None
    return number if math.isfinite(number) else None


STAGING_COLUMNS = (
    "row_number",
    "name",
    "other_names",
    "province",
    "deposit_type",
    "status",
    "resource_mt",
    "grades",
    "reporting_code",
    "resource_date",
    "location_accuracy",
    "source_id",
    "refs",
    "attributes",
    "main_ids",
    "secondary_ids",
    "lon",
    "lat",
    "wkb",
    "country_code",
)


class RowProblems(Protocol):
    """Where staging records rejected rows and unmapped terms (an import report or an upload)."""

    rejected: list[tuple[int, str]]

    def note_unmapped(self, kind: str, term: str) -> None: ...


def _stage_row(
    number: int,
    row: dict[str, Any],
    wkb: bytes | None,
    mapping: OccurrenceMapping,
    commodities: dict[str, int],
    states: dict[str, str],
    report: RowProblems,
) -> list[Any] | None:
    """One source row as a staging row, or None (with the reason in the report)."""
    nulls = mapping.null_values
    values = {name: rule.read(row, nulls) for name, rule in mapping.fields.items()}
    name = values.get("name")
    if not name:
        report.rejected.append((number, "no name"))
        return None
    lon = lat = None
    if mapping.lon and mapping.lat:
        lon, lat = _number(row.get(mapping.lon)), _number(row.get(mapping.lat))
        if lon is None or lat is None:
            report.rejected.append((number, f"{name}: longitude/latitude missing or not a number"))
            return None
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            report.rejected.append(
                (number, f"{name}: longitude {lon} / latitude {lat} out of range")
            )
            return None
    elif wkb is None:
        report.rejected.append((number, f"{name}: no geometry"))
        return None

    status = values.get("status") or OccurrenceStatus.OCCURRENCE
    if status not in OccurrenceStatus.values:
        report.note_unmapped("status", str(status))
        status = OccurrenceStatus.OCCURRENCE
    accuracy = values.get("location_accuracy") or LocationAccuracy.UNKNOWN
    if accuracy not in LocationAccuracy.values:
        report.note_unmapped("location_accuracy", str(accuracy))
        accuracy = LocationAccuracy.UNKNOWN
    reporting = values.get("reporting_code") or ""
    if reporting not in ReportingCode.values:
        report.note_unmapped("reporting_code", str(reporting))
        reporting = ReportingCode.OTHER
    resource_date = values.get("resource_date")
    if resource_date:
        try:
            resource_date = date.fromisoformat(str(resource_date)).isoformat()
        except ValueError:
            report.note_unmapped("resource_date", str(resource_date))
            resource_date = None

    def commodity_ids(terms: Any) -> list[int]:
        ids: list[int] = []
        for term in terms if isinstance(terms, list) else [terms] if terms else []:
            pk = commodities.get(str(term).strip().lower())
            if pk is None:
                report.note_unmapped("commodity", str(term).strip())
            elif pk not in ids:
                ids.append(pk)
        return ids

    main_ids = (
        commodity_ids(mapping.main_commodities.read(row, nulls)) if mapping.main_commodities else []
    )
    grades: dict[str, dict[str, Any]] = {}
    for code, rule in mapping.grades.items():
        grade = _number(row.get(rule.column))
        if grade is None or (rule.zero_is_missing and grade == 0):
            continue
        grades[code] = {"value": grade, "unit": rule.unit}
    if mapping.secondary_from_grades:
        secondary_terms: Any = list(grades)
    elif mapping.secondary_commodities:
        secondary_terms = mapping.secondary_commodities.read(row, nulls)
    else:
        secondary_terms = []
    secondary_ids = [pk for pk in commodity_ids(secondary_terms) if pk not in main_ids]

    other_names = values.get("other_names") or []
    if isinstance(other_names, str):
        other_names = [other_names]
    attributes = {k: v for k, v in row.items() if v not in (None, "")}
    return [
        number,
        str(name)[:300],
        json.dumps([str(n)[:300] for n in other_names]),
        str(values.get("province") or "")[:200],
        str(values.get("deposit_type") or "")[:200],
        status,
        _number(values.get("resource_mt")),
        json.dumps(grades),
        reporting,
        resource_date,
        accuracy,
        str(values.get("source_id") or "")[:100],
        str(values.get("references") or ""),
        json.dumps(attributes, default=str),
        json.dumps(main_ids),
        json.dumps(secondary_ids),
        lon,
        lat,
        wkb.hex() if wkb else None,
        # ISO code of the source's country; "" for a country that is not a member; None if not given.
        None
        if not values.get("country")
        else states.get(str(values["country"]).strip().lower(), ""),
    ]


def _memo(function: Any, values: list[Any]) -> list[Any]:
    """`function` applied to each value, computed once per distinct value (columns of a batch
    repeat their values: statuses, commodities, types)."""
    try:
        memo = {v: function(v) for v in set(values)}
    except TypeError:  # an unhashable value: no memo
        return [function(v) for v in values]
    return [memo[v] for v in values]


def _vocabulary(value: Any, values: Any, default: str) -> tuple[str, str | None]:
    """(stored value, unmapped term or None): `_stage_row`'s rule for status and accuracy."""
    chosen = value or default
    if chosen not in values:
        return default, str(chosen)
    return chosen, None


def _reporting(value: Any) -> tuple[str, str | None]:
    reporting = value or ""
    if reporting not in ReportingCode.values:
        return ReportingCode.OTHER, str(reporting)
    return reporting, None


def _resource_date(value: Any) -> tuple[str | None, str | None]:
    if not value:
        return None, None
    try:
        return date.fromisoformat(str(value)).isoformat(), None
    except ValueError:
        return None, str(value)


def _stage_columns(
    first: int,
    names: list[str],
    columns: list[list[Any]],
    wkb: list[bytes | None],
    mapping: OccurrenceMapping,
    commodities: dict[str, int],
    states: dict[str, str],
    report: RowProblems,
) -> dict[str, list[Any]]:
    """A batch of source rows, column by column, as staging values: the same rules and the
    same rejections and unmapped terms as `_stage_row`, but each rule runs once per distinct
    value of its column, not once per row. Returns one dict per column of STAGING_COLUMNS
    (plus feature_key), as lists over the accepted rows."""
    n = len(wkb)
    nulls = mapping.null_values
    by_name = dict(zip(names, columns, strict=True))
    absent: list[Any] = [None] * n

    def column(name: str | None) -> list[Any]:
        return by_name.get(name, absent) if name else absent

    def rule_values(rule: Any) -> list[Any]:
        if rule.column is None:
            return [rule.constant] * n
        return _memo(lambda v: rule.read({rule.column: v}, nulls), column(rule.column))

    values = {name: rule_values(rule) for name, rule in mapping.fields.items()}
    names_ = values.get("name", absent)
    keep: list[int] = []
    lon_out: list[Any] = absent
    lat_out: list[Any] = absent
    if mapping.lon and mapping.lat:
        lons, lats = _memo(_number, column(mapping.lon)), _memo(_number, column(mapping.lat))
        lon_out, lat_out = lons, lats
        for i in range(n):
            name = names_[i]
            if not name:
                report.rejected.append((first + i, "no name"))
            elif lons[i] is None or lats[i] is None:
                report.rejected.append(
                    (first + i, f"{name}: longitude/latitude missing or not a number")
                )
            elif not (-180 <= lons[i] <= 180 and -90 <= lats[i] <= 90):
                report.rejected.append(
                    (first + i, f"{name}: longitude {lons[i]} / latitude {lats[i]} out of range")
                )
            else:
                keep.append(i)
    else:
        for i in range(n):
            if not names_[i]:
                report.rejected.append((first + i, "no name"))
            elif wkb[i] is None:
                report.rejected.append((first + i, f"{names_[i]}: no geometry"))
            else:
                keep.append(i)

    def kept(values: list[Any]) -> list[Any]:
        return [values[i] for i in keep]

    def checked(kind: str, pairs: list[tuple[Any, str | None]]) -> list[Any]:
        out = []
        for value, term in kept(pairs):
            if term is not None:
                report.note_unmapped(kind, term)
            out.append(value)
        return out

    status = checked(
        "status",
        _memo(
            lambda v: _vocabulary(v, OccurrenceStatus.values, OccurrenceStatus.OCCURRENCE),
            values.get("status", absent),
        ),
    )
    accuracy = checked(
        "location_accuracy",
        _memo(
            lambda v: _vocabulary(v, LocationAccuracy.values, LocationAccuracy.UNKNOWN),
            values.get("location_accuracy", absent),
        ),
    )
    reporting = checked("reporting_code", _memo(_reporting, values.get("reporting_code", absent)))
    resource_date = checked(
        "resource_date", _memo(_resource_date, values.get("resource_date", absent))
    )

    def commodity_ids(terms: Any) -> tuple[list[int], list[str]]:
        ids: list[int] = []
        unmapped: list[str] = []
        for term in terms if isinstance(terms, list) else [terms] if terms else []:
            pk = commodities.get(str(term).strip().lower())
            if pk is None:
                unmapped.append(str(term).strip())
            elif pk not in ids:
                ids.append(pk)
        return ids, unmapped

    def rule_terms(rule: Any) -> list[Any]:
        if rule.column is None:
            return [rule.read({}, nulls)] * n
        return _memo(lambda v: rule.read({rule.column: v}, nulls), column(rule.column))

    main = (
        _memo_lists(commodity_ids, rule_terms(mapping.main_commodities))
        if mapping.main_commodities
        else [([], [])] * n
    )
    grade_columns = {
        code: _memo(_number, column(rule.column)) for code, rule in mapping.grades.items()
    }
    grades_out: list[str] = []
    main_out: list[str] = []
    secondary_out: list[str] = []
    secondary_terms = (
        rule_terms(mapping.secondary_commodities)
        if mapping.secondary_commodities and not mapping.secondary_from_grades
        else absent
    )
    lists: dict[tuple[int, ...], str] = {}
    for i in keep:
        main_ids, unmapped = main[i]
        for term in unmapped:
            report.note_unmapped("commodity", term)
        grades: dict[str, dict[str, Any]] = {}
        for code, rule in mapping.grades.items():
            grade = grade_columns[code][i]
            if grade is None or (rule.zero_is_missing and grade == 0):
                continue
            grades[code] = {"value": grade, "unit": rule.unit}
        terms: Any = (
            list(grades)
            if mapping.secondary_from_grades
            else secondary_terms[i]
            if mapping.secondary_commodities
            else []
        )
        secondary_ids, unmapped = commodity_ids(terms)
        for term in unmapped:
            report.note_unmapped("commodity", term)
        grades_out.append(json.dumps(grades) if grades else "{}")
        main_out.append(_ids_json(main_ids, lists))
        secondary_out.append(_ids_json([pk for pk in secondary_ids if pk not in main_ids], lists))

    def text(name: str, limit: int | None) -> list[str]:
        return [str(v or "")[:limit] for v in kept(values.get(name, absent))]

    def other(value: Any) -> str:
        names = value or []
        if isinstance(names, str):
            names = [names]
        return json.dumps([str(x)[:300] for x in names])

    # attributes: each non-empty value as a JSON member, encoded once per distinct value.
    members = [
        _memo(_json_member(name), values_) for name, values_ in zip(names, columns, strict=True)
    ]
    attributes = (
        [
            "{" + ", ".join([m for m in row if m is not None]) + "}"
            for row in zip(*[kept(m) for m in members], strict=True)
        ]
        if members
        else ["{}"] * len(keep)
    )
    staged_names = [str(v)[:300] for v in kept(names_)]
    source_ids = text("source_id", 100)
    country = values.get("country")
    return {
        "row_number": [first + i for i in keep],
        "name": staged_names,
        "other_names": _memo_lists(other, kept(values.get("other_names", absent))),
        "province": text("province", 200),
        "deposit_type": text("deposit_type", 200),
        "status": status,
        "resource_mt": kept(_memo(_number, values.get("resource_mt", absent))),
        "grades": grades_out,
        "reporting_code": reporting,
        "resource_date": resource_date,
        "location_accuracy": accuracy,
        "source_id": source_ids,
        "refs": text("references", None),
        "attributes": attributes,
        "main_ids": main_out,
        "secondary_ids": secondary_out,
        "lon": kept(lon_out),
        "lat": kept(lat_out),
        "wkb": kept(wkb) if not mapping.lon else [None] * len(keep),  # bytes, not hex
        "country_code": [
            None if not v else states.get(str(v).strip().lower(), "") for v in kept(country)
        ]
        if country is not None
        else [None] * len(keep),
        "feature_key": [(s or nm).lower() for s, nm in zip(source_ids, staged_names, strict=True)],
    }


def _json_value(value: Any) -> str:
    """`json.dumps(value, default=str)` without its per-call overhead for the usual types."""
    kind = type(value)
    if kind is str:
        return str(encode_basestring_ascii(value))
    if kind is int:
        return str(value)
    if kind is float and math.isfinite(value):
        return repr(value)
    if kind is bool:
        return "true" if value else "false"
    return json.dumps(value, default=str)


def _json_member(name: str) -> Any:
    key = json.dumps(name)

    def member(value: Any) -> str | None:
        if value is None or value == "":
            return None
        return f"{key}: {_json_value(value)}"

    return member


def _ids_json(ids: list[int], memo: dict[tuple[int, ...], str]) -> str:
    key = tuple(ids)
    text = memo.get(key)
    if text is None:
        text = memo[key] = json.dumps(ids)
    return text


def _memo_lists(function: Any, values: list[Any]) -> list[Any]:
    """`_memo` for values that may be lists (split columns): keyed by their tuple."""
    memo: dict[Any, Any] = {}
    out = []
    for v in values:
        key = tuple(v) if isinstance(v, list) else v
        if key not in memo:
            memo[key] = function(v)
        out.append(memo[key])
    return out


def dataset_occurrences_delete(dataset_id: int) -> None:
    """Every occurrence of a dataset, with its commodity links and stored GeoJSON, set-based:
    datasets hold up to millions of occurrences.

    The GeoJSON and edit-counting triggers stand aside (`amdis.occurrence_json = deferred`,
    migration 0007): the dataset's JSON rows go first, in one statement, and its edit counter
    goes up once. Left to them, the links' delete would recompute each occurrence's commodity
    list one by one just before the occurrence goes (1M occurrences: 84.7 s for the deletes,
    55 s of it in that trigger; 25.5 s now). Needs a transaction, as the setting is
    transaction-local; an enclosing `deferred_json` keeps its setting.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("dataset_occurrences_delete needs a transaction")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT coalesce(current_setting('amdis.occurrence_json', true), ''),"
            " set_config('amdis.occurrence_json', 'deferred', true)"
        )
        (before, _) = cursor.fetchone() or ("", "")
        cursor.execute(
            """DELETE FROM deposits_occurrencejson j USING deposits_mineraloccurrence o
               WHERE j.occurrence_id = o.id AND o.dataset_id = %s""",
            [dataset_id],
        )
        cursor.execute(
            """DELETE FROM deposits_occurrencecommodity WHERE occurrence_id IN (
                   SELECT id FROM deposits_mineraloccurrence WHERE dataset_id = %s)""",
            [dataset_id],
        )
        cursor.execute("DELETE FROM deposits_mineraloccurrence WHERE dataset_id = %s", [dataset_id])
        if cursor.rowcount:
            # The edit the dataset-revision triggers count (they stand aside in this mode too):
            # it versions the dataset's cached tiles and feature blocks.
            cursor.execute(
                "UPDATE layers_dataset SET revision = revision + 1 WHERE id = %s", [dataset_id]
            )
        cursor.execute("SELECT set_config('amdis.occurrence_json', %s, true)", [before])


def _assign_member_states(cursor: Any) -> None:
    """Point-in-polygon, checked against the source's own country column when it has one.

    Source coordinates are often rounded, and generalised boundaries miss small islands: a point
    within COAST_TOLERANCE_M of the member state its source names belongs to that state; a point
    whose source names a non-member country is outside, whatever the polygons say.
    """
    # Boundaries cut into small indexed pieces: a million points against eleven detailed
    # coastlines is then an index join, not a million full point-in-polygon tests.
    cursor.execute("DROP TABLE IF EXISTS pg_temp.member_state_parts")
    cursor.execute(
        """CREATE TEMP TABLE member_state_parts ON COMMIT DROP AS
           SELECT id, ST_Subdivide(boundary, 128) AS geom FROM deposits_memberstate WHERE boundary IS NOT NULL"""
    )
    cursor.execute("CREATE INDEX ON member_state_parts USING gist (geom)")
    cursor.execute("ANALYZE member_state_parts")
    cursor.execute(
        """UPDATE occurrence_staging s SET member_state_id = p.id
           FROM member_state_parts p WHERE ST_Covers(p.geom, s.geom)"""
    )
    cursor.execute(
        """UPDATE occurrence_staging SET member_state_id = NULL,
               problem = 'the source places it in a country that is not a member state'
           WHERE country_code = ''"""
    )
    cursor.execute(
        """UPDATE occurrence_staging s SET
               member_state_id = CASE WHEN ST_DWithin(ms.boundary::geography, s.geom::geography, %s)
                                      THEN ms.id END,
               problem = 'more than ' || %s / 1000 || ' km from ' || ms.name || ', the country its source names'
           FROM deposits_memberstate ms
           WHERE ms.code = s.country_code AND s.country_code <> ''
             AND s.member_state_id IS DISTINCT FROM ms.id""",
        [COAST_TOLERANCE_M, COAST_TOLERANCE_M],
    )
    cursor.execute(
        # The indexed box test (0.25 degrees > 20 km in the region) keeps the geodesic test for
        # the few pieces near the point.
        """UPDATE occurrence_staging s SET member_state_id = (
               SELECT p.id FROM member_state_parts p
               WHERE p.geom && ST_Expand(s.geom, %s)
                 AND ST_DWithin(p.geom::geography, s.geom::geography, %s)
               ORDER BY p.geom <-> s.geom LIMIT 1),
               problem = 'outside every member state'
           WHERE s.member_state_id IS NULL AND s.country_code IS NULL""",
        [COAST_TOLERANCE_DEGREES, COAST_TOLERANCE_M],
    )


def _copy_rows(cursor: Any, table: str, columns: tuple[str, ...], rows: list[list[Any]]) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow(["\\N" if v is None else v for v in row])
    buffer.seek(0)
    cursor.copy_expert(
        f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv, NULL '\\N')", buffer
    )


@transaction.atomic
def occurrence_import(
    *,
    path: Path,
    mapping: OccurrenceMapping,
    layer: str | None = None,
    srid: int | None = None,
    publish: bool = True,
) -> OccurrenceImportReport:
    """Imports (or re-imports) one source file as the dataset its mapping names.

    A re-import replaces the dataset's occurrences and raises its version, so tile caches
    keyed by the version never serve the old features.
    """
    try:
        records: Records = read_any(path, layer=layer, srid=srid)
    except FileReadError as exc:
        raise OccurrenceImportError(str(exc)) from exc
    mapping.check_columns(records.columns)
    if not (mapping.lon and mapping.lat) and not records.geometries:
        raise OccurrenceImportError(
            "The file has no geometry: name the longitude and latitude columns in the mapping."
        )
    if not MemberState.objects.filter(boundary__isnull=False).exists():
        raise OccurrenceImportError(
            "No member-state boundaries are loaded: run import_boundaries first."
        )

    report = OccurrenceImportReport(dataset=mapping.dataset["slug"], read=len(records.rows))
    commodities = _commodity_lookup()
    states = member_state_lookup()
    geometries = records.geometries or [None] * len(records.rows)
    # Column by column (the rules run once per distinct value), as uploads are staged; rows
    # whose keys differ from the header (a ragged CSV line) keep the row-by-row rules.
    names = list(records.columns)
    ragged = any(len(row) != len(names) for row in records.rows) or any(
        list(row) != names for row in records.rows[:1]
    )
    if ragged or len(set(names)) != len(names):
        staged = [
            staged_row
            for number, (row, wkb) in enumerate(zip(records.rows, geometries, strict=True), start=1)
            if (staged_row := _stage_row(number, row, wkb, mapping, commodities, states, report))
            is not None
        ]
    else:
        columns = [[row.get(name) for row in records.rows] for name in names]
        got = _stage_columns(1, names, columns, geometries, mapping, commodities, states, report)
        got["wkb"] = [w.hex() if w else None for w in got["wkb"]]
        staged = [list(row) for row in zip(*[got[c] for c in STAGING_COLUMNS], strict=True)]

    defaults = {k: v for k, v in mapping.dataset.items() if k != "slug"}
    defaults.setdefault("kind", DatasetKind.OCCURRENCES)
    defaults.setdefault("is_published", publish)
    dataset, created = Dataset.objects.get_or_create(
        slug=mapping.dataset["slug"], defaults=defaults
    )
    if not created:
        for key, value in defaults.items():
            setattr(dataset, key, value)
        dataset.version += 1
        dataset.save()
        dataset_occurrences_delete(dataset.pk)

    statement_timeout_lift()  # an operator's import may run for minutes
    with connection.cursor() as cursor:
        # Dropped first as well: several imports may share one outer transaction.
        cursor.execute("DROP TABLE IF EXISTS pg_temp.occurrence_staging")
        cursor.execute(
            """CREATE TEMP TABLE occurrence_staging (
                   row_number int, name text, other_names jsonb, province text, deposit_type text,
                   status text, resource_mt float8, grades jsonb, reporting_code text,
                   resource_date date, location_accuracy text, source_id text, refs text,
                   attributes jsonb, main_ids jsonb, secondary_ids jsonb, lon float8, lat float8,
                   wkb text, country_code text, geom geometry(Point, 4326),
                   member_state_id bigint, occurrence_id bigint, problem text
               ) ON COMMIT DROP"""
        )
        _copy_rows(cursor, "occurrence_staging", STAGING_COLUMNS, staged)
        cursor.execute(
            """UPDATE occurrence_staging SET geom = CASE
                   WHEN wkb IS NULL THEN ST_SetSRID(ST_MakePoint(lon, lat), 4326)
                   ELSE ST_Transform(ST_SetSRID(ST_GeomFromWKB(decode(wkb, 'hex')), %s), 4326)
               END""",
            [records.srid or 4326],
        )
        _assign_member_states(cursor)
        cursor.execute(
            """SELECT row_number, name, round(ST_X(geom)::numeric, 4), round(ST_Y(geom)::numeric, 4),
                      problem
               FROM occurrence_staging WHERE member_state_id IS NULL ORDER BY row_number"""
        )
        report.outside_member_states = [
            (r[0], f"{r[1]} ({r[2]}, {r[3]}): {r[4]}") for r in cursor.fetchall()
        ]
        cursor.execute(
            """UPDATE occurrence_staging SET occurrence_id = nextval(pg_get_serial_sequence(
                   'deposits_mineraloccurrence', 'id'))
               WHERE member_state_id IS NOT NULL"""
        )
        cursor.execute(
            """INSERT INTO deposits_mineraloccurrence (
                   id, name, other_names, member_state_id, province, geom, deposit_type, status,
                   resource_mt, grades, reporting_code, resource_date, location_accuracy,
                   dataset_id, source_id, "references", attributes)
               SELECT occurrence_id, name,
                      ARRAY(SELECT jsonb_array_elements_text(other_names)),
                      member_state_id, province, geom, deposit_type, status, resource_mt, grades,
                      reporting_code, resource_date, location_accuracy, %s, source_id, refs,
                      attributes
               FROM occurrence_staging WHERE occurrence_id IS NOT NULL ORDER BY row_number""",
            [dataset.pk],
        )
        report.imported = cursor.rowcount
        cursor.execute(
            """INSERT INTO deposits_occurrencecommodity (occurrence_id, commodity_id, rank)
               SELECT s.occurrence_id, c.value::bigint, 'main'
               FROM occurrence_staging s, jsonb_array_elements_text(s.main_ids) c
               WHERE s.occurrence_id IS NOT NULL
               UNION ALL
               SELECT s.occurrence_id, c.value::bigint, 'secondary'
               FROM occurrence_staging s, jsonb_array_elements_text(s.secondary_ids) c
               WHERE s.occurrence_id IS NOT NULL"""
        )
        cursor.execute(
            """SELECT ms.code, count(*) FROM occurrence_staging s
               JOIN deposits_memberstate ms ON ms.id = s.member_state_id GROUP BY ms.code"""
        )
        report.by_member_state = dict(sorted(cursor.fetchall()))
    return report


DEMO_OCCURRENCES_SLUG = "amdis-demo-occurrences"
# (deposit type, main commodities, secondary commodities) drawn for demo occurrences.
DEMO_STYLES = [
    ("Porphyry Cu-Au", ["copper"], ["gold", "molybdenum"]),
    ("Epithermal Au-Ag", ["gold"], ["silver"]),
    ("Laterite Ni-Co", ["nickel"], ["cobalt"]),
    ("Greisen Sn-W", ["tin"], ["tungsten"]),
    ("Placer Sn", ["tin"], ["zircon", "monazite"]),
    ("Ion-adsorption REE clay", ["rare-earth-element"], ["yttrium"]),
    ("Bauxite", ["bauxite"], []),
    ("Skarn Fe-Cu", ["iron-ore"], ["copper"]),
    ("Orogenic Au", ["gold"], []),
    ("Coal seam", ["coal"], []),
    ("VMS Cu-Zn", ["copper", "zinc"], ["lead", "silver"]),
    ("Limestone quarry", ["limestone"], []),
]


@transaction.atomic
def demo_occurrences_create(*, per_state: int = 60, seed: int = 20251) -> int:
    """Made-up occurrences inside each member state, reproducible from the seed, marked demo."""
    dataset, _ = Dataset.objects.update_or_create(
        slug=DEMO_OCCURRENCES_SLUG,
        defaults={
            "title": "AMDIS demonstration occurrences",
            "abstract": "Made-up mineral occurrences that show how AMDIS works. Not real data.",
            "kind": DatasetKind.OCCURRENCES,
            "organisation": "AMDIS",
            "licence": "CC0 1.0",
            "citation": "AMDIS demonstration data (generated).",
            "keywords": ["demo"],
            "is_published": True,
            "is_demo": True,
        },
    )
    commodity_ids = dict(Commodity.objects.values_list("code", "id"))
    statuses = [s.value for s in OccurrenceStatus]
    with connection.cursor() as cursor:
        dataset_occurrences_delete(dataset.pk)
        cursor.execute(
            """SELECT ms.id, ms.code, ST_AsBinary(p.geom)
               FROM deposits_memberstate ms,
                    LATERAL ST_Dump(ST_GeneratePoints(ms.boundary,
                        GREATEST(3, LEAST(%s, (sqrt(ST_Area(ms.boundary)) * 6)::int)), %s)) p
               WHERE ms.boundary IS NOT NULL ORDER BY ms.code, p.path""",
            [per_state, seed],
        )
        points = cursor.fetchall()
    rng = random.Random(seed)
    rows: list[list[Any]] = []
    links: list[tuple[int, int, str]] = []
    for number, (state_id, code, wkb) in enumerate(points, start=1):
        deposit_type, main, secondary = DEMO_STYLES[rng.randrange(len(DEMO_STYLES))]
        kind = "prospect" if rng.random() < 0.5 else "deposit"
        rows.append(
            [
                number,
                f"Demo {deposit_type.split()[-1]} {kind} {code}-{number:03d}",
                state_id,
                deposit_type,
                rng.choice(statuses),
                round(rng.lognormvariate(2.5, 1.2), 1),
                bytes(wkb).hex(),
            ]
        )
        links.extend((number, commodity_ids[c], "main") for c in main if c in commodity_ids)
        links.extend(
            (number, commodity_ids[c], "secondary") for c in secondary if c in commodity_ids
        )
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS pg_temp.demo_staging, pg_temp.demo_links")
        cursor.execute(
            """CREATE TEMP TABLE demo_staging (n int, name text, member_state_id bigint,
                   deposit_type text, status text, resource_mt float8, wkb text, id bigint)
               ON COMMIT DROP"""
        )
        _copy_rows(
            cursor,
            "demo_staging",
            ("n", "name", "member_state_id", "deposit_type", "status", "resource_mt", "wkb"),
            rows,
        )
        cursor.execute(
            "UPDATE demo_staging SET id = nextval(pg_get_serial_sequence('deposits_mineraloccurrence', 'id'))"
        )
        cursor.execute(
            """INSERT INTO deposits_mineraloccurrence (id, name, other_names, member_state_id, province,
                   geom, deposit_type, status, resource_mt, grades, reporting_code, location_accuracy,
                   dataset_id, source_id, "references", attributes)
               SELECT id, name, '{}', member_state_id, '', ST_SetSRID(ST_GeomFromWKB(decode(wkb, 'hex')), 4326),
                      deposit_type, status, resource_mt, '{}', '', 'unknown', %s, 'demo-' || n,
                      'Generated demonstration record.', '{}'
               FROM demo_staging ORDER BY n""",
            [dataset.pk],
        )
        cursor.execute(
            "CREATE TEMP TABLE demo_links (n int, commodity_id bigint, rank text) ON COMMIT DROP"
        )
        _copy_rows(
            cursor, "demo_links", ("n", "commodity_id", "rank"), [list(link) for link in links]
        )
        cursor.execute(
            """INSERT INTO deposits_occurrencecommodity (occurrence_id, commodity_id, rank)
               SELECT DISTINCT ON (s.id, l.commodity_id) s.id, l.commodity_id, l.rank
               FROM demo_links l JOIN demo_staging s ON s.n = l.n ORDER BY s.id, l.commodity_id, l.rank"""
        )
    return len(rows)
