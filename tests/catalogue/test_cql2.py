"""The CQL2 text parser on its own: what it accepts, the SQL it makes, what it refuses."""

import pytest

from catalogue.collections import GEOLOGY_PROPERTIES, LIST, NUMBER, Property
from catalogue.cql2 import cql2_where
from webgis.lib.errors import BadRequest

QUERYABLES = {p.name: p for p in GEOLOGY_PROPERTIES} | {
    "commodity": Property("commodity", "ARRAY(SELECT 'x')", type=LIST),
    "cu": Property("cu", "(t.attributes->>%s)::float8", type=NUMBER, params=("cu",)),
}


def test_comparisons_become_parameters() -> None:
    where = cql2_where("lithology = 'gran''ite' AND age_min_ma >= 10", QUERYABLES)
    assert "'gran" not in where.sql
    assert list(where.params) == ["gran'ite", 10.0]


def test_property_parameters_come_before_values() -> None:
    where = cql2_where("cu > 5", QUERYABLES)
    assert where.sql == "((t.attributes->>%s)::float8) > %s"
    assert list(where.params) == ["cu", 5.0]


def test_quoted_property_names_and_keywords_in_any_case() -> None:
    where = cql2_where("\"lithology\" like 'gr%' or NOT age is null", QUERYABLES)
    assert "LIKE" in where.sql and "IS NULL" in where.sql


def test_in_on_a_list_is_an_overlap() -> None:
    where = cql2_where("commodity IN ('copper', 'gold')", QUERYABLES)
    assert "&&" in where.sql
    assert list(where.params) == [["copper", "gold"]]


def test_dates() -> None:
    from catalogue.collections import DATE

    queryables = {"d": Property("d", "t.d", type=DATE)}
    where = cql2_where("d > DATE('2020-01-31')", queryables)
    assert str(where.params[0]) == "2020-01-31"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "lithology",
        "lithology = ",
        "lithology = granite",
        "nope = 'x'",
        "lithology = 'x' AND",
        "(lithology = 'x'",
        "lithology = 'x')",
        "age_min_ma = 'x'",
        "age_min_ma LIKE '1%'",
        "commodity > 'a'",
        "lithology = 'x'; DROP TABLE t",
        "lithology = 'unterminated",
        "lithology NOT = 'x'",
        "S_INTERSECTS(geometry, POINT(1 2))",
        "(" * 30 + "lithology = 'x'" + ")" * 30,
        " OR ".join(["lithology = 'x'"] * 60),
        "lithology = 'x\x00'",
        "x" * 5000,
    ],
)
def test_it_rejects_what_it_cannot_read(text: str) -> None:
    with pytest.raises(BadRequest) as error:
        cql2_where(text, QUERYABLES)
    assert error.value.field == "filter"
