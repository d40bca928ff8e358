"""What a request gets when it fails before or outside a view's own error handling: an unknown
address, a permission refused, a malformed request, a server error.

Django's defaults are bare pages ("Not Found", no site, no way on) and HTML even for API
clients. Here a person gets the site's page with what happened and where to go next, in their
language; an API client (`/api/`, `/tiles/`, `/ogc/`, or a request that asks for JSON) gets the
API's JSON error shape (webgis.lib.errors; OGC API's exception body under `/ogc/`).
"""

import logging

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.http import urlencode

from webgis.lib.errors import error_body, ogc_exception

logger = logging.getLogger(__name__)

# Where every answer is JSON, whatever the client accepts.
JSON_PREFIXES = ("/api/", "/tiles/")
OGC_PREFIX = "/ogc/"
COLLAB_PREFIX = "/collab/"
OPENAPI_DOCUMENT = "/ogc/api"  # the OpenAPI document of every AMDIS API (catalogue.api)
CODES = {400: "bad_request", 403: "forbidden", 404: "not_found", 500: "server_error"}
OGC_CODES = {400: "InvalidParameterValue", 403: "Forbidden", 404: "NotFound", 500: "ServerError"}
CSRF_MESSAGE = (
    "The form could not be accepted: it was sent without this site's security token, or from"
    " another site. Reload the page and send it again; if this keeps happening, allow this"
    " site's cookies in your browser."
)
MESSAGES = {
    400: "The request could not be understood. Check its address and parameters.",
    403: "You do not have permission for this.",
    404: "Nothing is at this address.",
    500: "Something went wrong on the server; it has been logged. Try again in a minute.",
}


def _wants_json(request: HttpRequest) -> bool:
    if request.path.startswith(JSON_PREFIXES):
        return True
    if request.path.startswith(OGC_PREFIX):
        return request.GET.get("f") != "html" and not _prefers_html(request)
    accept = request.headers.get("Accept", "")
    return "application/json" in accept and not _prefers_html(request)


def _prefers_html(request: HttpRequest) -> bool:
    return "text/html" in request.headers.get("Accept", "")


def _message(status: int, exception: Exception | None) -> str:
    """A refusal's own message (the views write them for people: "Uploading is for editors of a
    national geological survey."); otherwise the status's. A 404's text is not shown: Django's
    own say things like "No Dataset matches the given query"."""
    if status == 403 and isinstance(exception, PermissionDenied) and str(exception):
        return str(exception)
    return MESSAGES[status]


def _json_message(request: HttpRequest, status: int, exception: Exception | None) -> str:
    if status == 404:
        return f"Nothing is at {request.path[:200]}. Every endpoint is in {OPENAPI_DOCUMENT}."
    return _message(status, exception)


def _json(request: HttpRequest, status: int, message: str) -> JsonResponse:
    if request.path.startswith(OGC_PREFIX):
        return ogc_exception(status, OGC_CODES[status], message, code=CODES[status])
    response = JsonResponse(error_body(CODES[status], message), status=status)
    response["Cache-Control"] = "no-store"
    return response


def _page(request: HttpRequest, status: int, exception: Exception | None) -> HttpResponse:
    if _wants_json(request):
        return _json(request, status, _json_message(request, status, exception))
    context = {
        "status": status,
        "message": _message(status, exception),
        "path": request.path,
        "signed_in": getattr(request, "user", None) is not None and request.user.is_authenticated,
        "sign_in_url": "/collab/login/?" + urlencode({"next": request.get_full_path()}),
    }
    # Inside the collaboration platform, its own frame and ways on (its overview, its sign-in).
    template = "collab/error.html" if request.path.startswith(COLLAB_PREFIX) else "error.html"
    response = render(request, template, context, status=status)
    response["Cache-Control"] = "no-store"
    return response


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    return _page(request, 400, exception)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    return _page(request, 403, exception)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A form sent without its CSRF token or from another site (settings.CSRF_FAILURE_VIEW).
    Mostly a page left open across a sign-in or sign-out, or cookies blocked: say so."""
    return _page(request, 403, PermissionDenied(CSRF_MESSAGE))


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    return _page(request, 404, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    """The site's page if it can be drawn; plain text if drawing it fails too (the error may be
    in the templates themselves)."""
    try:
        return _page(request, 500, None)
    except Exception:
        logger.exception("The 500 page could not be drawn")
        return HttpResponse(MESSAGES[500], status=500, content_type="text/plain; charset=utf-8")
