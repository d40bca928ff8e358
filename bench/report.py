"""bench/results/latest.json and latest.md from a run's Results, and the charts (peers venv)."""

import json
import subprocess
from pathlib import Path
from typing import Any

from bench.config import BENCH_DIR, PEERS_PY
from bench.log import log
from bench.results_model import Results

SERVER_NAMES = {
    "amdis": "AMDIS",
    "drf-gis": "DRF-gis",
    "floor-sql": "SQL floor (pgbench)",
    "tipg": "TiPg",
    "pygeoapi": "pygeoapi",
    "nginx": "nginx static",
    "mapserver": "MapServer",
    "ogr2ogr": "ogr2ogr",
}


def _fmt(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "–"
    return f"{value:,.{digits}f}"


def _cpu(cores: dict[str, float]) -> str:
    return ", ".join(f"{k} {v:.2f}" for k, v in sorted(cores.items())) or "–"


def _measurements_table(rows: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| scenario | server | req/s | items/s | p50 ms | p99 ms | errors | CPU cores (median) "
        "| peak RSS MB |",
        "|---|---|---:|---:|---:|---:|---:|---|---:|",
    ]
    for m in rows:
        lines.append(
            f"| {m['scenario']} | {SERVER_NAMES.get(m['server'], m['server'])} "
            f"| {_fmt(m['rps'], 2)} | {_fmt(m['items_per_s'], 0)} | {_fmt(m['p50_ms'])} "
            f"| {_fmt(m['p99_ms'])} | {m['errors']} | {_cpu(m['cpu_cores'])} "
            f"| {_fmt(m['peak_rss_mb'])} |"
        )
    return lines


def markdown(data: dict[str, Any]) -> str:
    meta = data["meta"]
    out = [
        "# AMDIS benchmark: latest run",
        "",
        f"Profile **{data['profile']}**, {meta.get('date', '')}, commit `{meta.get('commit', '')}`,"
        f" {meta.get('seconds', '?')} s. Machine: {meta['machine']['cores']} cores,"
        f" {meta['machine']['platform']}. Every server: {meta['workers']} workers"
        f" × {meta['threads']} threads (or the same pool size), no response cache, no"
        " compression (no `Accept-Encoding` sent). Figures are medians of"
        f" {meta['repeats']} interleaved repeats. CPU is in cores busy (1.00 = one core) for the"
        " server, the database and the load generator. What each figure means: bench/README.md.",
        "",
        "## Targets",
        "",
        "| what | value | target | met |",
        "|---|---:|---:|---|",
    ]
    for r in data["ratios"]:
        if r["target"] is not None:
            met = "yes" if r["met"] else "**NO**"
            out.append(f"| {r['name']} | {r['value']:.2f}× | ≥ {r['target']}× | {met} |")
    sizes = data.get("tile_sizes") or {}
    if sizes:
        met = "yes" if sizes["all_ok"] else "**NO**"
        out.append(
            f"| largest occurrence tile, z0–z14, {sizes['points']:,} points "
            f"| {sizes['largest_bytes'] / 1024:.1f} KB | ≤ 500 KB | {met} |"
        )
    out += ["", "## Ratios", "", "| ratio | value |", "|---|---:|"]
    for r in data["ratios"]:
        out.append(f"| {r['name']} | {r['value']:.3f}× |")
    groups: dict[str, list[dict[str, Any]]] = {}
    for m in data["measurements"]:
        groups.setdefault(m["scenario"].split("-")[0], []).append(m)
    titles = {
        "geojson": "GeoJSON (items = features)",
        "tiles": "Vector tiles (items = tiles)",
        "polygons": "Geological polygon tiles (items = tiles)",
        "pygeoapi": "GeoJSON vs pygeoapi (items = features)",
        "static": "Cached tiles",
        "mapserver": "MapServer",
        "ingest": "Ingest (items = rows)",
    }
    for key, rows in groups.items():
        out += ["", f"## {titles.get(key, key)}", "", *_measurements_table(rows)]
    if sizes:
        out += [
            "",
            f"## Occurrence tile sizes per zoom ({sizes['points']:,} points)",
            "",
            f"Per zoom: the {sizes['dense_per_zoom']} tiles holding most points, plus"
            f" {sizes['sampled_per_zoom']} other tiles with data (seeded sample). Raw MVT bytes as"
            " served; gzip shown for reference.",
            "",
            "| z | tiles | max KB | median KB | max gzip KB | largest tile (points) | slowest s "
            "| ≤ 500 KB |",
            "|---:|---:|---:|---:|---:|---|---:|---|",
        ]
        for z, v in sizes["zooms"].items():
            out.append(
                f"| {z} | {v['tiles']} | {v['max_bytes'] / 1024:.1f} | {v['median_bytes'] / 1024:.1f}"
                f" | {v['max_gzip_bytes'] / 1024:.1f} | {v['largest_tile']}"
                f" ({v['largest_tile_points']:,}) | {v['max_seconds']:.2f}"
                f" | {'yes' if v['ok'] else '**NO**'} |"
            )
    if data.get("extra", {}).get("polygon_zooms"):
        out += [
            "",
            "## Polygon tiles per zoom: features and bytes (same tile lists)",
            "",
            "| z | server | tiles | features (sum) | bytes (sum) |",
            "|---:|---|---:|---:|---:|",
        ]
        for z, per_server in data["extra"]["polygon_zooms"].items():
            for server, v in per_server.items():
                out.append(
                    f"| {z} | {SERVER_NAMES.get(server, server)} | {v['tiles']}"
                    f" | {v['features']:,} | {v['bytes']:,} |"
                )
    out += ["", "## Checks before timing", "", "| check | ok | detail |", "|---|---|---|"]
    for c in data["checks"]:
        out.append(f"| {c['name']} | {'yes' if c['ok'] else '**NO**'} | {c['detail']} |")
    if data["profiles"]:
        out += ["", "## Profiles", ""]
        for p in data["profiles"]:
            out += [f"### {p['title']}", "", p["summary"], "", "```", *p["top"], "```", ""]
    if data["notes"]:
        out += ["", "## Notes", ""] + [f"- {n}" for n in data["notes"]]
    if data["skipped"]:
        out += ["", "## Not measured in this run", ""]
        out += [f"- **{s['scenario']}**: {s['reason']}" for s in data["skipped"]]
    charts = sorted(p.name for p in (BENCH_DIR / "results").glob(f"chart-{data['profile']}-*.png"))
    if charts:
        out += ["", "## Charts", ""] + [f"![{c}]({c})" for c in charts]
    return "\n".join(out) + "\n"


def write(results: Results, directory: Path) -> None:
    """latest.{json,md}, and the same as {quick,full}.{json,md} so each profile keeps its last run."""
    directory.mkdir(parents=True, exist_ok=True)
    data = results.to_dict()
    text = json.dumps(data, indent=1, ensure_ascii=False) + "\n"
    for stem in ("latest", data["profile"]):
        (directory / f"{stem}.json").write_text(text)
        (directory / f"{stem}.md").write_text(markdown(data))


def charts(directory: Path) -> None:
    """PNG charts drawn by matplotlib in the peers venv; then the Markdown links them."""
    if not PEERS_PY.exists():
        log("No peers venv: charts skipped")
        return
    out = subprocess.run(
        [
            str(PEERS_PY),
            str(BENCH_DIR / "peers" / "charts.py"),
            str(directory / "latest.json"),
            str(directory),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        log(f"charts failed: {out.stderr[-1500:]}")
        return
    data = json.loads((directory / "latest.json").read_text())
    for stem in ("latest", data["profile"]):
        (directory / f"{stem}.md").write_text(markdown(data))
