"""Reading indicator values from CSV: the long format, and the layouts of known sources.

The long format, one figure per row (the header names the columns, in any order):

    indicator,member_state,commodity,year,value,unit,qualifier,source,note
    minerals-exports-value,MYS,,2018,1700000000,USD,,AMCAP-III Phase 2,
    world-production-share,IDN,tin,2016,18,%,,AMCAP-III Phase 2,

- indicator: an indicator code (the admin lists them); member_state: ISO 3166 alpha-3 code of a
  member state, or ASEAN for the region as a whole; commodity: a commodity code, name or alias
  of the vocabulary (required by indicators by commodity, empty otherwise); year: 1000-2100;
  value: a number with "." as decimal mark; unit: required, and must equal the indicator's unit
  when it has one; qualifier: empty, about, almost, more_than or up_to; source: the name of a
  source (a new name creates a source); note: free text.
- Comma, semicolon, tab or pipe delimiters; UTF-8 with or without a byte-order mark; quoted
  fields may span lines. Row numbers count the header as row 1.

A file of a known layout imports as it is: the Our World in Data metal production subset
(`country,iso_a3,year,metal,production,unit`) becomes `mine-production` values by commodity.
"""

import csv
import io
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from landing.models import VALUE_DECIMAL_PLACES, YEAR_MAX, YEAR_MIN, Indicator, Qualifier

MAX_BYTES = 50 * 1024 * 1024
MAX_ROWS = 500_000
MAX_INTEGER_DIGITS = 20 - VALUE_DECIMAL_PLACES
ASEAN = "ASEAN"
DELIMITERS = ",;\t|"

REQUIRED = ("indicator", "member_state", "year", "value", "unit", "source")
OPTIONAL = ("commodity", "qualifier", "note")


class IndicatorFileError(Exception):
    """The file as a whole cannot be read (not rows within it)."""


@dataclass(frozen=True)
class Layout:
    """How a file's columns fill the fields of a value; `fixed` fields are the same on every row."""

    name: str
    columns: dict[str, str]
    fixed: dict[str, str] = field(default_factory=dict)
    exact_header: frozenset[str] | None = None


LONG = Layout(name="AMDIS long format", columns={name: name for name in REQUIRED + OPTIONAL})
OWID_METAL_PRODUCTION = Layout(
    name="Our World in Data metal production (long)",
    columns={
        "member_state": "iso_a3",
        "year": "year",
        "commodity": "metal",
        "value": "production",
        "unit": "unit",
    },
    fixed={"indicator": "mine-production", "source": "Clio Infra; USGS; Our World in Data"},
    exact_header=frozenset({"country", "iso_a3", "year", "metal", "production", "unit"}),
)
KNOWN_LAYOUTS = (OWID_METAL_PRODUCTION,)


@dataclass(frozen=True)
class Lookups:
    """What rows may name: indicators by code, member states by code, commodities by any name."""

    indicators: dict[str, Indicator]
    member_states: dict[str, int]  # upper-case ISO alpha-3 -> id
    commodities: dict[str, int]  # lower-case code, name or alias -> id


@dataclass(frozen=True)
class ValueRow:
    row: int
    indicator: Indicator
    member_state_id: int | None
    commodity_id: int | None
    year: int
    value: Decimal
    unit: str
    qualifier: str
    source: str
    note: str

    @property
    def key(self) -> tuple[int, int | None, int | None, int, str]:
        return (self.indicator.pk, self.member_state_id, self.commodity_id, self.year, self.source)


@dataclass
class ReadResult:
    layout: str
    rows: list[ValueRow]
    errors: list[tuple[int, str]]
    rows_read: int


def _decode(path: Path) -> str:
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise IndicatorFileError(f"Cannot read {path}: {exc.strerror}.") from exc
    if size > MAX_BYTES:
        raise IndicatorFileError(
            f"The file is {size:,} bytes; the limit is {MAX_BYTES:,} bytes. Split it."
        )
    if not path.is_file():
        raise IndicatorFileError(f"{path} is not a file.")
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise IndicatorFileError(
            f"The file is not UTF-8 text (byte {exc.start} cannot be read). Save it as UTF-8 CSV."
        ) from exc


def _delimiter(text: str) -> str:
    header = text.split("\n", 1)[0]
    counts = {d: header.count(d) for d in DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _layout_for(header: list[str]) -> Layout:
    names = set(header)
    for layout in KNOWN_LAYOUTS:
        if layout.exact_header == names:
            return layout
    missing = [name for name in REQUIRED if name not in names]
    if missing:
        raise IndicatorFileError(
            f"Missing column(s): {', '.join(missing)}. The long format needs the columns "
            f"{', '.join(REQUIRED)} (optional: {', '.join(OPTIONAL)})."
        )
    unknown = sorted(names - set(REQUIRED) - set(OPTIONAL))
    if unknown:
        raise IndicatorFileError(
            f"Unknown column(s): {', '.join(unknown)}. Columns of the long format: "
            f"{', '.join(REQUIRED + OPTIONAL)}."
        )
    return LONG


def _number(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"value {text[:40]!r} is not a number") from None
    if not value.is_finite():
        raise ValueError(f"value {text[:40]!r} is not a number")
    if abs(value) >= Decimal(10) ** MAX_INTEGER_DIGITS:
        raise ValueError(f"value {text[:40]!r} is too large")
    exponent = value.normalize().as_tuple().exponent
    if isinstance(exponent, int) and exponent < -VALUE_DECIMAL_PLACES:
        raise ValueError(f"value {text[:40]!r} has more than {VALUE_DECIMAL_PLACES} decimals")
    return value


def _year(text: str) -> int:
    if not text.isdigit() or not YEAR_MIN <= int(text) <= YEAR_MAX:
        raise ValueError(f"year {text[:20]!r} is not a year from {YEAR_MIN} to {YEAR_MAX}")
    return int(text)


def _row(number: int, fields: dict[str, str], lookups: Lookups) -> ValueRow:
    """One row checked against the vocabulary; ValueError says what is wrong."""
    problems: list[str] = []
    code = fields.get("indicator", "")
    indicator = lookups.indicators.get(code)
    if not code:
        problems.append("indicator is missing")
    elif indicator is None:
        problems.append(f"unknown indicator {code[:60]!r}")

    state_text = fields.get("member_state", "")
    member_state_id: int | None = None
    if not state_text:
        problems.append("member_state is missing (an ISO alpha-3 code, or ASEAN)")
    elif state_text.upper() != ASEAN:
        member_state_id = lookups.member_states.get(state_text.upper())
        if member_state_id is None:
            problems.append(
                f"unknown member state {state_text[:40]!r} (an ISO alpha-3 code of a member "
                "state, or ASEAN)"
            )

    commodity_text = fields.get("commodity", "")
    commodity_id = lookups.commodities.get(commodity_text.lower()) if commodity_text else None
    if commodity_text and commodity_id is None:
        problems.append(f"unknown commodity {commodity_text[:60]!r}")

    year: int | None = None
    value: Decimal | None = None
    try:
        year = _year(fields["year"]) if fields.get("year") else None
        if year is None:
            problems.append("year is missing")
    except ValueError as exc:
        problems.append(str(exc))
    try:
        value = _number(fields["value"]) if fields.get("value") else None
        if value is None:
            problems.append("value is missing")
    except ValueError as exc:
        problems.append(str(exc))

    unit = fields.get("unit", "")
    if not unit:
        problems.append("unit is missing")
    source = fields.get("source", "")
    if not source:
        problems.append("source is missing")
    elif len(source) > 200:
        problems.append("source name is longer than 200 characters")
    qualifier = fields.get("qualifier", "")
    if qualifier not in Qualifier.values:
        problems.append(
            f"qualifier {qualifier[:30]!r} is not one of: "
            + ", ".join(q for q in Qualifier.values if q)
        )
    if indicator is not None and value is not None and unit and not problems:
        problem = indicator.value_problem(
            value=value, unit=unit, has_commodity=bool(commodity_text)
        )
        if problem:
            problems.append(problem)
    if problems or indicator is None or year is None or value is None:
        raise ValueError("; ".join(problems))
    return ValueRow(
        row=number,
        indicator=indicator,
        member_state_id=member_state_id,
        commodity_id=commodity_id,
        year=year,
        value=value,
        unit=unit,
        qualifier=qualifier,
        source=source,
        note=fields.get("note", ""),
    )


def indicator_file_read(*, path: Path, lookups: Lookups) -> ReadResult:
    """Every row of the file checked; nothing is written. Raises IndicatorFileError for the file."""
    text = _decode(path)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    try:
        header = [name.strip().lower() for name in next(reader)]
    except StopIteration:
        raise IndicatorFileError("The file is empty.") from None
    except csv.Error as exc:
        raise IndicatorFileError(f"The header cannot be read as CSV: {exc}.") from exc
    if len(set(header)) != len(header):
        raise IndicatorFileError("A column name appears twice in the header.")
    layout = _layout_for(header)
    # Optional columns may be absent: their fields are then empty.
    position = {
        name: header.index(column) for name, column in layout.columns.items() if column in header
    }

    rows: list[ValueRow] = []
    errors: list[tuple[int, str]] = []
    first_row_of: dict[tuple[int, int | None, int | None, int, str], int] = {}
    number = 1
    try:
        for record in reader:
            number += 1
            if number - 1 > MAX_ROWS:
                raise IndicatorFileError(f"The file has more than {MAX_ROWS:,} rows. Split it.")
            if not any(cell.strip() for cell in record):
                continue
            if len(record) != len(header):
                errors.append(
                    (number, f"{len(record)} cells where the header has {len(header)} columns")
                )
                continue
            fields = {name: record[index].strip() for name, index in position.items()}
            fields.update(layout.fixed)
            try:
                row = _row(number, fields, lookups)
            except ValueError as exc:
                errors.append((number, str(exc)))
                continue
            earlier = first_row_of.setdefault(row.key, number)
            if earlier != number:
                errors.append((number, f"repeats the figure of row {earlier}"))
                continue
            rows.append(row)
    except csv.Error as exc:
        raise IndicatorFileError(f"Row {number} cannot be read as CSV: {exc}.") from exc
    return ReadResult(layout=layout.name, rows=rows, errors=errors, rows_read=number - 1)
