"""`import_indicators`: the long format, the OWID production file as is, and every kind of bad row."""

from collections.abc import Callable
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from landing.models import IndicatorValue, Source
from landing.services import IndicatorImportError, indicators_import
from tests.landing.conftest import LONG_HEADER

OWID_FILE = "stats_metal_production_owid/metal_production_asean_long.csv"
PLAN = "AMCAP-III Phase 2"
GOOD = f"minerals-exports-value,MYS,,2018,1700000000,USD,,{PLAN},"

pytestmark = pytest.mark.usefixtures("plan_figures")


def _errors(path: Path) -> list[tuple[int, str]]:
    before = IndicatorValue.objects.count()
    with pytest.raises(IndicatorImportError) as caught:
        indicators_import(path=path)
    assert IndicatorValue.objects.count() == before, "a failed import wrote something"
    return caught.value.errors


def _one_error(path: Path) -> tuple[int, str]:
    errors = _errors(path)
    assert len(errors) == 1, errors
    return errors[0]


def test_the_owid_production_file_imports_as_is(shared_data: Path) -> None:
    report = indicators_import(path=shared_data / OWID_FILE)

    assert report.rows_read == 14_750
    assert report.created == 14_750
    assert report.by_indicator == {"mine-production": 14_750}
    values = IndicatorValue.objects.filter(indicator__code="mine-production")
    assert values.count() == 14_750
    assert values.filter(unit="t").count() == 2_677  # gold in tonnes, per SOURCE.md
    tin = values.get(member_state__code="IDN", commodity__code="tin", year=2015)
    assert (tin.value, tin.unit) == (Decimal(48), "kt")
    assert tin.source.name == "Clio Infra; USGS; Our World in Data"
    assert tin.source.licence == "CC BY 4.0"


def test_importing_the_same_file_again_replaces_and_adds_nothing(
    write_csv: Callable[..., Path],
) -> None:
    path = write_csv(LONG_HEADER, GOOD.replace("1700000000", "1800000000"))
    first = indicators_import(path=path)
    second = indicators_import(path=path)

    assert (first.created, first.updated) == (0, 1)  # the plan's own figure is replaced
    assert (second.created, second.updated) == (0, 1)
    value = IndicatorValue.objects.get(
        indicator__code="minerals-exports-value", member_state__code="MYS", year=2018
    )
    assert value.value == Decimal(1_800_000_000)


def test_asean_wide_figures_are_replaced_not_duplicated(write_csv: Callable[..., Path]) -> None:
    path = write_csv(LONG_HEADER, f"amcap-phase1-achievement,ASEAN,,2020,77,%,,{PLAN},")
    indicators_import(path=path)

    values = IndicatorValue.objects.filter(indicator__code="amcap-phase1-achievement")
    assert [(v.member_state, v.value) for v in values] == [(None, Decimal(77))]


@pytest.mark.parametrize(
    ("delimiter", "bom"), [(",", False), (";", True), ("\t", False), ("|", True)]
)
def test_a_long_format_file_is_read_with_any_usual_delimiter(
    write_csv: Callable[..., Path], delimiter: str, bom: bool
) -> None:
    header = LONG_HEADER.replace(",", delimiter)
    row = delimiter.join(
        ["world-production-share", "idn", "Sn", "2016", "18.5", "%", "about", "Survey X"]
    )
    text = f'{header}\n{row}{delimiter}"Two lines,\nquoted"\n'
    path = write_csv(raw=(b"\xef\xbb\xbf" if bom else b"") + text.encode())

    report = indicators_import(path=path)

    assert (report.created, report.new_sources) == (1, ["Survey X"])
    value = IndicatorValue.objects.get(source__name="Survey X")
    assert value.commodity is not None and value.commodity.code == "tin"  # by symbol
    assert (value.value, value.qualifier, value.note) == (
        Decimal("18.5"),
        "about",
        "Two lines,\nquoted",
    )


def test_a_new_source_is_created_and_reported(write_csv: Callable[..., Path]) -> None:
    report = indicators_import(
        path=write_csv(LONG_HEADER, "mining-jobs,THA,,2019,50000,persons,,Thai statistics,")
    )
    assert report.new_sources == ["Thai statistics"]
    assert Source.objects.filter(name="Thai statistics").exists()


def test_an_unknown_member_state_is_reported_with_its_row(write_csv: Callable[..., Path]) -> None:
    path = write_csv(LONG_HEADER, GOOD, GOOD.replace("MYS", "CHN").replace("2018", "2019"))
    row, message = _one_error(path)
    assert row == 3
    assert "unknown member state 'CHN'" in message


@pytest.mark.parametrize("value", ["abc", "1,7", "NaN", "Infinity", "1e999", "0x10", "1.2345678"])
def test_a_value_that_is_not_a_number_is_reported(
    write_csv: Callable[..., Path], value: str
) -> None:
    path = write_csv(LONG_HEADER, GOOD.replace("1700000000", f'"{value}"'))
    row, message = _one_error(path)
    assert row == 2
    assert "value" in message and value[:10] in message


def test_a_missing_unit_is_reported(write_csv: Callable[..., Path]) -> None:
    row, message = _one_error(write_csv(LONG_HEADER, GOOD.replace(",USD,", ",,")))
    assert (row, message) == (2, "unit is missing")


def test_a_missing_source_is_reported(write_csv: Callable[..., Path]) -> None:
    row, message = _one_error(write_csv(LONG_HEADER, GOOD.replace(PLAN, "")))
    assert (row, message) == (2, "source is missing")


@pytest.mark.parametrize(
    ("row_text", "expected"),
    [
        ("no-such-indicator,MYS,,2018,1,USD,,S,", "unknown indicator 'no-such-indicator'"),
        (",MYS,,2018,1,USD,,S,", "indicator is missing"),
        ("minerals-exports-value,,,2018,1,USD,,S,", "member_state is missing"),
        ("world-production-share,IDN,unobtainium,2016,1,%,,S,", "unknown commodity"),
        ("world-production-share,IDN,,2016,1,%,,S,", "needs a commodity"),
        ("minerals-exports-value,MYS,tin,2018,1,USD,,S,", "takes no commodity"),
        ("minerals-exports-value,MYS,,18,1,USD,,S,", "year '18' is not a year"),
        ("minerals-exports-value,MYS,,,1,USD,,S,", "year is missing"),
        ("minerals-exports-value,MYS,,2018,,USD,,S,", "value is missing"),
        (
            "minerals-exports-value,MYS,,2018,1,EUR,,S,",
            "the unit of minerals-exports-value is 'USD'",
        ),
        ("minerals-exports-share,MYS,,2018,120,%,,S,", "between 0 and 100"),
        ("world-production-rank,IDN,tin,2016,2.5,rank,,S,", "a rank is a whole number"),
        ("mining-fdi-direction,ASEAN,,2018,-3,direction,,S,", "a direction is 1"),
        ("minerals-exports-value,MYS,,2018,1,USD,roughly,S,", "qualifier 'roughly'"),
        ("minerals-exports-value,MYS,,2018,1,USD,,S", "8 cells where the header has 9"),
    ],
)
def test_each_kind_of_bad_row_is_named(
    write_csv: Callable[..., Path], row_text: str, expected: str
) -> None:
    row, message = _one_error(write_csv(LONG_HEADER, row_text))
    assert row == 2
    assert expected in message


def test_a_row_repeating_an_earlier_figure_is_reported(write_csv: Callable[..., Path]) -> None:
    row, message = _one_error(write_csv(LONG_HEADER, GOOD, GOOD))
    assert (row, message) == (3, "repeats the figure of row 2")


def test_one_bad_row_among_good_ones_writes_nothing(write_csv: Callable[..., Path]) -> None:
    rows = [GOOD.replace("2018", str(year)) for year in range(2000, 2010)]
    rows.insert(5, GOOD.replace("MYS", "XXX"))
    errors = _errors(write_csv(LONG_HEADER, *rows))
    assert [row for row, _ in errors] == [7]
    assert not IndicatorValue.objects.filter(year__lt=2010, member_state__code="MYS").exists()


def test_row_numbers_count_quoted_lines_as_one_row(write_csv: Callable[..., Path]) -> None:
    first = GOOD.replace("2018", "2001")[:-1] + ',"a note\non two lines"'
    errors = _errors(write_csv(LONG_HEADER, first, GOOD.replace("MYS", "XXX")))
    assert [row for row, _ in errors] == [3]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "The file is empty."),
        (b"indicator,member_state,year,value\n", "Missing column(s): unit, source."),
        ((LONG_HEADER + ",colour\n").encode(), "Unknown column(s): colour."),
        (b"indicator,indicator,member_state,year,value,unit,source\n", "appears twice"),
        ((LONG_HEADER + "\n" + GOOD + "\n").encode("utf-16"), "not UTF-8"),
        (LONG_HEADER.encode() + b"\n", "holds no figures"),
    ],
)
def test_a_file_that_cannot_be_read_says_why(
    write_csv: Callable[..., Path], content: bytes, expected: str
) -> None:
    before = IndicatorValue.objects.count()
    with pytest.raises(
        IndicatorImportError, match=expected.replace("(", r"\(").replace(")", r"\)")
    ):
        indicators_import(path=write_csv(raw=content))
    assert IndicatorValue.objects.count() == before


def test_a_missing_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(IndicatorImportError, match="Cannot read"):
        indicators_import(path=tmp_path / "nowhere.csv")


def test_a_folder_is_not_a_file(tmp_path: Path) -> None:
    with pytest.raises(IndicatorImportError, match="is not a file"):
        indicators_import(path=tmp_path)


def test_the_command_prints_the_report(write_csv: Callable[..., Path]) -> None:
    out = StringIO()
    call_command("import_indicators", str(write_csv(LONG_HEADER, GOOD)), stdout=out)
    assert "Read 1 rows (AMDIS long format): 0 figures added, 1 replaced." in out.getvalue()


def test_the_command_lists_bad_rows_and_fails(write_csv: Callable[..., Path]) -> None:
    err = StringIO()
    path = write_csv(LONG_HEADER, GOOD, GOOD.replace("MYS", "ZZZ").replace("2018", "2017"))
    with pytest.raises(
        CommandError, match=r"1 of 2 rows cannot be imported\. Nothing was imported\."
    ):
        call_command("import_indicators", str(path), stderr=err)
    assert "row 3: unknown member state 'ZZZ'" in err.getvalue()
