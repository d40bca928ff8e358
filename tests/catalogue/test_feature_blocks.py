"""Feature blocks (catalogue.blocks): unfiltered items pages of a published dataset read from
pre-built blocks are the pages SQL builds, byte for byte; stale or missing blocks are never
served; every change to what a feature shows deletes the blocks it touches."""

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from catalogue import api as catalogue_api
from catalogue import blocks
from catalogue.blocks import blocks_build
from catalogue.models import FeatureBlock, FeatureText
from deposits.models import Commodity, MemberState, MineralOccurrence
from layers.models import Dataset
from tests.catalogue.conftest import THAI, VIETNAMESE, World
from webgis.db.prepared import statement_text

pytestmark = pytest.mark.django_db
JSON = {"HTTP_ACCEPT": "application/json"}
SIZE = 3  # features a block: pages of a few features span several blocks
NAMES = [VIETNAMESE, THAI, "Tampakan", "Didipio", 'Quote " and \\ slash', "Ñ", "x" * 250]


@pytest.fixture(autouse=True)
def _small_blocks(settings: Any) -> None:
    settings.FEATURE_BLOCK_SIZE = SIZE


@pytest.fixture
def mines(make_dataset: Callable[..., Dataset], make_occurrence: Any) -> Dataset:
    """11 occurrences with multi-byte names (offsets are in bytes): blocks of 3, 3, 3, 2."""
    dataset = make_dataset(slug="phl-mines", title="Mines of the Philippines")
    for i in range(11):
        make_occurrence(
            f"{NAMES[i % len(NAMES)]} {i}",
            lon=121 + i / 10,
            lat=15 - i / 10,
            main=("copper",) if i % 2 else ("gold", "silver"),
            dataset=dataset,
        )
    return dataset


def _items(client: Client, collection: str, **params: Any) -> tuple[bytes, list[str]]:
    """The response body and the SQL it ran."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"/ogc/collections/{collection}/items", {"f": "json", **params})
        body = b"".join(response.streaming_content) if response.streaming else response.content
    assert response.status_code == 200, body[:300]
    return body, [statement_text(q["sql"]) for q in queries.captured_queries]


def _page(body: bytes) -> tuple[list[Any], int, int, list[str]]:
    doc = json.loads(body)
    links = sorted(f"{link['rel']} {link['href']}" for link in doc["links"])
    return doc["features"], doc["numberMatched"], doc["numberReturned"], links


def _features_bytes(body: bytes) -> bytes:
    """The features array exactly as sent."""
    text = body.decode()
    start = text.index('"features":[') + len('"features":')
    _, end = json.JSONDecoder().raw_decode(text, start)
    return text[start:end].encode()


def _from_blocks(sql: list[str]) -> bool:
    return any(blocks.TABLE in q for q in sql) and not any(
        "deposits_occurrencejson" in q for q in sql
    )


PAGES = [
    (3, 0),  # one whole block
    (6, 3),  # two whole blocks
    (1, 4),  # inside one block
    (4, 2),  # last feature of a block to the first of the third
    (5, 1),  # cut at both ends
    (10, 0),  # whole blocks, then the last one partly filled
    (100, 8),  # past the last feature
    (1, 10),  # the last feature alone
]


@pytest.mark.parametrize(("limit", "offset"), PAGES)
def test_block_pages_are_the_sql_pages_byte_for_byte(
    anonymous: Client, mines: Dataset, limit: int, offset: int
) -> None:
    assert blocks_build(mines.pk) == 4
    from_blocks, sql = _items(anonymous, "phl-mines", limit=limit, offset=offset)
    assert _from_blocks(sql), sql
    FeatureBlock.objects.all().delete()
    from_sql, sql = _items(anonymous, "phl-mines", limit=limit, offset=offset)
    assert not _from_blocks(sql)
    assert _features_bytes(from_blocks) == _features_bytes(from_sql)
    assert _page(from_blocks) == _page(from_sql)
    features, matched, returned, _ = _page(from_blocks)
    assert matched == 11 and returned == len(features) == min(limit, 11 - offset)


def test_a_page_past_the_end_is_empty_with_the_count(anonymous: Client, mines: Dataset) -> None:
    blocks_build(mines.pk)
    body, sql = _items(anonymous, "phl-mines", limit=5, offset=20)
    assert _from_blocks(sql)
    assert _page(body)[:3] == ([], 11, 0)


@pytest.mark.parametrize(("limit", "offset"), [(7, 2), (11, 0), (50, 9)])
def test_streamed_pages_from_blocks_are_the_sql_pages(
    anonymous: Client, mines: Dataset, monkeypatch: pytest.MonkeyPatch, limit: int, offset: int
) -> None:
    """Pages over STREAM_ABOVE are sent block batch by block batch, from a server-side cursor."""
    monkeypatch.setattr(catalogue_api, "STREAM_ABOVE", 2)
    monkeypatch.setattr(blocks, "STREAM_BATCH_FEATURES", SIZE)  # one block a fetch
    blocks_build(mines.pk)
    from_blocks, sql = _items(anonymous, "phl-mines", limit=limit, offset=offset)
    assert _from_blocks(sql)
    FeatureBlock.objects.all().delete()
    from_sql, _ = _items(anonymous, "phl-mines", limit=limit, offset=offset)
    assert _features_bytes(from_blocks) == _features_bytes(from_sql)
    assert _page(from_blocks) == _page(from_sql)


def test_every_kind_of_layer_reads_the_same_from_blocks(anonymous: Client, world: World) -> None:
    for dataset in (world.occurrences, world.geology, world.structures, world.vector):
        assert blocks_build(dataset.pk) >= 1
        from_blocks, sql = _items(anonymous, dataset.slug, limit=2, offset=1)
        assert any(blocks.TABLE in q for q in sql)
        FeatureBlock.objects.filter(dataset=dataset).delete()
        from_sql, _ = _items(anonymous, dataset.slug, limit=2, offset=1)
        assert _page(from_blocks) == _page(from_sql), dataset.slug
        assert _features_bytes(from_blocks) == _features_bytes(from_sql)
    assert THAI in json.loads(from_blocks)["features"][0]["properties"]["note"]


def test_the_html_page_reads_blocks_too(anonymous: Client, mines: Dataset) -> None:
    blocks_build(mines.pk)
    with CaptureQueriesContext(connection) as queries:
        page = anonymous.get("/ogc/collections/phl-mines/items", {"f": "html", "limit": 2})
    assert page.status_code == 200
    assert any(blocks.TABLE in statement_text(q["sql"]) for q in queries.captured_queries)
    assert VIETNAMESE in page.content.decode()


@pytest.mark.parametrize(
    "params",
    [
        {"name": "Tampakan 2"},
        {"filter": "name LIKE 'Tamp%'"},
        {"commodity": "gold"},
        {"bbox": "121.0,14.0,121.45,15.0", "commodity": "gold"},
    ],
)
def test_filtered_pages_are_always_built_by_sql(
    anonymous: Client, mines: Dataset, params: dict[str, str]
) -> None:
    """(An anonymous page with a bbox only reads the feature texts: tested below.)"""
    blocks_build(mines.pk)
    body, sql = _items(anonymous, "phl-mines", **params)
    assert not any(blocks.TABLE in q or blocks.TEXTS in q for q in sql)
    features = json.loads(body)["features"]
    assert 0 < len(features) < 11


def test_the_aggregate_and_unpublished_collections_are_built_by_sql(
    reviewer: Client, world: World
) -> None:
    assert blocks_build(world.secret.pk) == 0  # not published: no blocks
    for collection in ("occurrences", "phl-secret"):
        body, sql = _items(reviewer, collection)
        assert not any(blocks.TABLE in q for q in sql)
        assert json.loads(body)["numberMatched"] >= 1


def test_stale_blocks_are_never_served(anonymous: Client, mines: Dataset) -> None:
    """Belt and braces beside the triggers: blocks of another version are ignored."""
    blocks_build(mines.pk)
    FeatureBlock.objects.filter(dataset=mines).update(version=mines.version + 7)
    body, sql = _items(anonymous, "phl-mines", limit=3)
    assert any("deposits_occurrencejson" in q for q in sql)  # built by SQL
    assert _page(body)[1:3] == (11, 3)


def test_a_page_without_blocks_queues_their_build(
    anonymous: Client, mines: Dataset, django_capture_on_commit_callbacks: Any
) -> None:
    assert not FeatureBlock.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        body, sql = _items(anonymous, "phl-mines", limit=4)
    assert _page(body)[1:3] == (11, 4)
    assert FeatureBlock.objects.filter(dataset=mines).count() == 4  # the job ran (inline)
    again, sql = _items(anonymous, "phl-mines", limit=4)
    assert _from_blocks(sql)
    assert _features_bytes(again) == _features_bytes(body)


def test_a_build_when_current_changes_nothing(mines: Dataset) -> None:
    assert blocks_build(mines.pk) == 4
    ids = set(FeatureBlock.objects.values_list("pk", flat=True))
    assert blocks_build(mines.pk) == 0
    assert set(FeatureBlock.objects.values_list("pk", flat=True)) == ids


def test_a_new_block_size_rebuilds(settings: Any, anonymous: Client, mines: Dataset) -> None:
    blocks_build(mines.pk)
    settings.FEATURE_BLOCK_SIZE = 5
    body, sql = _items(anonymous, "phl-mines", limit=4)
    assert not _from_blocks(sql)  # blocks of 3 are not read as blocks of 5
    assert blocks_build(mines.pk) == 3
    again, sql = _items(anonymous, "phl-mines", limit=4)
    assert _from_blocks(sql) and _features_bytes(again) == _features_bytes(body)


def _blocks_of(dataset: Dataset) -> int:
    return FeatureBlock.objects.filter(dataset=dataset).count()


def _texts_of(dataset: Dataset) -> int:
    return FeatureText.objects.filter(dataset=dataset).count()


CHANGES: list[tuple[str, Callable[[Dataset], None]]] = [
    ("a new version", lambda d: Dataset.objects.filter(pk=d.pk).update(version=d.version + 1)),
    ("a new title", lambda d: Dataset.objects.filter(pk=d.pk).update(title="Renamed")),
    ("a new slug", lambda d: Dataset.objects.filter(pk=d.pk).update(slug="renamed")),
    ("withdrawn", lambda d: Dataset.objects.filter(pk=d.pk).update(is_published=False)),
    (
        "an edited feature",
        lambda d: MineralOccurrence.objects.filter(dataset=d, name__startswith="Ñ").update(
            name="Edited"
        ),
    ),
    ("a deleted feature", lambda d: MineralOccurrence.objects.filter(dataset=d)[:1].get().delete()),
    (
        "a renamed member state",
        lambda d: MemberState.objects.filter(code="PHL").update(name="Republic of the Philippines"),
    ),
    (
        "a renamed commodity",
        lambda d: Commodity.objects.filter(code="gold").update(name="Gold (Au)"),
    ),
]


@pytest.mark.parametrize(("change", "apply"), CHANGES, ids=[c[0] for c in CHANGES])
def test_what_changes_a_feature_deletes_the_blocks(
    mines: Dataset, make_dataset: Any, make_occurrence: Any, change: str, apply: Any
) -> None:
    other = make_dataset(slug="other", title="Other")
    make_occurrence("Elsewhere", dataset=other, state="IDN", lon=110, lat=-7)
    blocks_build(mines.pk)
    blocks_build(other.pk)
    assert (_texts_of(mines), _texts_of(other)) == (11, 1)
    apply(mines)
    assert _blocks_of(mines) == 0 and _texts_of(mines) == 0, change
    # Another dataset's blocks and texts stay, unless what changed shows in every dataset.
    everywhere = change in {"a renamed member state", "a renamed commodity"}
    assert _blocks_of(other) == _texts_of(other) == (0 if everywhere else 1)


def test_an_edit_that_no_feature_shows_keeps_the_blocks(mines: Dataset) -> None:
    blocks_build(mines.pk)
    Dataset.objects.filter(pk=mines.pk).update(abstract="A new abstract", keywords=["new"])
    assert _blocks_of(mines) == 4 and _texts_of(mines) == 11


def test_feature_texts_are_the_block_texts_in_geohash_order(world: World) -> None:
    """Occurrence datasets only; each text is its feature's text in the blocks."""
    mines = world.occurrences
    call_command("feature_blocks", stdout=None)
    texts = list(FeatureText.objects.filter(dataset=mines).order_by("pk"))
    blocks = b",".join(
        b.features.encode() for b in FeatureBlock.objects.filter(dataset=mines).order_by("seq")
    )
    assert sorted(t.feature_id for t in texts) == sorted(
        mines.occurrences.values_list("pk", flat=True)
    )
    assert (
        b",".join(t.feature.encode() for t in sorted(texts, key=lambda t: t.feature_id)) == blocks
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT feature_id FROM catalogue_featuretext WHERE dataset_id = %s"
            " ORDER BY ST_GeoHash(geom, 10), feature_id",
            [mines.pk],
        )
        assert [r[0] for r in cursor.fetchall()] == [t.feature_id for t in texts]
    for kind in ("idn-geology", "tha-faults", "mys-samples"):
        assert not FeatureText.objects.filter(dataset__slug=kind).exists()


def test_the_command_builds_what_is_missing(world: World) -> None:
    from io import StringIO

    out = StringIO()
    call_command("feature_blocks", stdout=out)
    text = out.getvalue()
    assert "phl-mines: 1 blocks built" in text and "4 datasets built" in text
    assert "phl-secret" not in text  # unpublished
    out = StringIO()
    call_command("feature_blocks", stdout=out)
    assert "0 datasets built" in out.getvalue()


def _without_time(body: bytes) -> Any:
    doc = json.loads(body)
    doc.pop("timeStamp")
    return doc


# A collection of each kind of layer, and a dataset whose slug is the aggregate's id.
EVERY_KIND = ["phl-mines", "idn-geology", "tha-faults", "mys-samples", "dataset-occurrences"]


def _fast_and_general_agree(
    client: Client, monkeypatch: pytest.MonkeyPatch, collection: str, params: dict[str, Any]
) -> list[str]:
    """The public fast path's response is the general path's (body, headers); its SQL."""
    url = f"/ogc/collections/{collection}/items"
    with CaptureQueriesContext(connection) as queries:
        fast = client.get(url, params)
    # The next request clears the log. A prepared statement's EXECUTE is read as its SQL; its
    # PREPARE, once a connection, is not counted.
    fast_sql = [
        statement_text(q["sql"])
        for q in queries.captured_queries
        if not q["sql"].startswith("PREPARE ")
    ]
    with monkeypatch.context() as patched:
        patched.setattr(catalogue_api, "_public_items", lambda request, collection_id: None)
        general = client.get(url, params)
    assert fast.status_code == general.status_code == 200
    assert _without_time(fast.content) == _without_time(general.content)
    assert _features_bytes(fast.content) == _features_bytes(general.content)
    for header in ("Content-Type", "Cache-Control", "Vary"):
        assert fast[header] == general[header]
    return fast_sql


@pytest.mark.parametrize("collection", EVERY_KIND)
@pytest.mark.parametrize(("limit", "offset"), [(2, 0), (1, 1), (10, 0), (5, 30)])
def test_an_anonymous_page_is_one_statement_and_the_same_response(
    anonymous: Client,
    world: World,
    make_dataset: Any,
    make_occurrence: Any,
    monkeypatch: pytest.MonkeyPatch,
    collection: str,
    limit: int,
    offset: int,
) -> None:
    """The public fast path (catalogue.api._public_items) answers exactly as the general one."""
    reserved = make_dataset(slug="occurrences", title="A dataset named like the aggregate")
    make_occurrence("Reserved", dataset=reserved)
    call_command("feature_blocks", stdout=None)
    params = {"f": "json", "limit": limit, "offset": offset}
    fast_sql = _fast_and_general_agree(anonymous, monkeypatch, collection, params)
    assert len(fast_sql) == 1


@pytest.mark.parametrize(
    ("url", "params", "status"),
    [
        ("/ogc/collections/phl-secret/items", {}, 404),  # not published
        ("/ogc/collections/no-such-thing/items", {}, 404),
        ("/ogc/collections/phl-mines/items", {"limit": "many"}, 400),
        ("/ogc/collections/phl-mines/items", {"offset": "-1"}, 400),
        ("/ogc/collections/phl-mines/items", {"colour": "red"}, 400),
        ("/ogc/collections/no-such-thing/items", {"limit": "many"}, 404),  # 404 before 400
        ("/ogc/collections/phl-mines/items", {"f": "xml"}, 400),
    ],
)
def test_what_the_fast_path_cannot_answer_gets_the_general_answer(
    anonymous: Client, world: World, url: str, params: dict[str, str], status: int
) -> None:
    call_command("feature_blocks", stdout=None)
    response = anonymous.get(url, {"f": "json", **params}, HTTP_ACCEPT="application/json")
    assert response.status_code == status
    assert response.json()["code"] in {"NotFound", "InvalidParameterValue"}


def test_signed_in_viewers_and_pages_to_stream_take_the_general_path(
    reviewer: Client, anonymous: Client, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocks_build(world.occurrences.pk)
    called: list[str] = []
    real = catalogue_api._public_items
    monkeypatch.setattr(catalogue_api, "_public_items", lambda r, c: called.append(c) or real(r, c))
    assert reviewer.get("/ogc/collections/phl-mines/items", **JSON).status_code == 200
    assert called == []  # signed in: their visibility rules, the general path
    monkeypatch.setattr(catalogue_api, "STREAM_ABOVE", 1)
    response = anonymous.get("/ogc/collections/phl-mines/items", {"f": "json", "limit": 3})
    assert (
        called == ["phl-mines"] and response.streaming
    )  # tried, then streamed by the general path
    assert len(json.loads(b"".join(response.streaming_content))["features"]) == 3


# A bbox page of an occurrence dataset, for an anonymous visitor: one statement too -----------

BBOXES = [
    "121,16,122,18",  # two of the three occurrences
    "124,6,126,7",  # one
    "-180,-90,180,90",  # all
    "0,0,1,1",  # none: the general path answers the empty page
    "",  # an empty bbox: no bbox, as on the general path
]


@pytest.mark.parametrize("collection", EVERY_KIND)
@pytest.mark.parametrize("bbox", BBOXES)
@pytest.mark.parametrize(("limit", "offset"), [(10, 0), (1, 1), (5, 30)])
@pytest.mark.parametrize("texts", [True, False], ids=["from texts", "by SQL"])
def test_an_anonymous_bbox_page_is_the_general_response(
    anonymous: Client,
    world: World,
    make_dataset: Any,
    make_occurrence: Any,
    monkeypatch: pytest.MonkeyPatch,
    collection: str,
    bbox: str,
    limit: int,
    offset: int,
    texts: bool,
) -> None:
    """catalogue.api._public_items with a bbox answers exactly as the general path, from the
    feature texts when they are built, by SQL otherwise; an occurrence dataset's page with
    features is one statement."""
    reserved = make_dataset(slug="occurrences", title="A dataset named like the aggregate")
    make_occurrence("Reserved", lon=121.5, lat=17.0, dataset=reserved)
    if texts:
        call_command("feature_blocks", stdout=None)
    params = {"f": "json", "limit": limit, "offset": offset, "bbox": bbox}
    fast_sql = _fast_and_general_agree(anonymous, monkeypatch, collection, params)
    returned = json.loads(anonymous.get(f"/ogc/collections/{collection}/items", params).content)[
        "numberReturned"
    ]
    if collection in {"phl-mines", "dataset-occurrences"} and returned:
        if texts and bbox:
            assert len(fast_sql) == 1 and "catalogue_featuretext" in fast_sql[0]
        else:  # the texts statement finds nothing (when a bbox asks), then the SQL one
            assert len(fast_sql) == (2 if bbox else 1) and "public_dataset" in fast_sql[-1]
    else:  # another kind of layer, or an empty page: tried, then the general path
        assert len(fast_sql) > 1


def test_the_bbox_fast_path_pages_and_counts_like_the_api(anonymous: Client, world: World) -> None:
    """Two of three occurrences in the box, ordered by id, one a page: next link, then none."""
    params = {"f": "json", "bbox": "121,16,122,18", "limit": 1}
    first = anonymous.get("/ogc/collections/phl-mines/items", params).json()
    second = anonymous.get("/ogc/collections/phl-mines/items", {**params, "offset": 1}).json()
    assert (first["numberMatched"], first["numberReturned"]) == (2, 1)
    assert (second["numberMatched"], second["numberReturned"]) == (2, 1)
    assert first["features"][0]["id"] < second["features"][0]["id"]
    rels = lambda doc: {link["rel"] for link in doc["links"]}  # noqa: E731
    assert "next" in rels(first) and "next" not in rels(second) and "prev" in rels(second)
    names = {f["properties"]["name"] for f in first["features"] + second["features"]}
    assert THAI in names


@pytest.mark.parametrize(
    ("url", "params", "status"),
    [
        ("/ogc/collections/phl-secret/items", {"bbox": "121,12,123,14"}, 404),  # unpublished
        ("/ogc/collections/no-such-thing/items", {"bbox": "1,2,3"}, 404),  # 404 before 400
        ("/ogc/collections/phl-mines/items", {"bbox": "1,2,3"}, 400),
        ("/ogc/collections/phl-mines/items", {"bbox": "121,16,122,north"}, 400),
        ("/ogc/collections/phl-mines/items", {"bbox": "122,16,121,18"}, 400),
        ("/ogc/collections/phl-mines/items", {"bbox": "121,16,122,18", "limit": "0"}, 400),
        ("/ogc/collections/phl-mines/items", {"bbox": "121,16,122,18", "colour": "red"}, 400),
    ],
)
def test_what_the_bbox_fast_path_cannot_answer_gets_the_general_answer(
    anonymous: Client, world: World, url: str, params: dict[str, str], status: int
) -> None:
    response = anonymous.get(url, {"f": "json", **params}, HTTP_ACCEPT="application/json")
    assert response.status_code == status
    assert response.json()["code"] in {"NotFound", "InvalidParameterValue"}


def test_a_signed_in_bbox_page_takes_the_general_path(
    reviewer: Client, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reviewers see unpublished data: their pages never come from the public statement."""
    monkeypatch.setattr(catalogue_api, "public_occurrences_page", None)  # would raise if called
    response = reviewer.get(
        "/ogc/collections/phl-secret/items", {"f": "json", "bbox": "121,12,123,14"}
    )
    assert response.status_code == 200
    assert response.json()["numberReturned"] == 1


def test_a_bbox_page_never_shows_stale_texts(anonymous: Client, world: World) -> None:
    """An edit deletes the texts in its own transaction (the blocks' triggers): the next bbox
    page shows it, by SQL, until the texts are built again."""
    call_command("feature_blocks", stdout=None)
    params = {"f": "json", "bbox": "121,16,122,18"}
    before = anonymous.get("/ogc/collections/phl-mines/items", params).json()
    first = before["features"][0]["id"]
    MineralOccurrence.objects.filter(pk=first).update(name="Renamed in place")
    with CaptureQueriesContext(connection) as queries:
        after = anonymous.get("/ogc/collections/phl-mines/items", params).json()
        sql = [q["sql"] for q in queries.captured_queries]
    assert after["features"][0]["properties"]["name"] == "Renamed in place"
    assert len(sql) == 2  # the texts statement found no current texts; then SQL
    call_command("feature_blocks", stdout=None)
    with CaptureQueriesContext(connection) as queries:
        rebuilt = anonymous.get("/ogc/collections/phl-mines/items", params).json()
        sql = [q["sql"] for q in queries.captured_queries]
    assert rebuilt["features"] == after["features"] and len(sql) == 1


@pytest.mark.parametrize("bbox", ["", "121,16,122,18"], ids=["page", "bbox page"])
def test_without_prepared_statements_the_pages_are_the_same(
    anonymous: Client, world: World, settings: Any, bbox: str
) -> None:
    """DB_PREPARED_STATEMENTS=0 (a pooler in transaction mode): the same statement as text, the
    same response."""
    call_command("feature_blocks", stdout=None)
    params = {"bbox": bbox, "limit": 2} if bbox else {"limit": 2}

    def page() -> tuple[bytes, list[str]]:
        with CaptureQueriesContext(connection) as queries:
            body, _ = _items(anonymous, "phl-mines", **params)
        return body, [q["sql"] for q in queries.captured_queries]

    page()  # prepares the statement on this connection
    prepared_body, prepared_sent = page()
    settings.DATABASE_PREPARED_STATEMENTS = False
    plain_body, plain_sent = page()
    assert plain_body == prepared_body
    assert len(prepared_sent) == 1 and "EXECUTE amdis_" in prepared_sent[0]
    assert len(plain_sent) == 1 and "EXECUTE" not in plain_sent[0]
    assert blocks.TABLE in plain_sent[0] or "catalogue_featuretext" in plain_sent[0]
