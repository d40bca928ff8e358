"""Ends signed-in sessions that have been idle too long."""

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse

LAST_SEEN_KEY = "collab_last_seen"
# Write the session at most this often for the idle clock: not on every tile request.
_TOUCH_EVERY_SECONDS = 60


class SessionIdleTimeoutMiddleware:
    """Logs out (deleting the session on the server) after COLLAB_IDLE_TIMEOUT seconds idle.

    Install after AuthenticationMiddleware and MessageMiddleware.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            now = int(time.time())
            last_seen = request.session.get(LAST_SEEN_KEY)
            if isinstance(last_seen, int) and now - last_seen > settings.COLLAB_IDLE_TIMEOUT:
                logout(request)
                minutes = settings.COLLAB_IDLE_TIMEOUT // 60
                messages.info(
                    request, f"Your session ended after {minutes} minutes without activity."
                )
            elif not isinstance(last_seen, int) or now - last_seen >= _TOUCH_EVERY_SECONDS:
                request.session[LAST_SEEN_KEY] = now
        return self.get_response(request)
