"""Keeps the server process's environment out of each request's WSGI environ.

Granian (the app server, chosen for speed: bench/README.md) copies every variable of its own
environment into every request's environ. Django would then carry DATABASE_URL, SECRET_KEY and
the rest in `request.META`, where an error report or a debug page shows them, and a variable
named like a header (HTTP_PROXY) would read as one a client sent. This middleware drops those
keys before anything else sees the request; the server's own CGI keys are never dropped.
"""

import os
from collections.abc import Callable, Iterable
from typing import Any

StartResponse = Callable[..., Any]
Environ = dict[str, Any]
WsgiApp = Callable[[Environ, StartResponse], Iterable[bytes]]

# What a WSGI server itself sets (PEP 3333, CGI), whatever its process environment holds.
SERVER_KEYS = frozenset(
    {
        "REQUEST_METHOD",
        "SCRIPT_NAME",
        "PATH_INFO",
        "QUERY_STRING",
        "CONTENT_TYPE",
        "CONTENT_LENGTH",
        "SERVER_NAME",
        "SERVER_PORT",
        "SERVER_PROTOCOL",
        "SERVER_SOFTWARE",
        "REMOTE_ADDR",
        "REMOTE_PORT",
        "REMOTE_HOST",
        "HTTPS",
        "RAW_URI",
        "REQUEST_URI",
        "HTTP_HOST",
    }
)


class WithoutProcessEnvironment:
    """WSGI middleware: removes from each request the keys of the process environment."""

    def __init__(self, app: WsgiApp, process_keys: Iterable[str] | None = None) -> None:
        self.app = app
        keys = os.environ.keys() if process_keys is None else process_keys
        self.keys = tuple(k for k in keys if k not in SERVER_KEYS and not k.startswith("wsgi."))

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        for key in self.keys:
            environ.pop(key, None)
        return self.app(environ, start_response)
