"""Hands a response whose body is complete in memory to the server as one piece.

Django's WSGI handler returns the response object itself, an iterable, and Granian (the app
server) sends an iterable through its streaming path: it iterates the body in Python and
hands each chunk to the Rust side separately, which held a fifth of a worker's py-spy
samples on a 0.7 MB items page (README, "Speed"). A list is sent in one write. So a
response that is not streaming has its body taken as bytes and is closed (Django's
`request_finished`, as the server would have done after sending) before the body goes out;
streaming and file responses keep the streaming path.
"""

from collections.abc import Iterable

from django.http import HttpResponse

from webgis.lib.wsgienv import Environ, StartResponse, WsgiApp


class WholeBody:
    """WSGI middleware: a complete `HttpResponse` goes to the server as `[body]`."""

    def __init__(self, app: WsgiApp) -> None:
        self.app = app

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        response = self.app(environ, start_response)
        if not isinstance(response, HttpResponse):
            return response
        try:
            body = response.content
        finally:
            response.close()
        return [body]
