"""The permission matrix: every role against every action, with exact status codes.

Each row names an action on one object and the status each persona gets, in the order
sara (Secretariat), pablo (focal point PHL), tika (focal point THA), mina (WGMID member),
olaf (observer). Objects a persona may not see answer 404; actions on visible objects they
may not take answer 403. Anonymous visitors (sent to sign in, 302) and a signed-in user
without a role (refused, 403) are checked against every one of these endpoints at the end.

The personas and objects are made once for the module; each request runs in a transaction
that is rolled back, so one persona's change never affects the next.
"""

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import transaction
from django.test import Client, override_settings

from tests.collab.conftest import (
    FAST_HASHERS,
    Persona,
    World,
    build_personas,
    build_world,
    line,
    make_member,
    pdf_upload,
)

pytestmark = pytest.mark.django_db

ORDER = ("sara", "pablo", "tika", "mina", "olaf")
Codes = tuple[int, int, int, int, int]
# Every endpoint a row below exercised, for the anonymous and no-role sweeps at the end.
SEEN: list[tuple[str, str, Callable[[], dict[str, Any]] | None]] = []


@pytest.fixture(scope="module")
def matrix(
    django_db_setup: None, django_db_blocker: Any, private_root: Path
) -> Iterator[tuple[World, dict[str, Persona]]]:
    with (
        django_db_blocker.unblock(),
        override_settings(PASSWORD_HASHERS=FAST_HASHERS, COLLAB_PRIVATE_ROOT=private_root),
        transaction.atomic(),
    ):
        personas = build_personas()
        yield build_world(personas), personas
        transaction.set_rollback(True)


@pytest.fixture
def world(matrix: tuple[World, dict[str, Persona]]) -> World:
    return matrix[0]


@pytest.fixture
def everyone(matrix: tuple[World, dict[str, Persona]]) -> dict[str, Persona]:
    return matrix[1]


def request_as(client: Client, method: str, path: str, data: Any = None) -> int:
    with transaction.atomic():
        response = getattr(client, method)(path, data() if data else {})
        transaction.set_rollback(True)
    return int(response.status_code)


def run(
    anonymous: Client,
    everyone: dict[str, Persona],
    method: str,
    path: str,
    data: Callable[[], dict[str, Any]] | None = None,
) -> dict[str, int]:
    SEEN.append((method, path, data))
    return {name: request_as(everyone[name].client, method, path, data) for name in ORDER}


def expected(codes: Codes) -> dict[str, int]:
    return dict(zip(ORDER, codes, strict=True))


def then(codes: Codes, ok: int, **swap: int) -> Codes:
    """The same row with 200 replaced by `ok` (302 for a successful POST), and named changes."""
    row = [ok if c == 200 else c for c in codes]
    for name, code in swap.items():
        row[ORDER.index(name)] = code
    return tuple(row)  # type: ignore[return-value]


# Reports


REPORT_VIEW: dict[str, Codes] = {
    "phl_draft": (200, 200, 404, 404, 404),
    "phl_submitted_mid": (200, 200, 404, 200, 404),
    "phl_submitted_tim": (200, 200, 404, 404, 404),
    "phl_returned": (200, 200, 404, 404, 404),
    "phl_accepted": (200, 200, 200, 200, 404),
    "phl_shared": (200, 200, 200, 200, 200),
    "tha_draft": (200, 404, 200, 404, 404),
}
REPORT_EDIT: dict[str, Codes] = {
    "phl_draft": (403, 200, 404, 404, 404),
    "phl_submitted_mid": (403, 403, 404, 403, 404),
    "phl_submitted_tim": (403, 403, 404, 404, 404),
    "phl_returned": (403, 200, 404, 404, 404),
    "phl_accepted": (403, 403, 403, 403, 404),
    "phl_shared": (403, 403, 403, 403, 403),
    "tha_draft": (403, 404, 200, 404, 404),
}
REPORT_REVIEW: dict[str, Codes] = {
    "phl_draft": (403, 403, 404, 404, 404),
    "phl_submitted_mid": (302, 403, 404, 403, 404),
    "phl_submitted_tim": (302, 403, 404, 404, 404),
    "phl_returned": (403, 403, 404, 404, 404),
    "phl_accepted": (403, 403, 403, 403, 404),
    "phl_shared": (403, 403, 403, 403, 403),
    "tha_draft": (403, 404, 403, 404, 404),
}
REPORTS = list(REPORT_VIEW)


@pytest.mark.parametrize("name", REPORTS)
def test_viewing_a_report(name: str, world: World, anonymous, everyone) -> None:
    path = f"/collab/reports/{world.reports[name].pk}/"
    assert run(anonymous, everyone, "get", path) == expected(REPORT_VIEW[name])


@pytest.mark.parametrize("name", REPORTS)
def test_opening_a_report_for_editing(name: str, world: World, anonymous, everyone) -> None:
    path = f"/collab/reports/{world.reports[name].pk}/edit/"
    assert run(anonymous, everyone, "get", path) == expected(REPORT_EDIT[name])


@pytest.mark.parametrize("name", REPORTS)
def test_saving_a_report(name: str, world: World, anonymous, everyone) -> None:
    path = f"/collab/reports/{world.reports[name].pk}/edit/"
    data = {"status": "ongoing", "percent_complete": "55", "narrative": "More done.", "save": ""}
    codes = run(anonymous, everyone, "post", path, lambda: data)
    assert codes == expected(then(REPORT_EDIT[name], 302))


@pytest.mark.parametrize("name", REPORTS)
def test_submitting_a_report(name: str, world: World, anonymous, everyone) -> None:
    path = f"/collab/reports/{world.reports[name].pk}/submit/"
    codes = run(anonymous, everyone, "post", path)
    assert codes == expected(then(REPORT_EDIT[name], 302))


@pytest.mark.parametrize("name", REPORTS)
def test_attaching_evidence(name: str, world: World, anonymous, everyone) -> None:
    path = f"/collab/reports/{world.reports[name].pk}/evidence/"
    codes = run(anonymous, everyone, "post", path, lambda: {"file": pdf_upload()})
    assert codes == expected(then(REPORT_EDIT[name], 302))


@pytest.mark.parametrize("name", REPORTS)
def test_reviewing_a_report(name: str, world: World, anonymous, everyone) -> None:
    path = f"/collab/reports/{world.reports[name].pk}/review/"
    data = {"decision": "accepted", "note": ""}
    assert run(anonymous, everyone, "post", path, lambda: data) == expected(REPORT_REVIEW[name])


@pytest.mark.parametrize("name", REPORTS)
def test_commenting_on_a_report(name: str, world: World, anonymous, everyone) -> None:
    path = f"/collab/reports/{world.reports[name].pk}/comments/"
    codes = run(anonymous, everyone, "post", path, lambda: {"body": "Noted."})
    olaf = 403 if REPORT_VIEW[name][4] == 200 else 404
    assert codes == expected(then(REPORT_VIEW[name], 302, olaf=olaf))


@pytest.mark.parametrize("name", ["phl_draft", "phl_shared"])
def test_downloading_evidence(name: str, world: World, anonymous, everyone) -> None:
    path = f"/collab/evidence/{world.evidence[name].pk}/"
    assert run(anonymous, everyone, "get", path) == expected(REPORT_VIEW[name])


@pytest.mark.parametrize("name", ["phl_draft", "phl_shared"])
def test_removing_evidence(name: str, world: World, anonymous, everyone) -> None:
    path = f"/collab/evidence/{world.evidence[name].pk}/delete/"
    codes = run(anonymous, everyone, "post", path)
    assert codes == expected(then(REPORT_EDIT[name], 302))


def test_starting_a_report(world: World, anonymous, everyone) -> None:
    assert run(anonymous, everyone, "get", "/collab/reports/new/") == expected(
        (403, 200, 200, 403, 403)
    )


def test_creating_a_report(world: World, anonymous, everyone) -> None:
    data = {
        "action_line": line("IH1.3").pk,
        "year": "2024",
        "quarter": "3",
        "status": "ongoing",
        "percent_complete": "10",
        "narrative": "Started.",
        "save": "",
    }
    codes = run(anonymous, everyone, "post", "/collab/reports/new/", lambda: data)
    assert codes == expected((403, 302, 302, 403, 403))


# Document library


FOLDER_VIEW: dict[str, Codes] = {
    "secret": (200, 404, 404, 404, 404),
    "members": (200, 200, 200, 200, 404),
    "wgmid": (200, 404, 404, 200, 404),
    "public": (200, 200, 200, 200, 200),
}
FOLDER_UPLOAD: dict[str, Codes] = {
    "secret": (200, 404, 404, 404, 404),
    "members": (200, 200, 200, 403, 404),
    "wgmid": (200, 404, 404, 200, 404),
    "public": (200, 403, 403, 403, 403),
}
FOLDERS = list(FOLDER_VIEW)


def managed(codes: Codes, ok: int) -> Codes:
    """Only the Secretariat manages: it gets `ok`; others 403 where they see, else 404."""
    return (ok, *(403 if c == 200 else c for c in codes[1:]))  # type: ignore[return-value]


@pytest.mark.parametrize("name", FOLDERS)
def test_opening_a_folder(name: str, world: World, anonymous, everyone) -> None:
    path = f"/collab/library/folders/{world.folders[name].pk}/"
    assert run(anonymous, everyone, "get", path) == expected(FOLDER_VIEW[name])


@pytest.mark.parametrize("name", FOLDERS)
def test_opening_a_folders_settings(name: str, world: World, anonymous, everyone) -> None:
    path = f"/collab/library/folders/{world.folders[name].pk}/edit/"
    assert run(anonymous, everyone, "get", path) == expected(managed(FOLDER_VIEW[name], 200))


@pytest.mark.parametrize("name", FOLDERS)
def test_changing_a_folders_access(name: str, world: World, anonymous, everyone) -> None:
    path = f"/collab/library/folders/{world.folders[name].pk}/edit/"
    data = {"name": "Renamed", "read_roles": ["focal_point"]}
    codes = run(anonymous, everyone, "post", path, lambda: data)
    assert codes == expected(managed(FOLDER_VIEW[name], 302))


def test_creating_a_folder(world: World, anonymous, everyone) -> None:
    assert run(anonymous, everyone, "get", "/collab/library/folders/new/") == expected(
        (200, 403, 403, 403, 403)
    )
    codes = run(
        anonymous, everyone, "post", "/collab/library/folders/new/", lambda: {"name": "New"}
    )
    assert codes == expected((302, 403, 403, 403, 403))


@pytest.mark.parametrize("name", FOLDERS)
def test_opening_the_upload_form(name: str, world: World, anonymous, everyone) -> None:
    path = f"/collab/library/folders/{world.folders[name].pk}/upload/"
    assert run(anonymous, everyone, "get", path) == expected(FOLDER_UPLOAD[name])


@pytest.mark.parametrize("name", FOLDERS)
def test_uploading_a_document(name: str, world: World, anonymous, everyone) -> None:
    path = f"/collab/library/folders/{world.folders[name].pk}/upload/"
    codes = run(
        anonymous, everyone, "post", path, lambda: {"title": "Work plan", "file": pdf_upload()}
    )
    assert codes == expected(then(FOLDER_UPLOAD[name], 302))


@pytest.mark.parametrize("name", FOLDERS)
def test_opening_a_document(name: str, world: World, anonymous, everyone) -> None:
    path = f"/collab/library/documents/{world.documents[name].pk}/"
    assert run(anonymous, everyone, "get", path) == expected(FOLDER_VIEW[name])


@pytest.mark.parametrize("name", FOLDERS)
def test_downloading_a_document(name: str, world: World, anonymous, everyone) -> None:
    document = world.documents[name]
    for path in (
        f"/collab/library/documents/{document.pk}/download/",
        f"/collab/library/versions/{document.versions.get().pk}/download/",
    ):
        assert run(anonymous, everyone, "get", path) == expected(FOLDER_VIEW[name]), path


@pytest.mark.parametrize("name", FOLDERS)
def test_uploading_a_new_version(name: str, world: World, anonymous, everyone) -> None:
    path = f"/collab/library/documents/{world.documents[name].pk}/versions/"
    codes = run(anonymous, everyone, "post", path, lambda: {"file": pdf_upload(), "note": "v2"})
    assert codes == expected(then(FOLDER_UPLOAD[name], 302))


@pytest.mark.parametrize("name", FOLDERS)
def test_deleting_a_document(name: str, world: World, anonymous, everyone) -> None:
    path = f"/collab/library/documents/{world.documents[name].pk}/delete/"
    codes = run(anonymous, everyone, "post", path)
    assert codes == expected(managed(FOLDER_VIEW[name], 302))


@pytest.mark.parametrize("name", FOLDERS)
def test_commenting_on_a_document(name: str, world: World, anonymous, everyone) -> None:
    path = f"/collab/library/documents/{world.documents[name].pk}/comments/"
    codes = run(anonymous, everyone, "post", path, lambda: {"body": "Thanks."})
    olaf = 403 if FOLDER_VIEW[name][4] == 200 else 404
    assert codes == expected(then(FOLDER_VIEW[name], 302, olaf=olaf))


# Action lines and comments


def test_viewing_an_action_line(world: World, anonymous, everyone) -> None:
    path = f"/collab/action-lines/{line('MD1.3').pk}/"
    assert run(anonymous, everyone, "get", path) == expected((200, 200, 200, 200, 200))


def test_commenting_on_an_action_line(world: World, anonymous, everyone) -> None:
    path = f"/collab/action-lines/{line('MD1.3').pk}/comments/"
    codes = run(anonymous, everyone, "post", path, lambda: {"body": "Agreed."})
    assert codes == expected((302, 302, 302, 302, 403))


@pytest.mark.parametrize(
    ("name", "codes"),
    [
        # On a submitted PHL report on MD1.3: hidden from tika; olaf sees no discussions.
        ("by_pablo_on_report", (302, 302, 404, 403, 404)),
        ("by_mina_on_line", (302, 403, 403, 302, 404)),
    ],
)
def test_deleting_a_comment(name: str, codes: Codes, world: World, anonymous, everyone) -> None:
    path = f"/collab/comments/{world.comments[name].pk}/delete/"
    assert run(anonymous, everyone, "post", path) == expected(codes)


def test_observers_do_not_see_discussions(world: World, everyone) -> None:
    page = everyone["olaf"].client.get(f"/collab/action-lines/{line('MD1.3').pk}/")
    assert b"WGMID will discuss." not in page.content
    page = everyone["mina"].client.get(f"/collab/action-lines/{line('MD1.3').pk}/")
    assert b"WGMID will discuss." in page.content


# Pages


@pytest.mark.parametrize(
    "path",
    [
        "/collab/",
        "/collab/plan/",
        "/collab/reports/",
        "/collab/dashboard/",
        "/collab/dashboard/amcap-iii-phase-2/",
        "/collab/exports/amcap-iii-phase-2/quarterly/?year=2024&quarter=2",
        "/collab/exports/amcap-iii-phase-2/quarterly/?year=2024&quarter=2&format=csv",
        "/collab/exports/amcap-iii-phase-2/mid-term-review/",
        "/collab/exports/amcap-iii-phase-2/final-term-review/?format=csv",
        "/collab/library/",
        "/collab/library/?q=record",
        "/collab/notifications/",
        "/collab/account/",
    ],
)
def test_pages_every_member_may_open(path: str, world: World, anonymous, everyone) -> None:
    assert run(anonymous, everyone, "get", path) == expected((200, 200, 200, 200, 200))


@pytest.mark.parametrize("path", ["/collab/audit/", "/collab/people/"])
def test_pages_for_the_secretariat_only(path: str, world: World, anonymous, everyone) -> None:
    assert run(anonymous, everyone, "get", path) == expected((200, 403, 403, 403, 403))


def test_inviting_and_revoking(world: World, anonymous, everyone) -> None:
    data = {"email": "new@example.org", "role": "observer"}
    assert run(anonymous, everyone, "post", "/collab/people/", lambda: data) == expected(
        (302, 403, 403, 403, 403)
    )
    from collab.services import invitation_create

    invitation, _ = invitation_create(
        actor=everyone["sara"].actor, email="x@example.org", role="observer", base_url=""
    )
    path = f"/collab/people/invitations/{invitation.pk}/revoke/"
    assert run(anonymous, everyone, "post", path) == expected((302, 403, 403, 403, 403))


@pytest.mark.parametrize("path", ["/admin/", "/admin/collab/plan/", "/admin/collab/auditentry/"])
def test_the_admin_is_for_the_secretariat(path: str, world: World, anonymous, everyone) -> None:
    codes = {name: request_as(p.client, "get", path) for name, p in everyone.items()}
    codes["anonymous"] = request_as(anonymous, "get", path)
    assert codes == {**expected((200, 302, 302, 302, 302)), "nina": 302, "anonymous": 302}


def test_reading_someone_elses_notification_is_404(world: World, everyone) -> None:
    from collab.models import Notification

    note = Notification.objects.create(
        recipient=everyone["sara"].user, kind="comment", message="For Sara", link="/collab/"
    )
    response = everyone["pablo"].client.post("/collab/notifications/read/", {"id": note.pk})
    assert response.status_code == 404
    response = everyone["sara"].client.post("/collab/notifications/read/", {"id": note.pk})
    assert response.status_code == 302
    note.refresh_from_db()
    assert note.read_at is not None


def test_every_endpoint_sends_anonymous_visitors_to_sign_in(anonymous: Client) -> None:
    assert len(SEEN) > 100, "runs after the matrix above"
    for method, path, data in SEEN:
        assert request_as(anonymous, method, path, data) == 302, (method, path)


def test_every_endpoint_refuses_a_member_without_a_role(everyone) -> None:
    for method, path, data in SEEN:
        assert request_as(everyone["nina"].client, method, path, data) == 403, (method, path)


def test_every_endpoint_sends_a_password_only_session_to_sign_in(world: World) -> None:
    """A session that has not passed the second factor (only possible by force) gets nowhere."""
    client = Client()
    client.force_login(make_member("una", "focal_point", state="PHL"))
    for method, path, data in SEEN:
        assert request_as(client, method, path, data) == 302, (method, path)
