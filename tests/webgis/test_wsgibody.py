"""A response complete in memory goes to the app server as one piece (webgis/lib/wsgibody.py):
the same bytes, the response closed once (Django's request_finished), streaming left alone."""

import io
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.signals import request_finished
from django.http import FileResponse, HttpResponse, StreamingHttpResponse

from webgis.lib.wsgibody import WholeBody

# Closing a Django response sends request_finished, whose receivers check the connections.
pytestmark = pytest.mark.django_db


def _environ(path: str, query: str = "") -> dict[str, Any]:
    return {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
        "HTTP_HOST": "localhost",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
    }


class _Finished:
    """Counts Django's request_finished signals while in use."""

    def __init__(self) -> None:
        self.count = 0

    def __enter__(self) -> "_Finished":
        request_finished.connect(self._receive)
        return self

    def __exit__(self, *exc: object) -> None:
        request_finished.disconnect(self._receive)

    def _receive(self, **kwargs: Any) -> None:
        self.count += 1


def _serving(response: Any) -> WholeBody:
    def app(environ: dict[str, Any], start_response: Any) -> Any:
        start_response("200 OK", [])
        return response

    return WholeBody(app)


def test_a_complete_response_is_one_piece_and_closed_once() -> None:
    response = HttpResponse(b'{"a": 1}' * 1000, content_type="application/json")
    with _Finished() as finished:
        body = _serving(response)(_environ("/"), lambda status, headers: None)
    assert isinstance(body, list) and len(body) == 1
    assert body[0] == b'{"a": 1}' * 1000
    assert response.closed and finished.count == 1


def test_streaming_and_file_responses_keep_the_streaming_path() -> None:
    def chunks() -> Iterator[bytes]:
        yield b"one,"
        yield b"two"

    streaming = StreamingHttpResponse(chunks())
    file_response = FileResponse(io.BytesIO(b"file bytes"))
    with _Finished() as finished:
        for response in (streaming, file_response):
            served = _serving(response)(_environ("/"), lambda status, headers: None)
            assert served is response  # not read, not closed: the server iterates and closes
            assert not response.closed
    assert finished.count == 0
    assert b"".join(streaming) == b"one,two"
    streaming.close()
    file_response.close()


def test_a_plain_wsgi_iterable_is_passed_through() -> None:
    body = [b"a", b"b"]
    assert _serving(body)(_environ("/"), lambda status, headers: None) is body


def test_the_entry_point_hands_a_page_over_whole_with_its_length() -> None:
    from webgis.wsgi import application

    headers: dict[str, str] = {}

    def start_response(status: str, response_headers: list[tuple[str, str]]) -> None:
        headers.update(response_headers)
        headers["status"] = status

    with _Finished() as finished:
        body = application(_environ("/ogc/conformance", "f=json"), start_response)
    assert headers["status"].startswith("200")
    assert isinstance(body, list) and len(body) == 1
    assert int(headers["Content-Length"]) == len(body[0])
    assert b"conformsTo" in body[0]
    assert finished.count == 1
