"""The app server (Granian) copies its process environment into every request: the WSGI entry
point must drop it, so that no secret reaches request.META and no variable poses as a header."""

import os
from typing import Any

from webgis.lib.wsgienv import WithoutProcessEnvironment


def echo_environ(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [repr(sorted(environ)).encode()]


def request_environ(**extra: str) -> dict[str, Any]:
    return {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/healthz",
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "HTTP_HOST": "127.0.0.1:8000",
        "HTTP_ACCEPT": "*/*",
        "wsgi.url_scheme": "http",
        **extra,
    }


def test_process_variables_are_dropped_and_the_request_keys_kept() -> None:
    seen: list[set[str]] = []

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        seen.append(set(environ))
        return echo_environ(environ, start_response)

    filtered = WithoutProcessEnvironment(
        app,
        process_keys=["DATABASE_URL", "SECRET_KEY", "HTTP_PROXY", "PATH_INFO", "HTTP_HOST"],
    )
    environ = request_environ(
        DATABASE_URL="postgres://amdis:secret@db/amdis",
        SECRET_KEY="s3cret",
        HTTP_PROXY="http://evil.example:3128",
    )
    body = b"".join(filtered(environ, lambda status, headers: None))
    assert seen == [
        {
            "REQUEST_METHOD",
            "PATH_INFO",
            "QUERY_STRING",
            "SERVER_NAME",
            "SERVER_PORT",
            "HTTP_HOST",
            "HTTP_ACCEPT",
            "wsgi.url_scheme",
        }
    ]
    assert b"DATABASE_URL" not in body and b"HTTP_PROXY" not in body


def test_the_project_entry_point_drops_this_process_environment() -> None:
    from webgis.wsgi import application

    assert isinstance(application, WithoutProcessEnvironment)
    assert "DATABASE_URL" in os.environ and "DATABASE_URL" in application.keys
    assert "PATH_INFO" not in application.keys
