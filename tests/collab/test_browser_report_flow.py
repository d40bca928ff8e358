"""In a real browser: a focal point signs in with a second factor, submits a quarterly report with
an attachment, and the Secretariat reviews it and sees the dashboard change.

The live server needs committed data, so this runs with `transactional_db`; it loads the member
states and the plan it needs, and puts back what the rest of the suite expects afterwards.
"""

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Browser, Page, expect, sync_playwright

from collab.models import Evidence, ProgressReport, ReviewState, Role
from collab.services import plan_load
from deposits.models import MemberState
from deposits.services import boundaries_import, reference_data_load
from tests.collab.conftest import PASSWORD, PDF_BYTES, make_member, totp_code
from tests.conftest import WORLD_ATLAS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM = os.environ.get("AMDIS_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
PLAN_FIXTURE = Path(django_settings.BASE_DIR) / "fixtures" / "collab" / "amcap-iii-phase2.json"

expect.set_options(timeout=15_000)


def load_plan() -> None:
    plan_load(data=json.loads(PLAN_FIXTURE.read_text(encoding="utf-8")))


def member_states_saved() -> list[dict[str, Any]]:
    """The member states with their boundaries, to put back after the flush without re-importing."""
    fields = [
        f.attname for f in MemberState._meta.concrete_fields if not getattr(f, "generated", False)
    ]
    return list(MemberState.objects.values(*fields))


def member_states_restore(saved: list[dict[str, Any]]) -> None:
    if not saved or any(row.get("boundary") is None for row in saved):
        reference_data_load()
        boundaries_import(path=WORLD_ATLAS)
        return
    for row in saved:
        values = {k: v for k, v in row.items() if k not in ("id", "code")}
        MemberState.objects.update_or_create(code=row["code"], defaults=values)


@pytest.fixture(scope="module")
def browser(django_db_setup: None, django_db_blocker: Any) -> Iterator[Browser]:
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        pytest.skip(f"Chromium not found at {CHROMIUM} (set AMDIS_CHROMIUM)")
    # Playwright's sync API keeps an event loop in this thread; Django would then refuse ORM
    # calls made here (test data, the flush). Nothing async shares these connections.
    with django_db_blocker.unblock():
        saved = member_states_saved()
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
            )
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous
        # The flush after the test emptied every table: put back what other tests expect.
        with django_db_blocker.unblock():
            member_states_restore(saved)
            reference_data_load()
            load_plan()


@pytest.fixture
def live_settings(settings: Any) -> None:
    """Plain http (cookies not marked Secure) and static files from the finders, unhashed."""
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


def sign_in(
    page: Page, base: str, username: str, device: TOTPDevice, *, steps_ahead: int = 0
) -> None:
    page.goto(f"{base}/collab/")
    expect(page).to_have_url(f"{base}/collab/login/?next=/collab/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    expect(page).to_have_url(f"{base}/collab/login/verify/")
    page.get_by_label("Code").fill(totp_code(device, steps_ahead=steps_ahead))
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{base}/collab/")
    expect(page.get_by_role("navigation", name="Collaboration platform")).to_contain_text(username)


def test_a_report_goes_from_focal_point_to_dashboard(
    browser: Browser, live_server: Any, live_settings: None, tmp_path: Path
) -> None:
    reference_data_load()
    load_plan()
    pablo = make_member("pablo", Role.FOCAL_POINT, state="PHL")
    sara = make_member("sara", Role.SECRETARIAT)
    pablo_app = TOTPDevice.objects.create(user=pablo, name="app", confirmed=True)
    sara_app = TOTPDevice.objects.create(user=sara, name="app", confirmed=True)
    minutes = tmp_path / "wgmid-minutes.pdf"
    minutes.write_bytes(PDF_BYTES)
    base = live_server.url

    # The focal point signs in with password and TOTP, and submits a report with evidence.
    focal = browser.new_context(viewport={"width": 1280, "height": 900})
    page = focal.new_page()
    sign_in(page, base, "pablo", pablo_app)
    page.goto(f"{base}/collab/reports/new/")
    page.get_by_label("Action line").select_option(
        label="MD1.3 Build the AMCAP Online Collaboration Platform"
    )
    page.get_by_label("Year").select_option("2024")
    page.get_by_label("Quarter").select_option("3")
    page.get_by_label("Status").select_option("ongoing")
    page.get_by_label("Percent complete").fill("90")
    page.get_by_label("Narrative").fill("Platform piloted with WGMID; minutes attached.")
    page.get_by_label("Evidence (optional)").set_input_files(str(minutes))
    page.get_by_role("button", name="Submit for review").click()
    expect(page.locator("#review-state")).to_have_text("Submitted for review")
    expect(page.get_by_role("link", name="wgmid-minutes.pdf")).to_be_visible()
    report = ProgressReport.objects.get()
    assert report.review_state == ReviewState.SUBMITTED
    assert Evidence.objects.get(report=report).original_name == "wgmid-minutes.pdf"
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{base}/collab/login/")
    focal.close()

    # The Secretariat sees the dashboard before, reviews the report, and sees it change.
    secretariat = browser.new_context(viewport={"width": 1280, "height": 900})
    page = secretariat.new_page()
    sign_in(page, base, "sara", sara_app)
    page.goto(f"{base}/collab/dashboard/")
    expect(page.locator("#dashboard-overall")).to_have_text("0%")
    expect(page.locator("#dashboard-reported")).to_have_text("0 / 30")

    page.goto(f"{base}/collab/")
    page.get_by_role("link", name="MD1.3").click()
    expect(page.locator("#review-state")).to_have_text("Submitted for review")
    page.get_by_role("radio", name="Accept").check()
    page.get_by_role("button", name="Record the review").click()
    expect(page.locator("#review-state")).to_have_text("Accepted")

    page.get_by_role("link", name="Dashboard").click()
    expect(page.locator("#dashboard-overall")).to_have_text("3%")
    expect(page.locator("#dashboard-reported")).to_have_text("1 / 30")
    expect(page.locator("#action-line-table")).to_contain_text("PHL 90%")
    secretariat.close()
