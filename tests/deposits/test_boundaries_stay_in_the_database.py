"""A member state's boundaries (Indonesia's: 316 KB, stored twice) are read only by SQL that
draws or checks with them: never with the rows that merely name a state (deposits.models
BOUNDARY_FIELDS). The landing page read them with every indicator value: 155 of its 213 ms."""

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from deposits.models import MemberState
from landing.services import indicators_reference_load
from layers.models import Dataset

pytestmark = pytest.mark.django_db

# How the ORM selects a geometry column; the SQL that draws maps names it otherwise.
ORM_BOUNDARY = ('"boundary"::bytea', '"boundary_3857"::bytea')


def _orm_boundary_reads(client: Client, url: str) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
        sql = [q["sql"] for q in queries.captured_queries]
    assert response.status_code == 200, url
    return [q[:200] for q in sql if any(column in q for column in ORM_BOUNDARY)]


@pytest.fixture
def indonesian_data(
    make_dataset: Callable[..., Dataset], make_occurrence: Callable[..., Any]
) -> Dataset:
    indicators_reference_load()  # indicator values that name member states
    indonesia = MemberState.objects.get(code="IDN")
    dataset = make_dataset(slug="idn-mines", title="Mines of Indonesia", member_state=indonesia)
    make_occurrence("Grasberg", lon=137.1, lat=-4.05, dataset=dataset, state="IDN")
    return dataset


@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/countries/",
        "/countries/IDN/",
        "/catalogue/",
        "/catalogue/idn-mines/",
        "/ogc/collections?f=json",
        "/ogc/collections/idn-mines?f=json",
        "/ogc/collections/idn-mines/items?f=json",
        "/ogc/collections/idn-mines/items?f=json&bbox=130,-10,140,0",
    ],
)
def test_pages_that_name_a_member_state_never_read_its_boundary(
    anonymous: Client, indonesian_data: Dataset, url: str
) -> None:
    assert _orm_boundary_reads(anonymous, url) == []


def test_an_occurrence_page_never_reads_its_member_state_boundary(
    anonymous: Client, indonesian_data: Dataset
) -> None:
    occurrence = indonesian_data.occurrences.get()
    assert _orm_boundary_reads(anonymous, f"/occurrences/{occurrence.pk}/") == []


def test_the_boundary_still_loads_when_code_asks_for_it(indonesian_data: Dataset) -> None:
    """Deferred, not gone: reading the attribute loads it (one query)."""
    indonesia = MemberState.objects.get(code="IDN")
    with CaptureQueriesContext(connection) as queries:
        assert indonesia.boundary is not None and indonesia.boundary.contains(
            indonesia.boundary.point_on_surface
        )
    assert len(queries.captured_queries) == 1
