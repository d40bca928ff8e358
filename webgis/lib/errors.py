"""One JSON error shape for every API: {"error": {"code": ..., "message": ..., "field"?: ...}}."""

from typing import Any

from django.http import JsonResponse
from rest_framework.response import Response
from rest_framework.views import exception_handler


class BadRequest(Exception):
    """A request parameter is invalid; the message says what to send instead."""

    status = 400

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def payload(self) -> dict[str, Any]:
        return error_body("invalid_parameter", self.message, self.field)


def error_body(code: str, message: str, field: str | None = None) -> dict[str, Any]:
    """The project's JSON error: {"error": {"code": ..., "message": ..., "field"?: ...}}."""
    error: dict[str, Any] = {"code": code, "message": message}
    if field:
        error["field"] = field
    return {"error": error}


def ogc_exception(
    status: int, ogc_code: str, message: str, *, code: str, field: str | None = None
) -> JsonResponse:
    """OGC API's exception body (`code`, `description`), carrying the project's error too, so a
    client of either reads it; never cached."""
    response = JsonResponse(
        {"code": ogc_code, "description": message, **error_body(code, message, field)},
        status=status,
    )
    response["Cache-Control"] = "no-store"
    return response


def json_error(exc: BadRequest) -> JsonResponse:
    return JsonResponse(exc.payload(), status=exc.status)


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, BadRequest):
        return Response(exc.payload(), status=exc.status)
    response = exception_handler(exc, context)
    if response is not None and isinstance(response.data, dict) and "error" not in response.data:
        message = response.data.get("detail", response.data)
        response.data = {
            "error": {"code": getattr(exc, "default_code", "error"), "message": message}
        }
    return response
