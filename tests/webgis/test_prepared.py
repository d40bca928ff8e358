"""Prepared statements (webgis.db.prepared): planned once per connection, prepared again on a
new one, and the pages that use them answer as before."""

import pytest
from django.db import DataError, OperationalError
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from webgis.db.prepared import PreparedStatement, statement_text

pytestmark = pytest.mark.django_db


def _server_side(wrapper) -> set[str]:  # type: ignore[no-untyped-def]
    with wrapper.cursor() as cursor:
        cursor.execute("SELECT name FROM pg_prepared_statements")
        return {name for (name,) in cursor.fetchall()}


def test_named_placeholders_are_numbered_once_each_and_percent_signs_kept() -> None:
    statement = PreparedStatement(
        "t_named", "SELECT %(a)s::int + %(b)s::int + %(a)s::int, 'x' LIKE '%%';"
    )
    assert statement.body == "SELECT $1::int + $2::int + $1::int, 'x' LIKE '%'"
    assert statement.names == ("a", "b")
    assert statement.values({"b": 2, "a": 1, "unused": 3}) == [1, 2]


def test_positional_placeholders_are_numbered_in_order() -> None:
    statement = PreparedStatement("t_positional", "SELECT %s::int, %s::text")
    assert statement.body == "SELECT $1::int, $2::text"
    assert statement.values([1, "a"]) == [1, "a"]
    with pytest.raises(ValueError, match="takes 2 parameters, not 1"):
        statement.values([1])


@pytest.mark.parametrize(
    ("name", "sql", "message"),
    [
        ("t_mixed", "SELECT %s, %(a)s", "mixes %s and %\\(name\\)s"),
        ("bad name; DROP TABLE x", "SELECT 1", "not a plain identifier"),
        ("Upper", "SELECT 1", "not a plain identifier"),
    ],
)
def test_a_statement_that_cannot_be_prepared_safely_is_refused(
    name: str, sql: str, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        PreparedStatement(name, sql)


def test_a_statement_is_prepared_once_per_connection(second_connection) -> None:  # type: ignore[no-untyped-def]
    statement = PreparedStatement("t_once", "SELECT %(n)s::int * 2")
    with CaptureQueriesContext(second_connection) as queries:
        for n in range(3):
            with second_connection.cursor() as cursor:
                statement.execute(cursor, {"n": n})
                assert cursor.fetchone() == (n * 2,)
    sent = [q["sql"] for q in queries.captured_queries]
    assert sent[0] == "PREPARE t_once AS SELECT $1::int * 2"
    assert sent[1:] == ["EXECUTE t_once(0)", "EXECUTE t_once(1)", "EXECUTE t_once(2)"]
    assert "t_once" in _server_side(second_connection)


def test_a_new_connection_prepares_again(second_connection) -> None:  # type: ignore[no-untyped-def]
    statement = PreparedStatement("t_reconnect", "SELECT %s::text || '!'")
    with second_connection.cursor() as cursor:
        statement.execute(cursor, ["a"])
    second_connection.close()
    assert "t_reconnect" not in _server_side(second_connection)  # reopened: a new session
    with second_connection.cursor() as cursor:
        statement.execute(cursor, ["b"])
        assert cursor.fetchone() == ("b!",)


def test_a_connection_the_server_ended_prepares_again_after_reconnecting(
    second_connection,  # type: ignore[no-untyped-def]
    end_session,  # type: ignore[no-untyped-def]
) -> None:
    statement = PreparedStatement("t_ended", "SELECT %s::int + 1")
    with second_connection.cursor() as cursor:
        statement.execute(cursor, [1])
    end_session(second_connection)
    second_connection.health_check_done = False
    second_connection.close_if_health_check_failed()
    with second_connection.cursor() as cursor:
        statement.execute(cursor, [41])
        assert cursor.fetchone() == (42,)


def test_a_rolled_back_transaction_keeps_the_statement(second_connection) -> None:  # type: ignore[no-untyped-def]
    statement = PreparedStatement("t_rollback", "SELECT %s::int")
    second_connection.set_autocommit(False)
    with second_connection.cursor() as cursor:
        statement.execute(cursor, [1])
    second_connection.rollback()
    second_connection.set_autocommit(True)
    # The wrapper's record and the server agree: EXECUTE works without a second PREPARE.
    with CaptureQueriesContext(second_connection) as queries, second_connection.cursor() as cursor:
        statement.execute(cursor, [7])
        assert cursor.fetchone() == (7,)
    assert [q["sql"] for q in queries.captured_queries] == ["EXECUTE t_rollback(7)"]


def test_the_prefix_runs_in_the_same_round_trip(second_connection) -> None:  # type: ignore[no-untyped-def]
    statement = PreparedStatement(
        "t_prefix",
        "SELECT current_setting('max_parallel_workers_per_gather')",
        "SET LOCAL max_parallel_workers_per_gather = 0; ",
    )
    second_connection.set_autocommit(False)  # SET LOCAL lasts for the transaction
    with second_connection.cursor() as cursor:
        statement.execute(cursor, [])
        assert cursor.fetchone() == ("0",)
        cursor.execute("SELECT current_setting('max_parallel_workers_per_gather')")
        assert cursor.fetchone() == ("0",)
    second_connection.rollback()
    second_connection.set_autocommit(True)
    with second_connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('max_parallel_workers_per_gather')")
        assert cursor.fetchone() != ("0",)


def test_one_name_is_one_statement() -> None:
    PreparedStatement("t_unique", "SELECT 1")
    PreparedStatement("t_unique", "SELECT 1")  # the same statement again (a module reloaded)
    with pytest.raises(ValueError, match="Another statement is prepared as t_unique"):
        PreparedStatement("t_unique", "SELECT 2")


def test_a_captured_execute_reads_as_its_sql() -> None:
    PreparedStatement("t_text", "SELECT %s::int", "SET LOCAL work_mem = '8MB'; ")
    assert statement_text("SET LOCAL work_mem = '8MB'; EXECUTE t_text(5)") == (
        "SET LOCAL work_mem = '8MB'; SELECT $1::int"
    )
    assert statement_text("EXECUTE not_ours(1)") == "EXECUTE not_ours(1)"
    assert statement_text("SELECT 1") == "SELECT 1"


def _lose_statements(wrapper, command: str = "DISCARD ALL") -> None:  # type: ignore[no-untyped-def]
    """What an administrator or a pooler does behind the app's back: the wrapper still
    believes its statements are prepared."""
    known = set(wrapper.prepared_statements)
    with wrapper.cursor() as cursor:
        cursor.execute(command)
    assert _server_side(wrapper) == set()
    assert wrapper.prepared_statements == known


def test_a_session_that_lost_its_statements_prepares_them_again(second_connection) -> None:  # type: ignore[no-untyped-def]
    double = PreparedStatement("t_lost", "SELECT %s::int * 2")
    other = PreparedStatement("t_lost_other", "SELECT %s::text")
    with second_connection.cursor() as cursor:
        double.execute(cursor, [1])
        other.execute(cursor, ["a"])
    _lose_statements(second_connection)
    with CaptureQueriesContext(second_connection) as queries, second_connection.cursor() as cursor:
        double.execute(cursor, [21])
        assert cursor.fetchone() == (42,)
        # Every name was forgotten, not only the one that failed.
        other.execute(cursor, ["b"])
        assert cursor.fetchone() == ("b",)
    assert [q["sql"] for q in queries.captured_queries] == [
        "EXECUTE t_lost(21)",  # fails: the session has no such statement
        "PREPARE t_lost AS SELECT $1::int * 2",
        "EXECUTE t_lost(21)",
        "PREPARE t_lost_other AS SELECT $1::text",
        "EXECUTE t_lost_other('b')",
    ]
    assert {"t_lost", "t_lost_other"} <= _server_side(second_connection)


def test_inside_a_transaction_a_lost_statement_fails_once_then_prepares_again(
    second_connection,  # type: ignore[no-untyped-def]
) -> None:
    statement = PreparedStatement("t_lost_in_transaction", "SELECT %s::int + 1")
    with second_connection.cursor() as cursor:
        statement.execute(cursor, [1])
    _lose_statements(second_connection, "DEALLOCATE ALL")
    second_connection.set_autocommit(False)
    try:
        with (
            second_connection.cursor() as cursor,
            pytest.raises(OperationalError, match="t_lost_in_transaction"),
        ):
            statement.execute(cursor, [2])  # the transaction is aborted: no retry inside it
        second_connection.rollback()
    finally:
        second_connection.set_autocommit(True)
    assert second_connection.prepared_statements == set()
    with second_connection.cursor() as cursor:
        statement.execute(cursor, [2])
        assert cursor.fetchone() == (3,)


def test_another_error_is_not_taken_for_a_lost_statement(second_connection) -> None:  # type: ignore[no-untyped-def]
    statement = PreparedStatement("t_bad_cast", "SELECT %s::int")
    with second_connection.cursor() as cursor:
        statement.execute(cursor, [1])
        with pytest.raises(DataError):
            statement.execute(cursor, ["not a number"])
    assert second_connection.prepared_statements == {"t_bad_cast"}


@override_settings(DATABASE_PREPARED_STATEMENTS=False)
def test_switched_off_every_statement_goes_as_plain_text(second_connection) -> None:  # type: ignore[no-untyped-def]
    """DB_PREPARED_STATEMENTS=0, for a pooler in transaction mode: same rows, no PREPARE."""
    named = PreparedStatement("t_plain", "SELECT %(a)s::int + %(a)s::int, 'x' LIKE '%%'")
    prefixed = PreparedStatement(
        "t_plain_prefix",
        "SELECT current_setting('max_parallel_workers_per_gather')",
        "SET LOCAL max_parallel_workers_per_gather = 0; ",
    )
    second_connection.set_autocommit(False)
    try:
        with (
            CaptureQueriesContext(second_connection) as queries,
            second_connection.cursor() as cursor,
        ):
            named.execute(cursor, {"a": 2})
            assert cursor.fetchone() == (4, True)
            prefixed.execute(cursor, [])
            assert cursor.fetchone() == ("0",)
        second_connection.rollback()
    finally:
        second_connection.set_autocommit(True)
    assert [q["sql"] for q in queries.captured_queries] == [
        "SELECT 2::int + 2::int, 'x' LIKE '%'",
        "SET LOCAL max_parallel_workers_per_gather = 0; "
        "SELECT current_setting('max_parallel_workers_per_gather')",
    ]
    assert second_connection.prepared_statements == set()
    assert _server_side(second_connection) == set()
