"""Quarterly progress reports: writing, evidence, submission, review, notices and audit."""

from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from collab.models import (
    AuditEntry,
    Evidence,
    Notification,
    NotificationKind,
    ProgressReport,
    ReviewState,
)
from collab.storage import private_storage
from tests.collab.conftest import PDF_BYTES, Persona, docx_bytes, line, pdf_upload

pytestmark = pytest.mark.django_db


def report_data(**changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "action_line": line("MD1.3").pk,
        "year": "2024",
        "quarter": "3",
        "status": "ongoing",
        "percent_complete": "45",
        "narrative": "Prototype of the collaboration platform shown to WGMID.",
        "save": "",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def stored_files() -> set[str]:
    root = Path(settings.COLLAB_PRIVATE_ROOT)
    return {str(p) for p in root.rglob("*") if p.is_file()} if root.exists() else set()


def test_a_focal_point_writes_a_draft_with_evidence(pablo: Persona) -> None:
    response = pablo.client.post(
        "/collab/reports/new/", report_data(evidence=pdf_upload("minutes.pdf"))
    )
    assert response.status_code == 302
    report = ProgressReport.objects.get()
    assert response["Location"] == f"/collab/reports/{report.pk}/"
    assert report.member_state.code == "PHL"
    assert report.review_state == ReviewState.DRAFT
    assert report.created_by == pablo.user
    evidence = report.evidence.get()
    assert evidence.original_name == "minutes.pdf"
    assert evidence.content_type == "application/pdf"
    assert evidence.file.name.startswith("evidence/")
    assert "minutes" not in evidence.file.name  # stored under a random name


def test_a_report_is_for_the_focal_points_own_member_state(pablo: Persona) -> None:
    from deposits.models import MemberState

    tha = MemberState.objects.get(code="THA").pk
    pablo.client.post("/collab/reports/new/", report_data(member_state=tha))
    assert ProgressReport.objects.get().member_state.code == "PHL"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"status": "completed", "percent_complete": "90"}, b"100%"),
        ({"status": "not_started", "percent_complete": "10"}, b"0%"),
        ({"percent_complete": "101"}, b"percent_complete"),
        ({"year": "2020"}, b"runs from 2021"),
        ({"narrative": ""}, b"narrative"),
        ({"action_line": "999999"}, b"action_line"),
    ],
)
def test_a_report_with_bad_values_is_refused(
    pablo: Persona, changes: dict[str, object], field: bytes
) -> None:
    response = pablo.client.post("/collab/reports/new/", report_data(**changes))
    assert response.status_code == 400
    assert field in response.content
    assert not ProgressReport.objects.exists()


def test_one_report_per_action_line_state_and_quarter(pablo: Persona, make_report) -> None:
    make_report("MD1.3", "PHL", 2024, 3)
    response = pablo.client.post("/collab/reports/new/", report_data())
    assert response.status_code == 400
    assert b"already" in response.content
    assert ProgressReport.objects.count() == 1


def test_only_datasets_the_member_may_see_can_be_linked(pablo: Persona, make_dataset) -> None:
    public = make_dataset(title="Geology of Luzon")
    hidden = make_dataset(title="Unpublished survey", is_published=False)
    response = pablo.client.post("/collab/reports/new/", report_data(datasets=[hidden.pk]))
    assert response.status_code == 400
    response = pablo.client.post("/collab/reports/new/", report_data(datasets=[public.pk]))
    assert response.status_code == 302
    assert list(ProgressReport.objects.get().datasets.all()) == [public]


def test_submitting_tells_the_secretariat(
    pablo: Persona, sara: Persona, make_report, mailoutbox, django_capture_on_commit_callbacks
) -> None:
    report = make_report()
    with django_capture_on_commit_callbacks(execute=True):
        response = pablo.client.post(f"/collab/reports/{report.pk}/submit/")
    assert response.status_code == 302
    report.refresh_from_db()
    assert report.review_state == ReviewState.SUBMITTED
    assert report.submitted_by == pablo.user
    note = Notification.objects.get(recipient=sara.user)
    assert note.kind == NotificationKind.REPORT_SUBMITTED
    assert note.link == f"/collab/reports/{report.pk}/"
    assert [m.to for m in mailoutbox] == [[sara.user.email]]
    assert f"http://testserver/collab/reports/{report.pk}/" in mailoutbox[0].body


def test_the_secretariat_accepts_and_the_focal_point_hears(
    pablo: Persona, sara: Persona, make_report, mailoutbox, django_capture_on_commit_callbacks
) -> None:
    report = make_report(review_state=ReviewState.SUBMITTED)
    with django_capture_on_commit_callbacks(execute=True):
        response = sara.client.post(
            f"/collab/reports/{report.pk}/review/",
            {"decision": "accepted", "note": "Thanks.", "shared_with_observers": "on"},
        )
    assert response.status_code == 302
    report.refresh_from_db()
    assert report.review_state == ReviewState.ACCEPTED
    assert report.shared_with_observers
    assert report.reviewed_by == sara.user
    assert Notification.objects.get(recipient=pablo.user).kind == NotificationKind.REPORT_REVIEWED
    assert [m.to for m in mailoutbox] == [[pablo.user.email]]


def test_returning_a_report_needs_a_note_and_reopens_it(
    pablo: Persona, sara: Persona, make_report
) -> None:
    report = make_report(review_state=ReviewState.SUBMITTED)
    path = f"/collab/reports/{report.pk}/review/"
    assert sara.client.post(path, {"decision": "returned", "note": " "}).status_code == 400
    assert (
        sara.client.post(path, {"decision": "returned", "note": "Add the minutes."}).status_code
        == 302
    )
    report.refresh_from_db()
    assert report.review_state == ReviewState.RETURNED
    assert not report.shared_with_observers
    assert pablo.client.get(f"/collab/reports/{report.pk}/edit/").status_code == 200


def test_changes_are_audited_with_before_and_after(
    pablo: Persona, sara: Persona, make_report
) -> None:
    report = make_report(percent=40)
    pablo.client.post(
        f"/collab/reports/{report.pk}/edit/",
        {"status": "ongoing", "percent_complete": "60", "narrative": "More.", "submit": ""},
    )
    sara.client.post(f"/collab/reports/{report.pk}/review/", {"decision": "accepted"})
    entries = AuditEntry.objects.filter(model="collab.progressreport", object_id=str(report.pk))
    update = entries.get(action="update")
    assert update.actor == pablo.user
    assert update.before["percent_complete"] == 40
    assert update.after["percent_complete"] == 60
    review = entries.get(action="review")
    assert review.actor_name == "sara"
    assert (review.before["review_state"], review.after["review_state"]) == (
        "submitted",
        "accepted",
    )


# Evidence files


def test_evidence_is_served_privately_as_a_download(pablo: Persona, make_report) -> None:
    report = make_report()
    pablo.client.post(f"/collab/reports/{report.pk}/evidence/", {"file": pdf_upload("plan.pdf")})
    evidence = Evidence.objects.get()
    response = pablo.client.get(f"/collab/evidence/{evidence.pk}/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF_BYTES
    assert "private" in response["Cache-Control"]
    assert "no-store" in response["Cache-Control"]
    assert response["Content-Disposition"].startswith('attachment; filename="plan.pdf"')
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_private_files_are_outside_media_and_have_no_url(pablo: Persona, make_report) -> None:
    report = make_report()
    pablo.client.post(f"/collab/reports/{report.pk}/evidence/", {"file": pdf_upload()})
    evidence = Evidence.objects.get()
    assert Path(evidence.file.path).is_relative_to(Path(settings.COLLAB_PRIVATE_ROOT))
    with pytest.raises(ValueError, match="no URL"):
        private_storage().url(evidence.file.name)
    assert pablo.client.get(f"{settings.MEDIA_URL}{evidence.file.name}").status_code == 404


@pytest.mark.parametrize(
    ("name", "body", "reason"),
    [
        ("tool.exe", b"MZ\x90\x00", b"not accepted"),
        ("report.pdf", b"MZ\x90\x00 an executable", b"not that of a .pdf"),
        ("report.docx", b"PK\x03\x04 not really a zip", b"damaged"),
        ("report.docx", b"%PDF-1.4 renamed", b"not that of a .docx"),
        ("data.csv", b"\x00\x01\x02binary", b"not that of a .csv"),
        ("empty.pdf", b"", b"empty"),
        ("page.html", b"<script>alert(1)</script>", b"not accepted"),
    ],
)
def test_evidence_of_the_wrong_type_is_refused_and_nothing_is_kept(
    pablo: Persona, make_report, name: str, body: bytes, reason: bytes
) -> None:
    report = make_report()
    before = stored_files()
    upload = SimpleUploadedFile(name, body, content_type="application/pdf")
    response = pablo.client.post(f"/collab/reports/{report.pk}/evidence/", {"file": upload})
    assert response.status_code == 400
    assert reason in response.content
    assert not Evidence.objects.exists()
    assert stored_files() == before


def test_office_and_text_evidence_is_accepted(pablo: Persona, make_report) -> None:
    report = make_report()
    for upload in (
        SimpleUploadedFile("minutes.docx", docx_bytes()),
        SimpleUploadedFile("figures.csv", "state;value\nPHL;3\nVNM;Hà Nội\n".encode()),
    ):
        response = pablo.client.post(f"/collab/reports/{report.pk}/evidence/", {"file": upload})
        assert response.status_code == 302
    assert sorted(Evidence.objects.values_list("content_type", flat=True)) == [
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "text/csv",
    ]


def test_an_upload_over_the_limit_gets_413_before_it_is_read(
    pablo: Persona, make_report, settings
) -> None:
    settings.COLLAB_MAX_UPLOAD_BYTES = 1024
    report = make_report()
    before = stored_files()
    big = SimpleUploadedFile("big.pdf", b"%PDF-1.4\n" + b"0" * 400_000)
    response = pablo.client.post(f"/collab/reports/{report.pk}/evidence/", {"file": big})
    assert response.status_code == 413
    assert b"too large" in response.content
    assert not Evidence.objects.exists()
    assert stored_files() == before


def test_a_file_over_the_limit_inside_the_allowance_is_refused(
    pablo: Persona, make_report, settings
) -> None:
    settings.COLLAB_MAX_UPLOAD_BYTES = 1024
    report = make_report()
    upload = SimpleUploadedFile("big.pdf", b"%PDF-1.4\n" + b"0" * 2000)
    response = pablo.client.post(f"/collab/reports/{report.pk}/evidence/", {"file": upload})
    assert response.status_code == 400
    assert b"larger than the limit" in response.content


def test_removing_evidence_deletes_the_file(
    pablo: Persona, make_report, django_capture_on_commit_callbacks
) -> None:
    report = make_report()
    pablo.client.post(f"/collab/reports/{report.pk}/evidence/", {"file": pdf_upload()})
    path = Path(Evidence.objects.get().file.path)
    assert path.exists()
    with django_capture_on_commit_callbacks(execute=True):
        response = pablo.client.post(f"/collab/evidence/{Evidence.objects.get().pk}/delete/")
    assert response.status_code == 302
    assert not path.exists()
    assert AuditEntry.objects.filter(model="collab.evidence", action="delete").exists()


def test_the_report_list_filters(pablo: Persona, make_report) -> None:
    make_report("MD1.3", "PHL", 2024, 1)
    make_report("TI1.1", "PHL", 2023, 2, ReviewState.ACCEPTED)
    response = pablo.client.get("/collab/reports/?year=2023")
    assert response.status_code == 200
    assert b"TI1.1" in response.content and b"MD1.3</a>" not in response.content
    assert pablo.client.get("/collab/reports/?year=abc").status_code == 400
