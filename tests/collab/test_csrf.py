"""Every form of the platform refuses a POST without a CSRF token, or from a foreign origin."""

import pytest
from django.conf import settings
from django.test import Client

from collab import services
from collab.models import Role
from tests.collab.conftest import Persona, World, line, pdf_upload, verified

pytestmark = pytest.mark.django_db


def form_posts(world: World, invitation_token: str) -> list[tuple[str, dict[str, object]]]:
    report = world.reports["phl_draft"]
    submitted = world.reports["phl_submitted_mid"]
    folder = world.folders["members"]
    document = world.documents["members"]
    return [
        ("/collab/login/", {"username": "pablo", "password": "x"}),
        ("/collab/login/verify/", {"code": "123456"}),
        ("/collab/login/enrol/", {"code": "123456"}),
        (f"/collab/invitation/{invitation_token}/", {"username": "abc", "password1": "x"}),
        ("/collab/logout/", {}),
        ("/collab/account/recovery-codes/", {}),
        ("/collab/reports/new/", {"narrative": "x"}),
        (f"/collab/reports/{report.pk}/edit/", {"narrative": "x"}),
        (f"/collab/reports/{report.pk}/submit/", {}),
        (f"/collab/reports/{submitted.pk}/review/", {"decision": "accepted"}),
        (f"/collab/reports/{report.pk}/evidence/", {"file": pdf_upload()}),
        (f"/collab/evidence/{world.evidence['phl_draft'].pk}/delete/", {}),
        (f"/collab/reports/{report.pk}/comments/", {"body": "x"}),
        (f"/collab/action-lines/{line('MD1.3').pk}/comments/", {"body": "x"}),
        (f"/collab/library/documents/{document.pk}/comments/", {"body": "x"}),
        (f"/collab/comments/{world.comments['by_pablo_on_report'].pk}/delete/", {}),
        ("/collab/library/folders/new/", {"name": "x"}),
        (f"/collab/library/folders/{folder.pk}/edit/", {"name": "x"}),
        (f"/collab/library/folders/{folder.pk}/upload/", {"title": "x", "file": pdf_upload()}),
        (f"/collab/library/documents/{document.pk}/versions/", {"file": pdf_upload()}),
        (f"/collab/library/documents/{document.pk}/delete/", {}),
        ("/collab/notifications/read/", {}),
        ("/collab/people/", {"email": "a@example.org", "role": "observer"}),
        ("/collab/people/invitations/1/revoke/", {}),
        ("/admin/collab/plan/add/", {"name": "x"}),
        ("/admin/logout/", {}),
    ]


@pytest.fixture
def strict_clients(world: World, sara: Persona, pablo: Persona) -> dict[str, Client]:
    return {
        "sara": verified(sara.user, enforce_csrf_checks=True),
        "pablo": verified(pablo.user, enforce_csrf_checks=True),
        "anonymous": Client(enforce_csrf_checks=True),
    }


def test_every_form_needs_a_csrf_token(world: World, sara: Persona, strict_clients) -> None:
    _invitation, link = services.invitation_create(
        actor=sara.actor, email="csrf@example.org", role=Role.OBSERVER, base_url=""
    )
    token = link.rstrip("/").rsplit("/", 1)[-1]
    public = {"/collab/login/", "/collab/login/verify/", "/collab/login/enrol/", "/collab/logout/"}
    refused = {}
    for path, data in form_posts(world, token):
        # Members (and, on the sign-in forms, visitors) never get past the CSRF check.
        names = ["sara", "pablo"]
        if path in public or path.startswith("/collab/invitation/"):
            names.append("anonymous")
        for name in names:
            refused[(name, path)] = strict_clients[name].post(path, data).status_code
    assert set(refused.values()) == {403}, {k: v for k, v in refused.items() if v != 403}


def test_a_form_with_its_token_goes_through(world: World, pablo: Persona) -> None:
    client = verified(pablo.user, enforce_csrf_checks=True)
    page = client.get(f"/collab/reports/{world.reports['phl_draft'].pk}/")
    assert b"csrfmiddlewaretoken" in page.content
    token = client.cookies[settings.CSRF_COOKIE_NAME].value
    response = client.post(
        f"/collab/reports/{world.reports['phl_draft'].pk}/evidence/",
        {"file": pdf_upload(), "csrfmiddlewaretoken": token},
    )
    assert response.status_code == 302


def test_a_post_from_a_foreign_origin_is_refused(world: World, pablo: Persona) -> None:
    client = verified(pablo.user, enforce_csrf_checks=True)
    client.get("/collab/")
    token = client.cookies[settings.CSRF_COOKIE_NAME].value
    response = client.post(
        f"/collab/reports/{world.reports['phl_draft'].pk}/submit/",
        {"csrfmiddlewaretoken": token},
        headers={"Origin": "https://evil.example"},
    )
    assert response.status_code == 403


@pytest.mark.parametrize(
    "path",
    [
        "/collab/login/",
        "/collab/reports/new/",
        "/collab/library/folders/new/",
        "/collab/people/",
        "/collab/account/",
    ],
)
def test_form_pages_carry_a_token(
    path: str, sara: Persona, pablo: Persona, anonymous: Client
) -> None:
    client = {"/collab/login/": anonymous, "/collab/reports/new/": pablo.client}.get(
        path, sara.client
    )
    response = client.get(path)
    assert response.status_code == 200
    assert b"csrfmiddlewaretoken" in response.content
