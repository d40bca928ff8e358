"""Pages for national surveys: upload, report, preview, publish; dataset versions; audit trail."""

import math
from typing import Any
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from layers import services
from layers.forms import AuditFilterForm, OptionsForm, UploadForm
from layers.ingest.pipeline import STAGING_SCHEMA, target_for, versions_compare
from layers.models import (
    AuditEntry,
    Dataset,
    DatasetVersion,
    Organisation,
    Upload,
    UploadStatus,
    UploadTarget,
)
from layers.permissions import access_for, can_edit_dataset, can_use_uploads, dataset_visibility_q
from layers.report import rejections_grouped
from layers.selectors import audit_entries, upload_progress, version_restores

PREVIEW_LIMIT = 5000
AUDIT_PAGE_SIZE = 100


def _editor_organisations(user: Any) -> Any:
    if user.is_superuser:
        return Organisation.objects.filter(member_state__isnull=False)
    return Organisation.objects.filter(pk__in=access_for(user).editor_organisations)


def _visible_upload(request: HttpRequest, pk: UUID) -> Upload:
    upload = services.uploads_visible(user=request.user).filter(pk=pk).first()
    if upload is None:
        raise Http404("No such upload.")
    return services.upload_mark_stalled(upload)


@login_required
def upload_list(request: HttpRequest) -> HttpResponse:
    if not can_use_uploads(request.user):
        raise PermissionDenied("Uploading is for editors of a national geological survey.")
    uploads = services.uploads_visible(user=request.user)[:200]
    return render(
        request,
        "layers/upload_list.html",
        {"uploads": uploads, "can_upload": _editor_organisations(request.user).exists()},
    )


@login_required
def upload_new(request: HttpRequest) -> HttpResponse:
    organisations = _editor_organisations(request.user)
    if not organisations.exists():
        raise PermissionDenied("Uploading is for editors of a national geological survey.")
    datasets = Dataset.objects.filter(
        member_state__in=organisations.values("member_state")
    ).exclude(is_demo=True)
    form = UploadForm(
        request.POST or None, request.FILES or None, organisations=organisations, datasets=datasets
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            upload = services.upload_create(
                user=request.user,
                organisation=data["organisation"],
                file=data["file"],
                target=data["target"],
                dataset=data["dataset"],
                mode=data["mode"],
                dataset_fields={
                    "title": data["title"],
                    "licence": data["licence"],
                    "abstract": data["abstract"],
                },
            )
        except (PermissionDenied, ValidationError) as exc:
            form.add_error(None, str(exc))
        except services.StorageFull as exc:
            form.add_error(None, str(exc))
            return render(request, "layers/upload_new.html", {"form": form}, status=507)
        else:
            return redirect("upload-detail", pk=upload.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "layers/upload_new.html", {"form": form}, status=status)


def _options_form(upload: Upload, data: Any = None) -> OptionsForm | None:
    report = upload.report or {}
    mapping = report.get("mapping") or {}
    if upload.target == UploadTarget.RASTER or not mapping:
        return None
    source = report.get("source") or {}
    return OptionsForm(
        data,
        layers=source.get("layers") or [],
        columns=mapping.get("columns") or [],
        mapping_fields=mapping.get("fields") or [],
        chosen=mapping.get("chosen") or {},
        initial={
            "layer": (upload.options or {}).get("layer") or source.get("layer"),
            "srid": (upload.options or {}).get("srid") or (report.get("crs") or {}).get("used"),
            "encoding": (upload.options or {}).get("encoding")
            or (report.get("encoding") or {}).get("detected"),
        },
    )


@login_required
def upload_detail(request: HttpRequest, pk: UUID) -> HttpResponse:
    upload = _visible_upload(request, pk)
    return render(
        request,
        "layers/upload_detail.html",
        {
            "upload": upload,
            "report": upload.report or {},
            "rejections": rejections_grouped((upload.report or {}).get("rejected") or []),
            "progress": upload_progress(upload),
            "options_form": _options_form(upload),
            "can_edit": services.can_upload_for(request.user, upload.organisation.member_state_id),
            "statuses": UploadStatus,
            "audit": AuditEntry.objects.filter(upload=upload).select_related("actor")[:50],
        },
    )


@login_required
@require_POST
def upload_options(request: HttpRequest, pk: UUID) -> HttpResponse:
    upload = _visible_upload(request, pk)
    form = _options_form(upload, request.POST)
    if form is None or not form.is_valid():
        messages.error(
            request,
            "Check your answers: " + (form.errors.as_text() if form else "nothing to change."),
        )
        return redirect("upload-detail", pk=upload.pk)
    options: dict[str, Any] = {}
    if form.cleaned_data.get("layer"):
        options["layer"] = form.cleaned_data["layer"]
    if form.cleaned_data.get("srid"):
        options["srid"] = form.cleaned_data["srid"]
    if form.cleaned_data.get("encoding"):
        options["encoding"] = form.cleaned_data["encoding"]
    if form.mapping_names:  # none while the file's layer is still to be chosen
        is_csv = (upload.report.get("source") or {}).get("kind") == "csv"
        options["mapping"] = target_for(upload.target).mapping_from_choices(
            form.mapping_choices(), is_csv=is_csv
        )
    try:
        services.upload_options_update(user=request.user, upload=upload, options=options)
    except (PermissionDenied, ValidationError) as exc:
        messages.error(request, str(exc))
    return redirect("upload-detail", pk=upload.pk)


def _action(request: HttpRequest, pk: UUID, action: Any, done: str) -> HttpResponse:
    upload = _visible_upload(request, pk)
    try:
        action(user=request.user, upload=upload)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, done)
    return redirect("upload-detail", pk=upload.pk)


@login_required
@require_POST
def upload_publish(request: HttpRequest, pk: UUID) -> HttpResponse:
    return _action(
        request,
        pk,
        services.upload_publish_request,
        "Publishing: the page updates when it is done.",
    )


@login_required
@require_POST
def upload_retry(request: HttpRequest, pk: UUID) -> HttpResponse:
    return _action(request, pk, services.upload_retry, "Queued again.")


@login_required
@require_POST
def upload_discard(request: HttpRequest, pk: UUID) -> HttpResponse:
    return _action(
        request, pk, services.upload_discard, "Discarded: the file and its staged rows are deleted."
    )


@login_required
@require_GET
def upload_status_api(request: HttpRequest, pk: UUID) -> JsonResponse:
    upload = _visible_upload(request, pk)
    progress = upload_progress(upload)
    response = JsonResponse(
        {
            "id": str(upload.pk),
            "status": upload.status,
            "status_label": upload.get_status_display(),
            "stage": upload.stage,
            "progress": progress.percent,
            "message": progress.message,
            "error": {"code": upload.error_code, "message": upload.error_message}
            if upload.error_code
            else None,
            "report": upload.report,
            "dataset": upload.dataset.slug if upload.dataset else None,
        }
    )
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_GET
def upload_preview_api(request: HttpRequest, pk: UUID) -> HttpResponse:
    """The staged (not yet published) features as GeoJSON, built by PostGIS, at most
    PREVIEW_LIMIT of them. A larger upload is sampled: its rejected rows first (up to half the
    limit, so its problems show), then the accepted rows whose row number is a multiple of k,
    so the map shows the whole extent of the file rather than its first rows (by row number,
    not by rank: ranking a million staged rows took 374 ms, this 111 ms). `numberMatched` is
    every staged feature."""
    upload = _visible_upload(request, pk)
    if not upload.staging_table:
        return JsonResponse({"type": "FeatureCollection", "features": []})
    table = f'{STAGING_SCHEMA}."{upload.staging_table}"'
    columns = "row_number, rejected, problems, attributes, geom"
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT count(*) FILTER (WHERE rejected), count(*) FILTER (WHERE NOT rejected),
                       coalesce(max(row_number) FILTER (WHERE NOT rejected), 0)
                FROM {table} WHERE geom IS NOT NULL"""
        )
        rejected, accepted, last_row = cursor.fetchone() or (0, 0, 0)
        rejected_shown = min(rejected, PREVIEW_LIMIT // 2)
        room = PREVIEW_LIMIT - rejected_shown
        # Multiples of `step` up to the last accepted row: never more than `room` of them.
        step = max(1, math.ceil(last_row / room)) if room and accepted > room else 1
        cursor.execute(
            f"""SELECT coalesce(string_agg('{{"type":"Feature","geometry":' || ST_AsGeoJSON(geom, 6)
                       || ',"properties":' || json_build_object('row', row_number, 'rejected', rejected,
                          'problems', problems, 'name', coalesce(attributes->>'name', ''))::text || '}}',
                       ',' ORDER BY row_number), ''), count(*)
                FROM ((SELECT {columns} FROM {table} WHERE geom IS NOT NULL AND rejected
                       ORDER BY row_number LIMIT %s)
                      UNION ALL
                      (SELECT {columns} FROM {table}
                       WHERE geom IS NOT NULL AND NOT rejected AND (row_number - 1) %% %s = 0
                       ORDER BY row_number LIMIT %s)) s""",
            [rejected_shown, step, room],
        )
        features, returned = cursor.fetchone() or ("", 0)
    response = HttpResponse(
        f'{{"type":"FeatureCollection","numberMatched":{rejected + accepted},'
        f'"numberReturned":{returned},"features":[{features}]}}',
        content_type="application/geo+json",
    )
    response["Cache-Control"] = "private, no-store"
    return response


def _visible_dataset(request: HttpRequest, slug: str) -> Dataset:
    return get_object_or_404(Dataset.objects.filter(dataset_visibility_q(request.user)), slug=slug)


def dataset_versions(request: HttpRequest, slug: str) -> HttpResponse:
    dataset = _visible_dataset(request, slug)
    services.version_restores_mark_lost(dataset)
    versions = list(dataset.versions.select_related("created_by", "upload", "restored_from"))
    comparison = None
    older, newer = request.GET.get("older"), request.GET.get("newer")
    if older and newer and older.isdigit() and newer.isdigit():
        by_number = {v.number: v for v in versions}
        if int(older) in by_number and int(newer) in by_number:
            comparison = versions_compare(by_number[int(older)], by_number[int(newer)])
    response = render(
        request,
        "layers/dataset_versions.html",
        {
            "dataset": dataset,
            "versions": versions,
            "comparison": comparison,
            "can_edit": can_edit_dataset(request.user, dataset),
            "restores": version_restores(dataset),
        },
    )
    response["Cache-Control"] = "private, max-age=0"
    return response


@login_required
@require_POST
def dataset_version_restore(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    dataset = _visible_dataset(request, slug)
    version = get_object_or_404(DatasetVersion, dataset=dataset, number=number)
    try:
        services.version_restore_request(user=request.user, version=version)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            f"Restoring version {number}: it becomes version {dataset.version + 1} when done.",
        )
    return redirect("dataset-versions", slug=dataset.slug)


@login_required
def audit_trail(request: HttpRequest) -> HttpResponse:
    if not access_for(request.user).sees_everything:
        raise PermissionDenied("The audit trail is for ASEAN Secretariat reviewers.")
    filters = AuditFilterForm(request.GET)
    chosen = filters.cleaned_data if filters.is_valid() else None
    entries = audit_entries(**chosen) if chosen else AuditEntry.objects.none()
    return render(
        request,
        "layers/audit.html",
        {
            "page": Paginator(entries, AUDIT_PAGE_SIZE).get_page(request.GET.get("page")),
            "filters": filters,
            "filtered": any(chosen.values()) if chosen else True,
        },
        status=200 if chosen is not None else 400,
    )
