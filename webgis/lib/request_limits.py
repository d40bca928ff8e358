"""Refuses a request body larger than allowed before anything reads it (HTTP 413)."""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

UPLOAD_PATH_PREFIXES = ("/uploads/", "/collab/")


class RequestSizeLimitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = (
            settings.UPLOAD_MAX_BYTES
            if request.path.startswith(UPLOAD_PATH_PREFIXES)
            else settings.REQUEST_MAX_BYTES
        )
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > limit:
            return JsonResponse(
                {
                    "error": {
                        "code": "too_large",
                        "message": f"The request is {length:,} bytes; the limit here is {limit:,} bytes. "
                        "Split the data into smaller files, or ask the AMDIS team to raise the limit.",
                    }
                },
                status=413,
            )
        return self.get_response(request)
