"""The ingest pipeline: upload → job folder → safety checks → streamed read → COPY into a
staging table → checks in PostGIS → report → (editor reviews) → publish as a new dataset
version in one transaction. A failure at any step leaves the published data as it was.

Staging tables live in the `ingest` schema; a published version's full feature set is kept
in the `dataset_versions` schema, which is what makes versions comparable and restorable.
"""

import csv
import errno
import io
import json
import logging
import os
import shutil
import threading
import time
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone

from deposits.models import MemberState
from deposits.services import dataset_occurrences_delete
from layers.ingest import safety
from layers.ingest.progress import ProgressWriter, Step, progress_clear
from layers.ingest.reading import ColumnBatch, iter_csv, iter_vector_columns
from layers.ingest.targets import GEOLOGY, STRUCTURES, VECTOR, StageContext, Target, suggest_terms
from layers.models import (
    AuditAction,
    AuditEntry,
    ColumnMapping,
    Dataset,
    DatasetVersion,
    PublishMode,
    Upload,
    UploadStatus,
    UploadTarget,
)
from layers.signals import dataset_published
from webgis.lib.pgtools import planner_rows, statement_timeout_lift

log = logging.getLogger(__name__)

STAGING_SCHEMA = "ingest"
VERSIONS_SCHEMA = "dataset_versions"
# Coastal tolerance: points this close to the survey's member state are accepted as its own.
MEMBER_STATE_TOLERANCE_M = 20_000
DUPLICATE_DISTANCE_M = 1_000
REPORT_LIST_LIMIT = 500
# Only these EPSG codes may be chosen for a file without a CRS: common in the region, all
# integers checked against this list — never a user string handed to GDAL or PROJ.
CRS_CHOICES = {
    4326: "WGS 84 (longitude/latitude)",
    3857: "WGS 84 / Pseudo-Mercator",
    4240: "Indian 1975 (Thailand)",
    24047: "Indian 1975 / UTM zone 47N",
    24048: "Indian 1975 / UTM zone 48N",
    3148: "Indian 1960 / UTM zone 48N (Viet Nam)",
    4756: "VN-2000",
    3405: "VN-2000 / UTM zone 48N",
    3406: "VN-2000 / UTM zone 49N",
    4742: "GDM2000 (Malaysia)",
    3375: "GDM2000 / Peninsula RSO",
    3376: "GDM2000 / East Malaysia BRSO",
    3168: "Kertau (RSO) / RSO Malaya (m)",
    23866: "DGN95 / UTM zone 46N (Indonesia)",
    23867: "DGN95 / UTM zone 47N",
    23868: "DGN95 / UTM zone 48N",
    23869: "DGN95 / UTM zone 49N",
    23870: "DGN95 / UTM zone 50N",
    23871: "DGN95 / UTM zone 51N",
    23887: "DGN95 / UTM zone 47S",
    23888: "DGN95 / UTM zone 48S",
    23889: "DGN95 / UTM zone 49S",
    23890: "DGN95 / UTM zone 50S",
    23891: "DGN95 / UTM zone 51S",
    23892: "DGN95 / UTM zone 52S",
    23893: "DGN95 / UTM zone 53S",
    23894: "DGN95 / UTM zone 54S",
    3123: "PRS92 / Philippines zone 3",
    3124: "PRS92 / Philippines zone 4",
    3125: "PRS92 / Philippines zone 5",
    32646: "WGS 84 / UTM zone 46N",
    32647: "WGS 84 / UTM zone 47N",
    32648: "WGS 84 / UTM zone 48N",
    32649: "WGS 84 / UTM zone 49N",
    32650: "WGS 84 / UTM zone 50N",
    32651: "WGS 84 / UTM zone 51N",
    32652: "WGS 84 / UTM zone 52N",
    32747: "WGS 84 / UTM zone 47S",
    32748: "WGS 84 / UTM zone 48S",
    32749: "WGS 84 / UTM zone 49S",
    32750: "WGS 84 / UTM zone 50S",
    32751: "WGS 84 / UTM zone 51S",
    32752: "WGS 84 / UTM zone 52S",
}
ENCODING_CHOICES = {
    "utf-8": "UTF-8",
    "cp1252": "Windows-1252 (Western European)",
    "cp874": "Windows-874 / TIS-620 (Thai)",
    "cp1258": "Windows-1258 (Vietnamese)",
    "latin-1": "ISO-8859-1",
}


STORAGE_FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT}
STORAGE_FULL_MESSAGE = (
    "The server ran out of disk space while handling the file. Nothing was published and the "
    "partial files were removed. Try again later; if it happens again, tell the AMDIS team."
)


class PipelineStop(Exception):
    """Processing stops to ask the editor something (status needs_input)."""

    def __init__(self, report: dict[str, Any]) -> None:
        super().__init__("needs input")
        self.report = report


def target_for(name: str) -> Target:
    from deposits.ingest import OCCURRENCES

    return {
        UploadTarget.OCCURRENCES: OCCURRENCES,
        UploadTarget.GEOLOGY: GEOLOGY,
        UploadTarget.STRUCTURES: STRUCTURES,
        UploadTarget.VECTOR: VECTOR,
    }[UploadTarget(name)]


def upload_dir(upload: Upload) -> Path:
    return Path(settings.MEDIA_ROOT) / "uploads" / str(upload.pk)


def original_path(upload: Upload) -> Path:
    folder = upload_dir(upload) / "original"
    files = sorted(folder.iterdir()) if folder.is_dir() else []
    if not files:
        raise safety.RejectedFile(
            "missing_upload", "The uploaded file is no longer on the server; upload it again."
        )
    return files[0]


def staging_name(upload: Upload) -> str:
    return f"u_{upload.pk.hex}"


def failpoint(stage: str) -> None:
    """Fault injection for the worker-killed tests: AMDIS_FAILPOINT=<stage>:hang stops here."""
    if os.environ.get("AMDIS_FAILPOINT") == f"{stage}:hang":
        time.sleep(3600)


def _progress(upload: Upload, stage: str, percent: int, message: str) -> None:
    """Written outside any long transaction so the page's progress bar sees it at once."""
    Upload.objects.filter(pk=upload.pk).update(
        stage=stage, progress=percent, progress_message=message, heartbeat_at=timezone.now()
    )
    upload.stage, upload.progress, upload.progress_message = stage, percent, message
    failpoint(stage)


def _audit(
    action: str,
    *,
    upload: Upload | None = None,
    dataset: Dataset | None = None,
    actor: Any = None,
    **details: Any,
) -> None:
    AuditEntry.objects.create(
        action=action,
        upload=upload,
        dataset=dataset or (upload.dataset if upload else None),
        actor=actor,
        details=details,
    )


def _drop_staging(upload: Upload) -> None:
    if upload.staging_table:
        with connection.cursor() as cursor:
            cursor.execute(f'DROP TABLE IF EXISTS {STAGING_SCHEMA}."{upload.staging_table}"')
        Upload.objects.filter(pk=upload.pk).update(staging_table="")
        upload.staging_table = ""


def _clean_files(upload: Upload) -> None:
    """The unpacked files; the original (for a retry) and a checked raster (for publishing) stay."""
    shutil.rmtree(upload_dir(upload) / "files", ignore_errors=True)


def cleanup_after_failure(upload: Upload) -> None:
    """What a killed job left behind: its staging table, unpacked files and half-written raster."""
    _drop_staging(upload)
    _clean_files(upload)
    (upload_dir(upload) / "cog.tif").unlink(missing_ok=True)


# --- processing ---------------------------------------------------------------------------


def upload_process(upload_id: str) -> None:
    """The background job: reads, checks and stages one upload. Safe to run again (retry)."""
    upload = Upload.objects.select_related("organisation", "dataset").get(pk=upload_id)
    if upload.status not in {UploadStatus.QUEUED, UploadStatus.RUNNING}:
        return
    Upload.objects.filter(pk=upload.pk).update(
        status=UploadStatus.RUNNING, attempts=upload.attempts + 1, error_code="", error_message=""
    )
    upload.status = UploadStatus.RUNNING
    statement_timeout_lift()
    _drop_staging(upload)
    # Inside a caller's transaction (inline jobs), a savepoint lets a failure be recorded;
    # the worker runs in autocommit, so progress updates are visible while it works.
    guard = transaction.atomic() if connection.in_atomic_block else nullcontext()
    try:
        with guard:
            report = _process(upload)
    except PipelineStop as stop:
        Upload.objects.filter(pk=upload.pk).update(
            status=UploadStatus.NEEDS_INPUT,
            report=stop.report,
            progress=100,
            stage="questions",
            progress_message="Answer the questions below to continue.",
            heartbeat_at=timezone.now(),
        )
        return
    except safety.RejectedFile as exc:
        _fail(upload, exc.code, exc.message)
        return
    except OSError as exc:
        if exc.errno in STORAGE_FULL_ERRNOS:
            _fail(upload, "storage_full", STORAGE_FULL_MESSAGE)
            cleanup_after_failure(upload)
        else:
            log.exception("Upload %s failed", upload.pk)
            _fail(
                upload,
                "internal_error",
                f"The file could not be read ({exc.strerror or exc}). "
                "The published data is unchanged; retry, or contact the AMDIS team.",
            )
        return
    except Exception as exc:
        log.exception("Upload %s failed", upload.pk)
        _fail(
            upload,
            "internal_error",
            f"The file could not be processed ({type(exc).__name__}). "
            "The published data is unchanged; retry, or contact the AMDIS team.",
        )
        return
    finally:
        _clean_files(upload)
    Upload.objects.filter(pk=upload.pk).update(
        status=UploadStatus.READY,
        report=report,
        stage="done",
        heartbeat_at=timezone.now(),
        **CHECKED_PROGRESS,
    )
    _audit(AuditAction.CHECKED, upload=upload, counts=report.get("counts", {}))


# A checked upload's progress: after its check, and again after a publish that failed.
CHECKED_PROGRESS: dict[str, Any] = {
    "progress": 100,
    "progress_message": "Checked: review the report, then publish.",
}


def _fail(upload: Upload, code: str, message: str) -> None:
    _drop_staging(upload)
    Upload.objects.filter(pk=upload.pk).update(
        status=UploadStatus.FAILED,
        error_code=code,
        error_message=message,
        heartbeat_at=timezone.now(),
    )
    _audit(AuditAction.FAILED, upload=upload, code=code, message=message)


def _needs_input(upload: Upload, report: dict[str, Any], questions: list[dict[str, Any]]) -> None:
    report["questions"] = questions
    raise PipelineStop(report)


def _process(upload: Upload) -> dict[str, Any]:
    limits = safety.Limits.from_settings()
    options = upload.options or {}
    _progress(upload, "extract", 5, "Unpacking and checking the file")
    files_dir = safety.extract_upload(original_path(upload), upload_dir(upload), limits)
    found = safety.find_dataset(files_dir)
    if upload.target == UploadTarget.RASTER:
        from layers.ingest.rasters import raster_process

        return raster_process(
            upload, found, limits, progress=lambda p, m: _progress(upload, "raster", p, m)
        )
    if found.kind == "geotiff":
        raise safety.RejectedFile(
            "wrong_target", "This is a raster (GeoTIFF): choose the target 'Raster layer'."
        )

    target = target_for(upload.target)
    report: dict[str, Any] = {"source": {"kind": found.kind, "name": found.path.name}}
    questions: list[dict[str, Any]] = []
    _progress(upload, "inspect", 10, "Reading the file's structure")

    if found.kind == "csv":
        csv_info = safety.inspect_csv(found, limits, encoding=options.get("encoding"))
        guess = csv_info.encoding_guess
        encoding = csv_info.encoding
        columns = list(csv_info.columns)
        srid: int | None = int(options.get("srid") or 4326)
        report["source"].update(
            {
                "columns": columns,
                "delimiter": csv_info.delimiter_name,
                "feature_count": csv_info.row_count,
            }
        )
        report["crs"] = {
            "found": None,
            "used": srid,
            "note": "CSV coordinates are read as WGS 84 unless you choose another CRS.",
        }
        report["encoding"] = _encoding_report(guess, encoding)
        is_csv = True
    else:
        info = safety.inspect_vector(found, limits, layer=options.get("layer"))
        layers = list(info.layers)
        report["source"].update(
            {
                "layers": layers,
                "layer": info.layer,
                "feature_count": info.feature_count,
                "geometry_type": info.geometry_type,
                "columns": list(info.fields),
            }
        )
        if info.needs_layer_choice:
            # Everything else depends on the layer: ask for it alone first.
            report["mapping"] = {"mapping": {}, "columns": [], "fields": [], "chosen": {}}
            _needs_input(
                upload,
                report,
                [
                    {
                        "field": "layer",
                        "message": "The GeoPackage has several layers: choose one.",
                        "choices": layers,
                    }
                ],
            )
        columns = list(info.fields)
        srid = info.crs_epsg or options.get("srid")
        report["crs"] = {"found": info.crs_epsg, "name": info.crs_name, "used": srid}
        if not srid:
            questions.append(
                {
                    "field": "srid",
                    "message": "The file has no coordinate reference system "
                    "(no .prj): choose the one its coordinates are in. AMDIS never assumes WGS 84.",
                    "choices": CRS_CHOICES,
                }
            )
        vector_guess = info.encoding_guess
        encoding = options.get("encoding") or info.encoding or "utf-8"
        report["encoding"] = (
            _encoding_report(vector_guess, encoding) if vector_guess else {"used": encoding}
        )
        is_csv = False
    enc = report["encoding"]
    if enc.get("conflict") and not options.get("encoding"):
        questions.append(
            {
                "field": "encoding",
                "message": enc["question"],
                "choices": ENCODING_CHOICES,
                "suggested": enc.get("detected"),
            }
        )

    mapping = options.get("mapping") or _remembered_mapping(upload, target, columns, is_csv=is_csv)
    report["mapping"] = {
        "mapping": mapping,
        "columns": columns,
        "fields": [
            {"name": f.name, "label": f.label, "required": f.required}
            for f in target.mapping_fields(is_csv=is_csv)
        ],
        "chosen": target.choices_from_mapping(mapping),
    }
    missing = target.missing_fields(mapping, columns, is_csv=is_csv)
    if missing:
        questions.append(
            {"field": "mapping", "message": "Choose the columns for: " + "; ".join(missing) + "."}
        )
    if questions:
        _needs_input(upload, report, questions)

    _progress(upload, "read", 15, "Reading features")
    mapping = {**mapping, "srid": int(srid or 4326)}
    total = report["source"].get("feature_count")
    ctx = StageContext()
    if is_csv:
        batches = iter_csv(safety.csv_records(csv_info))
        read = _stage(upload, target, batches, mapping, ctx, total)
    else:
        read_encoding = (
            options.get("encoding")
            if found.kind == "shapefile" and options.get("encoding")
            else info.read_encoding
        )
        with safety.gdal_safe_env(limits):
            columns_batches = iter_vector_columns(
                info.open_path, layer=info.layer, encoding=read_encoding
            )
            read = _stage(upload, target, columns_batches, mapping, ctx, total)
    _progress(upload, "check", 75, "Building the geometries in PostGIS")
    report.update(
        _check_staged(
            upload,
            target,
            int(srid or 4326),
            read,
            ctx,
            lambda percent, message: _progress(upload, "check", percent, message),
        )
    )
    _remember_mapping(upload, target, options.get("mapping") or mapping)
    return report


def _encoding_report(guess: Any, used: str) -> dict[str, Any]:
    if guess is None:
        return {"used": used}
    conflict = bool(getattr(guess, "conflicts_with_declared", False))
    declared = getattr(guess, "declared", None)
    return {
        "declared": declared,
        "detected": guess.encoding,
        "confidence": getattr(guess, "confidence", None),
        "used": used,
        "conflict": conflict,
        "examples": list(getattr(guess, "examples", []) or [])[:10],
        "question": (
            f"The file says its text is {declared} but it reads as {guess.encoding}. "
            "Check the examples and confirm the encoding, so names are not stored garbled."
        ),
    }


def _remembered_mapping(
    upload: Upload, target: Target, columns: list[str], *, is_csv: bool
) -> dict[str, Any]:
    remembered = ColumnMapping.objects.filter(
        organisation=upload.organisation, target=upload.target
    ).first()
    if remembered and not target.missing_fields(remembered.mapping, columns, is_csv=is_csv):
        return dict(remembered.mapping)
    return target.suggest_mapping(columns, is_csv=is_csv)


def _remember_mapping(upload: Upload, target: Target, mapping: dict[str, Any]) -> None:
    clean = {k: v for k, v in mapping.items() if k != "srid"}
    ColumnMapping.objects.update_or_create(
        organisation=upload.organisation, target=upload.target, defaults={"mapping": clean}
    )


def _stage(
    upload: Upload,
    target: Target,
    batches: Any,
    mapping: dict[str, Any],
    ctx: StageContext,
    total: int | None,
) -> int:
    table = staging_name(upload)
    columns = target.copy_columns()
    own = target.staging_ddl()
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE SCHEMA IF NOT EXISTS {STAGING_SCHEMA}")
        cursor.execute(
            f'CREATE TABLE {STAGING_SCHEMA}."{table}" ({_common_ddl()}{", " + own if own else ""})'
        )
    Upload.objects.filter(pk=upload.pk).update(staging_table=table)
    upload.staging_table = table
    read = 0
    stage_columns = getattr(target, "stage_columns", None)
    with _BackgroundCopy() as copying:
        for batch in batches:
            if isinstance(batch, ColumnBatch) and stage_columns is not None:
                # Column by column, no per-row dicts; COPY text built a column at a time.
                copy = _copy_columns_text(table, columns, stage_columns(batch, mapping, ctx))
            else:
                rows: list[list[Any]] = []
                for source_row in batch.rows() if isinstance(batch, ColumnBatch) else batch:
                    staged = target.stage(source_row, mapping, ctx)
                    if staged is not None:
                        rows.append(staged)
                copy = _copy_text(table, columns, rows)
            # The previous batch's COPY ran while this one was read and prepared; it ends
            # before the connection reports progress and takes the next.
            copying.wait()
            if read:
                _read_progress(upload, read, total)
            copying.start(copy)
            read += len(batch)
        copying.wait()
    _read_progress(upload, read, total)
    return read


def _read_progress(upload: Upload, read: int, total: int | None) -> None:
    percent = 15 + int(55 * read / total) if total else min(70, 15 + read // 20_000)
    _progress(upload, "read", min(percent, 70), f"Read {read:,} features")


class _BackgroundCopy:
    """One batch's COPY runs in a thread on the upload's own connection while the next batch is
    read and prepared: psycopg2 lets go of the GIL while PostgreSQL takes the rows in, so the
    server's work on batch k and Python's on batch k+1 overlap (two cores) instead of taking
    turns. One COPY at a time; `wait()` before the connection is used for anything else. Django
    gives each thread its own connection, so the thread is handed the DB-API connection itself
    (same session, same transaction: it sees the staging table)."""

    def __init__(self) -> None:
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    def __enter__(self) -> "_BackgroundCopy":
        return self

    def __exit__(self, *exc_info: object) -> None:
        # On the way out of an error, too: the connection is not left in the middle of a COPY.
        self._join()

    def _join(self) -> None:
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def start(self, copy: tuple[str, str] | None) -> None:
        if copy is None:
            return
        sql, text = copy
        # Bytes, encoded once here: psycopg2 sends slices of them as they are, where from a
        # StringIO it encodes every 8 kB it reads. Reading a million points: 0.5 s faster and
        # a 15 MB lower peak (12.4 s, 242 MB).
        data = text.encode()
        raw = connection.connection

        def run() -> None:
            try:
                with raw.cursor() as cursor:
                    cursor.copy_expert(sql, io.BytesIO(data))
            except BaseException as exc:  # raised again in the job's own thread, by wait()
                self._error = exc

        self._thread = threading.Thread(target=run, name="staging-copy", daemon=True)
        self._thread.start()

    def wait(self) -> None:
        self._join()
        if self._error is not None:
            error, self._error = self._error, None
            with connection.wrap_database_errors:  # psycopg2's errors as Django's, as before
                raise error


def _common_ddl() -> str:
    from layers.ingest.targets import COMMON_COLUMNS

    return COMMON_COLUMNS


def _copy_text(table: str, columns: list[str], rows: list[list[Any]]) -> tuple[str, str] | None:
    """Rows as a COPY statement and its CSV data; None when there is nothing to copy."""
    if not rows:
        return None
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow(["\\N" if v is None else v for v in row])
    return (
        f"COPY {STAGING_SCHEMA}.\"{table}\" ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv, NULL '\\N')",
        buffer.getvalue(),
    )


_COPY_ESCAPES = (("\\", "\\\\"), ("\n", "\\n"), ("\r", "\\r"), ("\t", "\\t"))


def copy_text(values: list[list[Any]]) -> str:
    """Columns of values as COPY text format (NULL is \\N), escaping whole columns at once:
    PostgreSQL text cannot hold NUL, so NUL separates the values while they are escaped."""
    texts = []
    for column in values:
        if column.count(None) == len(column):
            texts.append(["\\N"] * len(column))  # an unmapped column: nothing to escape
            continue
        strings = [v if type(v) is str else "" if v is None else str(v) for v in column]
        joined = "\0".join(strings)
        for char, escaped in _COPY_ESCAPES:
            if char in joined:
                joined = joined.replace(char, escaped)
        strings = joined.split("\0") if column else []
        if None in column:
            strings = ["\\N" if v is None else t for v, t in zip(column, strings, strict=True)]
        texts.append(strings)
    return "".join(line + "\n" for line in map("\t".join, zip(*texts, strict=True)))


def _copy_columns_text(
    table: str, columns: list[str], values: list[list[Any]]
) -> tuple[str, str] | None:
    """Columns of values as a COPY statement and its text data; None when there are no rows."""
    if not values or not values[0]:
        return None
    return (
        f'COPY {STAGING_SCHEMA}."{table}" ({", ".join(columns)}) FROM STDIN',
        copy_text(values),
    )


GEOMETRY_FAMILIES = {
    "point": ("ST_Point", "ST_MultiPoint"),
    "line": ("ST_LineString", "ST_MultiLineString"),
    "polygon": ("ST_Polygon", "ST_MultiPolygon"),
}


def _check_staged(
    upload: Upload,
    target: Target,
    srid: int,
    read: int,
    ctx: StageContext,
    step: Callable[[int, str], None] = lambda percent, message: None,
) -> dict[str, Any]:
    """Geometry building, reprojection, validity, family, range and member-state checks in SQL.

    `step(percent, message)` between the checks moves the page's progress bar and the job's
    heartbeat: five million rows take minutes here, longer than a silent job may stay before
    it is taken for a lost worker (webgis.lib.jobs.STALLED_AFTER).

    Repair policy (documented in the report): an invalid polygon or line is repaired with
    ST_MakeValid (structure method) and kept if the result is of the expected kind and not
    empty; anything else invalid, empty or out of range is rejected with its reason.
    """
    table = f'{STAGING_SCHEMA}."{upload.staging_table}"'
    problems: list[dict[str, Any]] = []

    def run(sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        with connection.cursor() as cursor:
            cursor.execute(sql, params or [])
            return cursor.fetchall() if cursor.description else []

    # 1. Build geometries from WKB, WKT or coordinates; unparseable ones are rejected.
    # Geometries are reprojected as they are built: the column holds WGS 84 only (a file in
    # another CRS could not be staged before), in 2D (the column's; Z is dropped).
    # Unreadable or unprojectable ones become NULL.
    run("""CREATE OR REPLACE FUNCTION pg_temp.amdis_4326(g geometry, srid int) RETURNS geometry AS $$
            BEGIN
              IF srid = 4326 THEN RETURN ST_SetSRID(ST_Force2D(g), 4326); END IF;
              RETURN ST_Transform(ST_SetSRID(ST_Force2D(g), srid), 4326);
            EXCEPTION WHEN OTHERS THEN RETURN NULL;
            END $$ LANGUAGE plpgsql IMMUTABLE""")
    run("""CREATE OR REPLACE FUNCTION pg_temp.amdis_geom(wkb text, wkt text, srid int) RETURNS geometry AS $$
            BEGIN
              IF wkb IS NOT NULL THEN RETURN pg_temp.amdis_4326(ST_GeomFromWKB(decode(wkb, 'hex')), srid); END IF;
              RETURN pg_temp.amdis_4326(ST_GeomFromText(wkt), srid);
            EXCEPTION WHEN OTHERS THEN RETURN NULL;
            END $$ LANGUAGE plpgsql IMMUTABLE""")
    if srid == 4326:
        run(
            f"""UPDATE {table} SET geom = ST_SetSRID(ST_MakePoint(lon, lat), 4326)
                WHERE lon IS NOT NULL"""
        )
    else:
        run(
            f"""UPDATE {table} SET geom = pg_temp.amdis_4326(ST_MakePoint(lon, lat), %s)
                WHERE lon IS NOT NULL""",
            [srid],
        )
    # Points already staged as geometries (or coordinates) are not touched: one pass over the
    # rows that need it, each geometry parsed once.
    run(
        f"""UPDATE {table} SET geom = pg_temp.amdis_geom(wkb, wkt, %s), wkb = NULL, wkt = NULL
            WHERE lon IS NULL AND geom IS NULL""",
        [srid],
    )
    run(f"""UPDATE {table} SET problems = problems || '["the geometry cannot be read"]'::jsonb,
                rejected = true
            WHERE geom IS NULL AND NOT rejected""")
    run(f"UPDATE {table} SET wkb = NULL, wkt = NULL WHERE wkb IS NOT NULL OR wkt IS NOT NULL")
    # 2. Too many vertices, empty.
    step(80, "Checking each geometry's size and coordinates")
    max_vertices = safety.Limits.from_settings().max_vertices_per_geometry
    run(
        f"""UPDATE {table} SET rejected = true,
                problems = problems || jsonb_build_array('the geometry has ' || ST_NPoints(geom) || ' vertices (limit ' || %s || ')')
            WHERE NOT rejected AND ST_NPoints(geom) > %s""",
        [max_vertices, max_vertices],
    )
    run(f"""UPDATE {table} SET rejected = true, problems = problems || '["the geometry is empty"]'::jsonb
            WHERE NOT rejected AND (geom IS NULL OR ST_IsEmpty(geom))""")
    # 3. The range (geometries were reprojected to the storage CRS as they were built).
    run(f"""UPDATE {table} SET rejected = true, problems = problems || jsonb_build_array(
                'coordinates out of range (' || round(ST_XMin(geom)::numeric, 3) || ', ' || round(ST_YMin(geom)::numeric, 3) || ')')
            WHERE NOT rejected AND (ST_XMin(geom) < -180 OR ST_XMax(geom) > 180 OR ST_YMin(geom) < -90 OR ST_YMax(geom) > 90
                                    OR NOT (ST_XMin(geom) = ST_XMin(geom)))""")
    # 4. Geometry family.
    if target.geometry_family in GEOMETRY_FAMILIES:
        kinds = list(GEOMETRY_FAMILIES[target.geometry_family])
        run(
            f"""UPDATE {table} SET rejected = true, problems = problems || jsonb_build_array(
                    'a ' || lower(GeometryType(geom)) || ' where the target needs a ' || %s || ' geometry')
                WHERE NOT rejected AND ST_GeometryType(geom) <> ALL(%s)""",
            [target.geometry_family, kinds],
        )
    # 5. Validity, with the repair policy.
    step(84, "Checking geometry validity")
    invalid = run(f"""SELECT row_number, ST_IsValidReason(geom) FROM {table}
                      WHERE NOT rejected AND NOT ST_IsValid(geom) ORDER BY row_number""")
    if invalid:
        run(f"""UPDATE {table} SET geom = ST_MakeValid(geom, 'method=structure'),
                    problems = problems || jsonb_build_array('invalid (' || ST_IsValidReason(geom) || '): repaired')
                WHERE NOT rejected AND NOT ST_IsValid(geom)""")
        if target.geometry_family in GEOMETRY_FAMILIES:
            dim = {"point": 1, "line": 2, "polygon": 3}[target.geometry_family]
            run(
                f"""UPDATE {table} SET geom = ST_CollectionExtract(geom, %s)
                    WHERE NOT rejected AND GeometryType(geom) = 'GEOMETRYCOLLECTION'""",
                [dim],
            )
        run(f"""UPDATE {table} SET rejected = true, problems = problems || '["could not be repaired"]'::jsonb
                WHERE NOT rejected AND (ST_IsEmpty(geom) OR NOT ST_IsValid(geom))""")
        problems = [{"row": r, "problem": reason} for r, reason in invalid[:REPORT_LIST_LIMIT]]
    # 6. Target-specific checks: member state, duplicates, feature keys.
    step(88, "Checking the member state's boundary and possible duplicates")
    extra = _check_occurrences(upload, table) if upload.target == UploadTarget.OCCURRENCES else {}
    if upload.target != UploadTarget.OCCURRENCES:
        _check_member_state_overlap(upload, table, extra)
        key = (upload.options.get("mapping") or {}).get("key")
        if key:
            run(f"UPDATE {table} SET feature_key = attributes->>%s", [key])
        else:
            run(f"UPDATE {table} SET feature_key = md5(ST_AsEWKB(geom)::text || attributes::text)")

    step(95, "Writing the report")
    rejected_sql = run(
        f"""SELECT row_number, problems FROM {table} WHERE rejected ORDER BY row_number LIMIT %s""",
        [REPORT_LIST_LIMIT],
    )
    counts = run(f"""SELECT count(*) FILTER (WHERE NOT rejected), count(*) FILTER (WHERE rejected),
                            count(*) FILTER (WHERE NOT rejected AND problems::text LIKE '%%repaired%%') FROM {table}""")[
        0
    ]
    bounds = run(
        f"SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT ST_Extent(geom) e FROM {table} WHERE NOT rejected) x"
    )[0]
    rejected_rows: list[dict[str, Any]] = [
        {"row": n, "reason": r} for n, r in ctx.rejected[:REPORT_LIST_LIMIT]
    ]
    # Django hands jsonb from a raw cursor back as text.
    rejected_rows += [
        {"row": n, "reason": "; ".join(json.loads(p) if isinstance(p, str) else p)}
        for n, p in rejected_sql
    ]
    rejected_rows.sort(key=lambda r: r["row"])
    vocabulary: list[str] = getattr(target, "vocabulary_suggestions", list)()
    unmapped = {
        kind: [
            {
                "term": term,
                "rows": n,
                "suggestions": suggest_terms(term, vocabulary) if kind == "commodity" else [],
            }
            for term, n in terms.most_common(REPORT_LIST_LIMIT)
        ]
        for kind, terms in ctx.unmapped.items()
    }
    return {
        "counts": {
            "read": read,
            "accepted": counts[0],
            "rejected": len(ctx.rejected) + counts[1],
            "repaired": counts[2],
        },
        "rejected": rejected_rows[:REPORT_LIST_LIMIT],
        "geometry_problems": problems,
        "repair_policy": "Invalid polygons and lines are repaired with PostGIS ST_MakeValid (structure method) "
        "and kept when the result is of the right kind; anything else invalid, empty or out of "
        "range is rejected and listed here.",
        "unmapped_terms": unmapped,
        "bounds": list(bounds) if bounds[0] is not None else None,
        **extra,
    }


def _member_state(upload: Upload) -> MemberState:
    """Uploads come from national surveys, each bound to one member state (a model constraint)."""
    member_state = upload.organisation.member_state
    if member_state is None:
        raise safety.RejectedFile("no_member_state", "Only a national survey's editors can upload.")
    return member_state


def _check_occurrences(upload: Upload, table: str) -> dict[str, Any]:
    member_state = _member_state(upload)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""UPDATE {table} s SET geom = ST_PointOnSurface(geom) WHERE NOT rejected AND GeometryType(geom) = 'MULTIPOINT'"""
        )
        # Only the rows outside are written: the accepted ones keep member_state_id NULL,
        # which publishing reads as the survey's own member state (the dataset's).
        cursor.execute(
            f"""UPDATE {table} s SET rejected = true, problems = s.problems || jsonb_build_array(
                    'outside ' || ms.name || ' (more than ' || %s || ' km from its boundary)')
                FROM deposits_memberstate ms
                WHERE ms.id = %s AND NOT s.rejected AND NOT ST_Covers(ms.boundary, s.geom)
                  AND NOT ST_DWithin(ms.boundary::geography, s.geom::geography, %s)""",
            [MEMBER_STATE_TOLERANCE_M // 1000, member_state.pk, MEMBER_STATE_TOLERANCE_M],
        )
        cursor.execute(
            f"""UPDATE {table} SET feature_key = lower(coalesce(nullif(source_id, ''), name))
                WHERE feature_key IS NULL"""
        )
        replaced = upload.dataset_id if upload.mode == PublishMode.REPLACE else None
        cursor.execute(f"ANALYZE {table}")
        # The staging table was just analysed: the planner's counts are right.
        staged, live = planner_rows(table, "deposits_mineraloccurrence")
        candidates = _duplicate_candidates(table, by_place=duplicates_by_place(staged, live))
        cursor.execute(
            f"""WITH candidates AS MATERIALIZED ({candidates})
                SELECT c.row_number, c.name, c.id, c.existing, d.title,
                       round(ST_Distance(c.other::geography, c.geom::geography))
                FROM candidates c JOIN layers_dataset d ON d.id = c.dataset_id
                WHERE ST_DWithin(c.other::geography, c.geom::geography, %(distance)s)
                ORDER BY c.row_number LIMIT %(limit)s""",
            {
                "replaced": replaced,
                "distance": DUPLICATE_DISTANCE_M,
                "limit": REPORT_LIST_LIMIT,
                **_degree_margins(DUPLICATE_DISTANCE_M),
            },
        )
        duplicates = [
            {
                "row": r[0],
                "name": r[1],
                "existing_id": r[2],
                "existing_name": r[3],
                "existing_dataset": r[4],
                "distance_m": float(r[5]),
            }
            for r in cursor.fetchall()
        ]
    return {"duplicates": duplicates, "member_state": member_state.code}


# Possible duplicates are found one of two ways, by the upload's size against the live table's.
# Measured on 1M live occurrences: joining names by hash reads the whole live table, about
# 1.7 s whatever the upload's size (a 1,000-row upload took 2.3 s, of which this was 1.7 s);
# looking around each staged point in the live (geom, dataset) index costs about 0.17 ms a
# point, whatever the live table's size. The planner cannot be left to choose: it took the
# index for a million staged points too (58 s against 1.75 s by hash).
PLACE_LOOKUPS_PER_LIVE_ROW = 0.01


def duplicates_by_place(staged: float, live: float) -> bool:
    """Whether `staged` rows are few enough, against `live` occurrences, to look around each."""
    return staged < live * PLACE_LOOKUPS_PER_LIVE_ROW


# A box around the staged point `s.geom` that holds every point within the distance: degrees
# of latitude, and of longitude at the box's far edge, from the ellipsoid's shortest degrees
# (_degree_margins). The index finds what lies in it; the geodesic test keeps the true ones.
# Boxes are not wrapped across the antimeridian, far from the member states.
NEAR_BOX_SQL = """ST_Expand(s.geom,
    least(180, %(lon_degrees_at_equator)s
               / greatest(cos(radians(least(90, abs(ST_Y(s.geom)) + %(lat_degrees)s))), 1e-9)),
    %(lat_degrees)s)"""


def _duplicate_candidates(table: str, *, by_place: bool) -> str:
    """Staged rows and the live occurrences of the same name (any case) that may lie within the
    distance: found around each staged point through the index (NEAR_BOX_SQL), or by a hash
    join of the names. Materialised by the caller: with ORDER BY ... LIMIT alone the planner
    chose a nested loop, a million staged rows times a million occurrences."""
    near = f"o.geom && {NEAR_BOX_SQL} AND " if by_place else ""
    return f"""SELECT s.row_number, s.name, s.geom, o.id, o.name AS existing, o.geom AS other,
                      o.dataset_id
               FROM {table} s JOIN deposits_mineraloccurrence o
                 ON {near}lower(o.name) = lower(s.name)
               WHERE NOT s.rejected AND o.dataset_id IS DISTINCT FROM %(replaced)s"""


def _degree_margins(distance_m: float) -> dict[str, float]:
    """Degrees that span at least `distance_m` (with 1 % to spare): on WGS 84 a degree of
    latitude is at least 110,574 m long, and one of longitude at least 111,319 m × cos φ."""
    reach = distance_m * 1.01
    return {"lat_degrees": reach / 110_574, "lon_degrees_at_equator": reach / 111_319}


def _check_member_state_overlap(upload: Upload, table: str, extra: dict[str, Any]) -> None:
    """Layers other than occurrences may cross borders (a fault, a basin): report, don't reject.

    Measured in Web Mercator against the stored 3857 boundary: a coarse check (distances there
    are stretched by 1/cos(latitude)), but cheap, and only a count for the report.
    """
    member_state = _member_state(upload)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT count(*) FROM {table} s, deposits_memberstate ms
                WHERE ms.id = %s AND NOT s.rejected
                  AND NOT ST_DWithin(ms.boundary_3857, ST_Transform(s.geom, 3857), %s)""",
            [member_state.pk, MEMBER_STATE_TOLERANCE_M],
        )
        (outside,) = cursor.fetchone() or (0,)
    extra["member_state"] = member_state.code
    extra["outside_member_state"] = int(outside)


# --- publishing and versions --------------------------------------------------------------


def _snapshot_name(dataset: Dataset, number: int) -> str:
    return f"d{dataset.pk}_v{number}"


def _live_delete(target_name: str, dataset: Dataset) -> None:
    if target_name == UploadTarget.OCCURRENCES:
        dataset_occurrences_delete(dataset.pk)
        return
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {target_for(target_name).live_table} WHERE dataset_id = %s", [dataset.pk]
        )


def _materialize(
    target_name: str, dataset: Dataset, snapshot: str, progress: ProgressWriter | None = None
) -> int:
    target = target_for(target_name)
    qualified = f'{VERSIONS_SCHEMA}."{snapshot}"'
    progress = progress or ProgressWriter(None)
    with target.writing(dataset.pk), connection.cursor() as cursor:
        ids_sql = target.ids_sql()
        if ids_sql:
            cursor.execute(ids_sql.format(snapshot=qualified))
        progress.step(Step.WRITING, "Writing the features into the live tables")
        cursor.execute(
            target.materialize_sql().format(snapshot=qualified), {"dataset_id": dataset.pk}
        )
        links_sql = target.links_sql()
        if links_sql:
            progress.step(Step.LINKING, "Linking the features to their commodities")
            cursor.execute(links_sql.format(snapshot=qualified))
            # Leaving `writing` builds each occurrence's GeoJSON, or queues the job that will
            # (a large dataset: deposits.occurrence_json).
            progress.step(
                Step.GEOJSON,
                "Building each feature's GeoJSON (a large dataset's: by a job right after)",
            )
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {qualified} WHERE NOT rejected")
        (count,) = cursor.fetchone() or (0,)
    return int(count)


def dataset_for_upload(upload: Upload) -> Dataset:
    if upload.dataset_id:
        return Dataset.objects.select_for_update().get(pk=upload.dataset_id)
    fields = (upload.options or {}).get("dataset") or {}
    organisation = upload.organisation
    base_slug = fields.get("slug") or f"{organisation.slug}-{upload.pk.hex[:8]}"
    dataset = Dataset.objects.create(
        slug=base_slug,
        title=fields.get("title") or upload.original_name,
        abstract=fields.get("abstract", ""),
        kind=target_for(upload.target).dataset_kind
        if upload.target != UploadTarget.RASTER
        else "raster",
        organisation=organisation.name,
        owner=organisation,
        member_state=organisation.member_state,
        licence=fields.get("licence") or "CC BY 4.0",
        citation=fields.get("citation", ""),
        version=0,
        is_published=False,
        created_by=upload.created_by,
    )
    upload.dataset = dataset
    Upload.objects.filter(pk=upload.pk).update(dataset=dataset)
    return dataset


@transaction.atomic
def upload_publish(
    upload: Upload, *, actor: Any, fail_before_commit: Callable[[], None] | None = None
) -> DatasetVersion:
    """Publishes a checked upload as the dataset's next version, in one transaction."""
    statement_timeout_lift()
    upload = Upload.objects.select_for_update().get(pk=upload.pk)
    if upload.status not in {UploadStatus.READY, UploadStatus.PUBLISHING}:
        raise ValueError(
            f"Only a checked upload can be published; this one is {upload.get_status_display().lower()}."
        )
    with ProgressWriter(upload.pk) as progress:
        version = _publish(
            upload, actor=actor, progress=progress, fail_before_commit=fail_before_commit
        )
    # Published, the upload's own status says so: its progress row goes. (A rollback keeps it
    # until the job's failure handling or the next publish of this upload.) Robust: a failure
    # here is logged, and must not reach the job, which would report a committed publish failed.
    transaction.on_commit(lambda: progress_clear(upload.pk), robust=True)
    return version


def _publish(
    upload: Upload,
    *,
    actor: Any,
    progress: ProgressWriter,
    fail_before_commit: Callable[[], None] | None,
) -> DatasetVersion:
    dataset = dataset_for_upload(upload)
    previous = dataset.versions.order_by("-number").first()
    number = dataset.version + 1
    snapshot = _snapshot_name(dataset, number)
    if upload.target == UploadTarget.RASTER:
        from layers.ingest.rasters import raster_publish

        progress.step(Step.WRITING, "Writing the raster")
        feature_count = raster_publish(upload, dataset, number)
    else:
        accepted = int(((upload.report or {}).get("counts") or {}).get("accepted") or 0)
        progress.step(Step.MOVING, f"Publishing {accepted:,} checked features as version {number}")
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE SCHEMA IF NOT EXISTS {VERSIONS_SCHEMA}")
            staging = f'{STAGING_SCHEMA}."{upload.staging_table}"'
            if upload.mode == PublishMode.APPEND and previous is not None:
                columns = ", ".join(
                    [
                        "row_number",
                        "feature_key",
                        "problems",
                        "rejected",
                        "geom",
                        "attributes",
                        *target_for(upload.target).own_copy_columns(),
                        *_extra_columns(upload.target),
                    ]
                )
                cursor.execute(
                    f"""INSERT INTO {staging} ({columns}) SELECT {columns} FROM {VERSIONS_SCHEMA}."{previous.snapshot_table}"
                        WHERE NOT rejected"""
                )
            cursor.execute(f"ALTER TABLE {staging} SET SCHEMA {VERSIONS_SCHEMA}")
            cursor.execute(
                f'ALTER TABLE {VERSIONS_SCHEMA}."{upload.staging_table}" RENAME TO "{snapshot}"'
            )
        if previous is not None:
            progress.step(Step.REMOVING, f"Removing version {previous.number}'s features")
        _live_delete(upload.target, dataset)
        feature_count = _materialize(upload.target, dataset, snapshot, progress)
    progress.step(
        Step.SAVING,
        f"Saving {feature_count:,} features: the database checks every reference, then commits",
    )
    failpoint("publish")
    if fail_before_commit:
        fail_before_commit()  # tests: a failure here must leave everything as it was
    dataset.version = number
    dataset.is_published = True
    dataset.save(update_fields=["version", "is_published", "updated_at"])
    version = DatasetVersion.objects.create(
        dataset=dataset,
        number=number,
        upload=upload,
        mode=upload.mode,
        feature_count=feature_count,
        snapshot_table=snapshot,
        created_by=actor,
    )
    Upload.objects.filter(pk=upload.pk).update(
        status=UploadStatus.PUBLISHED,
        staging_table="",
        dataset=dataset,
        progress=100,
        progress_message=f"Published as version {number}",
    )
    _audit(
        AuditAction.PUBLISHED,
        upload=upload,
        dataset=dataset,
        actor=actor,
        version=number,
        features=feature_count,
    )
    _announce_published(dataset)
    return version


def _announce_published(dataset: Dataset) -> None:
    """Once committed (not before: a rollback publishes nothing)."""
    dataset_id = dataset.pk
    transaction.on_commit(
        lambda: dataset_published.send(sender=Dataset, dataset_id=dataset_id), robust=True
    )


def _extra_columns(target_name: str) -> list[str]:
    return ["member_state_id"] if target_name == UploadTarget.OCCURRENCES else []


@transaction.atomic
def version_restore(
    version: DatasetVersion, *, actor: Any, progress: ProgressWriter | None = None
) -> DatasetVersion:
    """Makes an earlier version current again, as a new version (history is never rewritten).

    `progress` reports the steps (the restore job's, for the versions page)."""
    statement_timeout_lift()
    progress = progress or ProgressWriter(None)
    dataset = Dataset.objects.select_for_update().get(pk=version.dataset_id)
    number = dataset.version + 1
    snapshot = _snapshot_name(dataset, number)
    target_name = _target_of(dataset)
    if target_name == UploadTarget.RASTER:
        from layers.ingest.rasters import raster_restore

        progress.step(Step.WRITING, f"Restoring version {version.number}'s raster")
        feature_count = raster_restore(version, dataset, number)
    else:
        progress.step(
            Step.MOVING, f"Copying version {version.number}'s features as version {number}"
        )
        with connection.cursor() as cursor:
            cursor.execute(
                f"""CREATE TABLE {VERSIONS_SCHEMA}."{snapshot}" AS
                    SELECT * FROM {VERSIONS_SCHEMA}."{version.snapshot_table}" """
            )
        progress.step(Step.REMOVING, f"Removing version {dataset.version}'s features")
        _live_delete(target_name, dataset)
        feature_count = _materialize(target_name, dataset, snapshot, progress)
    progress.step(
        Step.SAVING,
        f"Saving {feature_count:,} features: the database checks every reference, then commits",
    )
    failpoint("restore")
    dataset.version = number
    dataset.is_published = True
    dataset.save(update_fields=["version", "is_published", "updated_at"])
    restored = DatasetVersion.objects.create(
        dataset=dataset,
        number=number,
        restored_from=version,
        mode=PublishMode.REPLACE,
        feature_count=feature_count,
        snapshot_table=snapshot,
        created_by=actor,
    )
    _audit(
        AuditAction.RESTORED,
        dataset=dataset,
        actor=actor,
        version=number,
        restored_from=version.number,
    )
    _announce_published(dataset)
    return restored


def _target_of(dataset: Dataset) -> str:
    return {
        "occurrences": UploadTarget.OCCURRENCES,
        "geology": UploadTarget.GEOLOGY,
        "structures": UploadTarget.STRUCTURES,
        "vector": UploadTarget.VECTOR,
        "raster": UploadTarget.RASTER,
    }[dataset.kind]


def versions_compare(
    older: DatasetVersion, newer: DatasetVersion, *, limit: int = 100
) -> dict[str, Any]:
    """Features added, removed and changed between two versions (by feature key and content):
    how many of each, and the first `limit` of each by label.

    The database counts and picks the examples: two versions of a million features used to
    send every difference to the web process (a million rows, its peak 172 → 732 MB, 4.2 s).
    Snapshots never change, so a comparison is cached under their names."""
    target_name = _target_of(older.dataset)
    if target_name == UploadTarget.RASTER:
        from layers.ingest.rasters import rasters_compare

        return rasters_compare(older, newer)
    key = f"versions-compare:{older.snapshot_table}:{newer.snapshot_table}:{limit}"
    cached = cache.get(key)
    if cached is not None:
        return dict(cached)
    content = ", ".join(target_for(target_name).content_columns())
    sql = f"""
        WITH a AS (SELECT feature_key AS k, md5(concat_ws('|', {content}, ST_AsEWKB(geom)::text)) AS h,
                          coalesce(attributes->>'name', {_label(target_name)}) AS label
                   FROM {VERSIONS_SCHEMA}."{older.snapshot_table}" WHERE NOT rejected),
             b AS (SELECT feature_key AS k, md5(concat_ws('|', {content}, ST_AsEWKB(geom)::text)) AS h,
                          coalesce(attributes->>'name', {_label(target_name)}) AS label
                   FROM {VERSIONS_SCHEMA}."{newer.snapshot_table}" WHERE NOT rejected),
             diff AS (
               SELECT CASE WHEN a.k IS NULL THEN 'added' WHEN b.k IS NULL THEN 'removed'
                           ELSE 'changed' END AS kind,
                      coalesce(b.label, a.label) AS label, coalesce(b.k, a.k) AS k
               FROM a FULL JOIN b ON a.k = b.k
               WHERE a.k IS NULL OR b.k IS NULL OR a.h <> b.h),
             ranked AS (
               SELECT kind, label, k, count(*) OVER (PARTITION BY kind) AS n,
                      row_number() OVER (PARTITION BY kind ORDER BY label, k) AS nth
               FROM diff)
        SELECT kind, label, k, n FROM ranked WHERE nth <= %s ORDER BY kind, nth
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [limit])
        rows = cursor.fetchall()
    result: dict[str, Any] = {"older": older.number, "newer": newer.number}
    for kind in ("added", "removed", "changed"):
        mine = [r for r in rows if r[0] == kind]
        result[kind] = mine[0][3] if mine else 0
        result[f"{kind}_examples"] = [{"label": r[1], "key": r[2]} for r in mine]
    cache.set(key, result, 24 * 3600)
    return result


def _label(target_name: str) -> str:
    return (
        "name"
        if target_name in {UploadTarget.OCCURRENCES, UploadTarget.GEOLOGY, UploadTarget.STRUCTURES}
        else "feature_key"
    )


def upload_discard(upload: Upload, *, actor: Any) -> None:
    _drop_staging(upload)
    shutil.rmtree(upload_dir(upload), ignore_errors=True)
    Upload.objects.filter(pk=upload.pk).update(status=UploadStatus.DISCARDED)
    _audit(AuditAction.DISCARDED, upload=upload, actor=actor)


def report_json(upload: Upload) -> str:
    return json.dumps(upload.report, default=str)
