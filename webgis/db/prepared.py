"""Statements the database plans once per connection (SQL `PREPARE`), not at every execution.

The public items page's statement joins the dataset to its feature blocks twice; parsing and
planning it took 0.7 ms of its 3 ms (a 1,000-feature page), each time, since psycopg2 sends
every statement as text. A prepared statement is planned on the first executions and its plan
kept by the session.

Prepared statements belong to the database session: they outlive a rolled-back transaction,
and a new connection has none. The backend's wrapper (webgis.db.base) keeps the names prepared
on its current connection and starts a new connection with none.

A session can also lose them behind the app's back: `DISCARD ALL` or `DEALLOCATE ALL` (run by
an administrator, or by a pooler between clients). The EXECUTE then fails with "prepared
statement does not exist"; the connection forgets every name, and outside a transaction the
statement is prepared and run again at once. Inside one the transaction is already aborted, so
that one statement fails and the next prepares again. A pooler that hands one client's
transactions to different sessions (pgbouncer in transaction mode) would lose them all the
time: there, `DB_PREPARED_STATEMENTS=0` sends every statement as plain text (README,
"Deploying at scale").
"""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import DatabaseError

# Every statement by name: a name is one statement on every connection.
STATEMENTS: dict[str, "PreparedStatement"] = {}
# psycopg2's placeholders: `%s`, `%(name)s`, and `%%` for a literal percent sign.
_PLACEHOLDER = re.compile(r"%%|%\((\w+)\)s|%s")
_NAME = re.compile(r"[a-z_][a-z0-9_]*")
_STATEMENT_UNKNOWN = "26000"  # invalid_sql_statement_name: no prepared statement by that name


@dataclass(frozen=True)
class PreparedStatement:
    """`sql` with psycopg2 placeholders (all `%s`, or all `%(name)s`) prepared as `name`.

    `prefix` runs before each execution in the same round trip (e.g. `SET LOCAL`s that the
    planner must see: a plan is made at execution, not at PREPARE)."""

    name: str
    sql: str
    prefix: str = ""
    body: str = field(init=False)  # the SQL with $1, $2... for PREPARE
    names: tuple[str, ...] = field(init=False)  # named placeholders, in $ order
    arity: int = field(init=False)

    def __post_init__(self) -> None:
        if not _NAME.fullmatch(self.name):
            raise ValueError(f"Prepared statement name {self.name!r} is not a plain identifier.")
        names: list[str] = []
        positional = 0

        def number(match: re.Match[str]) -> str:
            nonlocal positional
            if match.group(0) == "%%":
                return "%"
            if match.group(1) is None:
                positional += 1
                return f"${positional}"
            if match.group(1) not in names:
                names.append(match.group(1))
            return f"${names.index(match.group(1)) + 1}"

        body = _PLACEHOLDER.sub(number, self.sql)
        if positional and names:
            raise ValueError(f"{self.name}: mixes %s and %(name)s placeholders.")
        object.__setattr__(self, "body", body.strip().removesuffix(";"))
        object.__setattr__(self, "names", tuple(names))
        object.__setattr__(self, "arity", positional or len(names))
        known = STATEMENTS.setdefault(self.name, self)
        if known.body != self.body or known.prefix != self.prefix:
            raise ValueError(f"Another statement is prepared as {self.name}.")

    def values(self, params: Sequence[Any] | Mapping[str, Any]) -> list[Any]:
        if isinstance(params, Mapping):
            return [params[name] for name in self.names]
        if len(params) != self.arity:
            raise ValueError(f"{self.name} takes {self.arity} parameters, not {len(params)}.")
        return list(params)

    def execute(self, cursor: Any, params: Sequence[Any] | Mapping[str, Any]) -> None:
        """Runs the statement on `cursor` (a Django cursor of the `webgis.db` backend),
        preparing it first on a connection that has not seen it."""
        values = self.values(params)
        if not settings.DATABASE_PREPARED_STATEMENTS:
            cursor.execute(self.prefix + self.sql, params)
            return
        try:
            self._execute_prepared(cursor, values)
        except DatabaseError as error:
            if getattr(error.__cause__, "pgcode", None) != _STATEMENT_UNKNOWN:
                raise
            # The session lost its statements (DISCARD ALL, DEALLOCATE ALL): all of them.
            cursor.db.prepared_statements.clear()
            if not cursor.db.get_autocommit():
                raise  # the transaction is aborted; the next statement prepares again
            self._execute_prepared(cursor, values)

    def _execute_prepared(self, cursor: Any, values: list[Any]) -> None:
        prepared: set[str] = cursor.db.prepared_statements
        if self.name not in prepared:
            # No parameters: psycopg2 sends the text as it is (the body's `%` stay single).
            cursor.execute(f"PREPARE {self.name} AS {self.body}")
            prepared.add(self.name)
        arguments = f"({', '.join(['%s'] * len(values))})" if values else ""
        cursor.execute(f"{self.prefix}EXECUTE {self.name}{arguments}", values)


def statement_text(sql: str) -> str:
    """`sql` as run, with an EXECUTE of a statement above replaced by the statement's SQL (for
    reading a captured query: tests, logs)."""
    match = re.search(r"EXECUTE (\w+)", sql)
    statement = STATEMENTS.get(match.group(1)) if match else None
    return sql if statement is None else statement.prefix + statement.body
