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
