"""Comments on action lines, reports and documents; in-app notifications and e-mail."""

import pytest

from collab.models import Comment, Notification, NotificationKind, ReviewState
from tests.collab.conftest import Persona, line

pytestmark = pytest.mark.django_db


def test_a_comment_on_a_report_tells_those_who_can_see_it(
    pablo: Persona,
    tika: Persona,
    sara: Persona,
    mina: Persona,
    olaf: Persona,
    make_report,
    mailoutbox,
    django_capture_on_commit_callbacks,
) -> None:
    report = make_report("MD1.3", "PHL", 2024, 2, ReviewState.SUBMITTED)
    with django_capture_on_commit_callbacks(execute=True):
        response = mina.client.post(
            f"/collab/reports/{report.pk}/comments/", {"body": "Can WGMID see the prototype?"}
        )
    comment = Comment.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/collab/reports/{report.pk}/#comment-{comment.pk}"
    told = set(
        Notification.objects.filter(kind=NotificationKind.COMMENT).values_list(
            "recipient__username", flat=True
        )
    )
    # Not the author, not THA's focal point (cannot see a PHL submission), not the observer.
    assert told == {"pablo", "sara"}
    assert sorted(m.to[0] for m in mailoutbox) == ["pablo@example.org", "sara@example.org"]
    page = pablo.client.get(f"/collab/reports/{report.pk}/")
    assert b"Can WGMID see the prototype?" in page.content


def test_comments_are_escaped(pablo: Persona, sara: Persona) -> None:
    pablo.client.post(
        f"/collab/action-lines/{line('MD1.3').pk}/comments/",
        {"body": "<img src=x onerror=alert(1)>"},
    )
    page = sara.client.get(f"/collab/action-lines/{line('MD1.3').pk}/")
    assert b"<img src=x" not in page.content
    assert b"&lt;img src=x" in page.content


def test_an_empty_comment_is_not_saved(pablo: Persona) -> None:
    response = pablo.client.post(
        f"/collab/action-lines/{line('MD1.3').pk}/comments/", {"body": " "}
    )
    assert response.status_code == 302
    assert not Comment.objects.exists()


def test_the_author_or_the_secretariat_deletes_a_comment(pablo: Persona, sara: Persona) -> None:
    comment = Comment.objects.create(author=pablo.user, body="Typo", action_line=line("MD1.3"))
    assert pablo.client.post(f"/collab/comments/{comment.pk}/delete/").status_code == 302
    assert not Comment.objects.exists()


def test_notifications_are_listed_and_marked_read(pablo: Persona) -> None:
    for n in range(3):
        Notification.objects.create(
            recipient=pablo.user,
            kind=NotificationKind.COMMENT,
            message=f"Note {n}",
            link="/collab/reports/",
        )
    page = pablo.client.get("/collab/notifications/")
    assert page.status_code == 200
    assert b"Note 2" in page.content
    assert b'aria-label="3 unread"' in pablo.client.get("/collab/").content
    first = Notification.objects.first()
    response = pablo.client.post("/collab/notifications/read/", {"id": first.pk})
    assert response["Location"] == "/collab/reports/"
    assert Notification.objects.filter(read_at__isnull=True).count() == 2
    pablo.client.post("/collab/notifications/read/")
    assert not Notification.objects.filter(read_at__isnull=True).exists()


def test_a_bad_notification_id_is_400(pablo: Persona) -> None:
    assert pablo.client.post("/collab/notifications/read/", {"id": "x"}).status_code == 400


def test_a_mail_server_failure_does_not_undo_the_change(
    pablo: Persona, sara: Persona, make_report, settings, django_capture_on_commit_callbacks
) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = 9  # discard port: nothing listens, the connection is refused
    settings.EMAIL_TIMEOUT = 2
    report = make_report()
    with django_capture_on_commit_callbacks(execute=True):
        response = pablo.client.post(f"/collab/reports/{report.pk}/submit/")
    assert response.status_code == 302
    report.refresh_from_db()
    assert report.review_state == ReviewState.SUBMITTED
    assert Notification.objects.filter(recipient=sara.user).exists()
