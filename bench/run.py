"""`python -m bench.run [--quick] [--only SCENARIO ...]`: the whole benchmark, then the report.

Order: bench database and data, then issue 2 (GeoJSON, tile sizes, z8 throughput), then what
there is of issue 8 (polygon tiles vs TiPg, GeoJSON vs pygeoapi, cached tiles vs nginx,
MapServer, raster tiles vs TiTiler, ingest). A scenario that cannot run is recorded as skipped,
with the reason.
"""

import argparse
import datetime
import os
import platform
import signal
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from contextlib import ExitStack
from types import FrameType

from bench.config import FULL, QUICK, RESULTS, ROOT, THREADS, WORKERS, Profile
from bench.log import log

ISSUE_2 = ("geojson", "tile-sizes", "z8")


def _on_signal(signum: int, frame: FrameType | None) -> None:
    # Unwind through the ExitStack, so every server started so far is stopped.
    raise SystemExit(128 + signum)


def _git_commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError:
        return ""
    return out.stdout.strip()


def _versions() -> dict[str, str]:
    found: dict[str, str] = {}
    for name, argv in {
        "wrk": ["wrk", "--version"],
        "pgbench": ["pgbench", "--version"],
        "postgres": ["psql", "--version"],
    }.items():
        try:
            out = subprocess.run(argv, capture_output=True, text=True, check=False)
            found[name] = (out.stdout or out.stderr).strip().splitlines()[0]
        except (OSError, IndexError):
            found[name] = "missing"
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="the short profile (< 5 minutes)")
    parser.add_argument("--only", nargs="*", help="run only these scenarios")
    args = parser.parse_args(argv)
    profile: Profile = QUICK if args.quick else FULL
    wanted = set(args.only) if args.only else set(profile.scenarios)
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)

    from bench.setup_env import django_for_bench

    database_url = django_for_bench()

    from django.core.management import call_command
    from django.db import connection

    from bench import (
        data,
        geojson,
        peer_ingest,
        peer_polygons,
        peer_pygeoapi,
        peer_raster,
        peer_static,
        report,
        servers,
        tiles,
    )
    from bench.context import Bench
    from bench.database import app_server
    from bench.results_model import Results

    started = time.monotonic()
    results = Results(profile=profile.name)
    with connection.cursor() as cursor:
        cursor.execute("SELECT postgis_full_version()")
        (postgis,) = cursor.fetchone() or ("",)
    results.meta = {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "commit": _git_commit(),
        "machine": {
            "cores": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
        },
        "workers": WORKERS,
        "threads": THREADS,
        "tools": {**_versions(), "postgis": postgis.split(" ")[1] if postgis else ""},
        "profile": profile.name,
        "points": profile.points,
        "polygons": profile.polygons,
        "repeats": profile.repeats,
    }
    db_server, _ = app_server()
    log(f"Profile {profile.name}; bench database {database_url}")
    call_command("migrate", verbosity=0)
    results.extra["data_timings_s"] = data.data_ensure(
        points=profile.points,
        polygons=profile.polygons if "polygons" in wanted else 0,
    )
    with ExitStack() as stack:
        bench = Bench(profile, results, db_server, database_url, stack)
        bench.start(servers.amdis(database_url))

        def attempt(name: str, step: Callable[[], object]) -> None:
            if name not in wanted:
                return
            try:
                step()
            except Exception as exc:  # one scenario's failure must not lose the others' figures
                log(f"{name} failed: {exc!r}")
                traceback.print_exc()
                results.skip(name, f"failed: {exc!r}"[:500])
            # Written after every scenario, so a run stopped half-way keeps what it measured.
            results.meta["seconds"] = round(time.monotonic() - started, 1)
            report.write(results, RESULTS)

        attempt("geojson", lambda: geojson.run(bench, profile.geojson_sizes))
        attempt("tile-sizes", lambda: tiles.sizes(bench))
        attempt("z8", lambda: tiles.z8_throughput(bench))
        attempt("polygons", lambda: peer_polygons.run(bench, with_mapserver="mapserver" in wanted))
        attempt("pygeoapi", lambda: peer_pygeoapi.run(bench))
        attempt("static", lambda: peer_static.run(bench))
        attempt("raster", lambda: peer_raster.run(bench))
        # Last: it writes (and then deletes) rows the other scenarios would see.
        attempt("ingest", lambda: peer_ingest.run(bench))
        if "mapserver" in wanted and "polygons" not in wanted:
            results.skip("mapserver", "MapServer runs inside the polygons scenario")
    results.meta["seconds"] = round(time.monotonic() - started, 1)
    report.write(results, RESULTS)
    report.charts(RESULTS)
    log(f"Done in {results.meta['seconds']} s: {RESULTS / 'latest.md'}")
    failed = [c for c in results.checks if not c["ok"]]
    for check in failed:
        log(f"check failed: {check['name']}: {check['detail']}")
    # The figures of issue 2 must always come out; a peer that cannot run is only reported.
    broken = [s["scenario"] for s in results.skipped if s["scenario"] in ISSUE_2]
    if broken:
        log(f"Scenarios of issue 2 failed: {', '.join(broken)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
