"""Fixtures of the database backend's tests: a connection of a test's own, and a way to have the
server end it."""

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.db import connection, connections


@pytest.fixture
def second_connection() -> Iterator[Any]:
    """A connection of its own (the test's own runs inside the test transaction)."""
    other = connections.create_connection("default")
    other.settings_dict["NAME"] = connection.settings_dict["NAME"]
    other.ensure_connection()
    yield other
    other.close()


@pytest.fixture
def end_session() -> Callable[[Any], None]:
    """Has the server end `wrapper`'s session, as a restart or an idle timeout would, and waits
    until the wrapper's health check sees it."""

    def end(wrapper: Any) -> None:
        with wrapper.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            (pid,) = cursor.fetchone()
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
            assert cursor.fetchone() == (True,)
        deadline = time.monotonic() + 5
        while wrapper.is_usable():
            assert time.monotonic() < deadline, "the ended connection still looks usable"
            time.sleep(0.05)

    return end
