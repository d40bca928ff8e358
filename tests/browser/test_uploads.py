"""A survey editor's whole upload flow in a real browser: upload a CSV, read the report, fix the
column mapping, see the preview, publish, and find the data in the public API."""

import json
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from playwright.sync_api import Page, expect

from deposits.models import MemberState
from layers.models import Membership, Organisation, OrganisationKind, Role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CSV = (
    "site,longitude,latitude,minerals\n"
    "Tampakan,125.05,6.48,Cu;Au\n"
    "Didipio,121.46,16.33,Au;Cu\n"
    "Nowhere,abc,1,Cu\n"
)


@pytest.fixture
def signed_in_editor(page: Page, live_server: Any, reference_data: None, settings: Any) -> Page:
    settings.SESSION_COOKIE_SECURE = False  # the live server speaks plain http
    settings.CSRF_COOKIE_SECURE = False
    survey = Organisation.objects.create(
        name="Mines and Geosciences Bureau",
        slug="mgb",
        kind=OrganisationKind.SURVEY,
        member_state=MemberState.objects.get(code="PHL"),
    )
    user = User.objects.create_user("pia-editor", password="x-unused-x")
    Membership.objects.create(user=user, organisation=survey, role=Role.EDITOR)
    client = Client()
    client.force_login(user)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    return page


def upload_csv(page: Page, live_server: Any, folder: Path, text: str, *, title: str) -> None:
    """Uploads `text` as a CSV of occurrences from the upload form, as an editor does."""
    csv_file = folder / "sites.csv"
    csv_file.write_text(text, encoding="utf-8")
    page.goto(live_server.url + "/uploads/new/")
    page.locator("#id_file").set_input_files(str(csv_file))
    page.locator("#id_target").select_option("occurrences")
    page.locator("#id_title").fill(title)
    page.get_by_role("button", name="Upload and check").click()


def test_upload_report_fix_mapping_preview_publish(
    signed_in_editor: Page, live_server: Any, tmp_path: Path
) -> None:
    page = signed_in_editor
    upload_csv(page, live_server, tmp_path, CSV, title="Philippine sites 2025")

    # The report asks for the columns it could not guess.
    expect(page.locator("#job-status")).to_have_text("Needs your answer")
    expect(page.locator(".questions")).to_contain_text("Name")
    page.get_by_label("Name *").select_option("site")
    page.get_by_label("Commodities (main) *").select_option("minerals")
    page.get_by_role("button", name="Check again with these answers").click()

    expect(page.locator("#job-status")).to_have_text("Checked: review the report, then publish")
    expect(page.locator("#count-accepted")).to_have_text("2")
    expect(page.locator("#count-rejected")).to_have_text("1")
    expect(page.locator("#report")).to_contain_text("not a number")
    # The preview map draws the staged features (SVG paths), the rejected one has no geometry.
    expect(page.locator("#preview-map")).to_have_attribute("data-count", "2")
    expect(page.locator("#preview-map path.leaflet-interactive")).to_have_count(2)
    expect(page.locator("#preview-sampled")).to_have_count(0)  # every feature is shown

    page.get_by_role("button", name="Publish as a new version").click()
    expect(page.locator("#job-status")).to_have_text("Published")

    api = page.request.get(live_server.url + "/api/occurrences/?member_state=PHL")
    names = sorted(f["properties"]["name"] for f in json.loads(api.text())["features"])
    assert names == ["Didipio", "Tampakan"]
    page.get_by_role("link", name="Philippine sites 2025").click()
    expect(page.locator("#versions tbody tr")).to_have_count(1)


def test_a_sampled_preview_says_how_much_it_shows(
    signed_in_editor: Page, live_server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from layers import views

    monkeypatch.setattr(views, "PREVIEW_LIMIT", 1)  # the live server runs in this process
    page = signed_in_editor
    text = CSV.replace("site,", "name,").replace("minerals", "commodity")  # no question asked
    upload_csv(page, live_server, tmp_path, text, title="Philippine sites, sampled")

    expect(page.locator("#job-status")).to_have_text("Checked: review the report, then publish")
    expect(page.locator("#preview-map")).to_have_attribute("data-count", "1")
    expect(page.locator("#preview-sampled")).to_have_text(
        "Showing 1 of 2 staged features: the rejected ones first, then rows taken evenly from"
        " the whole file."
    )
