"""GET /api/occurrences/: filters, paging, single features and every error case."""

import json
from typing import Any

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db
URL = "/api/occurrences/"


def get_json(client: Client, url: str, **params: Any) -> tuple[int, dict[str, Any]]:
    response = client.get(url, params)
    return response.status_code, json.loads(response.content)


def names(doc: dict[str, Any]) -> list[str]:
    return sorted(f["properties"]["name"] for f in doc["features"])


@pytest.fixture
def sites(make_occurrence) -> None:
    make_occurrence(
        "Tampakan",
        lon=125.05,
        lat=6.48,
        main=("copper",),
        secondary=("gold",),
        status="prospect",
        deposit_type="Porphyry Cu-Au",
    )
    make_occurrence(
        "Batu Hijau",
        lon=116.87,
        lat=-8.96,
        state="IDN",
        main=("copper", "gold"),
        status="operating_mine",
        deposit_type="Porphyry Cu-Au",
        other_names=["Newmont NTB"],
    )
    make_occurrence(
        "Rahman Hydraulic",
        lon=101.3,
        lat=5.4,
        state="MYS",
        main=("tin",),
        status="past_producer",
        deposit_type="Greisen Sn",
    )
    make_occurrence(
        "Sepon",
        lon=106.2,
        lat=16.9,
        state="LAO",
        main=("gold",),
        secondary=("copper",),
        status="closed_mine",
        deposit_type="Carlin-like Au",
    )


def test_it_returns_a_feature_collection_serialised_by_postgis(
    anonymous: Client, sites: None
) -> None:
    response = anonymous.get(URL)

    assert response["Content-Type"] == "application/geo+json"
    doc = json.loads(response.content)
    assert doc["type"] == "FeatureCollection"
    assert doc["numberMatched"] == doc["numberReturned"] == 4
    tampakan = next(f for f in doc["features"] if f["properties"]["name"] == "Tampakan")
    assert tampakan["geometry"] == {"type": "Point", "coordinates": [125.05, 6.48]}
    props = tampakan["properties"]
    assert props["member_state"] == "PHL"
    assert [(c["code"], c["rank"]) for c in props["commodities"]] == [
        ("copper", "main"),
        ("gold", "secondary"),
    ]
    assert props["url"] == f"/occurrences/{tampakan['id']}/"


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"commodity": "gold"}, ["Batu Hijau", "Sepon", "Tampakan"]),
        ({"commodity": "Sn"}, ["Rahman Hydraulic"]),  # chemical symbol, any case
        ({"commodity": "tin,gold"}, ["Batu Hijau", "Rahman Hydraulic", "Sepon", "Tampakan"]),
        ({"member_state": "IDN,mys"}, ["Batu Hijau", "Rahman Hydraulic"]),
        ({"status": "operating_mine"}, ["Batu Hijau"]),
        ({"deposit_type": "Porphyry Cu-Au"}, ["Batu Hijau", "Tampakan"]),
        ({"bbox": "100,0,110,20"}, ["Rahman Hydraulic", "Sepon"]),
        ({"q": "hijau"}, ["Batu Hijau"]),
        ({"q": "newmont"}, ["Batu Hijau"]),  # other names are searched too
        ({"commodity": "copper", "member_state": "PHL"}, ["Tampakan"]),
        ({"q": "100%_"}, []),  # LIKE wildcards are literal
    ],
)
def test_filters(
    anonymous: Client, sites: None, params: dict[str, str], expected: list[str]
) -> None:
    status, doc = get_json(anonymous, URL, **params)
    assert status == 200
    assert names(doc) == expected
    assert doc["numberMatched"] == len(expected)


def test_pages_follow_next_links_to_the_end(anonymous: Client, sites: None) -> None:
    seen: list[str] = []
    url: str | None = f"{URL}?limit=3"
    while url:
        doc = json.loads(anonymous.get(url).content)
        seen += [f["properties"]["name"] for f in doc["features"]]
        url = next((link["href"] for link in doc["links"] if link["rel"] == "next"), None)
    assert sorted(seen) == ["Batu Hijau", "Rahman Hydraulic", "Sepon", "Tampakan"]
    assert len(seen) == 4


def test_next_links_keep_the_filters(anonymous: Client, sites: None) -> None:
    _, doc = get_json(anonymous, URL, commodity="gold", limit=1)
    nxt = next(link["href"] for link in doc["links"] if link["rel"] == "next")
    assert "commodity=gold" in nxt
    assert "offset=1" in nxt


def test_a_page_past_the_end_is_empty(anonymous: Client, sites: None) -> None:
    status, doc = get_json(anonymous, URL, offset=100)
    assert status == 200
    assert doc["features"] == []
    assert doc["numberMatched"] == 4


def test_the_page_size_has_a_documented_maximum(
    anonymous: Client, sites: None, settings: Any
) -> None:
    settings.API_MAX_PAGE_SIZE = 2
    status, doc = get_json(anonymous, URL, limit=2)
    assert (status, doc["maxLimit"], doc["numberReturned"]) == (200, 2, 2)
    status, doc = get_json(anonymous, URL, limit=3)
    assert status == 400
    assert doc["error"]["field"] == "limit"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"bbox": "abc"}, "bbox"),
        ({"bbox": "1,2,3"}, "bbox"),
        ({"bbox": "110,0,100,10"}, "bbox"),  # minx > maxx
        ({"bbox": "NaN,0,1,1"}, "bbox"),
        ({"bbox": "-200,-100,200,100"}, "bbox"),  # larger than the world
        ({"bbox": "1e309,0,1,1"}, "bbox"),
        ({"limit": "10000000"}, "limit"),
        ({"limit": "-1"}, "limit"),
        ({"limit": "0"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"offset": "99999999999"}, "offset"),
        ({"offset": "-5"}, "offset"),
        ({"commodity": "unobtainium"}, "commodity"),
        ({"commodity": "/vsicurl/http://127.0.0.1/"}, "commodity"),
        ({"commodity": '{"$gt": ""}'}, "commodity"),
        ({"member_state": "CHN"}, "member_state"),
        ({"status": "abandoned"}, "status"),
        ({"deposit_type": "Nonexistent type"}, "deposit_type"),
        ({"q": "x" * 101}, "q"),
        ({"sort": "exec(1)"}, "sort"),  # unknown parameters are refused, not ignored
    ],
)
def test_bad_input_is_a_400_with_a_json_error(
    anonymous: Client, sites: None, params: dict[str, str], field: str
) -> None:
    status, doc = get_json(anonymous, URL, **params)
    assert status == 400
    assert doc["error"]["code"] == "invalid_parameter"
    assert doc["error"]["field"] == field
    assert doc["error"]["message"]


def test_an_unknown_value_lists_the_allowed_ones(anonymous: Client, sites: None) -> None:
    _, doc = get_json(anonymous, URL, status="abandoned")
    assert "operating_mine" in doc["error"]["message"]


def test_one_occurrence_has_all_its_attributes(anonymous: Client, make_occurrence) -> None:
    occurrence = make_occurrence(
        "Tampakan", references="Rohrlach 2003", grades={"copper": {"value": 0.6, "unit": "%"}}
    )

    response = anonymous.get(f"{URL}{occurrence.pk}/")

    assert response.status_code == 200
    feature = json.loads(response.content)
    assert feature["type"] == "Feature"
    assert feature["id"] == occurrence.pk
    assert feature["properties"]["references"] == "Rohrlach 2003"
    assert feature["properties"]["grades"] == {"copper": {"value": 0.6, "unit": "%"}}
    assert feature["properties"]["dataset_licence"] == "CC BY 4.0"


def test_a_missing_occurrence_is_a_json_404(anonymous: Client) -> None:
    status, doc = get_json(anonymous, f"{URL}999999/")
    assert status == 404
    assert doc["error"]["code"] == "not_found"


def test_unpublished_data_is_hidden_from_the_public(
    anonymous: Client, reviewer: Client, make_occurrence, make_dataset
) -> None:
    draft = make_dataset(is_published=False)
    hidden = make_occurrence("Draft prospect", dataset=draft)
    make_occurrence("Public prospect")

    _, doc = get_json(anonymous, URL)
    assert names(doc) == ["Public prospect"]
    assert anonymous.get(f"{URL}{hidden.pk}/").status_code == 404
    assert anonymous.get(f"/occurrences/{hidden.pk}/").status_code == 404

    response = reviewer.get(URL)
    assert names(json.loads(response.content)) == ["Draft prospect", "Public prospect"]
    assert response["Cache-Control"].startswith("private")


def test_name_search_ranks_the_closest_name_first(anonymous: Client, sites: None) -> None:
    status, doc = get_json(anonymous, f"{URL}search", q="sepon")
    assert status == 200
    first = doc["results"][0]
    assert (first["name"], first["member_state"]) == ("Sepon", "LAO")
    assert first["lon"] == pytest.approx(106.2)


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("an", ["Rahman Hydraulic", "Tampakan"]),  # 2 letters: read row by row
        ("ne", ["Batu Hijau"]),  # in an other name only ("Newmont NTB")
        ("new", ["Batu Hijau"]),  # 3 letters and more: through the trigram index
        ("NEWMONT ntb", ["Batu Hijau"]),
        ("hijau newmont", []),  # never across the name and an other name
        ("tb", ["Batu Hijau"]),
    ],
)
def test_a_text_is_found_in_names_and_other_names_however_long(
    anonymous: Client, sites: None, text: str, found: list[str]
) -> None:
    assert names(get_json(anonymous, URL, q=text)[1]) == found
    matches = get_json(anonymous, f"{URL}search", q=text)[1]["results"]
    assert sorted(m["name"] for m in matches) == found


def test_the_text_search_can_use_its_trigram_index(sites: None) -> None:
    """The filter's expression is the index's: with sequential scans off, PostgreSQL takes the
    index (a different expression could only be read row by row)."""
    from django.db import connection

    from deposits.selectors import OccurrenceFilters

    where = OccurrenceFilters(text="hijau").where()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(
            f"EXPLAIN SELECT t.id FROM deposits_mineraloccurrence t WHERE {where.sql}",
            list(where.params),
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "occurrence_search_trgm" in plan
    assert where.matches_first


def test_a_text_filtered_page_sorts_its_matches_instead_of_walking_the_ids() -> None:
    """A text found nowhere must not make a page test every row in id order (1.9 s over 1M
    occurrences): its page is not ordered by the primary key's own expression, so the plan
    collects the matches, then sorts them. On a test database's few rows the planner picks
    that plan either way, so the statement is checked, not its plan."""
    from deposits.selectors import OccurrenceFilters, occurrences_page_sql

    searched, _ = occurrences_page_sql(OccurrenceFilters(text="nowhere").where(), 10, 0)
    unfiltered, _ = occurrences_page_sql(OccurrenceFilters().where(), 10, 0)
    assert "ORDER BY t.id + 0 LIMIT" in searched
    assert "ORDER BY t.id LIMIT" in unfiltered  # other pages keep the primary key's order


def test_name_search_needs_two_characters(anonymous: Client) -> None:
    status, doc = get_json(anonymous, f"{URL}search", q="s")
    assert status == 400
    assert doc["error"]["field"] == "q"


def test_vocabularies_list_the_filter_values(anonymous: Client, sites: None) -> None:
    status, doc = get_json(anonymous, "/api/vocabularies/")
    assert status == 200
    assert "Porphyry Cu-Au" in doc["deposit_types"]
    assert {"code": "TLS", "name": "Timor-Leste", "accession_year": 2025} in doc["member_states"]
    copper = next(c for c in doc["commodities"] if c["code"] == "copper")
    assert copper["occurrences_count"] == 3


def test_vocabularies_follow_an_edited_commodity_at_once(anonymous: Client, sites: None) -> None:
    """The counts are cached per data version; editing the vocabulary changes the key too."""
    from deposits.models import Commodity

    def copper() -> dict[str, Any]:
        doc = get_json(anonymous, "/api/vocabularies/")[1]
        return next(c for c in doc["commodities"] if c["code"] == "copper")

    assert copper()["name"] == "Copper"
    Commodity.objects.filter(code="copper").update(name="Copper (Cu)")
    assert (copper()["name"], copper()["occurrences_count"]) == ("Copper (Cu)", 3)


def test_the_occurrence_page_shows_its_attributes(anonymous: Client, make_occurrence) -> None:
    occurrence = make_occurrence(
        "Tampakan <b>", references="Rohrlach 2003", deposit_type="Porphyry Cu-Au"
    )

    response = anonymous.get(f"/occurrences/{occurrence.pk}/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "Tampakan &lt;b&gt;" in html  # escaped
    assert "Porphyry Cu-Au" in html
    assert "Rohrlach 2003" in html


def test_deposit_types_with_commas_are_filtered_by_repeating_the_parameter(
    anonymous: Client, make_occurrence
) -> None:
    make_occurrence("A", deposit_type="Skarn, Cu-Au")
    make_occurrence("B", deposit_type="Porphyry")
    make_occurrence("C", deposit_type="Placer")

    status, doc = get_json(anonymous, f"{URL}?deposit_type=Skarn,%20Cu-Au&deposit_type=Porphyry")
    assert status == 200
    assert names(doc) == ["A", "B"]


def test_source_attributes_named_like_dict_methods_render(
    anonymous: Client, make_occurrence
) -> None:
    occurrence = make_occurrence(
        "Odd columns",
        attributes={"items": "3", "keys": "x"},
        grades={"items": {"value": 1, "unit": "%"}},
    )
    response = anonymous.get(f"/occurrences/{occurrence.pk}/")
    assert response.status_code == 200
    assert b"keys" in response.content
