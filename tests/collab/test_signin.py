"""Sign-in: password then TOTP or a recovery code, enrolment, lockout and cool-off, sessions."""

import re
import time
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from collab import services
from collab.middleware import LAST_SEEN_KEY
from collab.models import AuditEntry, Role
from tests.collab.conftest import PASSWORD, Persona, make_member, totp_code

pytestmark = pytest.mark.django_db


def password_step(client: Client, username: str, password: str = PASSWORD, **extra: str):
    return client.post("/collab/login/", {"username": username, "password": password, **extra})


@pytest.fixture
def enrolled() -> tuple[Client, TOTPDevice]:
    """A focal point with a confirmed authenticator and recovery codes, not signed in."""
    user = make_member("pablo", Role.FOCAL_POINT, state="PHL")
    device = TOTPDevice.objects.create(user=user, name="app", confirmed=True)
    services.recovery_codes_replace(user=user)
    return Client(), device


def test_the_sign_in_page_opens(anonymous: Client) -> None:
    response = anonymous.get("/collab/login/")
    assert response.status_code == 200
    assert b'name="password"' in response.content


def test_platform_pages_send_anonymous_visitors_to_sign_in(anonymous: Client) -> None:
    response = anonymous.get("/collab/reports/")
    assert response.status_code == 302
    assert response["Location"] == "/collab/login/?next=/collab/reports/"


def test_there_is_no_open_sign_up(anonymous: Client) -> None:
    for path in ("/collab/signup/", "/collab/register/", "/accounts/signup/"):
        assert anonymous.get(path).status_code == 404


def test_password_then_code_signs_in(enrolled) -> None:
    client, device = enrolled
    response = password_step(client, "pablo")
    assert response.status_code == 302
    assert response["Location"] == "/collab/login/verify/"
    response = client.post("/collab/login/verify/", {"code": totp_code(device)})
    assert response.status_code == 302
    assert response["Location"] == "/collab/"
    assert client.get("/collab/").status_code == 200
    assert AuditEntry.objects.filter(action="sign_in", actor=device.user).exists()


def test_a_password_alone_signs_nobody_in(enrolled) -> None:
    client, _device = enrolled
    password_step(client, "pablo")
    assert SESSION_KEY not in client.session
    assert client.get("/collab/").status_code == 302
    assert client.get("/admin/").status_code == 302


def test_a_wrong_password_is_refused(enrolled) -> None:
    client, _device = enrolled
    response = password_step(client, "pablo", "not the password")
    assert response.status_code == 400
    assert b"wrong" in response.content


def test_a_wrong_code_is_refused(enrolled) -> None:
    client, device = enrolled
    password_step(client, "pablo")
    wrong = f"{(int(totp_code(device)) + 1) % 1_000_000:06d}"
    response = client.post("/collab/login/verify/", {"code": wrong})
    assert response.status_code == 400
    assert client.get("/collab/").status_code == 302


def test_the_next_page_is_kept_but_only_on_this_site(enrolled) -> None:
    client, device = enrolled
    password_step(client, "pablo", next="/collab/library/")
    response = client.post("/collab/login/verify/", {"code": totp_code(device)})
    assert response["Location"] == "/collab/library/"

    other = Client()
    password_step(other, "pablo", next="https://evil.example/")
    response = other.post("/collab/login/verify/", {"code": totp_code(device, steps_ahead=1)})
    assert response["Location"] == "/collab/"


def test_the_second_step_expires(enrolled, monkeypatch: pytest.MonkeyPatch) -> None:
    client, device = enrolled
    password_step(client, "pablo")
    later = time.time() + 301
    monkeypatch.setattr("collab.signin.time.time", lambda: later)
    response = client.post("/collab/login/verify/", {"code": totp_code(device)})
    assert response.status_code == 302
    assert response["Location"] == "/collab/login/"


def test_a_recovery_code_signs_in_once(enrolled) -> None:
    client, device = enrolled
    code = StaticToken.objects.filter(device__user=device.user).first().token
    password_step(client, "pablo")
    response = client.post("/collab/login/verify/", {"code": code.upper()})
    assert response.status_code == 302
    assert client.get("/collab/").status_code == 200

    again = Client()
    password_step(again, "pablo")
    assert again.post("/collab/login/verify/", {"code": code}).status_code == 400


def test_a_member_can_replace_recovery_codes(pablo: Persona) -> None:
    old = services.recovery_codes_replace(user=pablo.user)
    response = pablo.client.post("/collab/account/recovery-codes/")
    assert response.status_code == 200
    new = set(StaticToken.objects.filter(device__user=pablo.user).values_list("token", flat=True))
    assert len(new) == services.RECOVERY_CODE_COUNT
    assert not new & set(old)
    for code in new:
        assert code.encode() in response.content


# Enrolment


def test_first_sign_in_enrols_an_authenticator_with_a_qr_code() -> None:
    user = make_member("fresh", Role.OBSERVER)
    client = Client()
    response = password_step(client, "fresh")
    assert response["Location"] == "/collab/login/enrol/"
    page = client.get("/collab/login/enrol/")
    assert page.status_code == 200
    assert b"<svg" in page.content and b"<path" in page.content
    assert b"otpauth" not in page.content  # the QR code is drawn here, not fetched or linked

    device = TOTPDevice.objects.get(user=user, confirmed=False)
    assert client.get("/collab/login/enrol/").status_code == 200
    assert TOTPDevice.objects.filter(user=user).count() == 1  # a reload shows the same key

    response = client.post("/collab/login/enrol/", {"code": totp_code(device)})
    assert response["Location"] == "/collab/account/recovery-codes/"
    device.refresh_from_db()
    assert device.confirmed
    codes_page = client.get("/collab/account/recovery-codes/")
    codes = StaticToken.objects.filter(device__user=user).values_list("token", flat=True)
    assert len(codes) == services.RECOVERY_CODE_COUNT
    for code in codes:
        assert code.encode() in codes_page.content
    assert client.get("/collab/").status_code == 200
    # Shown once only.
    assert codes[0].encode() not in client.get("/collab/account/recovery-codes/").content


def test_enrolment_refuses_a_wrong_code() -> None:
    user = make_member("fresh", Role.OBSERVER)
    client = Client()
    password_step(client, "fresh")
    client.get("/collab/login/enrol/")
    device = TOTPDevice.objects.get(user=user)
    wrong = f"{(int(totp_code(device)) + 1) % 1_000_000:06d}"
    assert client.post("/collab/login/enrol/", {"code": wrong}).status_code == 400
    device.refresh_from_db()
    assert not device.confirmed


def test_a_password_cannot_add_a_device_to_an_enrolled_account(enrolled) -> None:
    client, device = enrolled
    password_step(client, "pablo")
    response = client.get("/collab/login/enrol/")
    assert response.status_code == 302
    assert response["Location"] == "/collab/login/verify/"
    assert TOTPDevice.objects.filter(user=device.user).count() == 1


def test_enrolment_needs_the_password_step(anonymous: Client) -> None:
    response = anonymous.get("/collab/login/enrol/")
    assert response.status_code == 302
    assert response["Location"] == "/collab/login/"


# Lockout and cool-off


def fail_passwords(client: Client, username: str, times: int) -> None:
    for _ in range(times):
        password_step(client, username, "wrong password")


def test_repeated_wrong_passwords_lock_the_account(enrolled) -> None:
    client, _device = enrolled
    fail_passwords(client, "pablo", settings.AXES_FAILURE_LIMIT - 1)
    response = password_step(client, "pablo", "wrong password")
    assert response.status_code == 429
    assert b"locked" in response.content
    # The right password is refused too while the account cools off, from any browser.
    response = password_step(Client(), "pablo")
    assert response.status_code == 429


def test_repeated_wrong_codes_lock_the_account(enrolled) -> None:
    client, device = enrolled
    password_step(client, "pablo")
    wrong = f"{(int(totp_code(device)) + 1) % 1_000_000:06d}"
    statuses = [
        client.post("/collab/login/verify/", {"code": wrong}).status_code
        for _ in range(settings.AXES_FAILURE_LIMIT)
    ]
    assert statuses[:-1] == [400] * (settings.AXES_FAILURE_LIMIT - 1)
    assert statuses[-1] == 429
    assert password_step(Client(), "pablo").status_code == 429


def test_the_lockout_ends_after_the_cool_off(enrolled) -> None:
    client, device = enrolled
    fail_passwords(client, "pablo", settings.AXES_FAILURE_LIMIT)
    assert password_step(client, "pablo").status_code == 429
    # Time passes: the last failure is now older than the cool-off.
    AccessAttempt.objects.update(
        attempt_time=timezone.now() - settings.AXES_COOLOFF_TIME - timedelta(seconds=1)
    )
    response = password_step(client, "pablo")
    assert response.status_code == 302
    assert client.post("/collab/login/verify/", {"code": totp_code(device)}).status_code == 302


def test_the_cool_off_is_not_over_early(enrolled) -> None:
    client, _device = enrolled
    fail_passwords(client, "pablo", settings.AXES_FAILURE_LIMIT)
    AccessAttempt.objects.update(
        attempt_time=timezone.now() - settings.AXES_COOLOFF_TIME + timedelta(minutes=1)
    )
    assert password_step(client, "pablo").status_code == 429


def test_a_locked_account_leaves_other_accounts_alone(enrolled) -> None:
    client, _device = enrolled
    make_member("tika", Role.FOCAL_POINT, state="THA")
    fail_passwords(client, "pablo", settings.AXES_FAILURE_LIMIT)
    # From another address (this one is locked too, see below) tika signs in as usual.
    assert password_step(Client(REMOTE_ADDR="10.0.0.7"), "tika").status_code == 302
    assert password_step(Client(REMOTE_ADDR="10.0.0.8"), "pablo").status_code == 429


def test_many_failures_from_one_address_lock_that_address(enrolled) -> None:
    make_member("tika", Role.FOCAL_POINT, state="THA")
    attacker = Client(REMOTE_ADDR="203.0.113.9")
    for n in range(settings.AXES_FAILURE_LIMIT):
        password_step(attacker, f"guess-{n}", "wrong password")
    assert password_step(attacker, "tika").status_code == 429
    assert password_step(Client(REMOTE_ADDR="10.0.0.7"), "tika").status_code == 302


def test_behind_a_proxy_the_forwarded_address_counts(settings) -> None:
    from django.test import RequestFactory

    from collab.throttling import client_ip

    request = RequestFactory().get(
        "/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="1.2.3.4, 198.51.100.7"
    )
    settings.SECURE_PROXY_SSL_HEADER = None
    assert client_ip(request) == "10.0.0.1"
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    assert client_ip(request) == "198.51.100.7"


# Sessions


def test_logout_ends_the_session_on_the_server(pablo: Persona) -> None:
    key = pablo.client.session.session_key
    assert Session.objects.filter(session_key=key).exists()
    response = pablo.client.post("/collab/logout/")
    assert response.status_code == 302
    assert not Session.objects.filter(session_key=key).exists()
    # Replaying the old cookie gets nowhere.
    replay = Client()
    replay.cookies[settings.SESSION_COOKIE_NAME] = key
    assert replay.get("/collab/").status_code == 302


def test_logout_needs_a_post(pablo: Persona) -> None:
    assert pablo.client.get("/collab/logout/").status_code == 405
    assert pablo.client.get("/collab/").status_code == 200


def test_an_idle_session_expires(pablo: Persona) -> None:
    session = pablo.client.session
    key = session.session_key
    session[LAST_SEEN_KEY] = int(time.time()) - settings.COLLAB_IDLE_TIMEOUT - 1
    session.save()
    response = pablo.client.get("/collab/reports/")
    assert response.status_code == 302
    assert response["Location"].startswith("/collab/login/")
    assert not Session.objects.filter(session_key=key).exists()
    assert b"without activity" in pablo.client.get(response["Location"]).content


def test_an_active_session_stays(pablo: Persona) -> None:
    session = pablo.client.session
    session[LAST_SEEN_KEY] = int(time.time()) - settings.COLLAB_IDLE_TIMEOUT + 60
    session.save()
    assert pablo.client.get("/collab/").status_code == 200


def test_a_session_past_its_lifetime_is_not_honoured(pablo: Persona) -> None:
    key = pablo.client.session.session_key
    Session.objects.filter(session_key=key).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )
    assert pablo.client.get("/collab/").status_code == 302


def test_sessions_are_short_and_end_with_the_browser() -> None:
    assert settings.SESSION_COOKIE_AGE <= 12 * 3600
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE
    assert settings.SESSION_COOKIE_HTTPONLY


# Invitations


def test_an_invitation_is_the_way_in(
    sara: Persona, mailoutbox, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = sara.client.post(
            "/collab/people/",
            {
                "email": "new.fp@example.org",
                "role": "focal_point",
                "member_state": _state_pk("VNM"),
            },
        )
    assert response.status_code == 302
    assert len(mailoutbox) == 1
    link = re.search(r"http://testserver(/collab/invitation/[^/\s]+/)", mailoutbox[0].body).group(1)

    client = Client()
    assert client.get(link).status_code == 200
    response = client.post(
        link, {"username": "vu-anh", "password1": PASSWORD, "password2": PASSWORD}
    )
    assert response["Location"] == "/collab/login/enrol/"
    client.get("/collab/login/enrol/")
    device = TOTPDevice.objects.get(user__username="vu-anh")
    client.post("/collab/login/enrol/", {"code": totp_code(device)})
    assert client.get("/collab/").status_code == 200
    user = device.user
    assert user.email == "new.fp@example.org"
    assert user.collab_profile.role == Role.FOCAL_POINT
    assert user.collab_profile.member_state.code == "VNM"
    # The link works once.
    assert Client().get(link).status_code == 404


def test_an_invitation_link_expires(sara: Persona) -> None:
    invitation, link = services.invitation_create(
        actor=sara.actor, email="late@example.org", role=Role.OBSERVER, base_url=""
    )
    invitation.expires_at = timezone.now() - timedelta(seconds=1)
    invitation.save()
    assert Client().get(link).status_code == 404


def test_a_revoked_invitation_does_not_work(sara: Persona) -> None:
    invitation, link = services.invitation_create(
        actor=sara.actor, email="gone@example.org", role=Role.OBSERVER, base_url=""
    )
    assert (
        sara.client.post(f"/collab/people/invitations/{invitation.pk}/revoke/").status_code == 302
    )
    response = Client().post(
        link, {"username": "gone", "password1": PASSWORD, "password2": PASSWORD}
    )
    assert response.status_code == 404


def test_an_unknown_invitation_token_is_404(anonymous: Client) -> None:
    assert anonymous.get("/collab/invitation/not-a-real-token/").status_code == 404


def test_accepting_needs_a_strong_password(sara: Persona) -> None:
    _invitation, link = services.invitation_create(
        actor=sara.actor, email="weak@example.org", role=Role.OBSERVER, base_url=""
    )
    response = Client().post(link, {"username": "weak", "password1": "123", "password2": "123"})
    assert response.status_code == 400


def test_a_focal_point_invitation_needs_a_member_state(sara: Persona) -> None:
    response = sara.client.post(
        "/collab/people/", {"email": "x@example.org", "role": "focal_point"}
    )
    assert response.status_code == 400


def _state_pk(code: str) -> int:
    from deposits.models import MemberState

    return MemberState.objects.get(code=code).pk


# The admin


def test_the_admin_login_sends_people_to_the_platform_sign_in(anonymous: Client) -> None:
    response = anonymous.get("/admin/login/?next=/admin/collab/plan/")
    assert response.status_code == 302
    assert response["Location"] == "/collab/login/?next=/admin/collab/plan/"


def test_the_admin_opens_after_both_factors(enrolled) -> None:
    client, device = enrolled
    user = device.user
    user.is_staff = True
    user.is_superuser = True
    user.save()
    password_step(client, "pablo", next="/admin/")
    response = client.post("/collab/login/verify/", {"code": totp_code(device)})
    assert response["Location"] == "/admin/"
    assert client.get("/admin/collab/plan/").status_code == 200


def test_the_admin_refuses_staff_without_the_second_factor() -> None:
    user = make_member("sam", Role.SECRETARIAT)
    client = Client()
    client.force_login(user)
    response = client.get("/admin/collab/plan/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_a_data_manager_without_a_platform_role_signs_in_to_the_admin() -> None:
    user = make_member("dana", None)
    user.is_staff = True  # a WebGIS data manager: admin rights, no platform role
    user.save()
    client = Client()
    password_step(client, "dana")
    client.get("/collab/login/enrol/")
    device = TOTPDevice.objects.get(user=user)
    response = client.post("/collab/login/enrol/", {"code": totp_code(device)})
    assert response["Location"] == "/collab/account/recovery-codes/"
    page = client.get("/collab/account/recovery-codes/")
    assert page.status_code == 200
    assert StaticToken.objects.filter(device__user=user).first().token.encode() in page.content
    assert b'<a class="button" href="/admin/">Continue</a>' in page.content
    assert client.get("/admin/").status_code == 200
    assert client.get("/collab/").status_code == 403
