"""PNG charts of bench/results/latest.json. Runs in the peers venv (matplotlib):

bench/.venv-peers/bin/python bench/peers/charts.py bench/results/latest.json bench/results
"""

import json
import sys
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

COLOURS = {
    "amdis": "#1f6f8b",
    "drf-gis": "#c0504d",
    "floor-sql": "#7f7f7f",
    "tipg": "#9bbb59",
    "pygeoapi": "#8064a2",
    "nginx": "#f79646",
    "mapserver": "#4bacc6",
    "ogr2ogr": "#7f6000",
}


def _by(data: dict[str, Any], prefix: str) -> list[dict[str, Any]]:
    return [m for m in data["measurements"] if m["scenario"].startswith(prefix)]


def _grouped_bars(
    rows: list[dict[str, Any]], value: str, title: str, ylabel: str, path: Path, log: bool = False
) -> None:
    scenarios = list(dict.fromkeys(m["scenario"] for m in rows))
    servers = list(dict.fromkeys(m["server"] for m in rows))
    if not scenarios:
        return
    width = 0.8 / len(servers)
    fig, ax = plt.subplots(figsize=(max(6, 1.6 * len(scenarios) + 2), 4.2))
    for k, server in enumerate(servers):
        xs, ys = [], []
        for i, scenario in enumerate(scenarios):
            m = next((m for m in rows if m["scenario"] == scenario and m["server"] == server), None)
            if m:
                xs.append(i + (k - (len(servers) - 1) / 2) * width)
                ys.append(m[value])
        bars = ax.bar(xs, ys, width, label=server, color=COLOURS.get(server))
        ax.bar_label(bars, fmt="%.3g", fontsize=7)
    ax.set_xticks(range(len(scenarios)), scenarios, fontsize=8)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    if log:
        ax.set_yscale("log")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def tile_sizes(data: dict[str, Any], path: Path) -> None:
    sizes = data.get("tile_sizes") or {}
    if not sizes:
        return
    zooms = sorted(sizes["zooms"], key=int)
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(
        [int(z) for z in zooms],
        [sizes["zooms"][z]["max_bytes"] / 1024 for z in zooms],
        "o-",
        label="max",
        color=COLOURS["amdis"],
    )
    ax.plot(
        [int(z) for z in zooms],
        [sizes["zooms"][z]["median_bytes"] / 1024 for z in zooms],
        "s--",
        label="median",
        color="#7f7f7f",
    )
    ax.axhline(sizes["limit_bytes"] / 1024, color="#c0504d", linestyle=":", label="500 KB limit")
    ax.set_xlabel("zoom")
    ax.set_ylabel("tile size, KB (raw MVT)")
    ax.set_title(f"Occurrence tiles over {sizes['points']:,} points")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    source, out = Path(sys.argv[1]), Path(sys.argv[2])
    data = json.loads(source.read_text())
    prefix = f"chart-{data['profile']}-"
    for old in out.glob(f"{prefix}*.png"):
        old.unlink()
    _grouped_bars(
        _by(data, "geojson"),
        "items_per_s",
        "GeoJSON features per second",
        "features/s (log)",
        out / f"{prefix}geojson.png",
        log=True,
    )
    _grouped_bars(
        _by(data, "tiles-z8"),
        "rps",
        "z8 occurrence tiles per second (1M points)",
        "tiles/s",
        out / f"{prefix}z8-tiles.png",
    )
    tile_sizes(data, out / f"{prefix}tile-sizes.png")
    _grouped_bars(
        _by(data, "polygons"),
        "rps",
        "Geological polygon tiles per second by zoom",
        "tiles/s (log)",
        out / f"{prefix}polygon-tiles.png",
        log=True,
    )
    _grouped_bars(
        _by(data, "pygeoapi"),
        "items_per_s",
        "GeoJSON vs pygeoapi",
        "features/s (log)",
        out / f"{prefix}pygeoapi.png",
        log=True,
    )
    _grouped_bars(
        _by(data, "static"),
        "rps",
        "Cached tiles: nginx static vs AMDIS live",
        "tiles/s (log)",
        out / f"{prefix}static.png",
        log=True,
    )
    _grouped_bars(
        _by(data, "ingest"),
        "items_per_s",
        "Ingest rows per second",
        "rows/s",
        out / f"{prefix}ingest.png",
    )


if __name__ == "__main__":
    main()
