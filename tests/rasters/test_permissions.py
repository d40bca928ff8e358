"""Unpublished rasters: 404 for the public and other member states, private for those who see them."""

from collections.abc import Callable
from pathlib import Path

import pytest
from django.test import Client

from deposits.models import MemberState
from layers.models import Dataset, DatasetKind, RasterLayer
from tests.rasters.factories import GEOID, raster_layer_from_file

pytestmark = pytest.mark.django_db

URLS = [
    "/tiles/raster/phl-draft/4/12/7.png",
    "/tiles/raster/phl-draft.json",
    "/api/rasters/phl-draft/",
    "/api/rasters/phl-draft/point?lon=121&lat=15",
]


@pytest.fixture
def draft(make_dataset: Callable[..., Dataset], shared_data: Path) -> RasterLayer:
    dataset = make_dataset(
        slug="phl-draft",
        kind=DatasetKind.RASTER,
        is_published=False,
        member_state=MemberState.objects.get(code="PHL"),
    )
    return raster_layer_from_file(dataset, shared_data / GEOID)


@pytest.mark.parametrize("url", URLS)
def test_the_public_gets_404(anonymous: Client, draft: RasterLayer, url: str) -> None:
    assert anonymous.get(url).status_code == 404


@pytest.mark.parametrize("url", URLS)
def test_another_member_states_editor_gets_404(
    editor_idn: Client, draft: RasterLayer, url: str
) -> None:
    assert editor_idn.get(url).status_code == 404


@pytest.mark.parametrize("url", URLS)
def test_the_owning_editor_sees_it_privately(
    editor_phl: Client, draft: RasterLayer, url: str
) -> None:
    response = editor_phl.get(url)

    assert response.status_code == 200
    assert response["Cache-Control"].startswith("private")


def test_a_reviewer_sees_it_in_the_list(
    reviewer: Client, anonymous: Client, draft: RasterLayer
) -> None:
    assert [r["slug"] for r in reviewer.get("/api/rasters/").json()["rasters"]] == ["phl-draft"]
    assert anonymous.get("/api/rasters/").json()["rasters"] == []


def test_an_older_version_is_not_served_as_current(anonymous: Client, draft: RasterLayer) -> None:
    Dataset.objects.filter(pk=draft.dataset_id).update(is_published=True, version=2)

    assert anonymous.get("/api/rasters/phl-draft/").status_code == 404
