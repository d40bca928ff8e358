"""A dataset's pages (`?dataset=`, its OGC API collection) when other datasets' rows come before
and after its own: every row of it, in id order, and found without walking the others'."""

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from deposits.models import MemberState
from deposits.selectors import OccurrenceFilters, _page_where, occurrences_page_sql
from layers.models import Dataset

pytestmark = pytest.mark.django_db


def bulk_occurrences(dataset: Dataset, count: int) -> None:
    """`count` occurrences in one statement (a publish writes its rows together, so does this)."""
    state = MemberState.objects.get(code="PHL")
    with connection.cursor() as cursor:
        cursor.execute(
            """INSERT INTO deposits_mineraloccurrence (name, other_names, member_state_id,
                   province, geom, deposit_type, status, grades, reporting_code,
                   location_accuracy, dataset_id, source_id, "references", attributes)
               SELECT 'Bulk ' || n, '{}', %s, '', ST_SetSRID(ST_MakePoint(121 + n * 1e-5, 15), 4326),
                      '', 'occurrence', '{}', '', 'unknown', %s, '', '', '{}'
               FROM generate_series(1, %s) n""",
            [state.pk, dataset.pk, count],
        )


@pytest.fixture
def late_dataset(make_dataset: Callable[..., Dataset]) -> tuple[Dataset, list[int]]:
    """Dataset "late": 20 rows after 5,000 of another dataset, then 1,000 more of that one,
    then one more of its own (an edit's insert, long after)."""
    early = make_dataset(slug="early")
    late = make_dataset(slug="late")
    bulk_occurrences(early, 5_000)
    bulk_occurrences(late, 20)
    bulk_occurrences(early, 1_000)
    bulk_occurrences(late, 1)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE deposits_mineraloccurrence")
        cursor.execute(
            "SELECT id FROM deposits_mineraloccurrence WHERE dataset_id = %s ORDER BY id",
            [late.pk],
        )
        ids = [row[0] for row in cursor.fetchall()]
    return late, ids


def test_a_dataset_page_holds_all_its_rows_in_id_order(
    anonymous: Client, late_dataset: tuple[Dataset, list[int]]
) -> None:
    _, ids = late_dataset

    api = json.loads(anonymous.get("/api/occurrences/?dataset=late&limit=100").content)
    ogc = json.loads(anonymous.get("/ogc/collections/late/items?f=json&limit=100").content)

    assert [f["id"] for f in api["features"]] == ids
    assert [f["id"] for f in ogc["features"]] == ids
    assert api["numberMatched"] == ogc["numberMatched"] == 21
    second = json.loads(anonymous.get("/api/occurrences/?dataset=late&limit=5&offset=5").content)
    assert [f["id"] for f in second["features"]] == ids[5:10]
    # Two datasets: every row of both, as before.
    both = json.loads(anonymous.get("/api/occurrences/?dataset=late,early&limit=10000").content)
    assert both["numberMatched"] == 6_021


def test_a_dataset_page_does_not_walk_the_rows_of_the_datasets_before_it(
    late_dataset: tuple[Dataset, list[int]],
) -> None:
    where = _page_where(OccurrenceFilters(dataset_slugs=["late"]), None, None)
    sql, params = occurrences_page_sql(where, 10, 0)
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, COSTS OFF) " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())

    removed = [int(n) for n in re.findall(r"Rows Removed by Filter: (\d+)", plan)]
    assert all(n < 100 for n in removed), plan  # the 5,000 rows before it are never read
    assert "occurrence_dataset_id" in plan  # its first id, from its own index


def test_a_dataset_with_no_rows_has_an_empty_page(
    anonymous: Client, make_dataset: Callable[..., Dataset], late_dataset: Any
) -> None:
    make_dataset(slug="empty")

    page = json.loads(anonymous.get("/ogc/collections/empty/items?f=json&limit=10").content)

    assert page["features"] == [] and page["numberMatched"] == 0
