"""Raster layers on the map and the prospectivity modeller, in a real browser."""

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from layers.models import Dataset, DatasetKind, RasterLayer
from tests.browser.conftest import open_map
from tests.prospectivity.conftest import world  # noqa: F401  (the modeller's small world)
from tests.rasters.factories import GEOID, raster_layer_from_file

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def geoid_layer(
    live_server: Any, reference_data: None, make_dataset: Callable[..., Dataset], shared_data: Path
) -> RasterLayer:
    dataset = make_dataset(slug="geoid", title="EGM96 geoid height", kind=DatasetKind.RASTER)
    return raster_layer_from_file(dataset, shared_data / GEOID, units="m")


def test_a_raster_layer_shows_its_legend_and_the_value_where_clicked(
    page: Page, live_server: Any, geoid_layer: RasterLayer
) -> None:
    open_map(page, live_server, "#map=6/15.000/121.000&layers=raster-geoid")

    item = page.locator('.layer-item[data-layer="raster-geoid"]')
    expect(item.get_by_role("checkbox", name="EGM96 geoid height")).to_be_checked()
    expect(item.locator(".raster-units")).to_have_text("m")
    expect(item.locator(".raster-ramp stop").first).to_be_attached()
    expect(page.locator(".raster-tiles-geoid img.leaflet-tile-loaded").first).to_be_visible()

    box = page.locator("#map").bounding_box()
    assert box
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)

    popup = page.locator(".leaflet-popup .raster-value-popup")
    expect(popup).to_contain_text("EGM96 geoid height")
    # The geoid is about 42 m above the ellipsoid at 15°N 121°E.
    expect(popup.locator("dd")).to_have_text(re.compile(r"^4\d(\.\d+)? m$"))


def test_the_colour_map_and_stretch_redraw_the_layer(
    page: Page, live_server: Any, geoid_layer: RasterLayer
) -> None:
    open_map(page, live_server, "#map=5/10.000/115.000&layers=raster-geoid")
    item = page.locator('.layer-item[data-layer="raster-geoid"]')

    item.get_by_label("Colours").select_option("magma")
    item.get_by_label("Stretch from").fill("-20")
    item.get_by_label("Stretch from").dispatch_event("change")

    expect(page.locator(".raster-tiles-geoid img").first).to_have_attribute(
        "src", re.compile(r"colormap=magma&rescale=-20%2C")
    )
    expect(item.locator(".raster-min")).to_have_text("-20")
    item.get_by_label("Opacity").fill("30")
    expect(page.locator(".leaflet-amdis-rasters-pane .raster-tiles-geoid")).to_have_css(
        "opacity", "0.3"
    )


def test_building_a_model_shows_its_map_weights_and_curves(
    page: Page,
    live_server: Any,
    reference_data: None,
    world: Any,  # noqa: F811
) -> None:
    page.goto(f"{live_server.url}/prospectivity/")
    expect(page.locator("#model-form[data-ready=true]")).to_be_attached()
    expect(page.locator("#commodity option[value=copper]")).to_be_attached()

    page.get_by_label("Commodity (training points)").select_option("copper")
    page.get_by_label("or type a rectangle").fill("121, 12, 123, 14")
    page.get_by_label("or type a rectangle").dispatch_event("change")
    page.get_by_label("Cell size (metres)").fill("2000")
    page.get_by_role("button", name="Run the model").click()

    expect(page.locator("#run-message")).to_have_text("Done.")
    expect(page.locator("img.leaflet-tile-loaded").first).to_be_visible()
    expect(page.locator("#result-figures")).to_contain_text("Success-rate AUC")
    expect(page.locator("#rate-curves path.curve-success-rate")).to_be_attached()
    expect(page.locator("#rate-curves path.curve-prediction-rate")).to_be_attached()
    granite = page.locator(".weights-table tbody tr", has_text="granite")
    expect(granite).to_have_count(1)
    expect(page.locator(".weights-table thead").first).to_contain_text("W+")
    recipe_link = page.get_by_role("link", name="Download the recipe (JSON)")
    recipe = json.loads(
        page.request.get(live_server.url + recipe_link.get_attribute("href")).text()
    )
    assert recipe["area"] == {"bbox": [121, 12, 123, 14]} and recipe["method"] == "wofe"


def test_a_bad_recipe_shows_the_servers_message(
    page: Page,
    live_server: Any,
    reference_data: None,
    world: Any,  # noqa: F811
) -> None:
    page.goto(f"{live_server.url}/prospectivity/")
    expect(page.locator("#commodity option[value=gold]")).to_be_attached()

    page.get_by_label("Commodity (training points)").select_option("gold")
    page.get_by_label("or type a rectangle").fill("121, 12, 122, 13")
    page.get_by_label("or type a rectangle").dispatch_event("change")
    page.get_by_role("button", name="Run the model").click()

    expect(page.locator("#form-error")).to_contain_text("No gold occurrences lie in the area")
