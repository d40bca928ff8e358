"""The server-side tile cache: what it stores, what it serves (through Django and through the
WSGI fast path in front of it), what it must never share, and its pruning."""

import gzip
import json
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import mapbox_vector_tile
import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client

from deposits.models import MemberState
from tests.webgis.test_tiles import tile_of
from webgis.lib import tilecache

pytestmark = pytest.mark.django_db

Z = 8
X, Y = tile_of(121.0, 15.0, Z)
TILE = f"/tiles/occurrences/{Z}/{X}/{Y}.mvt"


@pytest.fixture
def occurrences(make_occurrence: Callable[..., Any]) -> None:
    for i in range(50):
        make_occurrence(f"P{i}", lon=121.0 + i * 0.01, lat=15.0 + i * 0.01, main=("copper",))
    make_occurrence("Gold one", lon=122.2, lat=15.05, main=("gold",))


def version(client: Client, layer: str = "occurrences") -> str:
    return str(json.loads(client.get(f"/tiles/{layer}.json").content)["data_version"])


def names(body: bytes) -> list[str]:
    layer = mapbox_vector_tile.decode(body).get("occurrences", {}) if body else {}
    return sorted(f["properties"].get("name", "") for f in layer.get("features", []))


def cache_files() -> list[Path]:
    return sorted(p for p in Path(tilecache.root()).rglob("*.mvt*") if p.is_file())


def delete_all_occurrences() -> None:
    """Changes the data without changing its version: only a cached tile still shows it.

    (A delete counts as an edit and changes the version: the count is put back.)"""
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, revision FROM layers_dataset")
        counts = cursor.fetchall()
        cursor.execute("DELETE FROM deposits_occurrencecommodity")
        cursor.execute("DELETE FROM deposits_mineraloccurrence")
        cursor.executemany(
            "UPDATE layers_dataset SET revision = %s WHERE id = %s", [(r, i) for i, r in counts]
        )


class Answer:
    def __init__(self) -> None:
        self.status = ""
        self.headers: dict[str, str] = {}
        self.body = b""


class DjangoCalled(Exception):
    pass


def _django(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    raise DjangoCalled(environ["PATH_INFO"])


def fast(path: str, **extra: str) -> Answer | None:
    """The fast path alone: None when it leaves the request to Django."""
    target, _, query = path.partition("?")
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": target,
        "QUERY_STRING": query,
        "HTTP_HOST": "testserver",
        "wsgi.url_scheme": "http",
        **extra,
    }
    answer = Answer()

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        answer.status = status
        answer.headers = dict(headers)

    try:
        chunks = tilecache.TileCacheApp(_django)(environ, start_response)
    except DjangoCalled:
        return None
    answer.body = b"".join(chunks)
    return answer


def test_a_miss_stores_the_tile_and_a_hit_serves_the_same_bytes_and_headers(
    anonymous: Client, occurrences: None
) -> None:
    url = f"{TILE}?v={version(anonymous)}"
    assert cache_files() == []

    first = anonymous.get(url)

    assert first.status_code == 200 and len(names(first.content)) > 1
    assert [p.name for p in cache_files()] == [f"{Y}.mvt", f"{Y}.mvt.gz"]
    delete_all_occurrences()
    again = anonymous.get(url)
    assert again.content == first.content  # from the cache: the database has no points now
    assert dict(again.headers) == dict(first.headers)
    assert again["Cache-Control"] == "public, max-age=31536000, immutable"
    # Unversioned URLs are neither stored nor read.
    assert anonymous.get(TILE).content == b""


def test_the_fast_path_answers_like_django_without_entering_it(
    anonymous: Client, occurrences: None
) -> None:
    url = f"{TILE}?v={version(anonymous)}"
    assert fast(url) is None  # a miss goes on to Django
    django = anonymous.get(url)
    django_gzip = anonymous.get(url, HTTP_ACCEPT_ENCODING="gzip, deflate")
    django_id = anonymous.get(url, HTTP_ACCEPT_LANGUAGE="id,en;q=0.5")
    django_304 = anonymous.get(url, HTTP_IF_NONE_MATCH=django["ETag"])
    django_https = anonymous.get(url, secure=True)

    plain = fast(url)
    zipped = fast(url, HTTP_ACCEPT_ENCODING="gzip, deflate")
    indonesian = fast(url, HTTP_ACCEPT_LANGUAGE="id,en;q=0.5")
    not_modified = fast(url, HTTP_IF_NONE_MATCH=django["ETag"])
    https = fast(url, **{"wsgi.url_scheme": "https"})

    assert plain and zipped and indonesian and not_modified and https
    assert plain.status == "200 OK" and plain.body == django.content
    assert plain.headers == dict(django.headers)
    assert zipped.headers == dict(django_gzip.headers) | {"Content-Length": str(len(zipped.body))}
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.body) == django.content
    assert indonesian.headers == dict(django_id.headers)
    assert not_modified.status.startswith("304") and not_modified.body == b""
    assert not_modified.headers == dict(django_304.headers)
    assert https.headers == dict(django_https.headers)
    assert "max-age=31536000" in https.headers["Strict-Transport-Security"]


def test_the_fast_path_leaves_sessions_and_odd_requests_to_django(
    anonymous: Client, occurrences: None, settings: Any
) -> None:
    v = version(anonymous)
    url = f"{TILE}?v={v}"
    anonymous.get(url)
    assert fast(url) is not None

    assert fast(url, HTTP_COOKIE="sessionid=abc") is None
    assert fast(url, HTTP_COOKIE="django_language=id") is None
    assert fast(url, HTTP_AUTHORIZATION="Basic eDp5") is None
    assert fast(url, HTTP_HOST="evil.example") is None  # Django answers 400
    assert fast(url, REQUEST_METHOD="HEAD") is None
    assert fast(f"{url}&v={v}") is None
    assert fast(f"{url}&nope=1") is None  # unknown parameter: never stored, Django's 400
    assert fast(f"/tiles/occurrences/08/{X}/{Y}.mvt?v={v}") is None
    assert fast(f"/tiles/../occurrences/{Z}/{X}/{Y}.mvt?v={v}") is None
    settings.SECURE_SSL_REDIRECT = True
    assert fast(url) is None  # Django redirects to https
    assert fast(url, **{"wsgi.url_scheme": "https"}) is not None


def test_filters_and_versions_are_separate_entries(anonymous: Client, occurrences: None) -> None:
    v = version(anonymous)
    gold = anonymous.get(f"{TILE}?commodity=gold&v={v}")
    copper = anonymous.get(f"{TILE}?v={v}&commodity=copper")
    everything = anonymous.get(f"{TILE}?v={v}")
    assert names(gold.content) == ["Gold one"]
    assert "Gold one" not in names(copper.content)
    assert len([p for p in cache_files() if p.suffix == ".mvt"]) == 3

    delete_all_occurrences()
    # Parameter order does not matter; the values do.
    assert fast(f"{TILE}?v={v}&commodity=gold").body == gold.content  # type: ignore[union-attr]
    assert anonymous.get(f"{TILE}?v={v}&commodity=gold").content == gold.content
    assert anonymous.get(f"{TILE}?v={v}&commodity=copper").content == copper.content
    assert anonymous.get(f"{TILE}?v={v}").content == everything.content
    # Another version is another entry: a stale `v` renders live and is not stored.
    stale = anonymous.get(f"{TILE}?v=0123456789ab")
    assert stale.content == b"" and stale["Cache-Control"] == "public, max-age=60"
    assert len([p for p in cache_files() if p.suffix == ".mvt"]) == 3
    assert fast(f"{TILE}?v=0123456789ab") is None


def test_restricted_viewers_neither_read_nor_write_the_cache(
    anonymous: Client,
    reviewer: Client,
    editor_phl: Client,
    make_occurrence: Callable[..., Any],
    make_dataset: Callable[..., Any],
) -> None:
    make_occurrence("Public", lon=121.0, lat=15.0)
    phl = MemberState.objects.get(code="PHL")
    draft = make_dataset(is_published=False, member_state=phl)
    make_occurrence("Draft", lon=121.1, lat=15.1, dataset=draft)
    url = f"{TILE}?v={version(anonymous)}"

    for client in (reviewer, editor_phl):
        response = client.get(url)
        assert names(response.content) == ["Draft", "Public"]
        assert response["Cache-Control"].startswith("private")
    assert cache_files() == []  # their tiles hold unpublished data: never stored

    public = anonymous.get(url)
    assert names(public.content) == ["Public"] and len(cache_files()) == 1
    # The public file is never what a reviewer gets.
    assert names(reviewer.get(url).content) == ["Draft", "Public"]
    assert fast(url, HTTP_COOKIE=f"sessionid={reviewer.session.session_key}") is None


def test_signed_in_users_without_a_role_share_the_public_tiles(
    anonymous: Client, registered: Client, reviewer: Client, occurrences: None
) -> None:
    url = f"{TILE}?v={version(anonymous)}"
    public = registered.get(url)  # a session, but the public rendering: stored
    assert len(cache_files()) == 2
    delete_all_occurrences()
    assert registered.get(url).content == public.content
    assert anonymous.get(url).content == public.content
    # Boundaries are the same for everyone, so even a reviewer shares them.
    borders = f"/tiles/member-states/5/25/14.mvt?v={version(reviewer, 'member-states')}"
    assert reviewer.get(borders)["Cache-Control"] == "public, max-age=31536000, immutable"
    assert any("member-states" in str(p) for p in cache_files())


def test_publishing_changes_the_version_so_new_urls_render_new_data(
    anonymous: Client,
    make_occurrence: Callable[..., Any],
    make_dataset: Callable[..., Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    make_occurrence("Old", lon=121.0, lat=15.0)
    draft = make_dataset(is_published=False)
    make_occurrence("New", lon=121.1, lat=15.1, dataset=draft)
    before = version(anonymous)
    assert names(anonymous.get(f"{TILE}?v={before}").content) == ["Old"]
    old_files = cache_files()

    with django_capture_on_commit_callbacks(execute=True):
        draft.is_published = True
        draft.save()

    after = version(anonymous)
    assert after != before
    assert names(anonymous.get(f"{TILE}?v={after}").content) == ["New", "Old"]
    # The old version's files went when the publish committed.
    assert not any(p.exists() for p in old_files)
    assert all(f"/{after}/" in str(p) for p in cache_files())
    assert fast(f"{TILE}?v={before}") is None


def test_the_off_switch(anonymous: Client, occurrences: None, settings: Any) -> None:
    url = f"{TILE}?v={version(anonymous)}"
    anonymous.get(url)
    assert fast(url) is not None
    settings.TILE_CACHE = False

    assert fast(url) is None
    delete_all_occurrences()
    assert anonymous.get(url).content == b""  # rendered live
    other = f"/tiles/occurrences/4/13/7.mvt?v={version(anonymous)}"
    anonymous.get(other)
    assert not any("/4/13/" in str(p) for p in cache_files())


def test_a_partial_or_corrupt_file_is_never_served(anonymous: Client, occurrences: None) -> None:
    url = f"{TILE}?v={version(anonymous)}"
    good = anonymous.get(url).content
    plain, zipped = cache_files()
    for damage in (
        lambda p: p.write_bytes(p.read_bytes()[:-10]),  # cut short
        lambda p: p.write_bytes(b"garbage" + p.read_bytes()[7:]),  # bad header
        lambda p: p.write_bytes(b""),
    ):
        damage(plain)
        assert fast(url) is None
        assert anonymous.get(url).content == good  # rendered again, and the file rewritten
        assert fast(url).body == good  # type: ignore[union-attr]
    zipped.unlink()  # the identity file promises a gzipped one: without it, Django answers
    assert fast(url, HTTP_ACCEPT_ENCODING="gzip") is None
    assert fast(url) is not None
    # Files are written whole, under a temporary name first.
    assert not [p for p in Path(tilecache.root()).rglob(".tmp-*")]


def test_writes_are_atomic(tmp_path: Path, settings: Any) -> None:
    from webgis.lib.tiles import Tile

    settings.TILE_CACHE_DIR = str(tmp_path)
    entry = tilecache.Entry("occurrences", "abc", Tile(1, 0, 0))
    original = os.replace
    seen: list[tuple[str, str]] = []

    def spy(src: str, dst: str) -> None:
        seen.append((os.path.basename(src), os.path.basename(dst)))
        original(src, dst)

    os.replace = spy  # type: ignore[assignment]
    try:
        entry.write(b"x" * 1000)
        entry.write(b"y" * 1000)
    finally:
        os.replace = original
    assert all(src.startswith(".tmp-") for src, _ in seen)
    assert entry.read() == b"y" * 1000


def test_bad_requests_give_the_same_400s(anonymous: Client, occurrences: None) -> None:
    v = version(anonymous)
    anonymous.get(f"{TILE}?v={v}")
    for path in (
        f"/tiles/occurrences/{Z}/{X}/{Y}.mvt?v={v}&nope=1",
        f"/tiles/occurrences/{Z}/{X}/{Y}.mvt?v={v}&commodity=unobtainium",
        f"/tiles/occurrences/99/0/0.mvt?v={v}",
        f"/tiles/occurrences/2/4/0.mvt?v={v}",
        f"/tiles/member-states/1/0/0.mvt?v={v}&commodity=copper",
    ):
        assert fast(path) is None
        response = anonymous.get(path)
        assert response.status_code == 400, path
        assert json.loads(response.content)["error"]["message"]
    assert anonymous.get(f"/tiles/nope/1/0/0.mvt?v={v}").status_code == 404


def test_prune_keeps_the_cache_under_its_cap(
    anonymous: Client, occurrences: None, settings: Any
) -> None:
    from webgis.lib.tiles import Tile

    v = version(anonymous)
    for i in range(60):
        tilecache.Entry("occurrences", v, Tile(10, i, 0)).write(os.urandom(50_000))
    tilecache.Entry("occurrences", "deadbeef0000", Tile(1, 0, 0)).write(b"old" * 100)
    assert tilecache.cache_size() > 2 * 1024 * 1024

    call_command("tilecache_prune", "--max-mb", "1")

    assert tilecache.cache_size() <= 1024 * 1024
    assert not (Path(tilecache.root()) / "occurrences" / "deadbeef0000").exists()
    assert (Path(tilecache.root()) / "occurrences" / v).exists()
    call_command("tilecache_prune", "--clear")
    assert tilecache.cache_size() == 0


def test_large_tiles_go_out_through_the_servers_file_wrapper(settings: Any) -> None:
    from wsgiref.util import FileWrapper

    from webgis.lib.tiles import Tile

    body = os.urandom(200_000)  # incompressible: no gzipped file
    tilecache.Entry("occurrences", "abcdef012345", Tile(3, 1, 2)).write(body)
    wrapped: list[Any] = []

    def wrapper(f: Any, size: int) -> FileWrapper:
        wrapped.append(f)
        return FileWrapper(f, size)

    answer = fast("/tiles/occurrences/3/1/2.mvt?v=abcdef012345", **{"wsgi.file_wrapper": wrapper})

    assert answer is not None and answer.body == body and wrapped  # sent from the header on
    assert answer.headers["Content-Length"] == str(len(body))
    assert answer.headers["ETag"] == f'"{tilecache.etag_of(body)}"'
    wrapped[0].close()
