"""The admin's delete of a member state or a commodity: the confirmation page counts what refers
to it instead of loading and listing every referring row (webgis.lib.admin_delete), and a
referred-to one is refused, from its page and from the list's bulk action; an unused one goes."""

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from deposits.models import Commodity, MemberState, MineralOccurrence
from landing.models import IndicatorValue
from webgis.lib.admin_delete import reference_counts

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_(verified_client: Any) -> Client:
    return verified_client(User.objects.create_superuser("ada-admin", password="x-unused-x"))


def _delete_page_queries(client: Client, url: str) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as queries:
        page = client.get(url)
    assert page.status_code == 200
    return len(queries.captured_queries), page.content.decode()


def test_a_commodity_in_use_is_counted_not_listed_and_not_deleted(
    admin_client_: Client, make_occurrence: Any
) -> None:
    gold = Commodity.objects.get(code="gold")
    url = f"/admin/deposits/commodity/{gold.pk}/delete/"
    make_occurrence("Placer 0", main=("gold",))
    admin_client_.get(url)  # the first page of a session reads more (its user, its device)
    few, _ = _delete_page_queries(admin_client_, url)
    for n in range(1, 25):
        make_occurrence(f"Placer {n}", main=("gold",), secondary=("copper",))
    many, text = _delete_page_queries(admin_client_, url)
    assert many == few  # the page's queries do not grow with the references
    assert "Gold: 25 occurrence commodity links (commodity)" in text
    statistics = IndicatorValue.objects.filter(commodity=gold).count()  # the landing page's
    assert f"Gold: {statistics} indicator values (commodity)" in text
    assert "Placer 7" not in text  # counted, not listed
    response = admin_client_.post(url, {"post": "yes"})
    assert response.status_code == 200  # the refusal page, not a redirect
    assert "protected related objects" in response.content.decode()
    assert Commodity.objects.filter(pk=gold.pk).exists()
    assert MineralOccurrence.objects.filter(commodity_links__commodity=gold).count() == 25


def test_an_unused_commodity_is_deleted(admin_client_: Client) -> None:
    unused = Commodity.objects.create(code="testium", name="Testium", group="industrial")
    page = admin_client_.get(f"/admin/deposits/commodity/{unused.pk}/delete/")
    assert "protected" not in page.content.decode()
    response = admin_client_.post(f"/admin/deposits/commodity/{unused.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Commodity.objects.filter(pk=unused.pk).exists()


def test_a_member_state_in_use_is_refused_with_each_kind_of_reference_counted(
    admin_client_: Client, make_occurrence: Any
) -> None:
    for n in range(3):
        make_occurrence(f"Mine {n}", state="PHL")
    phl = MemberState.objects.get(code="PHL")
    url = f"/admin/deposits/memberstate/{phl.pk}/delete/"
    _, text = _delete_page_queries(admin_client_, url)
    assert "3 mineral occurrences (member_state)" in text
    assert "Mine 1" not in text
    admin_client_.post(url, {"post": "yes"})
    assert MemberState.objects.filter(pk=phl.pk).exists()


def test_the_bulk_delete_is_refused_when_any_is_in_use(
    admin_client_: Client, make_occurrence: Any
) -> None:
    make_occurrence("Vein", main=("silver",))
    silver = Commodity.objects.get(code="silver")
    unused = Commodity.objects.create(code="testium", name="Testium", group="industrial")
    response = admin_client_.post(
        "/admin/deposits/commodity/",
        {"action": "delete_selected", "_selected_action": [silver.pk, unused.pk], "post": "yes"},
    )
    assert "Silver: 1 occurrence commodity links (commodity)" in response.content.decode()
    assert Commodity.objects.filter(pk__in=[silver.pk, unused.pk]).count() == 2
    # Without the one in use, the other goes.
    admin_client_.post(
        "/admin/deposits/commodity/",
        {"action": "delete_selected", "_selected_action": [unused.pk], "post": "yes"},
    )
    assert not Commodity.objects.filter(pk=unused.pk).exists()


def test_references_are_counted_per_object_in_one_query_a_relation(make_occurrence: Any) -> None:
    # Commodities without the landing page's statistics (indicator values refer to others).
    make_occurrence("A", main=("silver",), secondary=("zinc",))
    make_occurrence("B", main=("silver",))
    silver, zinc, lead = (Commodity.objects.get(code=c) for c in ("silver", "zinc", "lead"))
    gold = Commodity.objects.get(code="gold")
    relations = sum(
        1
        for f in Commodity._meta.get_fields(include_hidden=True)
        if f.auto_created and not f.concrete and (f.one_to_many or f.one_to_one)
    )
    with CaptureQueriesContext(connection) as queries:
        counts = reference_counts([silver, zinc, lead, gold])
    assert len(queries.captured_queries) == relations
    assert counts[silver.pk] == [("occurrence commodity links (commodity)", 2)]
    assert counts[zinc.pk] == [("occurrence commodity links (commodity)", 1)]
    assert lead.pk not in counts
    statistics = IndicatorValue.objects.filter(commodity=gold).count()
    assert statistics and counts[gold.pk] == [("indicator values (commodity)", statistics)]
    assert reference_counts([]) == {}
