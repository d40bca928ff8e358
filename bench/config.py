"""What a run measures and with which settings: one place for every knob of the harness."""

import os
from dataclasses import dataclass, field
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
WORK = BENCH_DIR / "work"
RESULTS = BENCH_DIR / "results"
PEERS_VENV = BENCH_DIR / ".venv-peers"
PEERS_PY = PEERS_VENV / "bin" / "python"

BENCH_DB = os.environ.get("BENCH_DB", "amdis_bench")
HOST = "127.0.0.1"
SEED = 20251128

# Every server gets the same number of worker processes (and threads where the server has them).
WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))
THREADS = int(os.environ.get("BENCH_THREADS", "4"))

PORTS = {
    "amdis": 18081,
    "tipg": 18082,
    "pygeoapi": 18083,
    "nginx": 18084,
    "mapserver": 18085,
    "titiler": 18086,
}

# Datasets of the generated data. The GeoJSON datasets are slices of the 1M points, so the
# tile benchmark sees every point once and a GeoJSON request fetches one whole dataset.
GEOJSON_SIZES = (1_000, 10_000, 100_000)
POINTS_SLUG = "bench-points"
POLYGONS_SLUG = "bench-geology"
RASTER_SLUG = "bench-raster"  # the COG (with overviews)
RASTER_PLAIN_SLUG = "bench-raster-no-overviews"  # the same pixels, tiled, without overviews


def geojson_slug(size: int) -> str:
    return f"bench-geojson-{size // 1000}k"


@dataclass(frozen=True)
class Profile:
    """Sizes and durations of one run; `quick` keeps every figure of issue 2 under 5 minutes."""

    name: str
    points: int
    polygons: int
    repeats: int
    geojson_sizes: tuple[int, ...]
    geojson_seconds: float
    geojson_concurrency: int
    tile_seconds: float
    tile_connections: tuple[int, ...]
    z8_tiles: int
    size_dense_tiles: int  # per zoom: the densest tiles (the largest tiles are among them)
    size_random_tiles: int  # per zoom: a seeded sample of the other tiles that hold data
    polygon_zooms: tuple[int, ...]
    polygon_tiles: int
    polygon_seconds: float
    polygon_connections: int
    pygeoapi_sizes: tuple[int, ...]
    ingest_points: int
    static_seconds: float
    warmup_seconds: float
    raster_side: int  # the generated float32 raster is raster_side × raster_side pixels
    raster_zooms: tuple[int, ...]
    raster_tiles: int  # per zoom: a seeded sample of the tiles over the raster (all if fewer)
    raster_seconds: float
    raster_connections: int
    raster_plain_zoom: int  # the zoom at which the COG is timed against the no-overview file
    scenarios: frozenset[str] = field(default_factory=frozenset)


QUICK = Profile(
    name="quick",
    points=1_000_000,
    polygons=20_000,
    repeats=3,
    geojson_sizes=(10_000,),
    geojson_seconds=4.0,
    geojson_concurrency=2,
    tile_seconds=3.0,
    tile_connections=(8, 16, 64),
    z8_tiles=200,
    size_dense_tiles=8,
    size_random_tiles=12,
    polygon_zooms=(4, 8, 12, 14),
    polygon_tiles=20,
    polygon_seconds=3.0,
    polygon_connections=16,
    pygeoapi_sizes=(1_000, 10_000),
    ingest_points=10_000,
    static_seconds=3.0,
    warmup_seconds=1.0,
    raster_side=4_000,
    raster_zooms=(5, 8, 11),
    raster_tiles=50,
    raster_seconds=3.0,
    raster_connections=16,
    raster_plain_zoom=5,
    # Issue 2 only; the peers of issue 8 need the full run (or --only NAME).
    scenarios=frozenset({"geojson", "tile-sizes", "z8"}),
)

FULL = Profile(
    name="full",
    points=1_000_000,
    polygons=200_000,
    repeats=3,
    # drf-gis needs about 80 s for one 100,000-feature page: the 100k comparison is left to the
    # pygeoapi scenario (AMDIS vs pygeoapi vs the SQL floor), so the full run stays under 30 min.
    geojson_sizes=(1_000, 10_000),
    geojson_seconds=6.0,
    geojson_concurrency=2,
    tile_seconds=6.0,
    tile_connections=(8, 16, 64),
    z8_tiles=200,
    size_dense_tiles=40,
    size_random_tiles=60,
    polygon_zooms=tuple(range(4, 15)),
    polygon_tiles=50,
    polygon_seconds=3.0,
    polygon_connections=16,
    pygeoapi_sizes=GEOJSON_SIZES,
    ingest_points=1_000_000,
    static_seconds=5.0,
    warmup_seconds=1.0,
    raster_side=16_000,
    raster_zooms=(5, 8, 11),
    raster_tiles=200,
    raster_seconds=5.0,
    raster_connections=16,
    raster_plain_zoom=5,
    scenarios=frozenset(
        {
            "geojson",
            "tile-sizes",
            "z8",
            "polygons",
            "pygeoapi",
            "static",
            "mapserver",
            "raster",
            "ingest",
        }
    ),
)
