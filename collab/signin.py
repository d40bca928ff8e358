"""Sign-in in two steps (password, then TOTP or a recovery code), enrolment, invitations.

Django's login() runs only after the second factor: until then the session holds a pending
user id for a few minutes and nothing else, so no page (here, in the admin or on the map)
ever treats a password-only visitor as signed in.
"""

import time
from base64 import b32encode
from typing import Any

import qrcode
import qrcode.image.svg
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_lockout_response
from django.contrib import messages
from django.contrib.auth import authenticate, user_login_failed
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticToken

from collab import services
from collab.forms import CodeForm, EnrolForm, InvitationAcceptForm, SignInForm
from collab.middleware import LAST_SEEN_KEY
from collab.models import AuditAction
from collab.permissions import actor_for, is_verified, verified_view

PENDING_USER = "collab_pending_user"
PENDING_AT = "collab_pending_at"
PENDING_BACKEND = "collab_pending_backend"
PENDING_NEXT = "collab_pending_next"
FRESH_CODES = "collab_fresh_codes"
# The second step must follow the first within this many seconds.
PENDING_SECONDS = 300
_PENDING_KEYS = (PENDING_USER, PENDING_AT, PENDING_BACKEND, PENDING_NEXT)


def _safe_next(request: HttpRequest, url: str | None) -> str:
    """`url` if it points into this site, else "" (the caller picks a default)."""
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return ""


def _landing(user: User) -> str:
    """Where a member goes after signing in when no page was asked for."""
    if actor_for(user) is not None:
        return reverse("collab:overview")
    return reverse("admin:index") if user.is_staff else "/"


def _start_pending(request: HttpRequest, user: User, *, next_url: str) -> None:
    request.session.cycle_key()
    request.session[PENDING_USER] = user.pk
    request.session[PENDING_AT] = int(time.time())
    request.session[PENDING_BACKEND] = getattr(
        user, "backend", "django.contrib.auth.backends.ModelBackend"
    )
    request.session[PENDING_NEXT] = next_url


def _clear_pending(request: HttpRequest) -> None:
    for key in _PENDING_KEYS:
        request.session.pop(key, None)


def _pending_user(request: HttpRequest) -> User | None:
    user_id = request.session.get(PENDING_USER)
    started = request.session.get(PENDING_AT)
    if not isinstance(user_id, int) or not isinstance(started, int):
        return None
    if time.time() - started > PENDING_SECONDS:
        _clear_pending(request)
        messages.info(request, "That took too long; sign in again.")
        return None
    return User.objects.filter(pk=user_id, is_active=True).first()


def _credentials(user: User) -> dict[str, str]:
    return {"username": user.get_username()}


def _locked_out(request: HttpRequest, user: User) -> HttpResponse | None:
    """The lockout page while the account is cooling off; the pending sign-in is dropped."""
    if not AxesProxyHandler.is_locked(request, _credentials(user)):
        return None
    _clear_pending(request)
    response: HttpResponse = get_lockout_response(request, None, _credentials(user))
    return response


def _failed_code(request: HttpRequest, user: User) -> None:
    """A wrong code counts as a failed sign-in towards the lockout, like a wrong password."""
    user_login_failed.send(sender=__name__, credentials=_credentials(user), request=request)


def _finish_sign_in(request: HttpRequest, user: User, device: Device) -> str:
    next_url = str(request.session.get(PENDING_NEXT) or _landing(user))
    backend = str(request.session.get(PENDING_BACKEND))
    _clear_pending(request)
    # django-otp's user_logged_in handler stores the device in the session: verified from now.
    user.otp_device = device  # type: ignore[attr-defined]
    auth_login(request, user, backend=backend)
    request.session[LAST_SEEN_KEY] = int(time.time())
    services.sign_in_record(user=user, device=device)
    return next_url


@never_cache
@sensitive_post_parameters("password")
@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    next_url = _safe_next(request, request.POST.get("next") or request.GET.get("next"))
    if is_verified(request.user):
        return redirect(next_url or reverse("collab:overview"))
    form = SignInForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            user = authenticate(
                request,
                username=form.cleaned_data["username"],
                password=form.cleaned_data["password"],
            )
            if isinstance(user, User):
                _start_pending(request, user, next_url=next_url)
                if services.user_has_second_factor(user=user):
                    return redirect("collab:verify")
                return redirect("collab:enrol")
            form.add_error(None, "The username or the password is wrong.")
        status = 400
    return render(request, "collab/login.html", {"form": form, "next": next_url}, status=status)


@never_cache
@sensitive_post_parameters("code")
@require_http_methods(["GET", "POST"])
def verify_view(request: HttpRequest) -> HttpResponse:
    user = _pending_user(request)
    if user is None:
        return redirect("collab:login")
    if not services.user_has_second_factor(user=user):
        return redirect("collab:enrol")
    locked = _locked_out(request, user)
    if locked is not None:
        return locked
    form = CodeForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            device = services.second_factor_verify(user=user, code=form.cleaned_data["code"])
            if device is not None:
                return redirect(_finish_sign_in(request, user, device))
            _failed_code(request, user)
            locked = _locked_out(request, user)
            if locked is not None:
                return locked
            form.add_error("code", "That code is not right, or it was used already.")
        status = 400
    return render(request, "collab/verify.html", {"form": form, "pending": user}, status=status)


def _qr_svg(data: str) -> SafeString:
    image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, box_size=10)
    svg: str = image.to_string(encoding="unicode")
    return mark_safe(svg)  # noqa: S308 - made here from our own otpauth URL


@never_cache
@sensitive_post_parameters("code")
@require_http_methods(["GET", "POST"])
def enrol_view(request: HttpRequest) -> HttpResponse:
    """First sign-in: set up the authenticator app, then receive recovery codes."""
    user = _pending_user(request)
    if user is None:
        return redirect("collab:login")
    if services.user_has_second_factor(user=user):
        # A password alone never adds a device to an account that has one.
        return redirect("collab:verify")
    locked = _locked_out(request, user)
    if locked is not None:
        return locked
    device = services.totp_device_for_enrolment(user=user)
    form = EnrolForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            if services.totp_enrolment_confirm(device=device, token=form.cleaned_data["code"]):
                codes = services.recovery_codes_replace(user=user)
                device.refresh_from_db()
                next_url = _finish_sign_in(request, user, device)
                request.session[FRESH_CODES] = codes
                request.session[PENDING_NEXT] = next_url
                return redirect("collab:recovery-codes")
            _failed_code(request, user)
            locked = _locked_out(request, user)
            if locked is not None:
                return locked
            form.add_error("code", "That code is not right. Check the app and the phone's clock.")
        status = 400
    secret = b32encode(device.bin_key).decode()
    context: dict[str, Any] = {
        "form": form,
        "pending": user,
        "qr_svg": _qr_svg(device.config_url),
        "secret_groups": [secret[i : i + 4] for i in range(0, len(secret), 4)],
    }
    return render(request, "collab/enrol.html", context, status=status)


@verified_view
@require_http_methods(["GET", "POST"])
def recovery_codes_view(request: HttpRequest) -> HttpResponse:
    """Shows new recovery codes once; anyone signed in can replace theirs at any time."""
    user = request.user
    assert isinstance(user, User)
    codes = request.session.pop(FRESH_CODES, None)
    next_url = request.session.pop(PENDING_NEXT, None)
    if request.method == "POST":
        codes = services.recovery_codes_replace(user=user)
    remaining = StaticToken.objects.filter(device__user=user).count()
    next_url = _safe_next(request, next_url) or reverse("collab:overview")
    return render(
        request,
        "collab/recovery_codes.html",
        {"codes": codes, "remaining": remaining, "next": next_url},
    )


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    """Ends the session on the server (the row is deleted), not only in the browser."""
    if request.user.is_authenticated:
        services.audit_record(
            actor=request.user, action=AuditAction.SIGN_OUT, instance=request.user
        )
    auth_logout(request)
    messages.info(request, "You are signed out.")
    return redirect("collab:login")


@never_cache
@sensitive_post_parameters("password1", "password2")
@require_http_methods(["GET", "POST"])
def invitation_accept_view(request: HttpRequest, token: str) -> HttpResponse:
    try:
        invitation = services.invitation_find(token=token)
    except services.InvitationInvalid:
        return render(request, "collab/invitation_invalid.html", status=404)
    form = InvitationAcceptForm(request.POST or None, email=invitation.email)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            if request.user.is_authenticated:
                auth_logout(request)
            try:
                user = services.invitation_accept(
                    token=token,
                    username=form.cleaned_data["username"],
                    password=form.cleaned_data["password1"],
                )
            except services.InvitationInvalid:
                return render(request, "collab/invitation_invalid.html", status=404)
            _start_pending(request, user, next_url=reverse("collab:overview"))
            return redirect("collab:enrol")
        status = 400
    return render(
        request,
        "collab/invitation_accept.html",
        {"form": form, "invitation": invitation},
        status=status,
    )
