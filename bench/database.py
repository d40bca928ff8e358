"""The bench's own database on the app's PostgreSQL server: created, extended and migrated.

Only the bench database is ever written; the app's database (`DATABASE_URL`) is read for its
server address and nothing else.
"""

import os
from dataclasses import dataclass
from urllib.parse import urlsplit

import psycopg2
from psycopg2 import sql

from bench.config import BENCH_DB


@dataclass(frozen=True)
class Server:
    host: str
    port: int
    user: str
    password: str

    def url(self, database: str) -> str:
        auth = self.user + (f":{self.password}" if self.password else "")
        return f"postgres://{auth}@{self.host}:{self.port}/{database}"

    def libpq_env(self, database: str) -> dict[str, str]:
        """PG* variables for psql/pgbench/ogr2ogr pointed at `database`."""
        env = {
            "PGHOST": self.host,
            "PGPORT": str(self.port),
            "PGUSER": self.user,
            "PGDATABASE": database,
        }
        if self.password:
            env["PGPASSWORD"] = self.password
        return env


def app_server() -> tuple[Server, str]:
    """The server and database name of `DATABASE_URL` (the app's), which stays untouched."""
    parts = urlsplit(os.environ["DATABASE_URL"])
    server = Server(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 5432,
        user=parts.username or "postgres",
        password=parts.password or "",
    )
    return server, parts.path.lstrip("/")


def bench_database_ensure(server: Server) -> str:
    """Creates the bench database with PostGIS and pg_trgm if missing; returns its URL."""
    _, app_db = app_server()
    if app_db == BENCH_DB:
        raise SystemExit(f"BENCH_DB must differ from the app's database ({app_db}).")
    admin = psycopg2.connect(
        host=server.host,
        port=server.port,
        user=server.user,
        password=server.password,
        dbname="postgres",
    )
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [BENCH_DB])
        if cursor.fetchone() is None:
            cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(BENCH_DB)))
    admin.close()
    conn = psycopg2.connect(
        host=server.host,
        port=server.port,
        user=server.user,
        password=server.password,
        dbname=BENCH_DB,
    )
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute(
            "CREATE EXTENSION IF NOT EXISTS postgis; CREATE EXTENSION IF NOT EXISTS pg_trgm; CREATE EXTENSION IF NOT EXISTS btree_gist"
        )
    conn.close()
    return server.url(BENCH_DB)
