"""Loads the indicator definitions, their sources and AMCAP-III Phase 2's own figures
(fixtures/landing/) so a new database has them.

Self-contained on purpose (historical models, its own loop): later changes to the import
service must not change what this migration does. The fixture is checked by the importer in
the tests. Member states and commodities named by the figures are created from the reference
fixtures when the database has none yet (a fresh database migrates before `load_demo`).
"""

import csv
from decimal import Decimal
from pathlib import Path

from django.db import migrations

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


def _rows(path):
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def load(apps, schema_editor):
    Indicator = apps.get_model("landing", "Indicator")
    Source = apps.get_model("landing", "Source")
    IndicatorValue = apps.get_model("landing", "IndicatorValue")
    MemberState = apps.get_model("deposits", "MemberState")
    Commodity = apps.get_model("deposits", "Commodity")

    indicators = {}
    for row in _rows(FIXTURES / "landing" / "indicators.csv"):
        indicators[row["code"]], _ = Indicator.objects.get_or_create(
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
    sources = {}
    for row in _rows(FIXTURES / "landing" / "sources.csv"):
        sources[row["name"]], _ = Source.objects.get_or_create(
            name=row["name"],
            defaults={"citation": row["citation"], "url": row["url"], "licence": row["licence"]},
        )
    states = {row["code"]: row for row in _rows(FIXTURES / "member_states.csv")}
    commodities = {row["code"]: row for row in _rows(FIXTURES / "commodities.csv")}

    def member_state(code):
        if code == "ASEAN":
            return None
        spec = states[code]
        return MemberState.objects.get_or_create(
            code=code,
            defaults={"name": spec["name"], "accession_year": int(spec["accession_year"])},
        )[0]

    def commodity(code):
        if not code:
            return None
        spec = commodities[code]
        return Commodity.objects.get_or_create(
            code=code,
            defaults={
                "name": spec["name"],
                "symbol": spec["symbol"],
                "group": spec["group"],
                "aliases": [a for a in spec["aliases"].split("|") if a],
            },
        )[0]

    for row in _rows(FIXTURES / "landing" / "amcap_iii_phase2_figures.csv"):
        IndicatorValue.objects.get_or_create(
            indicator=indicators[row["indicator"]],
            member_state=member_state(row["member_state"]),
            commodity=commodity(row["commodity"]),
            year=int(row["year"]),
            source=sources[row["source"]],
            defaults={
                "value": Decimal(row["value"]),
                "unit": row["unit"],
                "qualifier": row["qualifier"],
                "note": row["note"],
            },
        )


class Migration(migrations.Migration):
    dependencies = [("landing", "0001_initial"), ("deposits", "0002_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
