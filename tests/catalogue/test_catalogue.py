"""The metadata catalogue: search with facets, dataset pages, JSON and ISO 19139 records."""

from typing import Any

import pytest
from django.test import Client

from layers.models import DatasetVersion
from tests.catalogue.conftest import World

pytestmark = pytest.mark.django_db
JSON = {"HTTP_ACCEPT": "application/json"}


def _search(client: Client, **params: Any) -> Any:
    response = client.get("/catalogue/", params, **JSON)
    assert response.status_code == 200, response.content[:300]
    return response.json()


def _ids(doc: Any) -> set[str]:
    return {d["id"] for d in doc["datasets"]}


def test_search_lists_published_datasets(anonymous: Client, world: World) -> None:
    doc = _search(anonymous)
    assert _ids(doc) == {"phl-mines", "idn-geology", "tha-faults", "mys-samples"}
    assert doc["numberMatched"] == 4


def test_search_by_text(anonymous: Client, world: World) -> None:
    assert _ids(_search(anonymous, q="sumatra")) == {"idn-geology"}
    assert _ids(_search(anonymous, q="porphyry mines")) == {"phl-mines"}  # keywords


def test_search_by_commodity_member_state_and_type(anonymous: Client, world: World) -> None:
    assert _ids(_search(anonymous, commodity="gold")) == {"phl-mines"}
    assert _ids(_search(anonymous, member_state="THA")) == {"tha-faults"}
    assert _ids(_search(anonymous, type="geology")) == {"idn-geology"}
    assert _ids(_search(anonymous, type="geology", member_state="PHL")) == set()


def test_a_new_dataset_is_found_by_its_commodity_and_only_it_is_read(
    anonymous: Client, world: World, make_dataset: Any, make_occurrence: Any
) -> None:
    """Each dataset's commodities and extent are cached under its own version: after a new
    dataset, the catalogue reads that dataset's occurrences, not every dataset's."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from deposits.models import MemberState

    assert _ids(_search(anonymous, commodity="tin")) == set()
    tin = make_dataset(slug="mys-tin", member_state=MemberState.objects.get(code="MYS"))
    make_occurrence("Sungai Lembing", lon=103.0, lat=3.9, state="MYS", main=("tin",), dataset=tin)

    with CaptureQueriesContext(connection) as queries:
        assert _ids(_search(anonymous, commodity="tin")) == {"mys-tin"}
    reads = [q["sql"] for q in queries.captured_queries if "array_agg(DISTINCT c.code" in q["sql"]]
    assert len(reads) == 1 and f"ARRAY[{tin.pk}]" in reads[0]

    with CaptureQueriesContext(connection) as queries:
        assert _ids(_search(anonymous, commodity="tin")) == {"mys-tin"}
    assert not any("array_agg(DISTINCT c.code" in q["sql"] for q in queries.captured_queries)


def test_search_by_date(anonymous: Client, world: World) -> None:
    today = world.geology.updated_at.date()
    assert len(_ids(_search(anonymous, date_from=today.isoformat()))) == 4
    assert _ids(_search(anonymous, date_to="2000-01-01")) == set()
    assert len(_ids(_search(anonymous, year=str(today.year)))) == 4


def test_facet_counts_apply_the_other_criteria(anonymous: Client, world: World) -> None:
    facets = _search(anonymous, member_state="PHL")["facets"]
    kinds = {v["value"]: v["count"] for v in facets["kind"]}
    assert kinds == {"occurrences": 1}
    # The member-state facet ignores its own criterion: every state stays selectable.
    states = {v["value"]: v["count"] for v in facets["member_state"]}
    assert states == {"PHL": 1, "IDN": 1, "THA": 1, "MYS": 1}
    commodities = {v["value"]: v["count"] for v in facets["commodity"]}
    assert commodities == {"copper": 1, "gold": 1, "silver": 1}


def test_unpublished_datasets_are_absent_from_search_and_facets(
    anonymous: Client, editor_idn: Client, world: World
) -> None:
    for client in (anonymous, editor_idn):
        doc = _search(client, q="confidential")
        assert doc["numberMatched"] == 0
        facets = _search(client)["facets"]
        assert sum(v["count"] for v in facets["member_state"] if v["value"] == "PHL") == 1
        page = client.get("/catalogue/?q=Unpublished")
        assert b"phl-secret" not in page.content


def test_unpublished_datasets_are_found_by_their_editors_and_reviewers(
    editor_phl: Client, reviewer: Client, world: World
) -> None:
    for client in (editor_phl, reviewer):
        assert _ids(_search(client, q="confidential")) == {"phl-secret"}


def test_unpublished_dataset_pages_are_404(
    anonymous: Client, editor_idn: Client, world: World
) -> None:
    for client in (anonymous, editor_idn):
        assert client.get("/catalogue/phl-secret/").status_code == 404
        assert client.get("/catalogue/phl-secret/?f=json").status_code == 404
        assert client.get("/catalogue/phl-secret/iso19139.xml").status_code == 404


def test_dataset_page_shows_iso_19115_core_and_a_preview(anonymous: Client, world: World) -> None:
    response = anonymous.get("/catalogue/idn-geology/")
    assert response.status_code == 200
    html = response.content.decode()
    for label in (
        "Keywords", "Topic category", "Extent", "Reference system", "Lineage", "Licence",
        "Constraints", "Point of contact", "Dates", "Version", "Distribution",
    ):  # fmt: skip
        assert label in html
    assert "geoscientificInformation" in html
    assert 'id="dataset-map"' in html and "catalogue/dataset." in html
    assert 'id="dataset-preview" type="application/json"' in html
    assert "/downloads/idn-geology/" in html
    assert "<script>" not in html


def test_dataset_json_record(anonymous: Client, world: World) -> None:
    DatasetVersion.objects.create(
        dataset=world.geology, number=1, mode="replace", feature_count=2, snapshot_table="x"
    )
    record = anonymous.get("/catalogue/idn-geology/?f=json").json()
    assert record["title"] == "Geological map of Sumatra"
    assert record["extent"] == pytest.approx([100.0, -1.0, 103.0, 2.0])
    assert record["reference_system"] == "EPSG:4326"
    assert record["scale_denominator"] == 250000
    assert "Version 1" in record["lineage"]
    protocols = {link["protocol"] for link in record["distribution"]}
    assert {"OGC:API-Features", "OGC:API-Tiles", "WWW:DOWNLOAD"} <= protocols


def test_iso19139_record_is_read_by_owslib(anonymous: Client, world: World) -> None:
    from owslib.etree import etree
    from owslib.iso import MD_Metadata

    response = anonymous.get("/catalogue/phl-mines/iso19139.xml")
    assert response["Content-Type"] == "application/xml; charset=utf-8"
    record = MD_Metadata(etree.fromstring(response.content))
    assert record.identifier == "amdis:dataset:phl-mines"
    ident = record.identification[0]
    assert ident.title == "Philippine mines and prospects"
    assert ident.abstract.startswith("Copper and gold occurrences")
    assert "geoscientificInformation" in ident.topiccategory
    keywords = {k.name for group in ident.keywords for k in group.keywords}
    assert {"mines", "copper", "gold", "Philippines"} <= keywords
    box = ident.bbox
    assert (float(box.minx), float(box.maxx)) == pytest.approx((121.1, 125.05))
    assert record.referencesystem.code == "EPSG:4326"
    urls = [online.url for online in record.distribution.online]
    assert any(url.endswith("/ogc/collections/phl-mines") for url in urls)
    assert record.dataquality.lineage.startswith("Supplied by Mines and Geosciences Bureau")


def test_html_search_page_with_facets(anonymous: Client, world: World) -> None:
    response = anonymous.get("/catalogue/?type=occurrences")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Philippine mines and prospects" in html
    assert "Geological map of Sumatra" not in html
    assert 'aria-current="true"' in html


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("commodity=unobtainium", "commodity"),
        ("member_state=XXX", "member_state"),
        ("type=poem", "type"),
        ("date_from=yesterday", "date_from"),
        ("date_from=2024-05-01&date_to=2024-01-01", "date_from"),
        ("year=20x4", "year"),
        ("page=0", "page"),
        ("q=" + "x" * 300, "q"),
        ("sort=title", "sort"),
    ],
)
def test_bad_search_parameters_are_400(
    anonymous: Client, world: World, query: str, field: str
) -> None:
    response = anonymous.get(f"/catalogue/?{query}", **JSON)
    assert response.status_code == 400
    assert response.json()["error"]["field"] == field
    page = anonymous.get(f"/catalogue/?{query}", HTTP_ACCEPT="text/html")
    assert page.status_code == 400
    assert b'role="alert"' in page.content


def test_iso_record_takes_no_parameters(anonymous: Client, world: World) -> None:
    assert anonymous.get("/catalogue/phl-mines/iso19139.xml?x=1").status_code == 400
