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


def per_cpu_second(m: dict[str, Any]) -> float | None:
    """Items per CPU-second of the server and the database together.

    Unlike items per second, this barely moves when other work on the machine takes CPU away
    from the run, so it is the steadier figure for comparing servers on a shared machine.
    """
    cores = m["cpu_cores"].get("server", 0.0) + m["cpu_cores"].get("database", 0.0)
    return m["items_per_s"] / cores if cores > 0.05 else None


def _find(data: dict[str, Any], ref: str) -> dict[str, Any] | None:
    scenario, server = ref.split("/", 1)
    return next(
        (m for m in data["measurements"] if m["scenario"] == scenario and m["server"] == server),
        None,
    )


def efficiency_ratio(data: dict[str, Any], ratio: dict[str, Any]) -> float | None:
    a, b = _find(data, ratio["numerator"]), _find(data, ratio["denominator"])
    if not a or not b:
        return None
    ea, eb = per_cpu_second(a), per_cpu_second(b)
    return ea / eb if ea and eb else None


def _measurements_table(rows: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| scenario | server | req/s | items/s | items per CPU-s | p50 ms | p99 ms | errors "
        "| CPU cores (median) | peak RSS MB |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|---:|",
    ]
    for m in rows:
        lines.append(
            f"| {m['scenario']} | {SERVER_NAMES.get(m['server'], m['server'])} "
            f"| {_fmt(m['rps'], 2)} | {_fmt(m['items_per_s'], 0)} | {_fmt(per_cpu_second(m), 0)}"
            f" | {_fmt(m['p50_ms'])} | {_fmt(m['p99_ms'])} | {m['errors']}"
            f" | {_cpu(m['cpu_cores'])} | {_fmt(m['peak_rss_mb'])} |"
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
        f" {meta['repeats']} interleaved repeats (5 shorter ones for items pages sent whole, as"
        " bench/README.md says). CPU is in cores busy (1.00 = one core) for the"
        " server, the database and the load generator. What each figure means: bench/README.md.",
        "",
        "## Targets",
        "",
        "Ratios are of median items per second. The per-CPU-second ratio (items per CPU-second of"
        " server + database) is shown beside it: it is the steadier one when other work shares"
        " the machine.",
        "",
        "| what | value | per CPU-second | target | met |",
        "|---|---:|---:|---:|---|",
    ]
    for r in data["ratios"]:
        if r["target"] is not None:
            met = "yes" if r["met"] else "**NO**"
            eff = efficiency_ratio(data, r)
            out.append(
                f"| {r['name']} | {r['value']:.2f}× | {_fmt(eff, 2)}× | ≥ {r['target']}× | {met} |"
            )
    sizes = data.get("tile_sizes") or {}
    if sizes:
        met = "yes" if sizes["all_ok"] else "**NO**"
        out.append(
            f"| largest occurrence tile, z0–z14, {sizes['points']:,} points "
            f"| {sizes['largest_bytes'] / 1024:.1f} KB | – | ≤ 500 KB | {met} |"
        )
    for limit in data.get("extra", {}).get("limits", []):  # upper bounds: memory
        met = "yes" if limit["met"] else "**NO**"
        out.append(
            f"| {limit['name']} | {limit['value']:,.1f} {limit['unit']} | – "
            f"| < {limit['limit']:,.0f} {limit['unit']} | {met} |"
        )
    out += ["", "## Ratios", "", "| ratio | value | per CPU-second |", "|---|---:|---:|"]
    for r in data["ratios"]:
        out.append(f"| {r['name']} | {r['value']:.3f}× | {_fmt(efficiency_ratio(data, r), 3)}× |")
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
            "## Polygon tiles per zoom: features and bytes (the same sample of each zoom's tiles)",
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
    noisy = [
        (m["scenario"], m["server"], m["cpu_cores"].get("other", 0.0))
        for m in data["measurements"]
        if m["cpu_cores"].get("other", 0.0) > 0.3
    ]
    # A copy: the report is written again after every scenario, from the same data.
    notes = list(data["notes"])
    if noisy:
        worst = max(noisy, key=lambda n: n[2])
        notes.append(
            f"Other work on the machine took more than 0.3 cores in {len(noisy)} of"
            f" {len(data['measurements'])} measurements (up to {worst[2]:.2f} cores, in"
            f" {worst[0]} / {worst[1]}): those figures are lower than on a quiet machine, and"
            " ratios between servers measured minutes apart carry that noise."
        )
    if notes:
        out += ["", "## Notes", ""] + [f"- {n}" for n in notes]
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


def charts(directory: Path, source: Path | None = None) -> None:
    """PNG charts drawn by matplotlib in the peers venv; then the Markdown links them."""
    source = source or directory / "latest.json"
    if not PEERS_PY.exists():
        log("No peers venv: charts skipped")
        return
    out = subprocess.run(
        [str(PEERS_PY), str(BENCH_DIR / "peers" / "charts.py"), str(source), str(directory)],
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        log(f"charts failed: {out.stderr[-1500:]}")
        return
    data = json.loads(source.read_text())
    stems = {data["profile"], source.stem}
    for stem in stems:
        (directory / f"{stem}.md").write_text(markdown(data))


def main() -> None:
    """`python -m bench.report [results.json]`: rewrites the Markdown and charts from JSON."""
    import sys

    source = Path(sys.argv[1]) if len(sys.argv) > 1 else BENCH_DIR / "results" / "latest.json"
    charts(source.parent, source)


if __name__ == "__main__":
    main()
