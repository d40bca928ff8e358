"""What each upload target does with a file: the fields its mapping fills, how rows are staged,
and how a published version becomes the live rows that the API and the tiles serve.

Every target stages into a table with the same leading columns (row_number, feature_key,
problems, rejected, wkb, lon, lat, geom, attributes); the rest are the target's own.
"""

import difflib
import json
import math
import re
from collections import Counter
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any

from deposits.mapping import FieldRule
from layers.ingest.reading import SourceRow
from layers.models import DatasetKind, StructureType, UploadTarget

COMMON_COLUMNS = (
    "row_number int NOT NULL, feature_key text, problems jsonb NOT NULL DEFAULT '[]',"
    " rejected boolean NOT NULL DEFAULT false, wkb text, wkt text, lon float8, lat float8,"
    " geom geometry(Geometry, 4326), attributes jsonb NOT NULL DEFAULT '{}'"
)


@dataclass(frozen=True)
class MappingField:
    name: str
    label: str
    required: bool = False
    help: str = ""
    guesses: tuple[str, ...] = ()  # source column names that usually mean this field


@dataclass
class StageContext:
    """Per-upload state while staging: counters for the report."""

    rejected: list[tuple[int, str]] = field(default_factory=list)
    unmapped: dict[str, Counter[str]] = field(default_factory=dict)
    cache: dict[str, Any] = field(default_factory=dict)

    def note_unmapped(self, kind: str, term: str) -> None:
        self.unmapped.setdefault(kind, Counter())[term] += 1


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def suggest_columns(fields: list[MappingField], columns: list[str]) -> dict[str, str]:
    """Best-guess column for each field, from usual names (case and punctuation ignored)."""
    by_norm = {_norm(c): c for c in columns}
    suggestion: dict[str, str] = {}
    for f in fields:
        for guess in (f.name, *f.guesses):
            if _norm(guess) in by_norm:
                suggestion[f.name] = by_norm[_norm(guess)]
                break
    return suggestion


def suggest_terms(term: str, vocabulary: list[str], n: int = 3) -> list[str]:
    return difflib.get_close_matches(term.lower(), vocabulary, n=n, cutoff=0.6)


GEOMETRY_COORD_FIELDS = [
    MappingField(
        "lon",
        "Longitude / X column (CSV only)",
        guesses=("longitude", "long", "x", "lng", "LongitudeDecimal", "easting"),
    ),
    MappingField(
        "lat",
        "Latitude / Y column (CSV only)",
        guesses=("latitude", "y", "LatitudeDecimal", "northing"),
    ),
]


@dataclass(frozen=True)
class Target:
    """Base for the simple attribute targets (geology, structures, generic vector)."""

    name: str
    dataset_kind: str
    geometry_family: str  # "point", "line", "polygon" or "any"
    fields: tuple[MappingField, ...] = ()
    live_table: str = ""

    # Columns of this target after COMMON_COLUMNS, as SQL DDL, and the ones staged from Python.
    def staging_ddl(self) -> str:
        return ", ".join(f"{name} text" for name in self.field_names())

    def field_names(self) -> list[str]:
        return [f.name for f in self.fields]

    def copy_columns(self) -> list[str]:
        return ["row_number", "wkb", "wkt", "lon", "lat", "attributes", *self.own_copy_columns()]

    def own_copy_columns(self) -> list[str]:
        return self.field_names()

    def stage(self, row: SourceRow, mapping: dict[str, Any], ctx: StageContext) -> list[Any] | None:
        """One source row as staging values (in copy_columns order), or None if rejected."""
        geometry = read_geometry(row, mapping, ctx)
        if geometry is None:
            return None
        own = self.stage_values(row.number, row.attributes, mapping, ctx)
        if own is None:
            return None
        return [row.number, *geometry, json.dumps(row.attributes, default=str), *own]

    def stage_values(
        self, number: int, attributes: dict[str, Any], mapping: dict[str, Any], ctx: StageContext
    ) -> list[Any] | None:
        """The target's own column values for one row, or None to reject it (reason in ctx)."""
        values: list[Any] = []
        rules = mapping.get("fields", {})
        for f in self.fields:
            value = (
                FieldRule.parse(f.name, rules[f.name]).read(attributes, {""})
                if rules.get(f.name)
                else None
            )
            text = "" if value is None else str(value).strip()
            if f.required and not text:
                ctx.rejected.append((number, f"no {f.label.lower()}"))
                return None
            values.append(text)
        return values

    def ids_sql(self) -> str:
        """Ids the live rows need before materialize_sql can insert them ("" for none)."""
        return ""

    def materialize_sql(self) -> str:
        raise NotImplementedError

    def links_sql(self) -> str:
        """Rows of other tables that hang off the features (run after materialize_sql)."""
        return ""

    def writing(self, dataset_id: int) -> AbstractContextManager[None]:
        """Around writing a whole dataset to the live table: set-based upkeep of derived rows."""
        return nullcontext()

    def content_columns(self) -> list[str]:
        return [*self.field_names(), "attributes"]

    def mapping_fields(self, *, is_csv: bool) -> list[MappingField]:
        if not is_csv:
            return list(self.fields)
        return [
            *self.fields,
            MappingField(
                "wkt", "Geometry as WKT (CSV only)", guesses=("wkt", "geometry", "geom", "the_geom")
            ),
        ]

    def suggest_mapping(self, columns: list[str], *, is_csv: bool) -> dict[str, Any]:
        chosen = suggest_columns(
            [*self.mapping_fields(is_csv=is_csv), *GEOMETRY_COORD_FIELDS], columns
        )
        return self.mapping_from_choices(chosen, is_csv=is_csv)

    def mapping_from_choices(self, chosen: dict[str, str], *, is_csv: bool) -> dict[str, Any]:
        """The mapping dict from the form's field -> column choices."""
        spec: dict[str, Any] = {"fields": {}, "geometry": {}}
        for name, column in chosen.items():
            if not column:
                continue
            if name in {"lon", "lat", "wkt"}:
                if is_csv:
                    spec["geometry"][name] = column
            else:
                spec["fields"][name] = column
        return spec

    def choices_from_mapping(self, mapping: dict[str, Any]) -> dict[str, str]:
        """The inverse, to fill the form."""
        chosen = {k: v for k, v in (mapping.get("geometry") or {}).items() if isinstance(v, str)}
        for name, rule in (mapping.get("fields") or {}).items():
            if isinstance(rule, str):
                chosen[name] = rule
            elif isinstance(rule, dict) and isinstance(rule.get("column"), str):
                chosen[name] = rule["column"]
        return chosen

    def missing_fields(
        self, mapping: dict[str, Any], columns: list[str], *, is_csv: bool
    ) -> list[str]:
        """Labels of what the mapping still needs, and columns it names that the file lacks."""
        chosen = self.choices_from_mapping(mapping)
        missing = [f.label for f in self.fields if f.required and not chosen.get(f.name)]
        if is_csv and not (chosen.get("wkt") or (chosen.get("lon") and chosen.get("lat"))):
            missing.append("Geometry: a WKT column, or longitude and latitude columns")
        absent = sorted({c for c in chosen.values() if c and c not in columns})
        missing += [f"Column {c!r} (not in the file)" for c in absent]
        return missing


class GeologyTarget(Target):
    def materialize_sql(self) -> str:
        return """INSERT INTO layers_geologicalunit (dataset_id, name, lithology, age, age_min_ma, age_max_ma, description, geom)
                  SELECT %(dataset_id)s, coalesce(nullif(name, ''), 'Unnamed unit'), coalesce(lithology, ''),
                         coalesce(age, ''), age_min_ma::float8, age_max_ma::float8, coalesce(description, ''),
                         ST_Multi(ST_CollectionExtract(geom, 3))
                  FROM {snapshot} WHERE NOT rejected"""

    def staging_ddl(self) -> str:
        return "name text, lithology text, age text, age_min_ma float8, age_max_ma float8, description text"

    def stage_values(
        self, number: int, attributes: dict[str, Any], mapping: dict[str, Any], ctx: StageContext
    ) -> list[Any] | None:
        values = super().stage_values(number, attributes, mapping, ctx)
        if values is None:
            return None
        for i in (3, 4):  # age_min_ma, age_max_ma
            if values[i] == "":
                values[i] = None
                continue
            try:
                values[i] = float(values[i])
            except ValueError:
                ctx.rejected.append(
                    (number, f"{self.fields[i].label} {values[i]!r} is not a number")
                )
                return None
        return values


class StructureTarget(Target):
    TYPE_WORDS = {
        "normal": StructureType.NORMAL_FAULT,
        "reverse": StructureType.REVERSE_FAULT,
        "thrust": StructureType.THRUST_FAULT,
        "strike": StructureType.STRIKE_SLIP_FAULT,
        "dextral": StructureType.STRIKE_SLIP_FAULT,
        "sinistral": StructureType.STRIKE_SLIP_FAULT,
        "fold": StructureType.FOLD_AXIS,
        "anticline": StructureType.FOLD_AXIS,
        "syncline": StructureType.FOLD_AXIS,
        "lineament": StructureType.LINEAMENT,
    }

    def stage_values(
        self, number: int, attributes: dict[str, Any], mapping: dict[str, Any], ctx: StageContext
    ) -> list[Any] | None:
        values = super().stage_values(number, attributes, mapping, ctx)
        if values is None:
            return None
        raw = values[1]
        values[1] = self.structure_type(raw)
        if raw and values[1] == StructureType.FAULT and raw.lower() not in {"fault", ""}:
            ctx.note_unmapped("structure_type", raw)
        return values

    def structure_type(self, raw: str) -> str:
        lowered = raw.lower()
        if lowered in StructureType.values:
            return lowered
        for word, kind in self.TYPE_WORDS.items():
            if word in lowered:
                return str(kind)
        return StructureType.FAULT

    def materialize_sql(self) -> str:
        return """INSERT INTO layers_structure (dataset_id, name, structure_type, description, attributes, geom)
                  SELECT %(dataset_id)s, coalesce(name, ''), structure_type, coalesce(description, ''), attributes,
                         ST_Multi(ST_CollectionExtract(geom, 2))
                  FROM {snapshot} WHERE NOT rejected"""


class VectorTarget(Target):
    def staging_ddl(self) -> str:
        return ""

    def own_copy_columns(self) -> list[str]:
        return []

    def stage_values(
        self, number: int, attributes: dict[str, Any], mapping: dict[str, Any], ctx: StageContext
    ) -> list[Any] | None:
        return []

    def materialize_sql(self) -> str:
        return """INSERT INTO layers_vectorfeature (dataset_id, attributes, geom)
                  SELECT %(dataset_id)s, attributes, geom FROM {snapshot} WHERE NOT rejected"""

    def content_columns(self) -> list[str]:
        return ["attributes"]


GEOLOGY = GeologyTarget(
    name=UploadTarget.GEOLOGY,
    dataset_kind=DatasetKind.GEOLOGY,
    geometry_family="polygon",
    live_table="layers_geologicalunit",
    fields=(
        MappingField(
            "name",
            "Unit name",
            guesses=("unit_name", "unitname", "NAME", "UNIT", "map_unit", "formation"),
        ),
        MappingField(
            "lithology",
            "Lithology",
            guesses=("lith", "rocktype", "rock_type", "LITHOLOGY", "litho"),
        ),
        MappingField("age", "Age", guesses=("age_name", "era", "period", "AGE", "chronostrat")),
        MappingField(
            "age_min_ma", "Youngest age (Ma)", guesses=("min_age", "age_min", "minage", "young_ma")
        ),
        MappingField(
            "age_max_ma", "Oldest age (Ma)", guesses=("max_age", "age_max", "maxage", "old_ma")
        ),
        MappingField(
            "description", "Description", guesses=("descr", "desc", "DESCRIPTION", "remarks")
        ),
    ),
)
STRUCTURES = StructureTarget(
    name=UploadTarget.STRUCTURES,
    dataset_kind=DatasetKind.STRUCTURES,
    geometry_family="line",
    live_table="layers_structure",
    fields=(
        MappingField("name", "Name", guesses=("fault_name", "NAME", "label")),
        MappingField(
            "structure_type",
            "Structure type",
            guesses=("slip_type", "type", "fault_type", "kind", "TYPE"),
        ),
        MappingField("description", "Description", guesses=("descr", "desc", "notes", "remarks")),
    ),
)
VECTOR = VectorTarget(
    name=UploadTarget.VECTOR,
    dataset_kind=DatasetKind.VECTOR,
    geometry_family="any",
    live_table="layers_vectorfeature",
)


def _coordinate(value: Any) -> float | None:
    if value is None or str(value).strip() == "":
        return None
    try:
        number = float(str(value).strip().replace(",", "."))
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def read_geometry(
    row: SourceRow, mapping: dict[str, Any], ctx: StageContext
) -> tuple[Any, Any, Any, Any] | None:
    """(wkb hex, wkt, lon, lat) for one row: from the file's geometry, a WKT column or coordinate
    columns. Coordinates in WGS 84 are range-checked here, row by row."""
    geometry = mapping.get("geometry") or {}
    if row.wkb is not None:
        return row.wkb.hex(), None, None, None
    if geometry.get("wkt"):
        text = str(row.attributes.get(geometry["wkt"]) or "").strip()
        if not text:
            ctx.rejected.append((row.number, "no geometry (empty WKT)"))
            return None
        return None, text, None, None
    if geometry.get("lon") and geometry.get("lat"):
        raw_lon, raw_lat = row.attributes.get(geometry["lon"]), row.attributes.get(geometry["lat"])
        lon, lat = _coordinate(raw_lon), _coordinate(raw_lat)
        if lon is None or lat is None:
            ctx.rejected.append(
                (row.number, f"coordinates {raw_lon!r}, {raw_lat!r} are not numbers")
            )
            return None
        if mapping.get("srid", 4326) == 4326 and not (-180 <= lon <= 180 and -90 <= lat <= 90):
            ctx.rejected.append((row.number, f"longitude {lon} / latitude {lat} out of range"))
            return None
        return None, None, lon, lat
    ctx.rejected.append((row.number, "no geometry"))
    return None
