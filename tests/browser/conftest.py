"""Headless Chromium (Playwright, sync API) against pytest-django's live server.

The live server needs committed data, so these tests run with `transactional_db`: each test
builds its own small world (two member states with square boundaries, a published dataset and
a few occurrences) and the tables are emptied after it. The reference data the rest of the
suite expects is loaded again once a module is done.
"""

import os
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.gis.geos import MultiPolygon, Polygon
from django.db import connection
from playwright.sync_api import Browser, Page, expect, sync_playwright

from deposits.models import MemberState, MineralOccurrence
from deposits.services import boundaries_import, reference_data_load
from layers.models import Dataset
from tests.conftest import WORLD_ATLAS

CHROMIUM = os.environ.get("AMDIS_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}

expect.set_options(timeout=15_000)


@pytest.fixture(scope="module")
def _reference_data_restored(django_db_blocker: Any) -> Iterator[None]:
    """Puts back the member states, boundaries and commodities that `transactional_db` flushed."""
    yield
    with django_db_blocker.unblock():
        reference_data_load()
        boundaries_import(path=WORLD_ATLAS)


@pytest.fixture(scope="module")
def browser(_reference_data_restored: None) -> Iterator[Browser]:
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        pytest.skip(f"Chromium not found at {CHROMIUM} (set AMDIS_CHROMIUM)")
    # Playwright's sync API keeps an event loop in this thread, which makes Django refuse ORM
    # calls here (test data, the flush after each test). Nothing async shares these connections.
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


@pytest.fixture(autouse=True)
def _static_files_from_finders(settings: Any) -> None:
    """The live server serves static files from the finders, so templates must name them unhashed."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


def _new_page(browser: Browser, viewport: dict[str, int]) -> Iterator[Page]:
    context = browser.new_context(viewport=viewport, service_workers="block")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    # A Content Security Policy violation is a failure too: the page would be broken for users.
    page.on(
        "console",
        lambda msg: errors.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    yield page
    context.close()
    _wait_for_the_live_server()
    if errors:
        pytest.fail("JavaScript errors on the page: " + "; ".join(errors))


def _wait_for_the_live_server(seconds: float = 10.0) -> None:
    """Waits until no other connection is inside a query or a transaction on the test database.

    A closed page may leave the live server finishing a request (a tile, a page of features);
    the flush after the test truncates every table, and the two took their locks in opposite
    orders: a deadlock at teardown (CI, once in ~10 runs). Gone once the request is done.
    """
    deadline = time.monotonic() + seconds
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                """SELECT count(*) FROM pg_stat_activity
                   WHERE datname = current_database() AND pid <> pg_backend_pid()
                     AND state IN ('active', 'idle in transaction')"""
            )
            (busy,) = cursor.fetchone() or (0,)
            if not busy:
                return
            time.sleep(0.05)


# Both ask for `transactional_db`, so they are torn down (the page closed, the server quiet)
# before its flush, whatever order a test names its fixtures in.
@pytest.fixture
def page(browser: Browser, transactional_db: None) -> Iterator[Page]:
    """A desktop-sized page; the test fails if the page throws a JavaScript error."""
    yield from _new_page(browser, DESKTOP)


@pytest.fixture
def phone_page(browser: Browser, transactional_db: None) -> Iterator[Page]:
    yield from _new_page(browser, PHONE)


def _square(lon: float, lat: float, size: float) -> MultiPolygon:
    ring = ((lon, lat), (lon + size, lat), (lon + size, lat + size), (lon, lat + size), (lon, lat))
    return MultiPolygon(Polygon(ring), srid=4326)


@dataclass
class MapWorld:
    """What the browser tests draw: occurrences by name, and how many each filter leaves."""

    occurrences: dict[str, MineralOccurrence]
    dataset: Dataset

    def __getitem__(self, name: str) -> MineralOccurrence:
        return self.occurrences[name]


# Philippines: a 6° square at 120–126°E, 8–14°N; Indonesia: 100–106°E, 4°S–2°N.
# Points lie a degree or more apart, so none are clustered at zoom 5 and above.
COPPER = {
    "state": "PHL",
    "main": ("copper",),
    "secondary": ("gold",),
    "status": "operating_mine",
    "deposit_type": "Porphyry copper",
}
GOLD = {"state": "PHL", "main": ("gold",), "status": "prospect", "deposit_type": "Epithermal gold"}
NICKEL = {
    "state": "IDN",
    "main": ("nickel",),
    "status": "deposit",
    "deposit_type": "Laterite nickel",
}
OCCURRENCES: list[tuple[str, float, float, dict[str, Any]]] = [
    ("Tampakan <Cu> & Au", 125.0, 9.0, COPPER),
    *[(f"Copper prospect {i}", 121.0 + i, 10.0, COPPER) for i in range(1, 5)],
    ("Toledo Copper", 121.0, 13.0, COPPER),
    ("Masbate Gold", 123.5, 12.25, GOLD),
    ("Bagacay Gold", 125.0, 11.0, GOLD),
    *[(f"Gold vein {i}", 121.0 + i, 12.0, GOLD) for i in range(2)],
    *[(f"Laterite {i}", 101.0 + i, -2.0, NICKEL) for i in range(3)],
]
ALL_COUNT = len(OCCURRENCES)  # 13
COPPER_COUNT = sum(kind is COPPER for *_, kind in OCCURRENCES)  # 6
PHL_COUNT = sum(kind["state"] == "PHL" for *_, kind in OCCURRENCES)  # 10
OVERVIEW = "#map=5/4.000/113.000&layers=member-states,occurrences"


@pytest.fixture
def map_world(
    live_server: Any,
    make_dataset: Callable[..., Dataset],
    make_occurrence: Callable[..., MineralOccurrence],
) -> MapWorld:
    """Thirteen published occurrences in two member states, and one in an unpublished dataset."""
    reference_data_load()
    MemberState.objects.exclude(code__in=["PHL", "IDN"]).update(boundary=None)
    MemberState.objects.filter(code="PHL").update(boundary=_square(120, 8, 6))
    MemberState.objects.filter(code="IDN").update(boundary=_square(100, -4, 6))
    dataset = make_dataset(title="Browser test occurrences")
    made = {
        name: make_occurrence(name, lon=lon, lat=lat, dataset=dataset, **kind)
        for name, lon, lat, kind in OCCURRENCES
    }
    hidden = make_dataset(title="Not yet published", is_published=False)
    make_occurrence("Unpublished Copper", lon=122.5, lat=9.5, state="PHL", dataset=hidden)
    return MapWorld(occurrences=made, dataset=dataset)


def open_map(page: Page, live_server: Any, hash_: str = OVERVIEW) -> None:
    """Opens the map page and waits until its script has built the map."""
    page.goto(f"{live_server.url}/map/{hash_}")
    expect(page.locator("#map[data-ready=true]")).to_be_attached()


def occurrence_symbols(page: Page) -> Any:
    """Every occurrence (or cluster) drawn on the map: SVG paths in the occurrences pane."""
    return page.locator(".leaflet-amdis-occurrences-pane path")
