"""Column mappings: how the columns of a source file become occurrence fields.

A mapping is a JSON file, e.g. `fixtures/mappings/usgs_pp1802_critical.json`:

    {"dataset": {"slug": "...", "title": "...", "licence": "...", ...},
     "geometry": {"lon": "LONGITUDE", "lat": "LATITUDE"},      # omit when the file has geometry
     "fields": {"name": "DEPOSIT_NAME",                          # a column name,
                "other_names": {"column": "OtherNames", "split": ","},
                "deposit_type": {"column": "Subtype", "values": {"17": "Porphyry Cu"}},
                "status": {"constant": "deposit"}},              # or a constant
     "commodities": {"main": {"column": "CRITICAL_MINERAL", "split": ";"},
                     "secondary": {"from_grades": true}},
     "grades": {"gold": {"column": "Gold grade", "unit": "g/t", "zero_is_missing": true}},
     "null_values": ["", "n.d."]}
"""

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

OCCURRENCE_FIELDS = {
    "name",
    "other_names",
    "province",
    "deposit_type",
    "status",
    "resource_mt",
    "reporting_code",
    "resource_date",
    "location_accuracy",
    "source_id",
    "references",
    # Not stored as a field: the source's own country, checked against point-in-polygon.
    "country",
}
DATASET_FIELDS = {
    "slug",
    "title",
    "abstract",
    "organisation",
    "licence",
    "citation",
    "source_url",
    "scale_denominator",
    "keywords",
    "is_published",
    "is_demo",
}


class MappingError(Exception):
    """The mapping file is malformed or names columns the source file does not have."""


@dataclass(frozen=True)
class FieldRule:
    column: str | None = None
    constant: Any = None
    split: str | None = None
    values: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def parse(cls, name: str, spec: Any) -> "FieldRule":
        if isinstance(spec, str):
            return cls(column=spec)
        if isinstance(spec, dict) and "constant" in spec:
            return cls(constant=spec["constant"])
        if isinstance(spec, dict) and isinstance(spec.get("column"), str):
            values = spec.get("values", {})
            if not isinstance(values, dict):
                raise MappingError(
                    f"{name}.values must be an object of source value -> field value."
                )
            return cls(column=spec["column"], split=spec.get("split"), values=values)
        raise MappingError(
            f'{name} must be a column name, {{"column": ...}} or {{"constant": ...}}; got {spec!r}.'
        )

    def read(self, row: dict[str, Any], null_values: set[str]) -> Any:
        if self.column is None:
            return self.constant
        raw = row.get(self.column)
        if raw is None:
            return None
        text = str(raw).strip()
        if text in null_values:
            return None
        if self.split:
            parts = [p.strip() for p in text.split(self.split)]
            mapped: list[Any] = []
            for part in parts:
                if not part or part in null_values:
                    continue
                value = self.values.get(part, part)
                # A value may map to several terms: "Niobium and Tantalum" -> ["niobium", "tantalum"].
                mapped.extend(value if isinstance(value, list) else [value])
            return mapped
        return self.values.get(text, text)


@dataclass(frozen=True)
class GradeRule:
    column: str
    unit: str
    zero_is_missing: bool = True


@dataclass(frozen=True)
class OccurrenceMapping:
    dataset: dict[str, Any]
    fields: dict[str, FieldRule]
    lon: str | None
    lat: str | None
    main_commodities: FieldRule | None
    secondary_commodities: FieldRule | None
    secondary_from_grades: bool
    grades: dict[str, GradeRule]
    null_values: set[str]

    @classmethod
    def load(cls, path: Path) -> "OccurrenceMapping":
        try:
            spec = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise MappingError(f"Cannot read mapping {path}: {exc}") from exc
        return cls.from_dict(spec)

    @classmethod
    def from_dict(
        cls, spec: dict[str, Any], *, require_dataset: bool = True
    ) -> "OccurrenceMapping":
        """`require_dataset` is False for uploads, whose dataset is chosen in the upload form."""
        if not isinstance(spec, dict):
            raise MappingError("A mapping is a JSON object.")
        dataset = spec.get("dataset") or {}
        unknown = set(dataset) - DATASET_FIELDS
        if unknown:
            raise MappingError(f"Unknown dataset fields: {', '.join(sorted(unknown))}.")
        for required in ("slug", "title", "licence") if require_dataset else ():
            if not dataset.get(required):
                raise MappingError(f"dataset.{required} is required.")
        fields_spec = spec.get("fields") or {}
        unknown = set(fields_spec) - OCCURRENCE_FIELDS
        if unknown:
            raise MappingError(
                f"Unknown occurrence fields: {', '.join(sorted(unknown))}. "
                f"Known: {', '.join(sorted(OCCURRENCE_FIELDS))}."
            )
        if "name" not in fields_spec:
            raise MappingError("fields.name is required.")
        geometry = spec.get("geometry") or {}
        commodities = spec.get("commodities") or {}
        secondary = commodities.get("secondary")
        from_grades = isinstance(secondary, dict) and secondary.get("from_grades") is True
        return cls(
            dataset=dataset,
            fields={k: FieldRule.parse(f"fields.{k}", v) for k, v in fields_spec.items()},
            lon=geometry.get("lon"),
            lat=geometry.get("lat"),
            main_commodities=FieldRule.parse("commodities.main", commodities["main"])
            if "main" in commodities
            else None,
            secondary_commodities=None
            if secondary is None or from_grades
            else FieldRule.parse("commodities.secondary", secondary),
            secondary_from_grades=from_grades,
            grades={
                code: GradeRule(
                    column=g["column"],
                    unit=g.get("unit", ""),
                    zero_is_missing=g.get("zero_is_missing", True),
                )
                for code, g in (spec.get("grades") or {}).items()
            },
            null_values={str(v) for v in spec.get("null_values", [""])},
        )

    def columns_used(self) -> set[str]:
        rules = [*self.fields.values(), self.main_commodities, self.secondary_commodities]
        used = {r.column for r in rules if r is not None and r.column}
        used |= {g.column for g in self.grades.values()}
        used |= {c for c in (self.lon, self.lat) if c}
        return used

    def check_columns(self, columns: list[str]) -> None:
        missing = sorted(self.columns_used() - set(columns))
        if missing:
            raise MappingError(
                f"The mapping names columns the file does not have: {', '.join(repr(m) for m in missing)}. "
                f"The file's columns are: {', '.join(columns)}."
            )
