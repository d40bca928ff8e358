"""The PostGIS database backend, with a connection health check that costs no round trip.

Django's CONN_HEALTH_CHECKS sends `SELECT 1` before the first query of every request that
reuses a connection. On two cores under load that round trip waits behind busy backends: a
py-spy profile of live polygon tiles put 44 % of request time in it (bench/README.md).

A server that restarts, or ends a session (pg_terminate_backend, idle timeout), sends a
termination notice and closes the socket, and both leave data to read on an idle connection's
socket. So an idle socket with nothing to read is taken as healthy, and only a readable one gets
Django's real check. A connection lost without a word (a cable pulled) fails its first query
instead, which the DatabaseUnavailableMiddleware turns into a 503 and a reconnect.

The wrapper also keeps the names of the statements prepared on its connection
(webgis.db.prepared): a new connection starts with none.
"""

import select
from typing import Any

from django.contrib.gis.db.backends.postgis.base import DatabaseWrapper as PostGISDatabaseWrapper


class DatabaseWrapper(PostGISDatabaseWrapper):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.prepared_statements: set[str] = set()

    def get_new_connection(self, conn_params: dict[str, Any]) -> Any:
        self.prepared_statements = set()
        return super().get_new_connection(conn_params)

    def is_usable(self) -> bool:
        raw = self.connection
        if raw is None or raw.closed:
            return False
        try:
            poller = select.poll()
            poller.register(raw.fileno(), select.POLLIN | select.POLLERR | select.POLLHUP)
            pending = poller.poll(0)
        except (OSError, ValueError):
            return False
        return bool(super().is_usable()) if pending else True
