"""The one visibility rule, seen through the GeoJSON API, the tiles and the occurrence page."""

import json

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.fixture
def phl_draft(make_occurrence, make_dataset):
    from deposits.models import MemberState

    dataset = make_dataset(is_published=False, member_state=MemberState.objects.get(code="PHL"))
    return make_occurrence("PHL draft", dataset=dataset)


def api_names(client: Client) -> list[str]:
    return [
        f["properties"]["name"]
        for f in json.loads(client.get("/api/occurrences/").content)["features"]
    ]


def test_the_public_and_plain_users_see_published_data_only(
    anonymous: Client, registered: Client, phl_draft, make_occurrence
) -> None:
    make_occurrence("Public")
    assert api_names(anonymous) == ["Public"]
    assert api_names(registered) == ["Public"]
    assert registered.get(f"/api/occurrences/{phl_draft.pk}/").status_code == 404


def test_an_editor_sees_its_own_member_states_drafts(editor_phl: Client, phl_draft) -> None:
    assert api_names(editor_phl) == ["PHL draft"]
    response = editor_phl.get(f"/api/occurrences/{phl_draft.pk}/")
    assert response.status_code == 200
    assert response["Cache-Control"].startswith("private")


def test_another_countrys_editor_gets_404(editor_idn: Client, phl_draft) -> None:
    assert api_names(editor_idn) == []
    assert editor_idn.get(f"/api/occurrences/{phl_draft.pk}/").status_code == 404


def test_a_reviewer_sees_every_draft(reviewer: Client, phl_draft) -> None:
    assert api_names(reviewer) == ["PHL draft"]
