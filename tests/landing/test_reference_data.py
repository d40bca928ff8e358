"""The plan's own figures as shipped: loaded by the migration and by the service alike, each
citing the plan with a year; and their management in the admin."""

import csv
import importlib
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.apps import apps
from django.contrib.auth.models import User
from django.test import Client

from landing.models import Indicator, IndicatorValue, Source
from landing.services import PLAN_FIGURES, indicators_reference_load

PLAN = "AMCAP-III Phase 2"
FIGURES = list(csv.DictReader(PLAN_FIGURES.open(encoding="utf-8")))


def _stored() -> set[tuple[str, str, str, int, Decimal, str, str]]:
    return {
        (
            v.indicator.code,
            v.member_state.code if v.member_state else "ASEAN",
            v.commodity.code if v.commodity else "",
            v.year,
            v.value,
            v.unit,
            v.qualifier,
        )
        for v in IndicatorValue.objects.filter(source__name=PLAN).select_related(
            "indicator", "member_state", "commodity"
        )
    }


EXPECTED = {
    (
        r["indicator"],
        r["member_state"],
        r["commodity"],
        int(r["year"]),
        Decimal(r["value"]),
        r["unit"],
        r["qualifier"],
    )
    for r in FIGURES
}


def test_every_figure_of_the_plan_cites_the_plan_and_a_year() -> None:
    assert len(FIGURES) == 59
    assert {row["source"] for row in FIGURES} == {PLAN}
    assert all(1990 <= int(row["year"]) <= 2021 for row in FIGURES)


@pytest.mark.parametrize(
    ("indicator", "state", "commodity", "year", "value"),
    [
        ("amcap-phase1-achievement", "ASEAN", "", 2020, "76"),
        ("amcap-phase1-action-lines", "ASEAN", "", 2020, "49"),
        ("amcap-phase1-completed", "ASEAN", "", 2020, "37"),
        ("mining-fdi-direction", "ASEAN", "", 2018, "-1"),
        ("world-production-share", "IDN", "tin", 2016, "18"),
        ("world-production-share", "IDN", "nickel", 2016, "9.5"),
        ("world-production-share", "PHL", "nickel", 2021, "25"),
        ("gdp-share-minerals", "IDN", "", 2016, "7.2"),
        ("minerals-exports-value", "MYS", "", 2018, "1700000000"),
        ("minerals-imports-share", "MMR", "", 2018, "37"),
        ("minerals-exports-value", "VNM", "", 2017, "1100000000"),
        ("minerals-exports-value", "KHM", "", 2016, "738000"),
    ],
)
def test_the_issue_s_examples_are_among_the_figures(
    indicator: str, state: str, commodity: str, year: int, value: str
) -> None:
    assert any(
        (r["indicator"], r["member_state"], r["commodity"], int(r["year"]), Decimal(r["value"]))
        == (indicator, state, commodity, year, Decimal(value))
        for r in FIGURES
    )


def test_the_service_loads_the_fixture_and_a_second_load_changes_nothing(db: None) -> None:
    first = indicators_reference_load()
    second = indicators_reference_load()
    assert _stored() == EXPECTED
    assert (second.created, second.updated) == (0, 59)
    assert first.rows_read == 59
    assert Indicator.objects.count() == 21
    assert Source.objects.get(name=PLAN).citation.startswith(
        "ASEAN Minerals Cooperation Action Plan"
    )


def test_the_migration_loads_the_same_figures_into_an_empty_database(db: None) -> None:
    IndicatorValue.objects.all().delete()
    Indicator.objects.all().delete()
    Source.objects.all().delete()
    migration = importlib.import_module("landing.migrations.0002_reference_indicators")
    migration.load(apps, None)
    assert _stored() == EXPECTED
    migration.load(apps, None)  # running again adds nothing
    assert IndicatorValue.objects.count() == 59


# --- admin -------------------------------------------------------------------------------


@pytest.fixture
def admin_client_(verified_client: Callable[..., Client], db: None) -> Client:
    indicators_reference_load()
    return verified_client(User.objects.create_superuser("ada-admin", password="x-unused-x"))


@pytest.mark.parametrize(
    "path",
    ["/admin/landing/indicator/", "/admin/landing/source/", "/admin/landing/indicatorvalue/"],
)
def test_the_admin_lists_indicators_sources_and_values(admin_client_: Client, path: str) -> None:
    assert admin_client_.get(path, secure=True).status_code == 200


def test_the_admin_refuses_a_value_that_breaks_its_indicator(admin_client_: Client) -> None:
    share = Indicator.objects.get(code="minerals-exports-share")
    source = Source.objects.get(name=PLAN)
    before = IndicatorValue.objects.count()
    response = admin_client_.post(
        "/admin/landing/indicatorvalue/add/",
        {
            "indicator": share.pk,
            "year": 2019,
            "value": "140",
            "unit": "%",
            "qualifier": "",
            "source": source.pk,
            "note": "",
        },
        secure=True,
    )
    assert response.status_code == 200
    assert "a percentage must lie between 0 and 100" in response.content.decode()
    assert IndicatorValue.objects.count() == before
