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


def test_unpublished_names_never_appear_in_public_lists_or_errors(
    anonymous: Client, editor_phl: Client, make_occurrence, make_dataset
) -> None:
    from deposits.models import MemberState

    draft = make_dataset(
        slug="secret-draft", is_published=False, member_state=MemberState.objects.get(code="PHL")
    )
    make_occurrence("Draft", dataset=draft, deposit_type="Secret type")
    make_occurrence("Public", deposit_type="Open type")

    vocabularies = json.loads(anonymous.get("/api/vocabularies/").content)
    assert vocabularies["deposit_types"] == ["Open type"]
    assert (
        next(c for c in vocabularies["commodities"] if c["code"] == "copper")["occurrences_count"]
        == 1
    )
    error = json.loads(anonymous.get("/api/occurrences/", {"deposit_type": "nope"}).content)[
        "error"
    ]["message"]
    assert "Secret type" not in error and "Open type" in error
    error = json.loads(anonymous.get("/api/occurrences/", {"dataset": "nope"}).content)["error"][
        "message"
    ]
    assert "secret-draft" not in error
    assert anonymous.get("/api/occurrences/", {"dataset": "secret-draft"}).status_code == 400

    # The editor of the draft's member state sees its values.
    assert (
        "Secret type" in json.loads(editor_phl.get("/api/vocabularies/").content)["deposit_types"]
    )
