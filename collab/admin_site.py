"""The admin site behind the platform's second factor."""

from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django_otp.admin import OTPAdminSite


class SecondFactorAdminSite(OTPAdminSite):
    """Staff must have signed in with a second factor; the admin has no sign-in form of its own.

    Its login page sends people to the platform's sign-in (password, then TOTP or a recovery
    code), so lockout and two-factor rules are the same for both.
    """

    def __init__(self, name: str = "admin") -> None:
        super().__init__(name)

    def login(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        next_url = request.GET.get("next", "")
        if not url_has_allowed_host_and_scheme(
            next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            next_url = reverse("admin:index", current_app=self.name)
        if self.has_permission(request):
            return HttpResponseRedirect(next_url)
        return redirect_to_login(next_url, reverse("collab:login"))
