"""Charts as data: one object feeds the drawing (server-side SVG), the table and the CSV download,
so what a chart draws and what its CSV holds cannot differ.

Bars are drawn as one small SVG per value whose rectangle width is a percentage of the cell, so
labels stay HTML text that reflows on a phone. Lines are SVG paths in a 100 x 40 box stretched
to the panel (strokes do not scale). No inline styles or scripts: the page works under a strict
Content Security Policy and without JavaScript.
"""

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from django.utils.translation import gettext, gettext_lazy

from landing.numbers import format_amount

LINE_WIDTH = 100.0
LINE_HEIGHT = 40.0
KEY_LABELS = {
    "member_state": gettext_lazy("Member state"),
    "member_state/commodity": gettext_lazy("Member state and commodity"),
    "commodity": gettext_lazy("Commodity"),
    "status": gettext_lazy("Status"),
    "indicator": gettext_lazy("Figure"),
}
CSV_COLUMNS = ("name", "series", "year", "value", "unit", "qualifier", "source", "note")


def plain(value: Decimal) -> str:
    """A decimal as written in the CSV: no exponent, no trailing zeros."""
    if value == value.to_integral_value():
        return str(value.quantize(Decimal(1)))
    return format(value.normalize(), "f")


@dataclass(frozen=True)
class Datum:
    key: str  # the CSV's first column: a member state code, a commodity code or a status
    label: str  # its name in the active language
    series: str
    value: Decimal
    text: str  # the value as the chart writes it
    unit: str
    year: int | None = None
    qualifier: str = ""
    source: str = ""
    note: str = ""

    @property
    def csv_value(self) -> str:
        return plain(self.value)


@dataclass(frozen=True)
class SeriesInfo:
    code: str
    label: str


@dataclass(frozen=True)
class SourceRef:
    name: str
    url: str = ""
    licence: str = ""


@dataclass(frozen=True)
class BarCell:
    series: SeriesInfo
    datum: Datum | None
    width: str  # of the bar, in hundredths of the cell ("37.5"), unlocalised for SVG
    note: int | None = None  # the number of the datum's footnote


@dataclass(frozen=True)
class BarRow:
    key: str
    label: str
    cells: tuple[BarCell, ...]


@dataclass(frozen=True)
class Panel:
    """One small line chart: a member state's or a commodity's yearly values."""

    key: str
    label: str
    unit: str
    line: str  # SVG path data
    area: str
    top: str  # the value at the top of the panel's scale, as in the CSV
    top_text: str  # ...and as people read it
    latest: Datum
    peak: Datum
    aria_label: str


@dataclass
class Chart:
    slug: str
    title: str
    unit_label: str
    period: str
    key_column: str
    kind: Literal["bars", "lines", "table", "cards"]
    series: tuple[SeriesInfo, ...]
    data: tuple[Datum, ...]
    sources: tuple[SourceRef, ...]
    note: str = ""
    scale_max: Decimal | None = None  # bars: e.g. 100 for shares; None means the largest value
    shared_scale: bool = True  # lines: one y scale for every panel
    csv_url: str = ""
    empty_text: str = ""

    @property
    def csv_header(self) -> tuple[str, ...]:
        return (self.key_column, *CSV_COLUMNS)

    def csv_rows(self) -> list[list[str]]:
        return [
            [
                d.key,
                d.label,
                d.series,
                "" if d.year is None else str(d.year),
                plain(d.value),
                d.unit,
                d.qualifier,
                d.source,
                d.note,
            ]
            for d in self.data
        ]

    def _keys(self) -> list[tuple[str, str]]:
        seen: dict[str, str] = {}
        for datum in self.data:
            seen.setdefault(datum.key, datum.label)
        return list(seen.items())

    def bar_rows(self) -> list[BarRow]:
        top = self.scale_max or max((d.value for d in self.data), default=Decimal(0))
        by_cell = {(d.key, d.series): d for d in self.data}
        rows = []
        for key, label in self._keys():
            cells = []
            for series in self.series:
                datum = by_cell.get((key, series.code))
                percent = 0.0
                if datum is not None and top > 0:
                    percent = max(0.0, min(100.0, float(datum.value / top * 100)))
                cells.append(
                    BarCell(
                        series=series,
                        datum=datum,
                        width=f"{round(percent, 2):g}",
                        note=self.note_numbers.get(datum.note) if datum else None,
                    )
                )
            rows.append(BarRow(key=key, label=label, cells=tuple(cells)))
        return rows

    @property
    def footnotes(self) -> list[str]:
        """The notes of the data, once each, in the order they first appear."""
        return list(dict.fromkeys(d.note for d in self.data if d.note))

    @property
    def note_numbers(self) -> dict[str, int]:
        return {note: number for number, note in enumerate(self.footnotes, start=1)}

    def cards(self) -> list[tuple[Datum, str | None]]:
        """Each figure, with the width of a meter for percentages (None for other figures)."""
        return [
            (d, f"{max(0.0, min(100.0, float(d.value))):g}" if d.series == "percent" else None)
            for d in self.data
        ]

    def year_table(self) -> tuple[list[str], list[tuple[int, list[str]]]]:
        """Lines as a table: a row per year, a column per panel, the figures as written."""
        keys = self._keys()
        cells = {(d.key, d.year): d.text for d in self.data}
        years = sorted({d.year for d in self.data if d.year is not None})
        rows = [(year, [cells.get((key, year), "") for key, _ in keys]) for year in years]
        return [label for _, label in keys], rows

    @property
    def key_label(self) -> str:
        return str(KEY_LABELS.get(self.key_column, self.key_column))

    @property
    def years(self) -> tuple[int, int]:
        years = [d.year for d in self.data if d.year is not None]
        return (min(years), max(years)) if years else (0, 0)

    def panel_tops(self) -> dict[str, Decimal]:
        """The top of each panel's y scale: shared, or each panel's own largest value."""
        tops: dict[str, Decimal] = {}
        for datum in self.data:
            tops[datum.key] = max(tops.get(datum.key, Decimal(0)), datum.value)
        if self.shared_scale and tops:
            top = max(tops.values())
            tops = dict.fromkeys(tops, top)
        return tops

    def panels(self) -> list[Panel]:
        first, last = self.years
        span = max(last - first, 1)
        tops = self.panel_tops()
        panels = []
        for key, label in self._keys():
            points = sorted((d for d in self.data if d.key == key), key=lambda d: d.year or 0)
            top = tops[key] or Decimal(1)
            runs: list[list[tuple[float, float]]] = []
            previous_year: int | None = None
            for datum in points:
                year = datum.year or 0
                if previous_year is None or year != previous_year + 1:
                    runs.append([])  # a gap in the years starts a new stretch of line
                x = round((year - first) / span * LINE_WIDTH, 2)
                y = round(LINE_HEIGHT - float(datum.value / top) * LINE_HEIGHT, 2)
                runs[-1].append((x, y))
                previous_year = year
            line, area = _paths(runs)
            latest = points[-1]
            peak = max(points, key=lambda d: (d.value, d.year or 0))
            panels.append(
                Panel(
                    key=key,
                    label=label,
                    unit=latest.unit,
                    line=line,
                    area=area,
                    top=plain(top),
                    top_text=format_amount(top, latest.unit),
                    latest=latest,
                    peak=peak,
                    aria_label=gettext(
                        "%(name)s, %(first)s to %(last)s: highest %(peak)s in %(peak_year)s; "
                        "%(latest)s in %(latest_year)s."
                    )
                    % {
                        "name": label,
                        "first": points[0].year,
                        "last": latest.year,
                        "peak": peak.text,
                        "peak_year": peak.year,
                        "latest": latest.text,
                        "latest_year": latest.year,
                    },
                )
            )
        return panels


def _paths(runs: list[list[tuple[float, float]]]) -> tuple[str, str]:
    """SVG path data of a line through each run of points, and of the area under it."""
    lines, areas = [], []
    for run in runs:
        coords = " ".join(f"{x:g},{y:g}" for x, y in run)
        lines.append(f"M{coords}")
        areas.append(f"M{run[0][0]:g},{LINE_HEIGHT:g} L{coords} L{run[-1][0]:g},{LINE_HEIGHT:g} Z")
    return " ".join(lines), " ".join(areas)


def period_of(items: Iterable[tuple[str, int | None]]) -> tuple[int | None, str]:
    """The usual year of (name, year) figures and a label naming the exceptions.

    >>> period_of([("Malaysia", 2018), ("Thailand", 2018), ("Viet Nam", 2017)])
    (2018, '2018 (Viet Nam: 2017)')
    """
    pairs = [(name, year) for name, year in items if year is not None]
    if not pairs:
        return None, ""
    usual = Counter(year for _, year in pairs).most_common(1)[0][0]
    others = sorted({(name, year) for name, year in pairs if year != usual})
    if not others:
        return usual, str(usual)
    return usual, f"{usual} ({'; '.join(f'{name}: {year}' for name, year in others)})"
