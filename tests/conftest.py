"""Shared fixtures: a real PostGIS test database holding the reference data, personas, factories."""

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.contrib.gis.geos import Point
from django.test import Client

from deposits.models import Commodity, MemberState, MineralOccurrence, OccurrenceCommodity
from deposits.services import boundaries_import, reference_data_load
from layers.models import Dataset, DatasetKind, Membership, Organisation, OrganisationKind, Role

SHARED_DATA = Path(
    os.environ.get("AMDIS_SHARED_DATA", Path(settings.BASE_DIR).parent / "shared" / "data")
)
WORLD_ATLAS = Path(settings.BASE_DIR) / "node_modules" / "world-atlas" / "countries-10m.json"


@pytest.fixture(scope="session", autouse=True)
def _plain_http() -> None:
    """The test client and the live server speak plain http: no redirect to https in tests
    (the production default is checked in tests/webgis/test_settings.py)."""
    settings.SECURE_SSL_REDIRECT = False


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: None, django_db_blocker: Any) -> None:
    """Member states with real boundaries (Natural Earth 1:10m via npm) and the commodity vocabulary."""
    with django_db_blocker.unblock():
        reference_data_load()
        boundaries_import(path=WORLD_ATLAS)


@pytest.fixture
def reference_data(transactional_db: None) -> None:
    """For transactional tests: the flush after each one empties every table, reference data too."""
    if not MemberState.objects.filter(boundary__isnull=False).exists():
        reference_data_load()
        boundaries_import(path=WORLD_ATLAS)


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.fail(f"The shared data folder {SHARED_DATA} is missing (set AMDIS_SHARED_DATA).")
    return SHARED_DATA


# Personas, in one place: each is a signed-in Client (except the anonymous visitor).
def _client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _organisation(name: str, kind: str, state: str | None) -> Organisation:
    return Organisation.objects.get_or_create(
        slug=name.lower().replace(" ", "-"),
        defaults={
            "name": name,
            "kind": kind,
            "member_state": MemberState.objects.get(code=state) if state else None,
        },
    )[0]


@pytest.fixture
def anonymous() -> Client:
    return Client()


@pytest.fixture
def registered(db: None) -> Client:
    """Signed in, no role."""
    return _client_for(User.objects.create_user("reggie-registered", password="x-unused-x"))


@pytest.fixture
def phl_survey(db: None) -> Organisation:
    return _organisation("Mines and Geosciences Bureau", OrganisationKind.SURVEY, "PHL")


@pytest.fixture
def idn_survey(db: None) -> Organisation:
    return _organisation("Geological Agency of Indonesia", OrganisationKind.SURVEY, "IDN")


@pytest.fixture
def editor_phl_user(phl_survey: Organisation) -> User:
    user = User.objects.create_user("pia-editor-phl", password="x-unused-x")
    Membership.objects.create(user=user, organisation=phl_survey, role=Role.EDITOR)
    return user


@pytest.fixture
def editor_phl(editor_phl_user: User) -> Client:
    """Editor at the Philippine survey: uploads and publishes for PHL only."""
    return _client_for(editor_phl_user)


@pytest.fixture
def editor_idn(idn_survey: Organisation) -> Client:
    user = User.objects.create_user("ida-editor-idn", password="x-unused-x")
    Membership.objects.create(user=user, organisation=idn_survey, role=Role.EDITOR)
    return _client_for(user)


@pytest.fixture
def reviewer(db: None) -> Client:
    """ASEAN Secretariat reviewer: sees unpublished data of every member state."""
    user = User.objects.create_user("rita-reviewer", password="x-unused-x")
    secretariat = _organisation("ASEAN Secretariat", OrganisationKind.SECRETARIAT, None)
    Membership.objects.create(user=user, organisation=secretariat, role=Role.REVIEWER)
    return _client_for(user)


@pytest.fixture
def make_dataset(db: None) -> Callable[..., Dataset]:
    counter = iter(range(1, 10_000))

    def make(**fields: Any) -> Dataset:
        n = next(counter)
        defaults: dict[str, Any] = {
            "slug": f"test-dataset-{n}",
            "title": f"Test dataset {n}",
            "kind": DatasetKind.OCCURRENCES,
            "licence": "CC BY 4.0",
            "is_published": True,
        }
        defaults.update(fields)
        return Dataset.objects.create(**defaults)

    return make


@pytest.fixture
def make_occurrence(
    db: None, make_dataset: Callable[..., Dataset]
) -> Iterator[Callable[..., MineralOccurrence]]:
    default_dataset: list[Dataset] = []

    def make(
        name: str = "Test prospect",
        *,
        lon: float = 121.0,
        lat: float = 15.0,
        state: str = "PHL",
        main: tuple[str, ...] = ("copper",),
        secondary: tuple[str, ...] = (),
        dataset: Dataset | None = None,
        **fields: Any,
    ) -> MineralOccurrence:
        if dataset is None:
            if not default_dataset:
                default_dataset.append(make_dataset())
            dataset = default_dataset[0]
        occurrence = MineralOccurrence.objects.create(
            name=name,
            geom=Point(lon, lat, srid=4326),
            dataset=dataset,
            member_state=MemberState.objects.get(code=state),
            **fields,
        )
        for rank, codes in (("main", main), ("secondary", secondary)):
            for code in codes:
                OccurrenceCommodity.objects.create(
                    occurrence=occurrence, commodity=Commodity.objects.get(code=code), rank=rank
                )
        return occurrence

    yield make


@pytest.fixture(autouse=True)
def _jobs_run_inline(settings: Any) -> None:
    """Jobs run at once, in the test's transaction; tests of the real worker use the "database" backend."""
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"},
        "database": {"BACKEND": "django_tasks_db.DatabaseBackend"},
    }


@pytest.fixture(autouse=True)
def _no_tile_warming(settings: Any) -> None:
    """A publish would draw every layer's tiles after it (webgis.lib.tilewarm); tests of that
    turn it on."""
    settings.TILE_WARM_MAX_ZOOM = -1


@pytest.fixture(autouse=True)
def _media_in_tmp(settings: Any, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Uploads and rasters written by a test stay in its own folder."""
    settings.MEDIA_ROOT = tmp_path_factory.mktemp("media")


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    """Each test sees vocabularies read from its own data, not a cached earlier state."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


# Two-factor sign-in (django-otp): the collaboration platform and the admin need it.
@pytest.fixture
def verified_client(db: None) -> Callable[..., Client]:
    """Makes a Client signed in as `user` whose session has passed the second factor."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    def make(user: User, **client_options: Any) -> Client:
        device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
        if device is None:
            device = TOTPDevice.objects.create(user=user, name="Test app", confirmed=True)
        client = Client(**client_options)
        client.force_login(user)
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
        return client

    return make
