"""The database backend's health check: no round trip on a healthy idle connection, and a
connection the server has ended is found out before a request uses it."""

from unittest import mock

import pytest
from django.contrib.gis.db.backends.postgis.base import DatabaseWrapper as PostGISDatabaseWrapper
from django.db import connection, connections

pytestmark = pytest.mark.django_db


def test_the_backend_is_the_projects_own() -> None:
    assert type(connections["default"]).__module__ == "webgis.db.base"
    assert connection.health_check_enabled


def test_a_healthy_idle_connection_is_usable_without_a_query(second_connection) -> None:  # type: ignore[no-untyped-def]
    with mock.patch.object(
        PostGISDatabaseWrapper, "is_usable", side_effect=AssertionError("SELECT 1 was sent")
    ):
        assert second_connection.is_usable() is True


def test_a_connection_ended_by_the_server_is_not_usable(second_connection, end_session) -> None:  # type: ignore[no-untyped-def]
    end_session(second_connection)  # returns once is_usable() says False
    # Django's per-request check then closes it, and the next use reconnects.
    second_connection.health_check_done = False
    second_connection.close_if_health_check_failed()
    assert second_connection.connection is None
    with second_connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)


def test_a_closed_connection_is_not_usable(second_connection) -> None:  # type: ignore[no-untyped-def]
    second_connection.connection.close()
    assert second_connection.is_usable() is False
