"""The landing page and the member-state profiles: figures equal the database, live counts follow
the data and the visibility rule, and every chart's CSV equals what the chart draws."""

import csv
import io
from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.contrib.gis.geos import MultiPolygon, Polygon
from django.db import connection
from django.db.models.functions import Now
from django.test import Client
from django.test.utils import CaptureQueriesContext

from deposits.models import MemberState, MineralOccurrence
from landing.models import IndicatorValue
from landing.services import indicators_import
from landing.views import CATALOGUE_URL_NAMES, _optional_url
from layers.models import Dataset
from tests.landing.drawn import Drawn, charts_on, csv_of, path_points

pytestmark = pytest.mark.usefixtures("plan_figures")

PRODUCTION_ROWS = [
    "country,iso_a3,year,metal,production,unit",
    *[f"Indonesia,IDN,{year},Tin,{40 + year % 7},kt" for year in range(1960, 2016)],
    *[f"Malaysia,MYS,{year},Tin,{year % 5},kt" for year in range(1960, 2016)],
    *[f"Indonesia,IDN,{year},Gold,{year - 1990},t" for year in range(1990, 2016)],
    *[f"Thailand,THA,{year},Tin,0,kt" for year in range(1960, 2016)],
]


@pytest.fixture
def production(tmp_path: Path) -> None:
    """A small file in the OWID layout: IDN and MYS tin, IDN gold, and an all-zero THA series."""
    path = tmp_path / "production.csv"
    path.write_text("\n".join(PRODUCTION_ROWS) + "\n", encoding="utf-8")
    indicators_import(path=path)


def _get(client: Client, url: str, **extra: str) -> str:
    response = client.get(url, secure=True, **extra)  # type: ignore[arg-type]
    assert response.status_code == 200, (url, response.status_code)
    return response.content.decode()


def _figure(html: str, label: str) -> str:
    """The number shown in the figure card whose label starts with `label`."""
    before = html.split(f'<span class="figure-label">{label}')[0]
    return (
        before.rsplit('<span class="figure-value"', 1)[1]
        .split(">", 1)[1]
        .split("</span>")[0]
        .strip()
    )


# --- the landing page --------------------------------------------------------------------


def test_the_home_page_shows_what_amdis_is_and_its_entry_points(anonymous: Client) -> None:
    html = _get(anonymous, "/")
    assert "<title>Home · ASEAN Minerals Database and Information System</title>" in html
    assert '<meta name="description" content="AMDIS, the ASEAN Minerals Database' in html
    data = _optional_url(*CATALOGUE_URL_NAMES) or "#api"
    for link in ("/map/", "/collab/", "/countries/", data):
        assert f'href="{link}"' in html
    assert 'id="api"' in html
    for area in ("TIM", "SMD", "CBM", "MID"):
        assert f"{area}</abbr>" in html


def test_the_live_figures_equal_the_database_and_follow_it(
    anonymous: Client,
    make_occurrence: Callable[..., MineralOccurrence],
    make_dataset: Callable[..., Dataset],
) -> None:
    make_occurrence("One", state="PHL", main=("copper",))
    make_occurrence("Two", state="IDN", main=("nickel",), secondary=("cobalt",))
    hidden = make_dataset(is_published=False)
    make_occurrence("Hidden", state="THA", main=("tin",), dataset=hidden)

    html = _get(anonymous, "/")
    published = MineralOccurrence.objects.filter(dataset__is_published=True)
    assert _figure(html, "mineral occurrences") == str(published.count()) == "2"
    assert _figure(html, "commodities recorded") == "3"
    assert _figure(html, "member states with data") == "2"
    assert _figure(html, "published datasets") == str(
        Dataset.objects.filter(is_published=True).count()
    )

    make_occurrence("Three", state="THA", main=("tin",))
    html = _get(anonymous, "/")
    assert _figure(html, "mineral occurrences") == "3"
    assert _figure(html, "member states with data") == "3"
    assert _figure(html, "commodities recorded") == "4"


def _feature_queries(client: Client, url: str) -> list[str]:
    """The statements of one request that read occurrences or their commodity links."""
    with CaptureQueriesContext(connection) as queries:
        _get(client, url)
        sql = [q["sql"] for q in queries.captured_queries]
    return [q for q in sql if "deposits_mineraloccurrence" in q or "occurrencecommodity" in q]


@pytest.mark.parametrize("url", ["/", "/countries/PHL/", "/api/vocabularies/"])
def test_a_page_counts_the_occurrences_once_per_data_version(
    anonymous: Client, make_occurrence: Callable[..., MineralOccurrence], url: str
) -> None:
    """Counts over every occurrence grow with the data; they are made again only when the
    data change (over 1M occurrences the home page took 1.3 s a view, 18 ms from the cache)."""
    make_occurrence("One", state="PHL", main=("copper",))
    assert _feature_queries(anonymous, url)  # counted on the first view

    assert _feature_queries(anonymous, url) == []  # not on the next

    make_occurrence("Two", state="PHL", main=("gold",))
    assert _feature_queries(anonymous, url)  # the data changed: counted again


def test_a_profile_map_follows_new_boundaries(
    anonymous: Client, make_occurrence: Callable[..., MineralOccurrence]
) -> None:
    make_occurrence("Inside", state="PHL", lon=121.0, lat=15.0)

    def target_path() -> str:
        html = _get(anonymous, "/countries/PHL/")
        return html.split('<path class="map-target" d="', 1)[1].split('"', 1)[0]

    before = target_path()
    # New boundaries, as boundaries_import writes them (no dataset changed).
    square = MultiPolygon(Polygon.from_bbox((120.0, 14.0, 122.0, 16.0)), srid=4326)
    MemberState.objects.filter(code="PHL").update(boundary=square, updated_at=Now())

    after = target_path()
    assert after != before
    assert after.count("L") + after.count(" ") < before.count("L") + before.count(" ")


def test_the_trade_figures_on_the_home_page_equal_the_database(anonymous: Client) -> None:
    html = _get(anonymous, "/")
    drawn = charts_on(html)["trade-value"]
    expected = {
        (v.member_state.code, v.indicator.code.split("-")[1], str(v.year), v.value)
        for v in IndicatorValue.objects.filter(
            indicator__code__in=["minerals-exports-value", "minerals-imports-value"]
        ).select_related("member_state", "indicator")
        if v.member_state
    }
    shown = {
        (m["data-key"], m["data-series"], m["data-year"], Decimal(m["data-value"]))
        for m in drawn.marks
    }
    assert shown == expected
    assert "USD 1.7 billion" in html and "USD 738,000 (2016)" in html


def test_a_new_figure_appears_on_the_home_page(anonymous: Client, tmp_path: Path) -> None:
    path = tmp_path / "new.csv"
    path.write_text(
        "indicator,member_state,year,value,unit,source\n"
        "minerals-exports-value,SGP,2018,5000000000,USD,Test source\n"
    )
    indicators_import(path=path)
    drawn = charts_on(_get(anonymous, "/"))["trade-value"]
    assert {"data-key": "SGP", "data-value": "5000000000"}.items() <= next(
        m for m in drawn.marks if m["data-key"] == "SGP"
    ).items()


def test_the_production_trend_shows_the_chosen_commodity(
    anonymous: Client, production: None
) -> None:
    html = _get(anonymous, "/?commodity=gold")
    drawn = charts_on(html)["production"]
    assert [p["data-key"] for p in drawn.panels] == ["IDN"]
    assert drawn.csv_url == "/charts/production.csv?commodity=gold"
    assert '<option value="gold" selected>' in html


def test_the_production_trend_leaves_out_all_zero_series_and_shows_46_years(
    anonymous: Client, production: None
) -> None:
    drawn = charts_on(_get(anonymous, "/"))["production"]  # tin by default
    assert [p["data-key"] for p in drawn.panels] == ["IDN", "MYS"]
    assert (drawn.panels[0]["data-first"], drawn.panels[0]["data-last"]) == ("1970", "2015")


def test_an_unknown_commodity_gets_a_message_and_the_default_chart(
    anonymous: Client, production: None
) -> None:
    response = anonymous.get("/?commodity=%3Cscript%3E", secure=True)
    html = response.content.decode()
    assert response.status_code == 400
    assert "There is no production series for “&lt;script&gt;”. Choose one of: Gold, Tin." in html
    assert [p["data-key"] for p in charts_on(html)["production"].panels] == ["IDN", "MYS"]


# --- member-state profiles ---------------------------------------------------------------


def test_the_list_of_member_states_links_every_profile(anonymous: Client) -> None:
    html = _get(anonymous, "/countries/")
    for code in ("BRN", "KHM", "IDN", "LAO", "MYS", "MMR", "PHL", "SGP", "THA", "VNM", "TLS"):
        assert f'href="/countries/{code}/"' in html


def test_a_profile_shows_key_facts_with_source_and_year(anonymous: Client) -> None:
    html = _get(anonymous, "/countries/IDN/")
    assert "<h1>Indonesia</h1>" in html
    facts = charts_on(html)["facts"]
    assert {
        (m["data-key"], m["data-year"], m["data-value"]) for m in facts.marks if m["kind"] == "text"
    } == {
        ("gdp-share-minerals", "2016", "7.2"),
        ("mining-jobs", "2016", "1400000"),
    }
    assert "more than 1,400,000" in html
    assert "Source" in html and "AMCAP-III Phase 2" in html
    shares = charts_on(html)["world-shares"]
    assert ("IDN/tin", "production", "2016", "18") in {
        (m["data-key"], m["data-series"], m["data-year"], m["data-value"]) for m in shares.marks
    }


def test_a_profile_counts_occurrences_live_by_commodity_and_status(
    anonymous: Client,
    make_occurrence: Callable[..., MineralOccurrence],
    make_dataset: Callable[..., Dataset],
) -> None:
    make_occurrence("A", state="PHL", main=("copper",), secondary=("gold",), status="prospect")
    make_occurrence("B", state="PHL", main=("gold",), status="operating_mine")
    make_occurrence("C", state="IDN", main=("nickel",), status="deposit")
    hidden = make_dataset(is_published=False)
    make_occurrence("Hidden", state="PHL", main=("copper",), status="prospect", dataset=hidden)

    def counts(slug: str) -> dict[str, str]:
        rows = csv_of(anonymous, f"/countries/PHL/charts/{slug}.csv")
        return {row[next(iter(row))]: row["value"] for row in rows}

    html = _get(anonymous, "/countries/PHL/")
    assert _figure(html, "mineral occurrences in AMDIS") == "2"
    assert counts("occurrences-by-commodity") == {"gold": "2", "copper": "1"}
    assert counts("occurrences-by-status")["prospect"] == "1"
    assert counts("occurrences-by-status")["operating_mine"] == "1"
    assert counts("occurrences-by-status")["deposit"] == "0"

    make_occurrence("D", state="PHL", main=("copper",), status="prospect")
    assert counts("occurrences-by-commodity") == {"copper": "2", "gold": "2"}
    assert counts("occurrences-by-status")["prospect"] == "2"
    assert _figure(_get(anonymous, "/countries/PHL/"), "mineral occurrences in AMDIS") == "3"


def test_an_editor_sees_their_unpublished_occurrences_in_a_private_response(
    editor_phl: Client,
    anonymous: Client,
    make_occurrence: Callable[..., MineralOccurrence],
    make_dataset: Callable[..., Dataset],
) -> None:
    draft = make_dataset(is_published=False, member_state=MemberState.objects.get(code="PHL"))
    make_occurrence("Draft", state="PHL", main=("copper",), dataset=draft)

    response = editor_phl.get("/countries/PHL/", secure=True)
    assert _figure(response.content.decode(), "mineral occurrences in AMDIS") == "1"
    assert response["Cache-Control"] == "private, no-cache"
    csv_response = editor_phl.get("/countries/PHL/charts/occurrences-by-status.csv", secure=True)
    assert csv_response["Cache-Control"] == "private, no-cache"
    assert _figure(_get(anonymous, "/countries/PHL/"), "mineral occurrences in AMDIS") == "0"
    assert "private" not in anonymous.get("/countries/PHL/", secure=True).get("Cache-Control", "")


def test_a_profile_links_to_the_webgis_filtered_to_the_member_state(anonymous: Client) -> None:
    html = _get(anonymous, "/countries/PHL/")
    link = html.split("Open the WebGIS filtered to Philippines")[0].rsplit('href="', 1)[1]
    link = link.split('"')[0].replace("&amp;", "&")
    assert link.startswith("/map/#map=")
    assert link.endswith("&layers=member-states,occurrences&member_state=PHL")
    zoom, lat, lon = link.split("#map=")[1].split("&")[0].split("/")
    assert 4 <= int(zoom) <= 7 and 4 < float(lat) < 20 and 116 < float(lon) < 128


def test_a_profile_draws_a_small_map_from_postgis(
    anonymous: Client, make_occurrence: Callable[..., MineralOccurrence]
) -> None:
    make_occurrence("Far north", state="PHL", lon=121.0, lat=18.0)
    make_occurrence("Far south", state="PHL", lon=125.0, lat=7.0)
    html = _get(anonymous, "/countries/PHL/")
    assert '<path class="map-target" d="M' in html
    assert html.count('<circle class="map-dot"') == 2
    assert "Map of Philippines with its 2 mineral occurrences" in html


def test_a_profile_without_a_boundary_says_so(anonymous: Client) -> None:
    MemberState.objects.filter(code="TLS").update(boundary=None)
    html = _get(anonymous, "/countries/TLS/")
    assert "No boundary has been loaded for this member state yet." in html
    assert "The plan gives no trade values for this member state." in html


def test_a_lowercase_code_redirects_to_the_profile(anonymous: Client) -> None:
    response = anonymous.get("/countries/phl/", secure=True)
    assert (response.status_code, response["Location"]) == (301, "/countries/PHL/")


@pytest.mark.parametrize("code", ["XXX", "CHN", "PH", "<b>"])
def test_an_unknown_member_state_is_not_found(anonymous: Client, code: str) -> None:
    assert anonymous.get(f"/countries/{code}/", secure=True).status_code in (404, 301)
    assert anonymous.get(f"/countries/{code.upper()}/", secure=True).status_code == 404


# --- CSV downloads -----------------------------------------------------------------------


def _scale(rows: list[dict[str, str]]) -> Decimal:
    if rows and all(row["unit"] == "%" for row in rows):
        return Decimal(100)
    return max(Decimal(row["value"]) for row in rows)


def _check_marks(drawn: Drawn, rows: list[dict[str, str]]) -> None:
    key = next(iter(rows[0]))
    values = [m for m in drawn.marks if m["kind"] != "meter"]
    has_series = all("data-series" in m for m in values)
    as_drawn = Counter(
        (m["data-key"], m.get("data-series", ""), m.get("data-year", ""), Decimal(m["data-value"]))
        for m in values
    )
    in_csv = Counter(
        (r[key], r["series"] if has_series else "", r["year"], Decimal(r["value"])) for r in rows
    )
    assert as_drawn == in_csv, drawn.slug
    bars = [m for m in values if m["kind"] == "bar"]
    scale = _scale(rows)
    for bar in bars:
        expected = min(Decimal(100), Decimal(bar["data-value"]) / scale * 100)
        assert abs(Decimal(bar["width"]) - expected) < Decimal("0.01"), (drawn.slug, bar)
    for meter in (m for m in drawn.marks if m["kind"] == "meter"):
        assert Decimal(meter["width"]) == Decimal(meter["data-value"]), drawn.slug


def _check_lines(drawn: Drawn, rows: list[dict[str, str]]) -> None:
    key = next(iter(rows[0]))
    assert sorted(p["data-key"] for p in drawn.panels) == sorted({r[key] for r in rows})
    for panel in drawn.panels:
        first, last = int(panel["data-first"]), int(panel["data-last"])
        top = Decimal(panel["data-top"])
        mine = sorted(
            (int(r["year"]), Decimal(r["value"])) for r in rows if r[key] == panel["data-key"]
        )
        expected = [
            ((year - first) / (last - first) * 100, 40 - float(value / top) * 40)
            for year, value in mine
        ]
        points = path_points(panel["d"])
        assert len(points) == len(expected), drawn.slug
        for (x, y), (ex, ey) in zip(points, expected, strict=True):
            assert abs(x - ex) < 0.01 and abs(y - ey) < 0.01, (drawn.slug, panel["data-key"])


def _check_every_chart(client: Client, url: str) -> set[str]:
    checked = set()
    for slug, drawn in charts_on(_get(client, url)).items():
        if not drawn.csv_url:  # an empty chart says so and offers no download
            assert not drawn.marks and not drawn.panels, slug
            rows = csv_of(client, (url.split("?")[0] + f"charts/{slug}.csv").replace("//", "/"))
            assert rows == [], slug
            checked.add(slug)
            continue
        rows = csv_of(client, drawn.csv_url)
        if drawn.panels:
            _check_lines(drawn, rows)
        else:
            _check_marks(drawn, rows)
        checked.add(slug)
    return checked


def test_every_chart_on_the_home_page_draws_exactly_its_csv(
    anonymous: Client, production: None
) -> None:
    assert _check_every_chart(anonymous, "/") == {
        "asean-overview",
        "trade-value",
        "trade-share",
        "world-shares",
        "world-ranks",
        "production",
    }
    assert _check_every_chart(anonymous, "/?commodity=gold") >= {"production"}


@pytest.mark.parametrize("code", ["IDN", "PHL", "SGP", "TLS"])
def test_every_chart_on_a_profile_draws_exactly_its_csv(
    anonymous: Client,
    production: None,
    make_occurrence: Callable[..., MineralOccurrence],
    code: str,
) -> None:
    make_occurrence("Gold A", state="IDN", lon=110.0, lat=-7.0, main=("gold",))
    make_occurrence(
        "Tin B", state="IDN", lon=106.0, lat=-2.0, main=("tin",), status="operating_mine"
    )
    make_occurrence("Cu C", state="PHL", main=("copper",), secondary=("gold",))
    assert len(_check_every_chart(anonymous, f"/countries/{code}/")) == 8


def test_the_csv_names_its_columns_and_file(anonymous: Client) -> None:
    response = anonymous.get("/countries/MYS/charts/trade-value.csv", secure=True)
    assert response["Content-Disposition"] == 'attachment; filename="amdis-MYS-trade-value.csv"'
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == [
        "member_state",
        "name",
        "series",
        "year",
        "value",
        "unit",
        "qualifier",
        "source",
        "note",
    ]
    assert rows[1:] == [
        ["MYS", "Malaysia", "exports", "2018", "1700000000", "USD", "", "AMCAP-III Phase 2", ""],
        ["MYS", "Malaysia", "imports", "2018", "2900000000", "USD", "", "AMCAP-III Phase 2", ""],
    ]


def test_text_that_a_spreadsheet_would_run_is_written_as_text(
    anonymous: Client, tmp_path: Path
) -> None:
    path = tmp_path / "formula.csv"
    path.write_text(
        "indicator,member_state,year,value,unit,source,note\n"
        'mining-fdi-direction,ASEAN,2019,-1,direction,=HYPERLINK("http://x"),@SUM(A1)\n'
    )
    indicators_import(path=path)
    rows = csv_of(anonymous, "/charts/asean-overview.csv")
    row = next(r for r in rows if r["indicator"] == "mining-fdi-direction")
    assert (row["value"], row["source"], row["note"]) == (
        "-1",
        '\'=HYPERLINK("http://x")',
        "'@SUM(A1)",
    )


@pytest.mark.parametrize(
    ("url", "status", "message"),
    [
        ("/charts/no-such-chart.csv", 404, "No chart no-such-chart."),
        ("/charts/facts.csv", 404, "No chart facts."),  # a profile chart, not a home chart
        ("/countries/XXX/charts/facts.csv", 404, ""),
        ("/countries/PHL/charts/nope.csv", 404, "No chart nope."),
        ("/charts/production.csv?commodity=unobtainium", 400, "There is no production series"),
    ],
)
def test_a_csv_that_does_not_exist_says_so(
    anonymous: Client, production: None, url: str, status: int, message: str
) -> None:
    response = anonymous.get(url, secure=True)
    assert response.status_code == status
    assert message in response.content.decode()


def test_only_get_is_allowed(anonymous: Client, registered: Client) -> None:
    assert anonymous.post("/", secure=True).status_code in (403, 405)
    assert registered.post("/charts/trade-value.csv", secure=True).status_code in (403, 405)


def test_a_signed_in_user_without_a_role_sees_the_public_figures(
    registered: Client,
    make_dataset: Callable[..., Dataset],
    make_occurrence: Callable[..., MineralOccurrence],
) -> None:
    make_occurrence("Draft", state="PHL", dataset=make_dataset(is_published=False))
    assert User.objects.filter(username="reggie-registered").exists()
    assert _figure(_get(registered, "/countries/PHL/"), "mineral occurrences in AMDIS") == "0"
