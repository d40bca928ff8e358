"""Issue 8: ingest of generated points from CSV, AMDIS's import path
(`manage.py import_occurrences FILE --mapping MAPPING.json`) against
`ogr2ogr --config PG_USE_COPY YES` (a plain load, with none of AMDIS's checks).

Both load the same CSV once (an import is minutes, not a request; no repeats). The AMDIS import
gets a wall-clock limit; if it does not finish, the statement it was running is recorded. The
imported rows are deleted afterwards, so the other scenarios keep seeing the generated data.
"""

import json
import shutil
import subprocess
import time
from pathlib import Path

from django.db import connection

from bench.config import BENCH_DB, ROOT
from bench.context import Bench
from bench.load import Run
from bench.log import log
from bench.procs import CpuMeter

INGEST_SLUG = "bench-ingest"
OGR_TABLE = "bench_ingest_ogr"
MAPPING = {
    "dataset": {"slug": INGEST_SLUG, "title": "Bench ingest (generated)", "licence": "CC0 1.0"},
    "geometry": {"lon": "lon", "lat": "lat"},
    "fields": {
        "name": "name",
        "status": "status",
        "deposit_type": "deposit_type",
        "source_id": "source_id",
    },
    "commodities": {"main": {"column": "commodity"}},
    "null_values": [""],
}


def _export_csv(path: Path, rows: int) -> None:
    sql = f"""COPY (
        SELECT t.id AS source_id, t.name, round(ST_X(t.geom)::numeric, 6) AS lon,
               round(ST_Y(t.geom)::numeric, 6) AS lat, t.status, t.deposit_type,
               (SELECT c.code FROM deposits_occurrencecommodity oc
                JOIN deposits_commodity c ON c.id = oc.commodity_id
                WHERE oc.occurrence_id = t.id AND oc.rank = 'main' LIMIT 1) AS commodity
        FROM deposits_mineraloccurrence t WHERE t.id <= {int(rows)} ORDER BY t.id
    ) TO STDOUT WITH CSV HEADER"""
    with path.open("w") as handle, connection.cursor() as cursor:
        cursor.cursor.copy_expert(sql, handle)


def _cleanup() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {OGR_TABLE}")
        cursor.execute("SELECT id FROM layers_dataset WHERE slug = %s", [INGEST_SLUG])
        row = cursor.fetchone()
        if row:
            cursor.execute(
                """DELETE FROM deposits_occurrencecommodity WHERE occurrence_id IN (
                       SELECT id FROM deposits_mineraloccurrence WHERE dataset_id = %s)""",
                row,
            )
            cursor.execute("DELETE FROM deposits_mineraloccurrence WHERE dataset_id = %s", row)
            cursor.execute("DELETE FROM layers_dataset WHERE id = %s", row)


def _timed(
    bench: Bench, argv: list[str], env: dict[str, str], limit: float
) -> tuple[Run, int, str]:
    """Runs `argv` once; returns the run, the exit code (-1 on time-out) and its output."""
    holder: list[int] = []
    groups = {**bench.groups(None), "loadgen": lambda: holder}
    log_path = bench.work_dir("ingest") / f"{Path(argv[0]).name}.log"
    with CpuMeter(groups) as meter, log_path.open("wb") as out:
        process = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
        holder.append(process.pid)
        try:
            code = process.wait(timeout=limit)
        except subprocess.TimeoutExpired:
            running = _running_statement()
            _cancel_statements()
            process.terminate()
            process.wait(timeout=30)
            code = -1
            log_path.write_text(log_path.read_text() + f"\nTIMEOUT; running: {running}\n")
    run = Run(
        requests=1,
        seconds=meter.wall,
        errors=0 if code == 0 else 1,
        p50_ms=meter.wall * 1000,
        p99_ms=meter.wall * 1000,
        cpu_cores=meter.cores(),
    )
    return run, code, log_path.read_text(errors="replace")


def _cancel_statements() -> None:
    """Cancels the import's statement: a killed client leaves its backend running otherwise.

    Nothing else runs on the bench database during an ingest, so its one active backend is the
    import's.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT pg_cancel_backend(pid) FROM pg_stat_activity
               WHERE datname = %s AND state = 'active' AND pid <> pg_backend_pid()
                 AND backend_type = 'client backend'""",
            [BENCH_DB],
        )


def _running_statement() -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT now() - query_start, left(regexp_replace(query, '\\s+', ' ', 'g'), 300)
               FROM pg_stat_activity
               WHERE datname = %s AND state = 'active' AND pid <> pg_backend_pid()
               ORDER BY query_start LIMIT 1""",
            [BENCH_DB],
        )
        row = cursor.fetchone()
    return f"{row[1]} (for {row[0]})" if row else "nothing"


def run(bench: Bench) -> None:
    import os

    profile, results = bench.profile, bench.results
    rows = profile.ingest_points
    if not rows:
        results.skip("ingest", "not in this profile")
        return
    ogr2ogr = shutil.which("ogr2ogr")
    work = bench.work_dir("ingest")
    csv_path, mapping_path = work / f"points-{rows}.csv", work / "mapping.json"
    log(f"Ingest: exporting {rows:,} points to CSV")
    _export_csv(csv_path, rows)
    mapping_path.write_text(json.dumps(MAPPING))
    scenario = f"ingest-{rows // 1000}k"
    env = {**os.environ, **bench.pg_env}
    _cleanup()
    try:
        if ogr2ogr:
            log("Ingest: ogr2ogr --config PG_USE_COPY YES")
            pg = " ".join(
                f"{k}={v}"
                for k, v in (
                    ("host", env["PGHOST"]),
                    ("port", env["PGPORT"]),
                    ("dbname", BENCH_DB),
                    ("user", env["PGUSER"]),
                )
            )
            run_ogr, code, output = _timed(
                bench,
                [
                    ogr2ogr,
                    "-f",
                    "PostgreSQL",
                    f"PG:{pg}",
                    str(csv_path),
                    "-nln",
                    OGR_TABLE,
                    "-oo",
                    "X_POSSIBLE_NAMES=lon",
                    "-oo",
                    "Y_POSSIBLE_NAMES=lat",
                    "-oo",
                    "AUTODETECT_TYPE=YES",
                    "-a_srs",
                    "EPSG:4326",
                    "-lco",
                    "GEOMETRY_NAME=geom",
                    "-lco",
                    "SPATIAL_INDEX=GIST",
                    "--config",
                    "PG_USE_COPY",
                    "YES",
                    "-overwrite",
                ],
                env,
                limit=1800,
            )
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT count(*) FROM {OGR_TABLE}" if code == 0 else "SELECT 0")
                (loaded,) = cursor.fetchone() or (0,)
            results.check(
                f"{scenario}: ogr2ogr loaded every row",
                loaded == rows,
                f"{loaded:,} of {rows:,} rows; {output[-200:] if code else 'ok'}",
            )
            results.measurement(
                scenario, "ogr2ogr", params={"rows": rows}, items_per_request=rows
            ).runs.append(run_ogr)
        else:
            results.skip("ingest-ogr2ogr", "ogr2ogr is not installed")
        limit = 600.0 if rows > 100_000 else 300.0
        log(f"Ingest: AMDIS import_occurrences (limit {limit:.0f} s)")
        amdis_env = {
            **env,
            "DATABASE_URL": bench.database_url,
            "DJANGO_SETTINGS_MODULE": "webgis.settings",
            "DB_STATEMENT_TIMEOUT_MS": str(int(limit * 1000)),
        }
        started = time.monotonic()
        run_amdis, code, output = _timed(
            bench,
            [
                str(ROOT / ".venv" / "bin" / "python"),
                "manage.py",
                "import_occurrences",
                str(csv_path),
                "--mapping",
                str(mapping_path),
            ],
            amdis_env,
            limit=limit,
        )
        if code == 0:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT count(*) FROM deposits_mineraloccurrence t JOIN layers_dataset d"
                    " ON d.id = t.dataset_id WHERE d.slug = %s",
                    [INGEST_SLUG],
                )
                (imported,) = cursor.fetchone() or (0,)
            results.check(
                f"{scenario}: AMDIS import finished",
                True,
                f"{imported:,} of {rows:,} rows imported (the rest is outside the"
                " member states by the importer's rules)",
            )
            results.measurement(
                scenario, "amdis", params={"rows": rows}, items_per_request=rows
            ).runs.append(run_amdis)
            results.ratio(
                f"{scenario}: AMDIS ÷ ogr2ogr (rows/s)", scenario, "amdis", scenario, "ogr2ogr"
            )
        else:
            tail = output.strip().splitlines()[-1:] or [""]
            results.check(
                f"{scenario}: AMDIS import finished",
                False,
                f"stopped after {time.monotonic() - started:.0f} s (limit {limit:.0f} s):"
                f" {tail[0][:400]}",
            )
            results.notes.append(
                f"Ingest of {rows:,} points: AMDIS's import did not finish within {limit:.0f} s."
                f" Last output: {tail[0][:400]}"
            )
    finally:
        _cleanup()
