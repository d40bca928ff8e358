"""Issues 6 and 8: raster tiles, AMDIS vs TiTiler on the same Cloud Optimised GeoTIFF.

The raster is a seeded, smooth float32 field of `raster_side`² pixels (16,000² in the full run)
over the ASEAN box in WGS 84, written once under bench/work/raster in two layouts: a COG as the
upload pipeline writes it (512-pixel tiles, DEFLATE, averaged overviews) and the same tiles with
no overviews. Both are hard-linked under MEDIA_ROOT/bench (AMDIS opens rasters only from there)
and registered as published raster layers the way a publish does. TiTiler (titiler.core, uvicorn,
the same worker count) serves the same file by path.

Per zoom, a fixed seeded list of tiles over the raster is fetched from both servers first: both
must answer 256 × 256 PNGs with the same transparency and nearly the same colours (same
rescale range, viridis on both; the colour maps differ slightly: AMDIS interpolates 11 stops,
TiTiler has matplotlib's 256). Then wrk at fixed connections, servers interleaved, three times.
Last, AMDIS on the COG against AMDIS on the file without overviews at a low zoom.
"""

import math
import os
import random
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np

from bench import servers
from bench.config import PORTS, RASTER_PLAIN_SLUG, RASTER_SLUG, SEED, WORK
from bench.context import Bench
from bench.load import Run, http_get, wrk
from bench.log import log
from bench.procs import cpu_seconds, url

GENERATOR_VERSION = "1"
BOUNDS = (92.0, -11.0, 142.0, 29.0)  # west, south, east, north (WGS 84), the ASEAN box
NODATA = -9999.0
COLORMAP = "viridis"
TILE = 256
# Equivalence of the two servers' tiles, per zoom (see the module docstring for why not exact).
MIN_ALPHA_AGREEMENT = 0.99
MAX_MEAN_RGB_DIFF = 8.0


# ---------------------------------------------------------------- the raster files


def _field_block(rows: np.ndarray, side: int, rng_seed: int) -> np.ndarray:
    """Rows `rows` of the field: a sum of separable sinusoids from a seeded generator.

    Wavelengths run from the whole raster down to ~60 pixels, so every zoom sees variation.
    """
    rng = np.random.default_rng(rng_seed)
    terms = 14
    cycles = np.exp(rng.uniform(np.log(0.6), np.log(side / 60), size=(terms, 2)))
    phases = rng.uniform(0, 2 * np.pi, size=(terms, 2))
    amplitude = 300.0 / np.sqrt(1 + cycles.mean(axis=1) / 4)
    u = (np.arange(side) + 0.5) / side
    v = (rows + 0.5) / side
    out = np.zeros((len(rows), side), dtype="float64")
    for k in range(terms):
        across = np.sin(2 * np.pi * cycles[k, 0] * u + phases[k, 0])
        down = np.sin(2 * np.pi * cycles[k, 1] * v + phases[k, 1])
        out += amplitude[k] * np.outer(down, across)
    out += 40.0 * (u[np.newaxis, :] - 0.5) + 25.0 * (v[:, np.newaxis] - 0.5)  # a regional trend
    return out.astype("float32")


def raster_files(side: int) -> tuple[Path, Path]:
    """(COG with overviews, the same without overviews), generated once per side and version."""
    import rasterio
    from rasterio.shutil import copy as raster_copy
    from rasterio.transform import from_bounds
    from rasterio.windows import Window

    folder = WORK / "raster"
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"field-{side}-s{SEED}-v{GENERATOR_VERSION}"
    cog, plain = folder / f"{stem}-cog.tif", folder / f"{stem}-no-overviews.tif"
    if cog.exists() and plain.exists():
        return cog, plain
    started = time.monotonic()
    log(f"Raster: writing a {side:,}² float32 field (once; cached in {folder})")
    scratch = folder / f"{stem}-scratch.tif"
    profile = {
        "driver": "GTiff",
        "width": side,
        "height": side,
        "count": 1,
        "dtype": "float32",
        "crs": "EPSG:4326",
        "transform": from_bounds(*BOUNDS, side, side),
        "nodata": NODATA,
        "tiled": True,
        "blockxsize": 512,
        "blockysize": 512,
        "BIGTIFF": "IF_SAFER",
    }
    with rasterio.open(scratch, "w", **profile) as dst:
        for row in range(0, side, 512):
            rows = np.arange(row, min(side, row + 512))
            dst.write(_field_block(rows, side, SEED), 1, window=Window(0, row, side, len(rows)))
    # As layers.ingest.rasters.raster_process writes an upload's COG; then without overviews.
    for path, overviews in ((cog, "AUTO"), (plain, "NONE")):
        partial = path.with_suffix(".partial.tif")
        with rasterio.open(scratch) as src:
            raster_copy(
                src,
                partial,
                driver="COG",
                compress="DEFLATE",
                overview_resampling="average",
                overviews=overviews,
                BIGTIFF="IF_SAFER",
                NUM_THREADS="ALL_CPUS",
            )
        partial.rename(path)
    scratch.unlink()
    log(
        f"Raster: done in {time.monotonic() - started:.0f} s; COG {cog.stat().st_size / 1e6:.0f} MB,"
        f" no overviews {plain.stat().st_size / 1e6:.0f} MB"
    )
    return cog, plain


def _media_link(source: Path) -> str:
    """`source` hard-linked under MEDIA_ROOT/bench (copied across file systems); the relative path."""
    from django.conf import settings

    relative = Path("bench") / source.name
    target = Path(settings.MEDIA_ROOT) / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists() and os.path.samefile(target, source):
        return str(relative)
    target.unlink(missing_ok=True)
    try:
        os.link(source, target)
    except OSError:
        import shutil

        shutil.copyfile(source, target)
    return str(relative)


def raster_register(slug: str, title: str, source: Path, stats_from: Path) -> Any:
    """A published raster layer for `source`, as a publish records one (statistics included)."""
    import rasterio
    from django.contrib.gis.geos import Polygon
    from rasterio.warp import transform_bounds

    from bench.data import _dataset
    from layers.ingest.rasters import band_statistics
    from layers.models import Dataset, DatasetKind, RasterLayer

    relative = _media_link(source)
    dataset = Dataset.objects.get(pk=_dataset(slug, title, DatasetKind.RASTER))
    with rasterio.open(stats_from, driver="GTiff") as src:
        stats = band_statistics(src)  # from the COG's overview: the same pixels as `source`
    with rasterio.open(source, driver="GTiff") as src:
        bounds = transform_bounds(src.crs, "EPSG:4326", *src.bounds, densify_pts=21)
        raster, _ = RasterLayer.objects.update_or_create(
            dataset=dataset,
            version=dataset.version,
            defaults={
                "path": relative,
                "width": src.width,
                "height": src.height,
                "band_count": src.count,
                "dtype": src.dtypes[0],
                "srid": src.crs.to_epsg() or 4326,
                "nodata": src.nodata,
                "footprint": Polygon.from_bbox(bounds),
                "statistics": stats,
                "units": "nT",
                "colormap": COLORMAP,
                "value_min": stats[0]["p2"],
                "value_max": stats[0]["p98"],
            },
        )
    return raster


# ---------------------------------------------------------------- tiles


@dataclass(frozen=True)
class XYZ:
    z: int
    x: int
    y: int


def _tile_x(lon: float, z: int) -> int:
    return min((1 << z) - 1, int((lon + 180.0) / 360.0 * (1 << z)))


def _tile_y(lat: float, z: int) -> int:
    rad = math.radians(lat)
    y = (1.0 - math.asinh(math.tan(rad)) / math.pi) / 2.0 * (1 << z)
    return min((1 << z) - 1, int(y))


def tiles_over(bounds: tuple[float, float, float, float], z: int, count: int) -> list[XYZ]:
    """A seeded sample of `count` tiles of zoom `z` over `bounds` (all of them if fewer)."""
    west, south, east, north = bounds
    # A hair inside the edges, so a tile touching the raster only along a border is left out.
    x0, x1 = _tile_x(west + 1e-9, z), _tile_x(east - 1e-9, z)
    y0, y1 = _tile_y(north - 1e-9, z), _tile_y(south + 1e-9, z)
    every = [XYZ(z, x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]
    if len(every) <= count:
        return every
    return sorted(random.Random(SEED + z).sample(every, count), key=lambda t: (t.x, t.y))


def _rescale(raster: Any) -> str:
    return f"{raster.value_min:.6g},{raster.value_max:.6g}"


def amdis_path(slug: str, version: str, rescale: str) -> Callable[[XYZ], str]:
    def path(t: XYZ) -> str:
        return (
            f"/tiles/raster/{slug}/{t.z}/{t.x}/{t.y}.png"
            f"?v={version}&colormap={COLORMAP}&rescale={rescale}"
        )

    return path


def titiler_path(file: Path, rescale: str) -> Callable[[XYZ], str]:
    query = f"url={quote(str(file), safe='')}&rescale={rescale}&colormap_name={COLORMAP}"

    def path(t: XYZ) -> str:
        return f"/cog/tiles/WebMercatorQuad/{t.z}/{t.x}/{t.y}.png?{query}"

    return path


def decode_png(body: bytes) -> np.ndarray:
    """RGBA pixels of any PNG: grey, grey + alpha, RGB, RGBA or palette (GDAL's PNG driver)."""
    from rasterio.enums import ColorInterp
    from rasterio.errors import NotGeoreferencedWarning
    from rasterio.io import MemoryFile

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        with MemoryFile(body) as memory, memory.open() as png:
            bands = png.read()
            if png.count == 1 and png.colorinterp[0] == ColorInterp.palette:
                lut = np.zeros((256, 4), dtype="uint8")
                for entry, rgba in png.colormap(1).items():
                    lut[entry] = rgba
                return lut[bands[0]]
    if bands.shape[0] == 4:
        return np.moveaxis(bands, 0, -1)
    opaque = np.full(bands.shape[1:], 255, dtype="uint8")
    if bands.shape[0] == 3:
        return np.dstack([*bands, opaque])
    if bands.shape[0] == 2:
        return np.dstack([bands[0], bands[0], bands[0], bands[1]])
    return np.dstack([bands[0], bands[0], bands[0], opaque])


def compare(a: np.ndarray, b: np.ndarray) -> tuple[float, float, int]:
    """(share of pixels with the same transparency, mean |ΔRGB| where both are opaque, opaque)."""
    alpha_a, alpha_b = a[..., 3] > 0, b[..., 3] > 0
    same_alpha = float((alpha_a == alpha_b).mean())
    both = alpha_a & alpha_b
    if not both.any():
        return same_alpha, 0.0, 0
    diff = np.abs(a[..., :3].astype("int16") - b[..., :3].astype("int16"))[both]
    return same_alpha, float(diff.mean()), int(both.sum())


def _fetch(server: str, path: str) -> np.ndarray:
    response = http_get(url(PORTS[server], path))
    if response.status != 200:
        raise RuntimeError(f"{server} {path} answered {response.status}: {response.body[:300]!r}")
    if response.headers.get("content-type", "").split(";")[0] != "image/png":
        raise RuntimeError(f"{server} {path} is not a PNG: {response.headers}")
    if "content-encoding" in response.headers:
        raise RuntimeError(f"{server} compressed a tile without being asked")
    pixels = decode_png(response.body)
    if pixels.shape != (TILE, TILE, 4):
        raise RuntimeError(f"{server} {path} is {pixels.shape[1]}×{pixels.shape[0]}, not 256×256")
    return pixels


def same_tiles(
    bench: Bench, z: int, tiles: list[XYZ], paths: dict[str, Callable[[XYZ], str]]
) -> dict[str, Any]:
    """Both servers' PNGs for every tile of the list, compared pixel by pixel."""
    alpha: list[float] = []
    rgb_sum, opaque_sum = 0.0, 0
    for tile in tiles:
        a = _fetch("amdis", paths["amdis"](tile))
        b = _fetch("titiler", paths["titiler"](tile))
        same_alpha, mean_diff, opaque = compare(a, b)
        alpha.append(same_alpha)
        rgb_sum += mean_diff * opaque
        opaque_sum += opaque
    worst_alpha = min(alpha)
    mean_alpha = float(np.mean(alpha))
    mean_rgb = rgb_sum / opaque_sum if opaque_sum else 0.0
    bench.results.check(
        f"raster z{z}: AMDIS and TiTiler return the same 256×256 PNG tiles",
        mean_alpha >= MIN_ALPHA_AGREEMENT and mean_rgb <= MAX_MEAN_RGB_DIFF,
        f"{len(tiles)} tiles; transparency agrees on {mean_alpha:.2%} of pixels (worst tile"
        f" {worst_alpha:.2%}); mean |ΔRGB| {mean_rgb:.2f} of 255 where both are opaque"
        f" ({opaque_sum:,} px). Same rescale, viridis on both (AMDIS interpolates 11 stops)",
    )
    return {
        "tiles": len(tiles),
        "alpha_agreement": round(mean_alpha, 4),
        "alpha_agreement_worst": round(worst_alpha, 4),
        "mean_rgb_diff": round(mean_rgb, 3),
        "opaque_pixels": opaque_sum,
    }


# ---------------------------------------------------------------- the scenario


def run(bench: Bench) -> None:
    from layers.raster_selectors import raster_version

    profile, results = bench.profile, bench.results
    if not servers.peers_available():
        results.skip("raster", "no peers venv (bench/.venv-peers) with TiTiler")
        return
    cog, plain = raster_files(profile.raster_side)
    raster = raster_register(RASTER_SLUG, "Bench raster (COG)", cog, cog)
    plain_raster = raster_register(
        RASTER_PLAIN_SLUG, "Bench raster (no overviews)", plain, stats_from=cog
    )
    from django.conf import settings

    media_cog = Path(settings.MEDIA_ROOT) / raster.path
    rescale = _rescale(raster)
    results.extra["raster"] = {
        "side": profile.raster_side,
        "bounds": list(BOUNDS),
        "crs": "EPSG:4326",
        "dtype": "float32",
        "cog_bytes": cog.stat().st_size,
        "no_overview_bytes": plain.stat().st_size,
        "rescale": rescale,
        "colormap": COLORMAP,
        "connections": profile.raster_connections,
        "zooms": {},
    }
    bench.start(servers.titiler())
    try:
        paths = {
            "amdis": amdis_path(RASTER_SLUG, raster_version(raster), rescale),
            "titiler": titiler_path(media_cog, rescale),
        }
        for z in profile.raster_zooms:
            tiles = tiles_over(BOUNDS, z, profile.raster_tiles)
            results.extra["raster"]["zooms"][str(z)] = same_tiles(bench, z, tiles, paths)
            lists = {server: [p(t) for t in tiles] for server, p in paths.items()}
            scenario = f"raster-z{z:02d}"
            _measure(bench, scenario, {s: (s, ps) for s, ps in lists.items()}, z, len(tiles))
            results.ratio(
                f"raster tiles z{z}: AMDIS ÷ TiTiler",
                scenario,
                "amdis",
                scenario,
                "titiler",
                target=1.0,
            )
    finally:
        bench.stop("titiler")
    # Why COG matters: the same tiles from the same pixels without overviews (AMDIS only).
    z = profile.raster_plain_zoom
    tiles = tiles_over(BOUNDS, z, profile.raster_tiles)
    plain_paths = [
        amdis_path(RASTER_PLAIN_SLUG, raster_version(plain_raster), rescale)(t) for t in tiles
    ]
    scenario = f"raster-overviews-z{z:02d}"
    _measure(
        bench,
        scenario,
        {
            "amdis-cog": ("amdis", [paths["amdis"](t) for t in tiles]),
            "amdis-no-overviews": ("amdis", plain_paths),
        },
        z,
        len(tiles),
    )
    results.ratio(
        f"raster tiles z{z}: COG ÷ the same GeoTIFF without overviews (AMDIS)",
        scenario,
        "amdis-cog",
        scenario,
        "amdis-no-overviews",
    )


def _measure(
    bench: Bench, scenario: str, lists: dict[str, tuple[str, list[str]]], z: int, tiles: int
) -> None:
    """wrk over each list, interleaved; `lists` maps a label to (server, paths)."""
    profile = bench.profile
    c, seconds = profile.raster_connections, profile.raster_seconds
    log(f"Raster tiles z{z}: {tiles} tiles, {c} connections, {', '.join(lists)}")
    for server, paths in lists.values():  # warm each server's processes and the page cache
        wrk(
            base_url=url(PORTS[server], ""),
            paths=paths,
            connections=c,
            seconds=profile.warmup_seconds,
            groups={},
        )
    contenders: list[tuple[str, str, Callable[[], Run]]] = [
        (scenario, label, _runner(bench, server, paths, c, seconds))
        for label, (server, paths) in lists.items()
    ]
    bench.interleaved(scenario, contenders, params={"connections": c, "zoom": z, "tiles": tiles})


def _idle(bench: Bench, server: str, timeout: float = 90.0) -> None:
    """Waits until `server` has finished the requests of the run before (under 0.1 core busy).

    wrk stops at its deadline, but a server still works through the slow tiles it accepted
    (seconds each without overviews), which would be charged to the next contender.
    """
    pids = bench.server_pids(server)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        before = sum(cpu_seconds(pid) or 0.0 for pid in pids())
        time.sleep(0.5)
        if sum(cpu_seconds(pid) or 0.0 for pid in pids()) - before < 0.05:
            return


def _runner(
    bench: Bench, server: str, paths: list[str], c: int, seconds: float
) -> Callable[[], Run]:
    def run_once() -> Run:
        _idle(bench, server)
        return wrk(
            base_url=url(PORTS[server], ""),
            paths=paths,
            connections=c,
            seconds=seconds,
            groups=bench.groups(server),
            servers=bench.server_pids(server),
        )

    return run_once
