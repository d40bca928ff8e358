"""PostgreSQL helpers: running its own tools (pg_dump, pg_restore) against the configured
database, lifting the web's statement timeout for jobs, and the planner's row counts."""

import os
import shutil
from pathlib import Path

from django.conf import settings
from django.core.management.base import CommandError
from django.db import connection


def pg_env() -> dict[str, str]:
    db = settings.DATABASES["default"]
    env = dict(os.environ)
    env.update(
        {
            "PGHOST": str(db.get("HOST") or ""),
            "PGPORT": str(db.get("PORT") or ""),
            "PGUSER": str(db.get("USER") or ""),
            "PGPASSWORD": str(db.get("PASSWORD") or ""),
            "PGDATABASE": str(db["NAME"]),
        }
    )
    return env


def pg_tool(name: str) -> str:
    """The tool of the newest installed PostgreSQL (the server's major version on Debian)."""
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name), reverse=True
    )
    for folder in versions:
        if (folder / name).exists():
            return str(folder / name)
    found = shutil.which(name)
    if not found:
        raise CommandError(f"{name} is not installed (apt-get install postgresql-client).")
    return found


def statement_timeout_lift() -> None:
    """For jobs and operator commands: the web's statement timeout (settings) is for requests,
    and reading a big file, loading and checking a million rows or building a dataset's feature
    blocks takes longer. Inside a transaction the limit is lifted until it ends; in autocommit
    (the worker) for the worker's connection."""
    scope = "LOCAL " if connection.in_atomic_block else ""
    with connection.cursor() as cursor:
        cursor.execute(f"SET {scope}statement_timeout = 0")


def planner_rows(*tables: str) -> list[float]:
    """Each table's row count as the planner knows it (pg_class.reltuples, from the last
    ANALYZE or VACUUM; 0 for a table never analysed): free, where count(*) reads the table.
    For choosing between two ways of doing a job by its size."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT t.name, greatest(c.reltuples, 0) FROM unnest(%s::text[]) AS t(name)"
            " JOIN pg_class c ON c.oid = t.name::regclass",
            [list(tables)],
        )
        rows = dict(cursor.fetchall())
    return [float(rows[table]) for table in tables]
