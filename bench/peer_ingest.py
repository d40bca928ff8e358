"""Issue 3: a zipped shapefile of generated points, from upload to published through AMDIS's
upload pipeline (the Upload record, then the job as `manage.py db_worker` runs it, then
publish), against `ogr2ogr --config PG_USE_COPY YES` on the same zip (a plain load, with none
of AMDIS's checks).

Both load the same file once (an import is minutes, not a request; no repeats). AMDIS runs in
its own process (`python -m bench.peer_ingest upload ZIP`), as the worker would, so its peak
resident memory is its own; it gets a wall-clock limit, and if it does not finish, the
statement it was running is recorded. What it published is deleted afterwards, so the other
scenarios keep seeing the generated data.

The same module measures the stages by hand, on any database with member-state boundaries:

    python -m bench.peer_ingest make-zip /tmp/points-1m.zip 1000000
    DATABASE_URL=postgres://.../amdis_x python -m bench.peer_ingest upload /tmp/points-1m.zip
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyogrio
from django.db import connection, transaction

from bench.config import BENCH_DB, ROOT, SEED
from bench.context import Bench
from bench.load import Run
from bench.log import log
from bench.procs import CpuMeter, peak_rss_mb
from bench.profiling import stage_profile

OGR_TABLE = "bench_ingest_ogr"
INGEST_STATE = "IDN"  # the uploading survey's member state; the points are generated inside it
SURVEY_SLUG = "bench-ingest-survey"
DATASET_SLUG = "bench-ingest"
# The column mapping an editor would choose in the upload form (deposits/ingest.py format).
UPLOAD_MAPPING = {
    "fields": {
        "name": "name",
        "status": "status",
        "deposit_type": "dep_type",
        "source_id": "dep_id",
        "resource_mt": "tonnage",
    },
    "geometry": {},
    "commodities": {"main": {"column": "commodity", "split": ";"}},
}
# One row in a hundred names a commodity the vocabulary lacks, one in fifty a status it lacks.
COMMODITIES = ["copper", "Cu;Au", "gold", "nickel;cobalt", "tin", "Coper", *["coal"] * 94]
STATUSES = ["prospect", "deposit", "occurrence", "producer", *["prospect"] * 46]


# --- the file ------------------------------------------------------------------------------


def make_zip(path: Path, rows: int, *, member_state: str = INGEST_STATE, seed: int = SEED) -> None:
    """A zipped shapefile of `rows` points inside `member_state`, with six attributes."""
    work = Path(tempfile.mkdtemp(prefix="ingest-", dir=path.parent))
    try:
        csv_path = work / "points.csv"
        commodities = "ARRAY[" + ", ".join(f"'{c}'" for c in COMMODITIES) + "]"
        statuses = "ARRAY[" + ", ".join(f"'{s}'" for s in STATUSES) + "]"
        sql = f"""COPY (
            SELECT n AS dep_id, 'Site ' || n AS name,
                   ({commodities})[1 + n % {len(COMMODITIES)}] AS commodity,
                   ({statuses})[1 + n % {len(STATUSES)}] AS status,
                   (ARRAY['Porphyry Cu-Au', 'Laterite Ni-Co', 'Placer Sn', 'Coal seam'])[1 + n % 4]
                       AS dep_type,
                   round((n % 997)::numeric / 10, 1) AS tonnage,
                   round(ST_X(g)::numeric, 6) AS lon, round(ST_Y(g)::numeric, 6) AS lat
            FROM (SELECT row_number() OVER () AS n, d.geom AS g
                  FROM deposits_memberstate ms,
                       LATERAL ST_Dump(ST_GeneratePoints(ms.boundary, {int(rows)}, {int(seed)})) d
                  WHERE ms.code = '{member_state}') p
        ) TO STDOUT WITH CSV HEADER"""
        with csv_path.open("w") as handle, connection.cursor() as cursor:
            cursor.cursor.copy_expert(sql, handle)
        shp = work / "points.shp"
        subprocess.run(
            [
                "ogr2ogr",
                "-f",
                "ESRI Shapefile",
                str(shp),
                str(csv_path),
                "-oo",
                "X_POSSIBLE_NAMES=lon",
                "-oo",
                "Y_POSSIBLE_NAMES=lat",
                "-oo",
                "AUTODETECT_TYPE=YES",
                "-oo",
                "KEEP_GEOM_COLUMNS=NO",
                "-a_srs",
                "EPSG:4326",
                "-lco",
                "ENCODING=UTF-8",
            ],
            check=True,
            capture_output=True,
        )
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            for part in sorted(work.glob("points.*")):
                if part.suffix != ".csv":
                    archive.write(part, part.name)
    finally:
        shutil.rmtree(work, ignore_errors=True)


# --- AMDIS: the upload pipeline, timed stage by stage ---------------------------------------


class StageTimer:
    """Seconds per pipeline stage (wrapped functions) and the slowest SQL statements."""

    def __init__(self) -> None:
        self.stages: dict[str, float] = {}
        self.statements: list[tuple[float, str]] = []

    def wrap(self, module: Any, name: str, label: str | None = None) -> None:
        inner = getattr(module, name)

        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return inner(*args, **kwargs)
            finally:
                key = label or name
                self.stages[key] = self.stages.get(key, 0.0) + time.perf_counter() - started

        setattr(module, name, timed)

    def sql(
        self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any
    ) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            seconds = time.perf_counter() - started
            if seconds > 0.05:
                self.statements.append((seconds, " ".join(str(sql).split())[:160]))


def _survey() -> tuple[Any, Any]:
    from django.contrib.auth import get_user_model

    from deposits.models import MemberState
    from layers.models import Organisation

    state = MemberState.objects.get(code=INGEST_STATE)
    organisation, _ = Organisation.objects.get_or_create(
        slug=SURVEY_SLUG,
        defaults={"name": "Bench ingest survey", "kind": "survey", "member_state": state},
    )
    user, _ = get_user_model().objects.get_or_create(username="bench-ingest-editor")
    return organisation, user


def dataset_delete() -> None:
    """What the bench upload published: live rows, links, version snapshots, the dataset."""
    from layers.models import Dataset
    from layers.services import dataset_delete as delete

    for dataset in Dataset.objects.filter(slug=DATASET_SLUG):
        delete(dataset, actor=None)


def pipeline_run(zip_path: Path) -> dict[str, Any]:
    """One upload of `zip_path`, as the editor and the worker would do it, to published."""
    import uuid

    from layers.ingest import pipeline
    from layers.models import AuditEntry, Upload, UploadStatus
    from layers.signals import dataset_published

    # After the publish commits, a job of its own builds the OGC API's feature blocks
    # (catalogue.blocks); jobs run inline here, so it would be timed as part of the publish.
    dataset_published.disconnect(dispatch_uid="catalogue-feature-blocks")
    # So is the stored GeoJSON of a large publish (deposits.occurrence_json): queued at the
    # commit, it is run and timed here after the publish, on its own.
    from deposits import occurrence_json

    filled: list[int] = []
    occurrence_json._fill_queue = filled.append  # type: ignore[assignment]
    dataset_delete()
    organisation, user = _survey()
    timer = StageTimer()
    for name in ("_stage", "_check_staged", "_check_occurrences", "_materialize", "_live_delete"):
        timer.wrap(pipeline, name)
    started = time.perf_counter()
    upload = Upload(
        id=uuid.uuid4(),
        organisation=organisation,
        created_by=user,
        target="occurrences",
        original_name=zip_path.name,
        size_bytes=zip_path.stat().st_size,
        sha256="",
        options={
            "dataset": {"slug": DATASET_SLUG, "title": "Bench ingest (generated)"},
            "mapping": UPLOAD_MAPPING,
        },
    )
    folder = pipeline.upload_dir(upload) / "original"
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(zip_path, folder / zip_path.name)
    upload.save(force_insert=True)
    try:
        with connection.execute_wrapper(timer.sql):
            pipeline.upload_process(str(upload.pk))
            processed = time.perf_counter()
            upload.refresh_from_db()
            if upload.status != UploadStatus.READY:
                raise SystemExit(
                    f"upload {upload.status}: {upload.error_code} {upload.error_message}"
                    f" {json.dumps(upload.report.get('questions'))[:500]}"
                )
            # Inside an outer transaction, so the commit (with the deferred foreign-key
            # checks of every row written) is timed on its own.
            with transaction.atomic():
                pipeline.upload_publish(upload, actor=user)
                published = time.perf_counter()
    finally:
        shutil.rmtree(pipeline.upload_dir(upload), ignore_errors=True)
    finished = time.perf_counter()
    upload.refresh_from_db()
    report = upload.report
    AuditEntry.objects.filter(upload=upload).delete()
    statements = sorted(timer.statements, reverse=True)[:15]
    return {
        "rows": report["counts"]["read"],
        "counts": report["counts"],
        "unmapped_terms": {
            kind: [(t["term"], t["rows"]) for t in terms[:5]]
            for kind, terms in report.get("unmapped_terms", {}).items()
        },
        "seconds": round(finished - started, 3),
        "process_s": round(processed - started, 3),
        "publish_s": round(finished - processed, 3),
        "commit_s": round(finished - published, 3),
        # The datasets whose stored GeoJSON was left to the job after the publish (json_job_run).
        "json_job_datasets": filled,
        "stages_s": {k: round(v, 3) for k, v in timer.stages.items()},
        "slowest_sql": [[round(s, 3), q] for s, q in statements],
        # VmHWM, not getrusage's ru_maxrss: Linux carries ru_maxrss across exec, so a child of
        # the bench (1.7 GB by the time ingest runs) reported the bench's own peak as its own.
        "peak_rss_mb": round(peak_rss_mb([os.getpid()]), 1),
    }


# --- the bench scenario ------------------------------------------------------------------


def _timed(
    bench: Bench, argv: list[str], env: dict[str, str], limit: float
) -> tuple[Run, int, str]:
    """Runs `argv` once; returns the run, the exit code (-1 on time-out) and its output."""
    holder: list[int] = []
    groups = {**bench.groups(None), "loadgen": lambda: holder}
    log_path = bench.work_dir("ingest") / f"{Path(argv[0]).name}-{argv[-1].rsplit('/', 1)[-1]}.log"
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


def json_job_run(figures: dict[str, Any]) -> None:
    """The job a large publish leaves behind (the stored GeoJSON), run and timed on its own, as
    the worker would run it after the publish: `json_job_s` in the figures."""
    from deposits.occurrence_json import fill

    started = time.perf_counter()
    for dataset_id in figures.get("json_job_datasets") or []:
        fill(dataset_id)
    figures["json_job_s"] = round(time.perf_counter() - started, 3)


def _cleanup() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {OGR_TABLE}")
    dataset_delete()


def run(bench: Bench) -> None:
    profile, results = bench.profile, bench.results
    rows = profile.ingest_points
    if not rows:
        results.skip("ingest", "not in this profile")
        return
    ogr2ogr = shutil.which("ogr2ogr")
    if not ogr2ogr:
        results.skip("ingest", "ogr2ogr is not installed (it also writes the shapefile)")
        return
    work = bench.work_dir("ingest")
    zip_path = work / f"points-{rows}.zip"
    if not zip_path.exists():
        log(f"Ingest: writing {rows:,} points as a zipped shapefile")
        make_zip(zip_path, rows)
    scenario = f"ingest-{rows // 1000}k"
    # ST_GeneratePoints gives a few points fewer than asked: the file's count is what counts.
    rows = int(pyogrio.read_info(f"/vsizip/{zip_path}")["features"])
    env = {**os.environ, **bench.pg_env}
    _cleanup()
    try:
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
                "-nln",
                OGR_TABLE,
                "-lco",
                "GEOMETRY_NAME=geom",
                "-lco",
                "SPATIAL_INDEX=GIST",
                "--config",
                "PG_USE_COPY",
                "YES",
                "-overwrite",
                f"/vsizip/{zip_path}",
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
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {OGR_TABLE}")

        limit = 600.0 if rows > 100_000 else 300.0
        log(f"Ingest: AMDIS upload pipeline, upload to published (limit {limit:.0f} s)")
        amdis_env = {
            **env,
            "DATABASE_URL": bench.database_url,
            "DJANGO_SETTINGS_MODULE": "webgis.settings",
            "DEBUG": "0",
            "MEDIA_ROOT": str(work / "media"),
        }
        result_path = work / "amdis-upload.json"
        result_path.unlink(missing_ok=True)
        started = time.monotonic()
        run_amdis, code, output = _timed(
            bench,
            [
                str(ROOT / ".venv" / "bin" / "python"),
                "-m",
                "bench.peer_ingest",
                "upload",
                "--out",
                str(result_path),
                str(zip_path),
            ],
            amdis_env,
            limit=limit,
        )
        if code == 0 and result_path.exists():
            figures = json.loads(result_path.read_text())
            json_job_run(figures)  # after the timed run: the worker's next job
            run_amdis.peak_rss_mb = figures["peak_rss_mb"]
            results.check(
                f"{scenario}: AMDIS upload published",
                figures["counts"]["read"] == rows,
                f"{figures['counts']} in {figures['seconds']:.1f} s"
                f" (checked {figures['process_s']:.1f} s, published {figures['publish_s']:.1f} s)",
            )
            results.measurement(
                scenario, "amdis", params={"rows": rows}, items_per_request=rows
            ).runs.append(run_amdis)
            ratio = results.ratio(
                f"{scenario}: AMDIS upload ÷ ogr2ogr (rows/s)",
                scenario,
                "amdis",
                scenario,
                "ogr2ogr",
                target=0.5,
            )
            if ratio is not None and ratio.met is False:
                stage_profile(
                    bench, title=f"AMDIS upload {scenario}, stage by stage", figures=figures
                )
            results.check(
                f"{scenario}: worker peak RSS under 1 GB",
                figures["peak_rss_mb"] < 1024,
                f"{figures['peak_rss_mb']:.0f} MB",
            )
            results.extra[f"{scenario}_amdis"] = figures
        else:
            tail = output.strip().splitlines()[-1:] or [""]
            results.check(
                f"{scenario}: AMDIS upload published",
                False,
                f"stopped after {time.monotonic() - started:.0f} s (limit {limit:.0f} s):"
                f" {tail[0][:400]}",
            )
            results.notes.append(
                f"Ingest of {rows:,} points: AMDIS's upload did not finish within {limit:.0f} s."
                f" Last output: {tail[0][:400]}"
            )
    finally:
        _cleanup()


# --- command line --------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    make = commands.add_parser("make-zip", help="write a zipped shapefile of generated points")
    make.add_argument("path", type=Path)
    make.add_argument("rows", type=int)
    upload = commands.add_parser("upload", help="upload, check and publish a zip, timed")
    upload.add_argument("path", type=Path)
    upload.add_argument("--out", type=Path, help="also write the figures to this JSON file")
    upload.add_argument(
        "--jobs", action="store_true", help="then run the jobs the publish queued, timed apart"
    )
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webgis.settings")
    os.environ.setdefault("TASKS_BACKEND", "immediate")
    # The tile cache's warm-up is a job after the publish, as the feature blocks are (above):
    # inline here, it would be timed as part of the publish.
    os.environ.setdefault("TILE_WARM_MAX_ZOOM", "-1")
    import django

    django.setup()
    if args.command == "make-zip":
        make_zip(args.path.resolve(), args.rows)
        print(args.path)
        return 0
    figures = pipeline_run(args.path.resolve())
    if args.jobs:
        json_job_run(figures)
    text = json.dumps(figures, indent=2)
    if args.out:
        args.out.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
