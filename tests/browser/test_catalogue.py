"""The catalogue, a dataset's preview map and clipped download, and the API documentation,
in a real browser (and under the Content Security Policy: the page fixture fails on violations)."""

import json
import zipfile
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import ALL_COUNT, MapWorld

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_find_a_dataset_then_download_the_part_drawn_on_its_map(
    page: Page, live_server: Any, map_world: MapWorld, tmp_path: Any
) -> None:
    page.goto(f"{live_server.url}/catalogue/")
    expect(page.get_by_role("heading", name="1 dataset")).to_be_visible()
    expect(page.get_by_text("Not yet published")).to_have_count(0)
    page.get_by_role("link", name="Copper", exact=True).click()
    page.get_by_role("link", name="Browser test occurrences").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Browser test occurrences")
    expect(page.locator("dt:text-is('Topic category') + dd")).to_have_text(
        "geoscientificInformation"
    )
    # The dataset's own tiles are drawn on the preview map.
    expect(page.locator("#dataset-map .leaflet-tile path").first).to_be_attached()
    page.get_by_role("button", name="Draw a rectangle").click()
    box = page.locator("#dataset-map").bounding_box()
    assert box is not None
    # The east half of the map: the Philippine points, not the Indonesian ones (away from the
    # zoom buttons at the top left and the attribution at the bottom right).
    page.mouse.click(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.1)
    page.mouse.click(box["x"] + box["width"] * 0.95, box["y"] + box["height"] * 0.9)
    expect(page.locator("#draw-status")).to_contain_text("clipped to the rectangle")
    with page.expect_download() as info:
        page.get_by_role("button", name="Download", exact=True).click()
    path = tmp_path / "download.zip"
    info.value.save_as(path)
    assert "clip_bbox=" in info.value.url
    with zipfile.ZipFile(path) as archive:
        assert "LICENCE-AND-CITATION.txt" in archive.namelist()
        name = next(n for n in archive.namelist() if n.endswith(".geojson"))
        features = json.loads(archive.read(name))["features"]
    assert 0 < len(features) < ALL_COUNT


def test_api_documentation_renders_every_api(page: Page, live_server: Any) -> None:
    page.goto(f"{live_server.url}/ogc/api?f=html")
    expect(page.get_by_text("/ogc/collections/{collectionId}/items", exact=True)).to_be_visible()
    expect(page.get_by_text("/api/occurrences/", exact=True)).to_be_visible()
    expect(page.get_by_text("/downloads/{collectionId}/{format}", exact=True)).to_be_visible()
