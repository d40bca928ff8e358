"""State-changing POSTs without a CSRF token, or from a foreign Origin, are refused with 403."""

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from layers.models import Membership, Role, Upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def strict_editor(phl_survey: Any) -> Client:
    user = User.objects.create_user("csrf-editor", password="x-unused-x")
    Membership.objects.create(user=user, organisation=phl_survey, role=Role.EDITOR)
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return client


def upload_form(phl_survey: Any) -> dict[str, Any]:
    return {
        "organisation": phl_survey.pk,
        "target": "vector",
        "title": "x",
        "mode": "replace",
        "file": SimpleUploadedFile("a.csv", b"name,lon,lat\nA,121,15\n"),
    }


def test_an_upload_without_a_csrf_token_is_refused(strict_editor: Client, phl_survey: Any) -> None:
    response = strict_editor.post("/uploads/new/", upload_form(phl_survey))
    assert response.status_code == 403
    assert not Upload.objects.exists()


def test_an_upload_from_a_foreign_origin_is_refused(strict_editor: Client, phl_survey: Any) -> None:
    strict_editor.get("/uploads/new/")  # sets the CSRF cookie
    token = strict_editor.cookies["csrftoken"].value
    form = upload_form(phl_survey) | {"csrfmiddlewaretoken": token}
    response = strict_editor.post(
        "/uploads/new/",
        form,
        HTTP_ORIGIN="https://evil.example",
        secure=True,
        HTTP_REFERER="https://evil.example/",
    )
    assert response.status_code == 403
    assert not Upload.objects.exists()


def test_with_the_token_and_our_origin_it_goes_through(
    strict_editor: Client, phl_survey: Any
) -> None:
    strict_editor.get("/uploads/new/")
    token = strict_editor.cookies["csrftoken"].value
    response = strict_editor.post(
        "/uploads/new/", upload_form(phl_survey) | {"csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302
    assert Upload.objects.count() == 1


@pytest.mark.parametrize(
    "path", ["/uploads/00000000-0000-0000-0000-000000000000/publish", "/i18n/setlang/"]
)
def test_other_state_changing_posts_need_the_token(strict_editor: Client, path: str) -> None:
    assert strict_editor.post(path, {}).status_code == 403
