"""Warming the tile cache: after a publish a job draws the public layers' tiles over the member
states, so the map's first views come from the cache (webgis/lib/tilewarm.py)."""

from collections.abc import Callable
from io import StringIO
from typing import Any

import mapbox_vector_tile
import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.management import CommandError, call_command
from django.db import transaction
from django.http import QueryDict
from django.test import Client

from tests.webgis.test_tile_cache import cache_files, fast, names, version
from tests.webgis.test_tiles import tile_of
from webgis.lib import tilewarm
from webgis.lib.mvt import get_layer, run_tile_query
from webgis.lib.tiles import Tile

pytestmark = pytest.mark.django_db

# The map opens at zoom 4 over the region (LEAFLET_CONFIG); this is the tile over Luzon.
Z = 4
X, Y = tile_of(121.0, 15.0, Z)


def drawn_now(layer_name: str, tile: Tile) -> bytes:
    """The tile as the database draws it now, without the cache."""
    layer = get_layer(layer_name, None)
    assert layer is not None
    sql, params = layer.tile_sql(tile, QueryDict(""), AnonymousUser())
    return run_tile_query(sql, params, version_sql=layer.version_sql())[0]


def points(body: bytes) -> int:
    """The occurrences a tile draws, clusters counted by their size."""
    layer = mapbox_vector_tile.decode(body).get("occurrences", {})
    return sum(int(f["properties"].get("count", 1)) for f in layer.get("features", []))


@pytest.fixture
def two_occurrences(make_occurrence: Callable[..., Any]) -> None:
    make_occurrence("Luzon copper", lon=121.0, lat=15.0, main=("copper",))
    make_occurrence("Sulawesi gold", lon=120.5, lat=-2.0, main=("gold",))


def test_warming_draws_the_public_layers_over_the_member_states(
    anonymous: Client, two_occurrences: None
) -> None:
    warmed = tilewarm.warm(Z)

    assert {"occurrences", "member-states"} <= set(warmed.layers)
    occurrences = warmed.layers["occurrences"]
    assert occurrences.version == version(anonymous) and not occurrences.stopped
    # Zooms 0-4 over the member states (92-141 E, 11 S-28.5 N): 1, 2, 2, 4 and 9 tiles (3 x 3
    # at zoom 4), and none of the world beyond.
    assert occurrences.rendered == 18
    url = f"/tiles/occurrences/{Z}/{X}/{Y}.mvt?v={occurrences.version}"
    served = fast(url)  # the WSGI fast path answers it: Django is never entered
    assert served is not None and served.status == "200 OK"
    assert served.body == drawn_now("occurrences", Tile(Z, X, Y))
    assert names(served.body) == ["Luzon copper"]
    americas = tile_of(-100.0, 40.0, Z)
    assert (
        fast(f"/tiles/occurrences/{Z}/{americas[0]}/{americas[1]}.mvt?v={occurrences.version}")
        is None
    )


def test_a_second_warm_up_draws_nothing_again(two_occurrences: None) -> None:
    first = tilewarm.warm(3)
    files = cache_files()

    second = tilewarm.warm(3)

    assert first.rendered > 0 and second.rendered == 0
    assert second.layers["occurrences"].present == first.layers["occurrences"].rendered
    assert cache_files() == files


def test_unpublished_data_stays_out_of_the_warmed_tiles(
    anonymous: Client, make_occurrence: Callable[..., Any], make_dataset: Callable[..., Any]
) -> None:
    make_occurrence("Published", lon=121.0, lat=15.0)
    make_occurrence("Draft", lon=121.1, lat=15.1, dataset=make_dataset(is_published=False))

    tilewarm.warm(Z)

    served = fast(f"/tiles/occurrences/{Z}/{X}/{Y}.mvt?v={version(anonymous)}")
    assert served is not None and names(served.body) == ["Published"]


def test_a_publish_queues_one_warm_up_for_the_new_version(
    anonymous: Client,
    make_occurrence: Callable[..., Any],
    make_dataset: Callable[..., Any],
    settings: Any,
    django_capture_on_commit_callbacks: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    make_occurrence("Old", lon=121.0, lat=15.0)
    draft = make_dataset(is_published=False)
    make_occurrence("New", lon=121.1, lat=15.1, dataset=draft)
    # On from here: the test's one transaction never commits, so a job queued by the set-up
    # above would stand for the publish's own.
    settings.TILE_WARM_MAX_ZOOM = Z
    runs: list[int] = []
    real_warm = tilewarm.warm
    monkeypatch.setattr(tilewarm, "warm", lambda: runs.append(1) or real_warm())

    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        draft.is_published = True
        draft.save()
        draft.save(update_fields=["is_published"])  # a publish saves its dataset more than once

    assert runs == [1]
    served = fast(f"/tiles/occurrences/{Z}/{X}/{Y}.mvt?v={version(anonymous)}")
    assert served is not None and points(served.body) == 2  # "New" is in, clustered with "Old"


def test_a_layer_whose_data_changes_while_it_is_warmed_is_left(
    two_occurrences: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The database answers with another version than the one the warm-up started from.
    monkeypatch.setattr(tilewarm, "run_tile_query", lambda *a, **k: (b"tile", "a-newer-version"))

    warmed = tilewarm.warm(Z)

    assert warmed.layers["occurrences"].stopped
    assert warmed.rendered == 0 and cache_files() == []


def test_a_failed_warm_up_does_not_fail_the_publish(
    make_dataset: Callable[..., Any],
    settings: Any,
    django_capture_on_commit_callbacks: Any,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    draft = make_dataset(is_published=False)
    settings.TILE_WARM_MAX_ZOOM = Z

    def broken() -> None:
        raise RuntimeError("disk gone")

    monkeypatch.setattr(tilewarm, "warm", broken)
    with django_capture_on_commit_callbacks(execute=True):
        draft.is_published = True
        draft.save()

    draft.refresh_from_db()
    assert draft.is_published
    assert "disk gone" in caplog.text


@pytest.mark.parametrize("switch", ["TILE_WARM_MAX_ZOOM", "TILE_CACHE"])
def test_the_off_switches(
    switch: str,
    two_occurrences: None,
    make_dataset: Callable[..., Any],
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    draft = make_dataset(is_published=False)
    settings.TILE_WARM_MAX_ZOOM = Z
    setattr(settings, switch, -1 if switch == "TILE_WARM_MAX_ZOOM" else False)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        draft.is_published = True
        draft.save()

    assert cache_files() == []
    assert all(c.__name__ != "_warm_queue" for c in callbacks)
    if switch == "TILE_CACHE":
        assert tilewarm.warm(Z).layers == {}


def test_the_command_warms_by_hand_and_says_what_it_did(two_occurrences: None) -> None:
    out = StringIO()

    call_command("tilecache_warm", "--max-zoom", "2", stdout=out)

    assert "occurrences: " in out.getvalue() and "drawn, 0 already cached" in out.getvalue()
    again = StringIO()
    call_command("tilecache_warm", "--max-zoom", "2", stdout=again)
    assert "occurrences: 0 tile(s) drawn" in again.getvalue()


def test_the_command_refuses_what_it_cannot_do(settings: Any) -> None:
    with pytest.raises(CommandError, match="from 0 to 22; got 23"):
        call_command("tilecache_warm", "--max-zoom", "23")
    with pytest.raises(CommandError, match="give --max-zoom N"):
        call_command("tilecache_warm")  # TILE_WARM_MAX_ZOOM is -1 in tests
    settings.TILE_CACHE = False
    with pytest.raises(CommandError, match="TILE_CACHE=0"):
        call_command("tilecache_warm", "--max-zoom", "3")
