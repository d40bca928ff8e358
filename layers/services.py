"""Writes for datasets, geological layers and uploads."""

import contextlib
import hashlib
import shutil
import uuid
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import connection, transaction
from django.utils import timezone
from django.utils.text import get_valid_filename
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from layers.ingest import pipeline
from layers.ingest.progress import progress_clear
from layers.ingest.targets import GEOLOGY, STRUCTURES, VECTOR
from layers.models import (
    AuditAction,
    AuditEntry,
    Dataset,
    DatasetKind,
    DatasetVersion,
    Organisation,
    PublishMode,
    Upload,
    UploadStatus,
    UploadTarget,
)
from layers.permissions import access_for, can_edit_dataset, can_upload_for
from webgis.lib.jobs import STALLED_AFTER
from webgis.lib.pgtools import statement_timeout_lift

DEMO_GEOLOGY_SLUG = "amdis-demo-geology"
DEMO_STRUCTURES_SLUG = "amdis-demo-structures"
# (unit name, lithology, age, age_min_ma, age_max_ma) assigned to generated demo polygons.
DEMO_UNITS = [
    ("Demo granite suite", "granite", "Triassic", 201.4, 251.9),
    ("Demo volcanic arc sequence", "andesite", "Miocene", 5.3, 23.0),
    ("Demo ophiolite complex", "peridotite", "Cretaceous", 66.0, 145.0),
    ("Demo carbonate platform", "limestone", "Permian", 251.9, 298.9),
    ("Demo clastic basin fill", "sandstone", "Neogene", 2.6, 23.0),
    ("Demo metamorphic basement", "schist", "Palaeozoic", 251.9, 538.8),
    ("Demo alluvium", "sand and gravel", "Quaternary", 0.0, 2.6),
    ("Demo tin-granite belt", "granite", "Late Triassic", 201.4, 237.0),
]


def _demo_dataset(slug: str, title: str, kind: str) -> Dataset:
    dataset, _ = Dataset.objects.update_or_create(
        slug=slug,
        defaults={
            "title": title,
            "abstract": "Made-up map features that show how AMDIS works. Not real geology.",
            "kind": kind,
            "organisation": "AMDIS",
            "licence": "CC0 1.0",
            "citation": "AMDIS demonstration data (generated).",
            "keywords": ["demo"],
            "is_published": True,
            "is_demo": True,
        },
    )
    return dataset


@transaction.atomic
def demo_geology_create(*, seed: float = 0.42) -> tuple[int, int]:
    """Voronoi 'units' and straight 'faults' inside each member state, reproducible, marked demo."""
    units = _demo_dataset(DEMO_GEOLOGY_SLUG, "AMDIS demonstration geology", DatasetKind.GEOLOGY)
    faults = _demo_dataset(
        DEMO_STRUCTURES_SLUG, "AMDIS demonstration structures", DatasetKind.STRUCTURES
    )
    names = [u[0] for u in DEMO_UNITS]
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM layers_geologicalunit WHERE dataset_id = %s", [units.pk])
        cursor.execute("DELETE FROM layers_structure WHERE dataset_id = %s", [faults.pk])
        cursor.execute("SELECT setseed(%s)", [seed])
        cursor.execute(
            """WITH cells AS (
                   SELECT ms.code, ms.boundary,
                          (ST_Dump(ST_VoronoiPolygons(ST_GeneratePoints(ms.boundary,
                              GREATEST(4, (sqrt(ST_Area(ms.boundary)) * 8)::int), 7)))).geom AS cell
                   FROM deposits_memberstate ms WHERE ms.boundary IS NOT NULL
               ), clipped AS (
                   SELECT code, ST_Multi(ST_CollectionExtract(ST_Intersection(boundary, cell), 3)) AS geom,
                          row_number() OVER (ORDER BY code, ST_X(ST_Centroid(cell)), ST_Y(ST_Centroid(cell))) AS n
                   FROM cells
               )
               INSERT INTO layers_geologicalunit (dataset_id, name, lithology, age, age_min_ma, age_max_ma,
                                                  description, geom)
               SELECT %s, u.name || ' (' || c.code || ')', u.lithology, u.age, u.min_ma, u.max_ma,
                      'Generated demonstration unit.', c.geom
               FROM clipped c
               JOIN (SELECT * FROM unnest(%s::text[], %s::text[], %s::text[], %s::float8[], %s::float8[])
                     WITH ORDINALITY AS t(name, lithology, age, min_ma, max_ma, k)) u
                 ON u.k = 1 + (c.n * 7 + 3) %% %s
               WHERE NOT ST_IsEmpty(c.geom)""",
            [
                units.pk,
                names,
                [u[1] for u in DEMO_UNITS],
                [u[2] for u in DEMO_UNITS],
                [u[3] for u in DEMO_UNITS],
                [u[4] for u in DEMO_UNITS],
                len(DEMO_UNITS),
            ],
        )
        unit_count = cursor.rowcount
        cursor.execute(
            """WITH seeds AS (
                   SELECT ms.code, ms.boundary, (ST_Dump(ST_GeneratePoints(ms.boundary,
                          GREATEST(2, (sqrt(ST_Area(ms.boundary)) * 2)::int), 11))).geom AS p
                   FROM deposits_memberstate ms WHERE ms.boundary IS NOT NULL
               ), lines AS (
                   SELECT code, boundary, row_number() OVER (ORDER BY code, ST_X(p), ST_Y(p)) AS n,
                          ST_MakeLine(ST_Translate(p, -0.6 * cos(ST_X(p)), -0.9 * sin(ST_Y(p))),
                                      ST_Translate(p, 0.6 * cos(ST_X(p)), 0.9 * sin(ST_Y(p)))) AS line
                   FROM seeds
               )
               INSERT INTO layers_structure (dataset_id, name, structure_type, description, attributes, geom)
               SELECT %s, 'Demo fault ' || code || '-' || n,
                      (ARRAY['strike_slip_fault','thrust_fault','normal_fault','fault'])[1 + n %% 4],
                      'Generated demonstration structure.', '{}',
                      ST_Multi(ST_CollectionExtract(ST_Intersection(boundary, line), 2))
               FROM lines WHERE ST_Intersects(boundary, line)""",
            [faults.pk],
        )
        structure_count = cursor.rowcount
    return unit_count, structure_count


# --- uploads ------------------------------------------------------------------------------

# A job whose progress has not moved for STALLED_AFTER (webgis.lib.jobs) has lost its worker.


def _editor_organisation(user: Any, organisation: Organisation) -> None:
    if not can_upload_for(user, organisation.member_state_id):
        raise PermissionDenied("You can upload only for your own survey's member state.")


def upload_create(
    *,
    user: Any,
    organisation: Organisation,
    file: UploadedFile,
    target: str,
    dataset: Dataset | None = None,
    mode: str = PublishMode.REPLACE,
    dataset_fields: dict[str, Any] | None = None,
) -> Upload:
    """Stores the file in its own job folder and queues the job that reads and checks it."""
    from layers.tasks import upload_process_task

    _editor_organisation(user, organisation)
    if target not in UploadTarget.values:
        raise ValidationError(f"Unknown target {target!r}.")
    if dataset is not None and (
        not can_edit_dataset(user, dataset)
        or dataset.member_state_id != organisation.member_state_id
    ):
        raise PermissionDenied("You can add versions only to your own member state's datasets.")
    upload = Upload(
        id=uuid.uuid4(),
        organisation=organisation,
        created_by=user,
        target=target,
        dataset=dataset,
        mode=mode,
        original_name=Path(file.name or "upload").name[:255],
        size_bytes=file.size or 0,
        sha256="",
        options={"dataset": dataset_fields or {}},
    )
    folder = pipeline.upload_dir(upload) / "original"
    safe_name = get_valid_filename(upload.original_name) or "upload.bin"
    digest = hashlib.sha256()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with (folder / safe_name).open("wb") as out:
            for chunk in file.chunks():
                digest.update(chunk)
                out.write(chunk)
        upload.sha256 = digest.hexdigest()
        with transaction.atomic():
            upload.save(force_insert=True)
            AuditEntry.objects.create(
                action=AuditAction.UPLOADED,
                upload=upload,
                dataset=dataset,
                actor=user,
                details={
                    "name": upload.original_name,
                    "size": upload.size_bytes,
                    "sha256": upload.sha256,
                    "target": target,
                },
            )
            upload_process_task.enqueue(str(upload.pk))
    except OSError as exc:
        shutil.rmtree(pipeline.upload_dir(upload), ignore_errors=True)
        if exc.errno in pipeline.STORAGE_FULL_ERRNOS:
            raise StorageFull(pipeline.STORAGE_FULL_MESSAGE) from exc
        raise
    except BaseException:
        shutil.rmtree(pipeline.upload_dir(upload), ignore_errors=True)
        raise
    return upload


class StorageFull(Exception):
    """The server's disk is full: nothing was kept; the user is told to retry later."""


def _require_editor(user: Any, upload: Upload) -> None:
    if not can_upload_for(user, upload.organisation.member_state_id):
        raise PermissionDenied("Only editors of this survey can change this upload.")


@transaction.atomic
def upload_options_update(*, user: Any, upload: Upload, options: dict[str, Any]) -> Upload:
    """New answers (layer, CRS, encoding, column mapping): the file is checked again."""
    from layers.tasks import upload_process_task

    _require_editor(user, upload)
    if upload.status not in {UploadStatus.NEEDS_INPUT, UploadStatus.READY, UploadStatus.FAILED}:
        raise ValidationError("This upload can no longer be changed.")
    merged = {**(upload.options or {}), **options}
    Upload.objects.filter(pk=upload.pk).update(
        options=merged,
        status=UploadStatus.QUEUED,
        progress=0,
        progress_message="Waiting for a worker",
        report={},
    )
    upload.refresh_from_db()
    AuditEntry.objects.create(
        action=AuditAction.OPTIONS_CHANGED,
        upload=upload,
        dataset=upload.dataset,
        actor=user,
        details={k: v for k, v in options.items() if k != "mapping"}
        | ({"mapping": True} if "mapping" in options else {}),
    )
    upload_process_task.enqueue(str(upload.pk))
    return upload


def _stalled(upload: Upload) -> bool:
    return bool(
        upload.is_active
        and upload.heartbeat_at
        and timezone.now() - upload.heartbeat_at > STALLED_AFTER
    )


def upload_mark_stalled(upload: Upload) -> Upload:
    """A job whose worker died (killed, machine restarted) is marked failed with the reason.

    A publish writes no heartbeat: it holds the upload's row locked for its whole transaction
    (pipeline.upload_publish), a million rows for minutes. So a locked row is a publish at work,
    however old its heartbeat, and is left alone; the row is read again under the lock, so a
    publish that committed meanwhile is never marked lost. (Before, a page polled after two
    minutes of publishing waited on that lock, then wrote "nothing was published" over an
    upload that had just been published.)
    """
    if not _stalled(upload):
        return upload
    with transaction.atomic():
        current = (
            Upload.objects.select_for_update(skip_locked=True)
            .filter(pk=upload.pk, status=upload.status)
            .first()
        )
        if current is None or not _stalled(current):  # at work, or moved on meanwhile
            upload.refresh_from_db()
            return upload
        stage = current.stage or "start"
        if current.status == UploadStatus.PUBLISHING:
            # The publish transaction never committed: the upload is still checked and publishable.
            progress_clear(upload.pk)
            Upload.objects.filter(pk=upload.pk).update(
                status=UploadStatus.READY,
                **pipeline.CHECKED_PROGRESS,
                error_code="worker_lost",
                error_message="The worker stopped while publishing; nothing was published. Publish again.",
            )
        else:
            Upload.objects.filter(pk=upload.pk).update(
                status=UploadStatus.FAILED,
                error_code="worker_lost",
                error_message=f"The worker stopped during '{stage}' (it was restarted or killed). "
                "Nothing was published; press Retry.",
            )
        AuditEntry.objects.create(
            action=AuditAction.FAILED,
            upload=upload,
            dataset=current.dataset,
            details={"code": "worker_lost", "stage": stage},
        )
    upload.refresh_from_db()
    if upload.status == UploadStatus.FAILED:
        pipeline.cleanup_after_failure(upload)
    return upload


@transaction.atomic
def upload_retry(*, user: Any, upload: Upload) -> Upload:
    from layers.tasks import upload_process_task

    _require_editor(user, upload)
    upload = upload_mark_stalled(upload)
    if upload.status != UploadStatus.FAILED:
        raise ValidationError("Only a failed upload can be retried.")
    Upload.objects.filter(pk=upload.pk).update(
        status=UploadStatus.QUEUED,
        progress=0,
        error_code="",
        error_message="",
        progress_message="Waiting for a worker",
    )
    AuditEntry.objects.create(
        action=AuditAction.RETRIED, upload=upload, dataset=upload.dataset, actor=user
    )
    upload_process_task.enqueue(str(upload.pk))
    upload.refresh_from_db()
    return upload


@transaction.atomic
def upload_publish_request(*, user: Any, upload: Upload) -> Upload:
    from layers.tasks import upload_publish_task

    _require_editor(user, upload)
    if upload.status != UploadStatus.READY:
        raise ValidationError("Only a checked upload can be published.")
    encoding = (upload.report or {}).get("encoding") or {}
    if encoding.get("conflict") and not (upload.options or {}).get("encoding"):
        raise ValidationError("Confirm the text encoding first.")
    Upload.objects.filter(pk=upload.pk).update(
        status=UploadStatus.PUBLISHING,
        heartbeat_at=timezone.now(),
        progress=0,
        progress_message="Waiting for the worker to publish",
        error_code="",
        error_message="",
    )
    upload_publish_task.enqueue(str(upload.pk), getattr(user, "pk", None))
    upload.refresh_from_db()
    return upload


def upload_discard(*, user: Any, upload: Upload) -> None:
    _require_editor(user, upload)
    if upload.status in {UploadStatus.PUBLISHED, UploadStatus.PUBLISHING}:
        raise ValidationError(
            "A published upload cannot be discarded; restore an earlier version instead."
        )
    pipeline.upload_discard(upload, actor=user)


class WorkerLost(Exception):
    """Recorded as a restore job's failure when its worker died mid-job."""


def version_restores_mark_lost(dataset: Dataset) -> int:
    """Restores of `dataset` whose worker died (killed, machine restarted) are marked failed,
    so the versions page stops saying they run and a new restore can be asked for. Returns how
    many.

    The job queue records a job as running when a worker takes it, and nothing more until it
    ends, so a dead worker's job would run forever. A restore holds its dataset's row locked
    for its whole transaction (pipeline.version_restore): a running restore on an unlocked
    dataset, started longer ago than STALLED_AFTER, has lost its worker.
    """
    from layers.tasks import version_restore_task

    numbers = dict(dataset.versions.values_list("pk", "number"))
    running = DBTaskResult.objects.filter(
        task_path=version_restore_task.module_path,
        status=TaskResultStatus.RUNNING,
        args_kwargs__args__0__in=list(numbers),
        started_at__lt=timezone.now() - STALLED_AFTER,
    )
    if not running.exists():
        return 0
    with transaction.atomic():
        if not Dataset.objects.select_for_update(skip_locked=True).filter(pk=dataset.pk).exists():
            return 0  # a restore (or a publish) of this dataset is at work
        lost = list(running.select_for_update(skip_locked=True))
        for job in lost:
            job.set_failed(
                WorkerLost("The worker stopped during the restore; nothing changed. Try again.")
            )
            progress_clear(job.id)
            AuditEntry.objects.create(
                action=AuditAction.FAILED,
                dataset=dataset,
                details={
                    "code": "worker_lost",
                    "restore_of": numbers.get(job.args_kwargs["args"][0]),
                },
            )
    return len(lost)


def version_restore_request(*, user: Any, version: DatasetVersion) -> None:
    """Queues the restore: reloading a large version takes longer than a request may wait."""
    from layers.selectors import version_restores
    from layers.tasks import version_restore_task

    if not can_edit_dataset(user, version.dataset):
        raise PermissionDenied("Only editors of this dataset's member state can restore versions.")
    if version.number == version.dataset.version:
        raise ValidationError(f"Version {version.number} is already the current version.")
    version_restores_mark_lost(version.dataset)
    running = version_restores(version.dataset).running
    if running:
        raise ValidationError(
            f"Version {running[0]} is being restored; wait for it to finish, then try again."
        )
    version_restore_task.enqueue(version.pk, getattr(user, "pk", None))


def uploads_visible(*, user: Any) -> Any:
    access = access_for(user)
    uploads = Upload.objects.select_related("organisation", "dataset", "created_by")
    if access.sees_everything:
        return uploads
    return uploads.filter(organisation_id__in=access.editor_organisations)


def upload_storage_root() -> Path:
    return Path(settings.MEDIA_ROOT) / "uploads"


# The tables holding a dataset's features, whatever its kind says ("mixed" holds several):
# the upload targets' live tables. Occurrences have their own delete
# (deposits.services.dataset_occurrences_delete).
FEATURE_TABLES = tuple(target.live_table for target in (GEOLOGY, STRUCTURES, VECTOR))
ACTIVE_UPLOADS = (UploadStatus.QUEUED, UploadStatus.RUNNING, UploadStatus.PUBLISHING)


def dataset_holdings(dataset: Dataset) -> dict[str, int]:
    """What goes with the dataset when it is deleted, counted: features, versions, uploads."""
    counts = " + ".join(
        f"(SELECT count(*) FROM {table} WHERE dataset_id = %(id)s)"
        for table in ("deposits_mineraloccurrence", *FEATURE_TABLES)
    )
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {counts}", {"id": dataset.pk})
        (features,) = cursor.fetchone() or (0,)
    return {
        "features": int(features),
        "versions": dataset.versions.count(),
        "uploads": dataset.uploads.count(),
    }


def dataset_delete_blocker(dataset: Dataset) -> str | None:
    """Why the dataset cannot be deleted now, if it cannot: a job is reading or publishing one
    of its uploads."""
    busy = dataset.uploads.filter(status__in=ACTIVE_UPLOADS).first()
    if busy is None:
        return None
    return (
        f"An upload of this dataset ({busy.original_name}) is"
        f" {busy.get_status_display().lower()}: wait for it to finish, then delete."
    )


def dataset_delete(dataset: Dataset, *, actor: Any) -> dict[str, Any]:
    """Deletes a dataset with everything it holds, in one transaction; audited.

    Features go set-based (a dataset holds up to millions: Django's cascade would load each one
    to delete it), then its version snapshots, then the dataset row and the rows that cascade
    from it (versions, uploads, feature blocks). Files (rasters, upload folders) go once the
    transaction has committed, so a failure leaves them for the rows that still point to them.
    Refused while an upload of the dataset is being read or published.
    """
    from deposits.services import dataset_occurrences_delete
    from layers.rasters import RasterFileMissing, media_path

    with transaction.atomic():
        statement_timeout_lift()  # millions of rows
        dataset = Dataset.objects.select_for_update().get(pk=dataset.pk)
        blocker = dataset_delete_blocker(dataset)
        if blocker:
            raise ValidationError(blocker)
        summary = {
            "slug": dataset.slug,
            "title": dataset.title,
            "kind": dataset.kind,
            **dataset_holdings(dataset),
        }
        dataset_occurrences_delete(dataset.pk)
        with connection.cursor() as cursor:
            for table in FEATURE_TABLES:
                cursor.execute(f"DELETE FROM {table} WHERE dataset_id = %s", [dataset.pk])
            for table in dataset.versions.exclude(snapshot_table="").values_list(
                "snapshot_table", flat=True
            ):
                cursor.execute(f'DROP TABLE IF EXISTS {pipeline.VERSIONS_SCHEMA}."{table}"')
            for staging in dataset.uploads.exclude(staging_table="").values_list(
                "staging_table", flat=True
            ):
                cursor.execute(f'DROP TABLE IF EXISTS {pipeline.STAGING_SCHEMA}."{staging}"')
        folders = [pipeline.upload_dir(u) for u in dataset.uploads.all()]
        raster_files = list(dataset.rasters.values_list("path", flat=True))
        AuditEntry.objects.create(
            action=AuditAction.DELETED,
            actor=actor if getattr(actor, "pk", None) else None,
            details=summary,
        )
        dataset.delete()

        def remove_files() -> None:
            for folder in folders:
                shutil.rmtree(folder, ignore_errors=True)
            for relative in raster_files:
                # RasterFileMissing: gone already, or not under MEDIA_ROOT.
                with contextlib.suppress(RasterFileMissing):
                    media_path(relative).unlink(missing_ok=True)

        transaction.on_commit(remove_files)
    return summary
