"""Occurrence pages and the landing page in a real browser."""

import datetime
import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import ALL_COUNT, MapWorld

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_occurrence_page_shows_its_attributes_and_a_map_of_the_point(
    page: Page, live_server: Any, map_world: MapWorld
) -> None:
    occurrence = map_world["Toledo Copper"]
    occurrence.other_names = ["Atlas"]
    occurrence.resource_mt = 1234.5
    occurrence.grades = {"copper": {"value": 0.42, "unit": "%"}}
    occurrence.reporting_code = "jorc"
    occurrence.resource_date = datetime.date(2019, 6, 30)
    occurrence.references = "Smith (2001). Porphyry copper of Cebu."
    occurrence.save()

    page.goto(f"{live_server.url}/occurrences/{occurrence.pk}/")

    def value_of(term: str) -> Any:
        return page.locator(f"dt:text-is('{term}') + dd")

    expect(page.get_by_role("heading", level=1)).to_have_text("Toledo Copper")
    expect(page.get_by_text("Also known as Atlas")).to_be_visible()
    expect(value_of("Status")).to_have_text("Operating mine")
    expect(value_of("Commodities")).to_contain_text("Copper (Cu)")
    expect(value_of("Commodities")).to_contain_text("Gold (Au)")
    expect(value_of("Deposit type")).to_have_text("Porphyry copper")
    expect(value_of("Member state")).to_have_text("Philippines")
    expect(value_of("Resource")).to_have_text("1,234.50 million tonnes")
    expect(value_of("Reporting code")).to_have_text("JORC")
    expect(value_of("Resource date")).to_have_text("30 June 2019")
    expect(value_of("Dataset")).to_have_text("Browser test occurrences")
    expect(page.get_by_role("row", name="Copper")).to_contain_text("0.42 %")
    expect(page.get_by_text("Smith (2001). Porphyry copper of Cebu.")).to_be_visible()
    # The small map: the point as a marker over the member state drawn from vector tiles.
    mini_map = page.locator("#occurrence-map")
    expect(mini_map.locator(".leaflet-overlay-pane path")).to_have_count(1)
    expect(mini_map.locator(".leaflet-tile-container path").first).to_be_attached()


def test_the_landing_page_shows_live_figures_and_leads_to_the_map(
    page: Page, live_server: Any, map_world: MapWorld
) -> None:
    page.goto(f"{live_server.url}/")

    figure = page.locator(".figure", has_text="mineral occurrences")
    expect(figure.locator(".figure-value")).to_have_text(str(ALL_COUNT))
    page.get_by_role("link", name="Open the map").click()

    expect(page).to_have_url(re.compile(r"/map/#map="))
    expect(page.locator("#map[data-ready=true]")).to_be_attached()
