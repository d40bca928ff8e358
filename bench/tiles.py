"""Issue 2b and 2c: occurrence tile sizes per zoom over 1M points, and z8 tile throughput against
the same SQL run straight against the database (pgbench)."""

import gzip
import re
from pathlib import Path
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.http import QueryDict

from bench.config import PORTS, SEED
from bench.context import Bench
from bench.data import TileRef, tiles_with_data
from bench.load import http_get, median, wrk
from bench.log import log
from bench.procs import url
from webgis.lib.mvt import TileLayer

TILE_SIZE_LIMIT = 500 * 1024
THROUGHPUT_TARGET = 0.5
# Tile coordinates that stand for pgbench variables in a tile's SQL: the SQL is built once by the
# layer's own tile_sql(), then these numbers are replaced by :x and :y.
_SENTINEL_X, _SENTINEL_Y = 987_650_001, 987_650_002


def layer_version(layer: str) -> str:
    body = http_get(url(PORTS["amdis"], f"/tiles/{layer}.json")).body
    match = re.search(rb'"data_version":\s*"([^"]+)"', body)
    return match.group(1).decode() if match else ""


def tile_path(layer: str, tile: TileRef, version: str) -> str:
    return f"/tiles/{layer}/{tile.path}.mvt?v={version}"


def tile_sql(layer: TileLayer, z: int, x: int, y: int) -> str:
    """The exact SQL the tile endpoint runs for an anonymous visitor, with literal parameters."""
    from webgis.lib.tiles import Tile

    sql, params = layer.tile_sql(Tile(z, x, y), QueryDict(""), AnonymousUser())
    with connection.cursor() as cursor:
        return str(cursor.mogrify(sql, params).decode())


def pgbench_tile_script(layer: TileLayer, z: int, tiles: list[TileRef], path: Path) -> Path:
    """A pgbench script that runs the layer's tile SQL for a random tile of `tiles`."""
    sql = tile_sql(layer, z, _SENTINEL_X, _SENTINEL_Y)
    if str(_SENTINEL_X) not in sql or str(_SENTINEL_Y) not in sql:
        raise RuntimeError("The tile SQL does not carry x and y as parameters any more.")
    # Nothing else in it may depend on x or y (an offset computed in Python did): the script
    # runs this one statement for every tile of the list.
    for tile in tiles[:3]:
        expected = sql.replace(str(_SENTINEL_X), str(tile.x)).replace(str(_SENTINEL_Y), str(tile.y))
        if tile_sql(layer, z, tile.x, tile.y) != expected:
            raise RuntimeError(
                f"The tile SQL of {z}/{tile.x}/{tile.y} differs from the script's beyond x and y."
            )
    sql = sql.replace(str(_SENTINEL_X), ":x").replace(str(_SENTINEL_Y), ":y")
    n = len(tiles)
    x_arms = " ".join(f"WHEN :i = {k} THEN {t.x}" for k, t in enumerate(tiles))
    y_arms = " ".join(f"WHEN :i = {k} THEN {t.y}" for k, t in enumerate(tiles))
    path.write_text(
        f"\\set i random(0, {n - 1})\n"
        f"\\set x CASE {x_arms} END\n"
        f"\\set y CASE {y_arms} END\n"
        f"{sql.strip().rstrip(';')};\n"
    )
    return path


def sizes(bench: Bench) -> None:
    """2b: every tile of the fixed per-zoom lists fetched once; max and median size per zoom."""
    profile, results = bench.profile, bench.results
    log("Tile sizes z0–z14 over the fixed tile lists")
    lists = tiles_with_data(
        table="deposits_mineraloccurrence",
        point_sql="t.geom_3857",
        zooms=list(range(15)),
        dense=profile.size_dense_tiles,
        sampled=profile.size_random_tiles,
    )
    version = layer_version("occurrences")
    per_zoom: dict[str, Any] = {}
    largest_overall = 0
    for z, tiles in lists.items():
        sizes_b: list[int] = []
        gz: list[int] = []
        seconds: list[float] = []
        largest: TileRef | None = None
        for tile in tiles:
            response = http_get(url(PORTS["amdis"], tile_path("occurrences", tile, version)))
            if response.status != 200:
                raise RuntimeError(f"tile {tile.path} answered {response.status}")
            if not sizes_b or len(response.body) > max(sizes_b):
                largest = tile
            sizes_b.append(len(response.body))
            gz.append(len(gzip.compress(response.body, 6)))
            seconds.append(response.seconds)
        largest_overall = max(largest_overall, max(sizes_b))
        per_zoom[str(z)] = {
            "tiles": len(tiles),
            "max_bytes": max(sizes_b),
            "median_bytes": int(median(sizes_b)),
            "max_gzip_bytes": max(gz),
            "median_gzip_bytes": int(median(gz)),
            "largest_tile": largest.path if largest else "",
            "largest_tile_points": largest.rows if largest else 0,
            "max_seconds": round(max(seconds), 3),
            "median_seconds": round(median(seconds), 4),
            "ok": max(sizes_b) <= TILE_SIZE_LIMIT,
        }
        log(
            f"  z{z:<2} {len(tiles):3} tiles  max {max(sizes_b) / 1024:7.1f} KB"
            f"  median {median(sizes_b) / 1024:7.1f} KB  slowest {max(seconds):.2f} s"
        )
    results.tile_sizes = {
        "layer": "occurrences",
        "points": profile.points,
        "limit_bytes": TILE_SIZE_LIMIT,
        "dense_per_zoom": profile.size_dense_tiles,
        "sampled_per_zoom": profile.size_random_tiles,
        "seed": SEED,
        "zooms": per_zoom,
        "all_ok": all(v["ok"] for v in per_zoom.values()),
        "largest_bytes": largest_overall,
    }
    results.check(
        "2b: largest occurrence tile at every zoom z0–z14 ≤ 500 KB",
        results.tile_sizes["all_ok"],
        f"largest {largest_overall / 1024:.1f} KB",
    )


def z8_tiles(bench: Bench) -> list[TileRef]:
    """The fixed z8 list: a quarter the densest tiles, the rest a seeded sample of tiles with data."""
    dense = bench.profile.z8_tiles // 4
    return tiles_with_data(
        table="deposits_mineraloccurrence",
        point_sql="t.geom_3857",
        zooms=[8],
        dense=dense,
        sampled=bench.profile.z8_tiles - dense,
    )[8]


def z8_paths(bench: Bench) -> list[str]:
    version = layer_version("occurrences")
    return [tile_path("occurrences", t, version) for t in z8_tiles(bench)]


def z8_throughput(bench: Bench) -> list[str]:
    """2c: wrk over 200 z8 tiles against pgbench running the same SQL, at each concurrency."""
    from deposits.tiles import occurrences

    profile, results = bench.profile, bench.results
    tiles = z8_tiles(bench)
    dense = profile.z8_tiles // 4
    version = layer_version("occurrences")
    paths = [tile_path("occurrences", t, version) for t in tiles]
    work = bench.work_dir("tiles")
    (work / "z8-tiles.txt").write_text("\n".join(paths) + "\n")
    script = pgbench_tile_script(occurrences, 8, tiles, work / "z8-occurrences.sql")
    results.extra["z8_tiles"] = {"count": len(tiles), "dense": dense, "list": work.name}
    # Same features: the endpoint's body must be the bytes its SQL returns.
    for tile in tiles[:: max(1, len(tiles) // 5)]:
        body = http_get(url(PORTS["amdis"], tile_path("occurrences", tile, version))).body
        with connection.cursor() as cursor:
            cursor.execute(tile_sql(occurrences, 8, tile.x, tile.y))
            row = cursor.fetchone()
        direct = bytes(row[0]) if row and row[0] is not None else b""
        results.check(
            f"z8 {tile.path}: endpoint body = SQL result",
            body == direct,
            f"{len(body)} vs {len(direct)} bytes",
        )
    log(f"z8 tile throughput: {len(tiles)} tiles, connections {profile.tile_connections}")
    groups = bench.groups("amdis")
    base = url(PORTS["amdis"], "")
    # Warm the caches of both paths once (database pages, Django's vocabulary cache).
    wrk(base_url=base, paths=paths, connections=8, seconds=profile.warmup_seconds, groups=groups)
    for c in profile.tile_connections:
        _z8_at(bench, c, base, paths, script, len(tiles))
    return paths


def _z8_at(bench: Bench, c: int, base: str, paths: list[str], script: Path, count: int) -> None:
    profile, results = bench.profile, bench.results
    scenario = f"tiles-z8-c{c}"
    bench.interleaved(
        scenario,
        [
            (
                scenario,
                "amdis",
                lambda: wrk(
                    base_url=base,
                    paths=paths,
                    connections=c,
                    seconds=profile.tile_seconds,
                    groups=bench.groups("amdis"),
                    servers=bench.servers["amdis"].pids,
                ),
            ),
            bench.floor(scenario, script, c, profile.tile_seconds),
        ],
        params={"connections": c, "tiles": count, "zoom": 8},
    )
    results.ratio(
        f"z8 tiles, {c} connections: AMDIS ÷ SQL floor",
        scenario,
        "amdis",
        scenario,
        "floor-sql",
        target=THROUGHPUT_TARGET,
    )
