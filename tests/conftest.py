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
from layers.models import Dataset, DatasetKind

SHARED_DATA = Path(
    os.environ.get("AMDIS_SHARED_DATA", Path(settings.BASE_DIR).parent / "shared" / "data")
)
WORLD_ATLAS = Path(settings.BASE_DIR) / "node_modules" / "world-atlas" / "countries-10m.json"


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: None, django_db_blocker: Any) -> None:
    """Member states with real boundaries (Natural Earth 1:10m via npm) and the commodity vocabulary."""
    with django_db_blocker.unblock():
        reference_data_load()
        boundaries_import(path=WORLD_ATLAS)


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.fail(f"The shared data folder {SHARED_DATA} is missing (set AMDIS_SHARED_DATA).")
    return SHARED_DATA


# Personas, in one place.
@pytest.fixture
def anonymous() -> Client:
    return Client()


@pytest.fixture
def reviewer(db: None) -> Client:
    """ASEAN Secretariat staff: sees unpublished data too."""
    user = User.objects.create_user("rita-reviewer", password="x-unused-x", is_staff=True)
    client = Client()
    client.force_login(user)
    return client


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
def _fresh_cache() -> Iterator[None]:
    """Each test sees vocabularies read from its own data, not a cached earlier state."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()
