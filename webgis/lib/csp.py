"""Template context for the Content Security Policy nonce."""

from django.http import HttpRequest


def nonce(request: HttpRequest) -> dict[str, object]:
    # django-leaflet's widget templates read `csp_nonce`; django-csp puts it on the request.
    return {"csp_nonce": getattr(request, "csp_nonce", "")}
