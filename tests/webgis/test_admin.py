import pytest
from django.contrib.auth.models import User
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_(verified_client) -> Client:
    """A superuser signed in with a password and a second factor (the admin requires both)."""
    return verified_client(User.objects.create_superuser("ada-admin", password="x-unused-x"))


@pytest.mark.parametrize(
    "path",
    [
        "/admin/deposits/memberstate/",
        "/admin/deposits/commodity/",
        "/admin/deposits/mineraloccurrence/",
        "/admin/layers/dataset/",
        "/admin/layers/geologicalunit/",
        "/admin/layers/structure/",
    ],
)
def test_the_admin_lists_every_model(admin_client_: Client, make_occurrence, path: str) -> None:
    make_occurrence()
    assert admin_client_.get(path).status_code == 200


def test_the_occurrence_form_opens(admin_client_: Client, make_occurrence) -> None:
    occurrence = make_occurrence("Tampakan")
    response = admin_client_.get(f"/admin/deposits/mineraloccurrence/{occurrence.pk}/change/")
    assert response.status_code == 200
    assert b"Tampakan" in response.content


@pytest.mark.parametrize(
    ("term", "found"),
    [
        ("tampa", ["Tampakan"]),
        ("NEWMONT", ["Batu Hijau"]),  # an other name
        ("porphyry", ["Batu Hijau", "Tampakan"]),  # part of a deposit type
        ("100%_", []),  # LIKE wildcards are literal
        ("", ["Batu Hijau", "Sepon", "Tampakan"]),
    ],
)
def test_the_occurrence_search_finds_names_other_names_and_deposit_types(
    admin_client_: Client, make_occurrence, term: str, found: list[str]
) -> None:
    make_occurrence("Tampakan", deposit_type="Porphyry Cu-Au")
    make_occurrence("Batu Hijau", other_names=["Newmont NTB"], deposit_type="Porphyry Cu-Au")
    make_occurrence("Sepon", deposit_type="Carlin-like Au")

    response = admin_client_.get("/admin/deposits/mineraloccurrence/", {"q": term})

    assert response.status_code == 200
    listed = sorted(o.name for o in response.context["cl"].result_list)
    assert listed == found


def test_the_occurrence_list_is_newest_first_and_searches_through_the_index(
    admin_client_: Client, make_occurrence
) -> None:
    """The list reads the primary key's order, and its search the indexed text (an ILIKE on
    the search expression, not Django's UPPER(...) LIKE, which no index holds)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    older, newer = make_occurrence("Older"), make_occurrence("Newer")
    response = admin_client_.get("/admin/deposits/mineraloccurrence/")
    assert [o.pk for o in response.context["cl"].result_list] == [newer.pk, older.pk]

    with CaptureQueriesContext(connection) as queries:
        admin_client_.get("/admin/deposits/mineraloccurrence/", {"q": "newer"})
    listing = [
        q["sql"] for q in queries.captured_queries if "deposits_mineraloccurrence" in q["sql"]
    ]
    assert any("deposits_occurrence_search_text(" in q and " ILIKE " in q for q in listing)
    assert not any('UPPER("deposits_mineraloccurrence"."name"' in q for q in listing)


def test_the_admin_needs_a_login(anonymous: Client) -> None:
    response = anonymous.get("/admin/deposits/mineraloccurrence/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_the_admin_needs_the_second_factor(db: None) -> None:
    client = Client()
    client.force_login(User.objects.create_superuser("una-unverified", password="x-unused-x"))
    response = client.get("/admin/deposits/mineraloccurrence/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
