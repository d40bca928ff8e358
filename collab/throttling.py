"""The client address that login throttling (django-axes) counts failures against."""

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """REMOTE_ADDR, or behind a trusted proxy (BEHIND_PROXY) the address it forwarded.

    The right-most X-Forwarded-For entry is the one the proxy itself appended; entries to its
    left come from the client and could be forged to dodge an address lockout.
    """
    remote = str(request.META.get("REMOTE_ADDR", ""))
    if settings.SECURE_PROXY_SSL_HEADER is None:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [part for part in forwarded if part]
    return forwarded[-1] if forwarded else remote
