"""Writes: importing indicator values, loading the project's own reference figures."""

import csv
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import transaction

from deposits.models import Commodity, MemberState
from landing.indicator_file import IndicatorFileError, Lookups, indicator_file_read
from landing.models import Indicator, IndicatorValue, Source

FIXTURES = Path(settings.BASE_DIR) / "fixtures" / "landing"
PLAN_FIGURES = FIXTURES / "amcap_iii_phase2_figures.csv"
BATCH = 5000


class IndicatorImportError(Exception):
    """Nothing was written: the file could not be read, or some rows are wrong."""

    def __init__(self, message: str, errors: list[tuple[int, str]] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or []


@dataclass
class IndicatorImportReport:
    layout: str
    rows_read: int = 0
    created: int = 0
    updated: int = 0
    by_indicator: dict[str, int] = field(default_factory=dict)
    new_sources: list[str] = field(default_factory=list)


def _lookups() -> Lookups:
    terms = list(Commodity.objects.values_list("pk", "code", "name", "aliases"))
    commodities: dict[str, int] = {}
    # Codes win over names, names over aliases.
    for pk, _code, _name, aliases in terms:
        commodities.update({alias.lower(): pk for alias in aliases})
    commodities.update({name.lower(): pk for pk, _code, name, _aliases in terms})
    commodities.update({code.lower(): pk for pk, code, _name, _aliases in terms})
    return Lookups(
        indicators={i.code: i for i in Indicator.objects.all()},
        member_states={
            code.upper(): pk for pk, code in MemberState.objects.values_list("pk", "code")
        },
        commodities=commodities,
    )


@transaction.atomic
def indicators_import(*, path: Path) -> IndicatorImportReport:
    """Adds or replaces the values a CSV file gives; any bad row and nothing is written.

    A value is replaced when the file has the same indicator, member state, commodity, year and
    source. See landing/indicator_file.py for the format.
    """
    try:
        result = indicator_file_read(path=path, lookups=_lookups())
    except IndicatorFileError as exc:
        raise IndicatorImportError(str(exc)) from exc
    if result.errors:
        raise IndicatorImportError(
            f"{len(result.errors)} of {result.rows_read} rows cannot be imported.", result.errors
        )
    if not result.rows:
        raise IndicatorImportError("The file holds no figures.")

    report = IndicatorImportReport(layout=result.layout, rows_read=result.rows_read)
    sources = {s.name: s for s in Source.objects.filter(name__in={r.source for r in result.rows})}
    for name in sorted({r.source for r in result.rows} - set(sources)):
        sources[name] = Source.objects.create(name=name)
        report.new_sources.append(name)

    indicator_ids = {r.indicator.pk for r in result.rows}
    existing = set(
        IndicatorValue.objects.filter(indicator_id__in=indicator_ids).values_list(
            "indicator_id", "member_state_id", "commodity_id", "year", "source__name"
        )
    )
    values = []
    for row in result.rows:
        if row.key in existing:
            report.updated += 1
        else:
            report.created += 1
        report.by_indicator[row.indicator.code] = report.by_indicator.get(row.indicator.code, 0) + 1
        values.append(
            IndicatorValue(
                indicator=row.indicator,
                member_state_id=row.member_state_id,
                commodity_id=row.commodity_id,
                year=row.year,
                value=row.value,
                unit=row.unit,
                qualifier=row.qualifier,
                source=sources[row.source],
                note=row.note,
            )
        )
    IndicatorValue.objects.bulk_create(
        values,
        batch_size=BATCH,
        update_conflicts=True,
        unique_fields=["indicator", "member_state", "commodity", "year", "source"],
        update_fields=["value", "unit", "qualifier", "note"],
    )
    return report


def _fixture_rows(name: str) -> list[dict[str, str]]:
    with (FIXTURES / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@transaction.atomic
def indicators_reference_load() -> IndicatorImportReport:
    """Upserts the indicator definitions, the sources and the plan's own figures (fixtures/landing/)."""
    for row in _fixture_rows("indicators.csv"):
        Indicator.objects.update_or_create(
            code=row["code"],
            defaults={
                "name": row["name"],
                "category": row["category"],
                "kind": row["kind"],
                "unit": row["unit"],
                "by_commodity": row["by_commodity"] == "yes",
                "description": row["description"],
            },
        )
    for row in _fixture_rows("sources.csv"):
        Source.objects.update_or_create(
            name=row["name"],
            defaults={"citation": row["citation"], "url": row["url"], "licence": row["licence"]},
        )
    return indicators_import(path=PLAN_FIGURES)
