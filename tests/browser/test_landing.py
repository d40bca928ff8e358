"""The landing page and member-state profiles in headless Chromium: accessibility (axe-core),
phones, page weight, the language switcher and the way into the WebGIS."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from django.conf import settings
from playwright.sync_api import Browser, Page, expect

from landing.services import indicators_import, indicators_reference_load
from tests.browser.conftest import DESKTOP, PHL_COUNT, PHONE, MapWorld, occurrence_symbols

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = Path(settings.BASE_DIR) / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = Path("/tmp")
MAX_PAGE_BYTES = 500 * 1024


@pytest.fixture
def landing_world(map_world: MapWorld, tmp_path: Path, settings: Any) -> MapWorld:
    """The map world plus the plan's figures and a tin production series for two states."""
    settings.SESSION_COOKIE_SECURE = False  # the live server speaks plain http
    settings.CSRF_COOKIE_SECURE = False
    indicators_reference_load()
    production = tmp_path / "production.csv"
    production.write_text(
        "country,iso_a3,year,metal,production,unit\n"
        + "".join(
            f"{name},{code},{year},Tin,{base + year % 9},kt\n"
            for name, code, base in (("Indonesia", "IDN", 40), ("Malaysia", "MYS", 5))
            for year in range(1960, 2016)
        )
    )
    indicators_import(path=production)
    return map_world


def _context_page(browser: Browser, viewport: dict[str, int], **options: Any) -> Iterator[Page]:
    context = browser.new_context(viewport=viewport, service_workers="block", **options)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    yield page
    context.close()
    if errors:
        pytest.fail("Errors on the page: " + "; ".join(errors))


@pytest.fixture
def axe_page(browser: Browser) -> Iterator[Page]:
    """Desktop page where axe-core may be injected (the site's CSP would refuse the script)."""
    yield from _context_page(browser, DESKTOP, bypass_csp=True)


@pytest.fixture
def axe_phone(browser: Browser) -> Iterator[Page]:
    yield from _context_page(browser, PHONE, bypass_csp=True)


def _serious_violations(page: Page) -> list[str]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def _fits_the_screen(page: Page) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page is {overflow}px wider than the screen"


def test_the_pages_have_no_serious_accessibility_violations_on_desktop_and_phone(
    axe_page: Page, axe_phone: Page, live_server: Any, landing_world: MapWorld
) -> None:
    for path, name in (("/", "home"), ("/countries/PHL/", "profile-PHL")):
        for page, size in ((axe_page, "desktop"), (axe_phone, "phone")):
            page.goto(f"{live_server.url}{path}")
            expect(page.get_by_role("heading", level=1)).to_be_visible()
            page.screenshot(path=str(SCREENSHOTS / f"amdis-{name}-{size}.png"), full_page=True)
            assert _serious_violations(page) == [], f"{path} at {size} width"
            _fits_the_screen(page)


def test_the_landing_page_is_light_and_its_charts_show_source_year_and_data(
    page: Page, browser: Browser, live_server: Any, landing_world: MapWorld
) -> None:
    sizes: dict[str, int] = {}
    page.on("response", lambda r: sizes.__setitem__(r.url, len(r.body())))
    page.goto(f"{live_server.url}/", wait_until="networkidle")

    own = urlparse(live_server.url).netloc
    assert {urlparse(url).netloc for url in sizes} == {own}
    total = sum(sizes.values())
    # Measured uncompressed: whitenoise's gzip/brotli in production only makes it smaller.
    assert total < MAX_PAGE_BYTES, f"{total:,} bytes: {sizes}"
    assert page.evaluate("document.scripts.length") == 0  # nothing to block rendering or to run

    trade = page.locator("#chart-trade-value")
    expect(trade.get_by_role("heading")).to_have_text("Minerals exports and imports by value")
    expect(trade).to_contain_text("Unit: US dollars")
    expect(trade).to_contain_text("Year: 2018 (Cambodia: 2016; Viet Nam: 2017)")
    expect(trade).to_contain_text("Source: AMCAP-III Phase 2")
    expect(trade.get_by_role("row", name="Malaysia")).to_contain_text("USD 2.9 billion")

    production = page.locator("#chart-production")
    expect(production.locator("svg.spark")).to_have_count(2)
    production.get_by_text("Show the figures as a table").click()
    expect(production.get_by_role("row", name="2015")).to_contain_text("48 kt")

    with page.expect_download() as download:
        trade.get_by_role("link", name="Download the data (CSV)").click()
    text = Path(download.value.path()).read_text(encoding="utf-8")
    assert text.startswith("member_state,name,series,year,value,unit,qualifier,source,note\n")
    assert "MYS,Malaysia,imports,2018,2900000000,USD" in text

    # The commodity of the trend is chosen with a plain form: no JavaScript needed.
    context = browser.new_context(viewport=DESKTOP, java_script_enabled=False)
    no_script = context.new_page()
    no_script.goto(f"{live_server.url}/")
    expect(no_script.locator("#chart-production .panel-title")).to_have_text(
        ["Indonesia", "Malaysia"]
    )
    no_script.get_by_label("Production trend of").select_option("tin")
    no_script.get_by_role("button", name="Show").click()
    expect(no_script).to_have_url(f"{live_server.url}/?commodity=tin#chart-production")
    context.close()


def test_a_profile_opens_the_webgis_filtered_to_its_member_state(
    axe_page: Page, live_server: Any, landing_world: MapWorld
) -> None:
    page = axe_page
    page.goto(f"{live_server.url}/countries/PHL/")
    expect(page.locator(".figure-value[data-live=occurrences]")).to_have_text(str(PHL_COUNT))
    expect(page.locator(".state-map circle.map-dot")).not_to_have_count(0)

    page.get_by_role("link", name="Open the WebGIS filtered to Philippines").click()

    expect(page.locator("#map[data-ready=true]")).to_be_attached()
    assert "member_state=PHL" in page.evaluate("location.hash")
    expect(occurrence_symbols(page)).to_have_count(PHL_COUNT)
    assert _serious_violations(page) == [], "/map/"


def test_the_language_switcher_shows_the_pages_in_bahasa_indonesia(
    page: Page, live_server: Any, landing_world: MapWorld
) -> None:
    page.goto(f"{live_server.url}/countries/PHL/")
    page.get_by_role("button", name="Bahasa Indonesia").click()

    expect(page.locator("html")).to_have_attribute("lang", "id")
    expect(page).to_have_url(f"{live_server.url}/countries/PHL/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Filipina")
    expect(page.get_by_role("link", name="Buka WebGIS dengan filter Filipina")).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "amdis-profile-PHL-id.png"), full_page=True)

    page.goto(f"{live_server.url}/")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Sistem Basis Data dan Informasi Mineral ASEAN"
    )
    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
