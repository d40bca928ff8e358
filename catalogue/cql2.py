"""CQL2 text filters (OGC API - Features Part 3) on simple comparisons, turned into SQL.

Supported: `=`, `<>`, `<`, `<=`, `>`, `>=`, `LIKE`, `BETWEEN`, `IN`, `IS [NOT] NULL`, combined
with `AND`, `OR`, `NOT` and parentheses; literals are strings in single quotes, numbers,
`TRUE`/`FALSE`, `DATE('2024-01-31')` and `TIMESTAMP('2024-01-31T00:00:00Z')`. For example:

    status = 'deposit' AND resource_mt >= 10 AND commodity IN ('copper', 'gold')

Property names are looked up in the collection's queryables (anything else is a 400) and
replaced by their declared SQL; every literal becomes a query parameter.
"""

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from catalogue.collections import DATE, INTEGER, LIST, NUMBER, STRING, Property
from webgis.lib.errors import BadRequest
from webgis.lib.mvt import Where

MAX_LENGTH = 4000
MAX_DEPTH = 20
MAX_PREDICATES = 50
FIELD = "filter"

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>'(?:[^']|'')*')
      | (?P<number>[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]{1,3})?)
      | (?P<op><>|<=|>=|=|<|>)
      | (?P<punct>[(),])
      | (?P<quoted>"(?:[^"]|"")+")
      | (?P<word>[A-Za-z_][A-Za-z0-9_.:]*)
    )""",
    re.VERBOSE,
)
KEYWORDS = {
    "AND", "OR", "NOT", "LIKE", "IN", "BETWEEN", "IS", "NULL", "TRUE", "FALSE", "DATE",
    "TIMESTAMP",
}  # fmt: skip
SQL_OPS = {"=": "=", "<>": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}


@dataclass(frozen=True)
class Token:
    kind: str  # string, number, op, punct, name, keyword, end
    value: str
    pos: int


def _tokens(text: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise BadRequest(
                f"filter: cannot read {text[pos : pos + 20]!r} at character {pos + 1}.", field=FIELD
            )
        kind = match.lastgroup or ""
        value = match.group(kind)
        start = match.start(kind)
        if kind == "string":
            tokens.append(Token("string", value[1:-1].replace("''", "'"), start))
        elif kind == "quoted":
            tokens.append(Token("name", value[1:-1].replace('""', '"'), start))
        elif kind == "word" and value.upper() in KEYWORDS:
            tokens.append(Token("keyword", value.upper(), start))
        elif kind == "word":
            tokens.append(Token("name", value, start))
        else:
            tokens.append(Token(kind, value, start))
        pos = match.end()
    tokens.append(Token("end", "", len(text)))
    return tokens


class _Parser:
    def __init__(self, text: str, queryables: Mapping[str, Property]) -> None:
        self.tokens = _tokens(text)
        self.i = 0
        self.queryables = queryables
        self.predicates = 0

    # Token helpers
    def peek(self) -> Token:
        return self.tokens[self.i]

    def take(self) -> Token:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def accept(self, kind: str, value: str | None = None) -> bool:
        token = self.peek()
        if token.kind == kind and (value is None or token.value == value):
            self.i += 1
            return True
        return False

    def expect(self, kind: str, value: str | None = None, what: str = "") -> Token:
        token = self.peek()
        if token.kind != kind or (value is not None and token.value != value):
            self.fail(f"expected {what or value or kind}")
        return self.take()

    def fail(self, message: str) -> None:
        token = self.peek()
        seen = "the end" if token.kind == "end" else repr(token.value[:30])
        raise BadRequest(
            f"filter: {message} at character {token.pos + 1} (found {seen}).", field=FIELD
        )

    # Grammar
    def parse(self) -> Where:
        where = self.disjunction(0)
        if self.peek().kind != "end":
            self.fail("expected AND, OR or the end of the filter")
        return where

    def disjunction(self, depth: int) -> Where:
        if depth > MAX_DEPTH:
            self.fail(f"nesting deeper than {MAX_DEPTH}")
        parts = [self.conjunction(depth)]
        while self.accept("keyword", "OR"):
            parts.append(self.conjunction(depth))
        if len(parts) == 1:
            return parts[0]
        return Where(
            "(" + " OR ".join(f"({p.sql})" for p in parts) + ")",
            [param for p in parts for param in p.params],
        )

    def conjunction(self, depth: int) -> Where:
        where = self.negation(depth)
        while self.accept("keyword", "AND"):
            where = where & self.negation(depth)
        return where

    def negation(self, depth: int) -> Where:
        if self.accept("keyword", "NOT"):
            inner = self.negation(depth + 1)
            # Three-valued logic: NOT of an unknown comparison is not true either.
            return Where(f"NOT coalesce(({inner.sql}), false)", inner.params)
        if self.accept("punct", "("):
            inner = self.disjunction(depth + 1)
            self.expect("punct", ")", "')'")
            return inner
        return self.predicate()

    def predicate(self) -> Where:
        self.predicates += 1
        if self.predicates > MAX_PREDICATES:
            self.fail(f"more than {MAX_PREDICATES} comparisons")
        prop = self.property()
        token = self.peek()
        if token.kind == "op":
            self.take()
            return self.compare(prop, SQL_OPS[token.value], self.literal(prop))
        negated = self.accept("keyword", "NOT")
        if self.accept("keyword", "LIKE"):
            if prop.type != STRING:
                self.fail(f"LIKE needs a text property; {prop.name} is a {prop.type}")
            pattern = self.expect("string", what="a quoted pattern").value
            return Where(
                f"({prop.sql}) {'NOT ' if negated else ''}LIKE %s", [*prop.params, pattern]
            )
        if self.accept("keyword", "BETWEEN"):
            low = self.literal(prop)
            self.expect("keyword", "AND", "AND")
            high = self.literal(prop)
            if prop.type == LIST:
                self.fail(f"BETWEEN does not apply to the list property {prop.name}")
            return Where(
                f"({prop.sql}) {'NOT ' if negated else ''}BETWEEN %s AND %s",
                [*prop.params, low, high],
            )
        if self.accept("keyword", "IN"):
            self.expect("punct", "(", "'('")
            values = [self.literal(prop)]
            while self.accept("punct", ","):
                values.append(self.literal(prop))
            self.expect("punct", ")", "')'")
            if prop.type == LIST:
                sql = f"({prop.sql})::text[] && %s::text[]"
            else:
                sql = f"({prop.sql}) = ANY(%s)"
            where = Where(sql, [*prop.params, values])
            return Where(f"NOT coalesce(({where.sql}), false)", where.params) if negated else where
        if negated:
            self.fail("expected LIKE, BETWEEN or IN after NOT")
        if self.accept("keyword", "IS"):
            is_not = self.accept("keyword", "NOT")
            self.expect("keyword", "NULL", "NULL")
            if prop.type == LIST:
                sql = f"cardinality({prop.sql}) {'>' if is_not else '='} 0"
            else:
                sql = f"({prop.sql}) IS {'NOT ' if is_not else ''}NULL"
            return Where(sql, list(prop.params))
        self.fail("expected a comparison (=, <>, <, <=, >, >=, LIKE, BETWEEN, IN or IS NULL)")
        raise AssertionError  # unreachable: fail() raises

    def property(self) -> Property:
        token = self.peek()
        if token.kind != "name":
            self.fail("expected a property name")
        self.take()
        prop = self.queryables.get(token.value)
        if prop is None:
            names = ", ".join(sorted(self.queryables))
            raise BadRequest(
                f"filter: unknown property {token.value[:60]!r}. Queryables: {names}.",
                field=FIELD,
            )
        return prop

    def literal(self, prop: Property) -> Any:
        token = self.take()
        if prop.type in (STRING, LIST):
            if token.kind != "string":
                self.i -= 1
                self.fail(f"{prop.name} is text: compare it with a quoted string")
            return token.value
        if prop.type in (NUMBER, INTEGER):
            if token.kind != "number":
                self.i -= 1
                self.fail(f"{prop.name} is a number: compare it with a number")
            return float(token.value)
        if prop.type == DATE:
            if token.kind == "keyword" and token.value in ("DATE", "TIMESTAMP"):
                self.expect("punct", "(", "'('")
                text = self.expect("string", what="a quoted date").value
                self.expect("punct", ")", "')'")
            elif token.kind == "string":
                text = token.value
            else:
                self.i -= 1
                self.fail(f"{prop.name} is a date: compare it with DATE('YYYY-MM-DD')")
            return parse_date(text, field=FIELD)
        raise BadRequest(f"filter: {prop.name} cannot be compared.", field=FIELD)

    def compare(self, prop: Property, op: str, value: Any) -> Where:
        if prop.type == LIST:
            if op == "=":
                return Where(f"%s = ANY({prop.sql})", [value, *prop.params])
            if op == "<>":
                return Where(f"NOT (%s = ANY({prop.sql}))", [value, *prop.params])
            self.i -= 1
            self.fail(f"{prop.name} is a list: use =, <> or IN")
        return Where(f"({prop.sql}) {op} %s", [*prop.params, value])


def parse_date(text: str, *, field: str) -> dt.date:
    try:
        if len(text) == 10:
            return dt.date.fromisoformat(text)
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).date()
    except ValueError:
        raise BadRequest(
            f"{field}: {text[:40]!r} is not a date (YYYY-MM-DD or an RFC 3339 timestamp).",
            field=field,
        ) from None


def cql2_where(text: str, queryables: Mapping[str, Property]) -> Where:
    """The filter as SQL over `t`; any error is a BadRequest that says where and why."""
    if len(text) > MAX_LENGTH:
        raise BadRequest(f"filter must be at most {MAX_LENGTH} characters.", field=FIELD)
    if "\x00" in text:
        raise BadRequest("filter must not contain NUL characters.", field=FIELD)
    if not text.strip():
        raise BadRequest("filter is empty.", field=FIELD)
    return _Parser(text, queryables).parse()
