"""The map page in a real browser: tiles drawn, filters, popups, search, permalinks, phones."""

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import (
    ALL_COUNT,
    COPPER_COUNT,
    PHL_COUNT,
    MapWorld,
    occurrence_symbols,
    open_map,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def map_view(page: Page) -> tuple[int, float, float]:
    """Zoom, latitude and longitude from the permalink in the address bar."""
    match = re.search(r"map=(\d+)/(-?[\d.]+)/(-?[\d.]+)", page.evaluate("location.hash"))
    assert match, page.url
    return int(match[1]), float(match[2]), float(match[3])


def click_map_centre(page: Page) -> None:
    box = page.locator("#map").bounding_box()
    assert box
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)


def test_it_draws_published_occurrences_over_member_states(
    page: Page, live_server: Any, map_world: MapWorld
) -> None:
    open_map(page, live_server)

    expect(occurrence_symbols(page)).to_have_count(ALL_COUNT)
    # Boundaries come in pieces, one per tile they cross.
    expect(page.locator(".leaflet-amdis-member-states-pane path").first).to_be_visible()


def test_it_redraws_occurrences_when_a_commodity_is_chosen(
    page: Page, live_server: Any, map_world: MapWorld
) -> None:
    open_map(page, live_server)
    expect(occurrence_symbols(page)).to_have_count(ALL_COUNT)

    page.get_by_role("checkbox", name="Copper (Cu)").check()

    expect(occurrence_symbols(page)).to_have_count(COPPER_COUNT)
    expect(page.locator("#filter-count")).to_have_text(
        f"{COPPER_COUNT} occurrences match these filters"
    )
    assert "commodity=copper" in page.evaluate("location.hash")


def test_clicking_an_occurrence_shows_its_attributes_in_a_popup(
    page: Page, live_server: Any, map_world: MapWorld
) -> None:
    target = map_world["Tampakan <Cu> & Au"]
    open_map(page, live_server, f"#map=10/{target.geom.y}/{target.geom.x}")
    expect(occurrence_symbols(page).first).to_be_visible()

    click_map_centre(page)

    popup = page.locator(".leaflet-popup .amdis-popup")
    # The name holds markup characters: they must show as text, not become elements.
    expect(popup.locator("h3")).to_have_text("Tampakan <Cu> & Au")
    expect(popup).to_contain_text("Operating mine")
    expect(popup).to_contain_text("Copper (Cu)")
    expect(popup).to_contain_text("Philippines")
    expect(popup).to_contain_text("Porphyry copper")
    expect(popup.get_by_role("link", name="Full record")).to_have_attribute(
        "href", f"/occurrences/{target.pk}/"
    )


def test_a_permalink_restores_the_view_layers_and_filters(
    page: Page, live_server: Any, map_world: MapWorld
) -> None:
    open_map(page, live_server, "#map=5/8.000/118.000&layers=member-states,occurrences")
    page.get_by_role("button", name="Zoom in").click()
    page.locator("summary", has_text="Member state").click()  # opens the filter group
    page.get_by_role("checkbox", name="Philippines").check()
    page.get_by_role("checkbox", name="Structures").check()
    expect(page).to_have_url(re.compile(r"#map=6/.*layers=.*structures.*member_state=PHL"))
    expect(occurrence_symbols(page)).to_have_count(PHL_COUNT)
    link = page.url

    other = page.context.new_page()
    other.goto(link)

    expect(other.locator("#map[data-ready=true]")).to_be_attached()
    assert map_view(other) == map_view(page)
    expect(other.get_by_role("checkbox", name="Philippines")).to_be_checked()
    expect(other.get_by_role("checkbox", name="Structures")).to_be_checked()
    expect(occurrence_symbols(other)).to_have_count(PHL_COUNT)
    assert other.url == link


def test_search_jumps_to_the_occurrence_and_opens_its_popup(
    page: Page, live_server: Any, map_world: MapWorld
) -> None:
    target = map_world["Masbate Gold"]
    open_map(page, live_server)

    page.get_by_role("combobox", name="Search occurrences by name").fill("masbate")
    page.get_by_role("option", name=re.compile("Masbate Gold")).click()

    expect(page.locator(".leaflet-popup .amdis-popup h3")).to_have_text("Masbate Gold")
    zoom, lat, lon = map_view(page)
    assert zoom >= 13
    assert (round(lat, 4), round(lon, 4)) == (round(target.geom.y, 4), round(target.geom.x, 4))


def test_a_failed_count_shows_an_error_and_a_retry(
    page: Page, live_server: Any, map_world: MapWorld
) -> None:
    def is_count(url: str) -> bool:
        return "/api/occurrences/?limit=1" in url

    page.route(is_count, lambda route: route.fulfill(status=503, body="{}"))
    open_map(page, live_server)

    count = page.locator("#filter-count")
    expect(count).to_contain_text("Could not count the matching occurrences — try again.")

    page.unroute(is_count)
    count.get_by_role("button", name="Try again").click()
    expect(count).to_have_text(f"{ALL_COUNT} occurrences in all")


def test_on_a_phone_the_map_fills_the_screen_and_the_panel_opens_and_closes(
    phone_page: Page, live_server: Any, map_world: MapWorld
) -> None:
    page = phone_page
    open_map(page, live_server)
    panel = page.locator("#map-panel")
    toggle = page.get_by_role("button", name="Layers & filters")

    box = page.locator("#map").bounding_box()
    assert box and box["width"] == 390 and box["height"] > 700
    expect(panel).to_be_hidden()
    expect(occurrence_symbols(page)).not_to_have_count(0)

    toggle.click()
    expect(panel).to_be_visible()
    panel.get_by_role("checkbox", name="Structures").check()
    expect(page).to_have_url(re.compile(r"layers=.*structures"))
    page.get_by_role("button", name="Close the layers and filters panel").click()

    expect(panel).to_be_hidden()
    expect(toggle).to_have_attribute("aria-expanded", "false")
