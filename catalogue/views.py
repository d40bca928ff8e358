"""The metadata catalogue (/catalogue/) and the downloads (/downloads/)."""

import shutil
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    StreamingHttpResponse,
)
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET

from catalogue.api import NotFound, _json_response, _output_format, ogc_error
from catalogue.collections import SOURCES, collection_id_for
from catalogue.downloads import FORMATS, download_filename, streamed_zip
from catalogue.filters import (
    CATALOGUE_PARAMS,
    DOWNLOAD_PARAMS,
    catalogue_query_parse,
    filter_params,
)
from catalogue.models import DownloadJob, DownloadStatus
from catalogue.records import dataset_record, iso19139_xml
from catalogue.selectors import (
    catalogue_search,
    dataset_commodities,
    download_count,
    download_datasets,
)
from catalogue.services import (
    DownloadsBusy,
    download_build_temporary,
    download_job_start,
    download_scope,
    download_spec_build,
    downloads_mark_lost,
)
from deposits.models import Commodity, MemberState, without_boundaries
from layers.models import Dataset, DatasetKind
from layers.permissions import access_for
from layers.selectors import datasets_visible
from webgis.lib.errors import BadRequest
from webgis.lib.params import reject_unknown


def _private_or_public(request: HttpRequest, response: HttpResponse, max_age: int = 60) -> None:
    restricted = access_for(request.user).is_restricted_viewer
    response["Cache-Control"] = "private, max-age=0" if restricted else f"public, max-age={max_age}"
    response["Vary"] = "Accept, Cookie"


def _base_url(request: HttpRequest) -> str:
    return request.build_absolute_uri("/").rstrip("/")


# Catalogue ------------------------------------------------------------------------------------


@require_GET
def catalogue_search_view(request: HttpRequest) -> HttpResponse:
    """`/catalogue/`: datasets by text, commodity, member state, type and date, with facets."""
    try:
        reject_unknown(request.GET, CATALOGUE_PARAMS)
        fmt = _output_format(request, default="html")
        query = catalogue_query_parse(
            request.GET,
            member_states=MemberState.objects.values_list("code", flat=True),
            commodities=Commodity.objects.values_list("code", flat=True),
        )
    except BadRequest as exc:
        if _wants_html(request):
            response = render(
                request,
                "catalogue/search.html",
                {"error": exc.message, "params": request.GET},
                status=400,
            )
            return response
        return ogc_error(400, "InvalidParameterValue", exc.message, exc.field)
    result = catalogue_search(query=query, user=request.user)
    base = _base_url(request)
    if fmt == "json":
        doc = {
            "numberMatched": result.total,
            "numberReturned": len(result.datasets),
            "page": result.page,
            "pages": result.pages,
            "datasets": [
                {
                    "id": d.slug,
                    "title": d.title,
                    "type": d.kind,
                    "member_state": d.member_state.code if d.member_state else None,
                    "organisation": d.organisation,
                    "licence": d.licence,
                    "version": d.version,
                    "revised": d.updated_at.date().isoformat(),
                    "commodities": result.commodities.get(d.pk, []),
                    "record": f"{base}/catalogue/{d.slug}/?f=json",
                    "iso19139": f"{base}/catalogue/{d.slug}/iso19139.xml",
                }
                for d in result.datasets
            ],
            "facets": {
                name: [{"value": v.value, "label": v.label, "count": v.count} for v in values]
                for name, values in result.facets.items()
            },
        }
        return _json_response(request, doc)

    def with_param(name: str, value: str) -> str:
        query_params = {k: v for k, v in request.GET.items() if k not in ("page", "f")}
        if name == "year":
            query_params.pop("date_from", None)
            query_params.pop("date_to", None)
        if value:
            query_params[name] = value
        else:
            query_params.pop(name, None)
        return "?" + urlencode(sorted(query_params.items()))

    facet_titles = {
        "kind": "Type",
        "member_state": "Member state",
        "commodity": "Commodity",
        "year": "Revised in",
    }
    facet_params = {
        "kind": "type",
        "member_state": "member_state",
        "commodity": "commodity",
        "year": "year",
    }
    facets = [
        {
            "title": facet_titles[name],
            "values": [
                {
                    "label": v.label,
                    "count": v.count,
                    "selected": v.selected or request.GET.get(facet_params[name]) == v.value,
                    "href": with_param(
                        facet_params[name],
                        "" if request.GET.get(facet_params[name]) == v.value else v.value,
                    ),
                }
                for v in values[:25]
            ],
        }
        for name, values in result.facets.items()
    ]
    page_query = {k: v for k, v in request.GET.items() if k != "page"}
    response = render(
        request,
        "catalogue/search.html",
        {
            "result": result,
            "facets": facets,
            "params": request.GET,
            "kinds": DatasetKind.choices,
            "prev_page": "?" + urlencode({**page_query, "page": result.page - 1})
            if result.page > 1
            else "",
            "next_page": "?" + urlencode({**page_query, "page": result.page + 1})
            if result.page < result.pages
            else "",
            "json_url": "?" + urlencode({**request.GET.dict(), "f": "json"}),
        },
    )
    _private_or_public(request, response)
    return response


def _wants_html(request: HttpRequest) -> bool:
    try:
        return _output_format(request, default="html") == "html"
    except BadRequest:
        return False


def _visible_dataset(request: HttpRequest, slug: str) -> Dataset:
    dataset = (
        datasets_visible(user=request.user)
        .select_related("member_state", "owner")
        .defer(*without_boundaries("member_state"))
        .filter(slug=slug)
        .first()
    )
    if dataset is None:
        raise Http404("No such dataset.")
    return dataset


@require_GET
def dataset_view(request: HttpRequest, slug: str) -> HttpResponse:
    """A dataset's ISO 19115 core metadata, a preview map and its distribution links."""
    try:
        reject_unknown(request.GET, {"f"})
        fmt = _output_format(request, default="html")
    except BadRequest as exc:
        return ogc_error(400, "InvalidParameterValue", exc.message, exc.field)
    try:
        dataset = _visible_dataset(request, slug)
    except Http404:
        if fmt == "json":
            return ogc_error(404, "NotFound", f"No dataset {slug[:80]!r}.")
        raise
    record = dataset_record(
        dataset, base_url=_base_url(request), commodities=dataset_commodities().get(dataset.pk, [])
    )
    if fmt == "json":
        return _json_response(request, record)
    collection_id = collection_id_for(dataset) if dataset.kind in SOURCES else ""
    preview = None
    if collection_id:
        preview = {
            "tilejson": f"/ogc/collections/{collection_id}/tiles/WebMercatorQuad?f=tilejson",
            "boundaries": reverse("tilejson", args=["member-states"]),
            "extent": record["extent"],
            "geometry": SOURCES[dataset.kind].geometry_type,
            "download": f"/downloads/{collection_id}/",
        }
    response = render(
        request,
        "catalogue/dataset.html",
        {
            "dataset": dataset,
            "record": record,
            "collection_id": collection_id,
            "preview": preview,
            "formats": FORMATS.values(),
        },
    )
    _private_or_public(request, response)
    return response


@require_GET
def dataset_iso19139(request: HttpRequest, slug: str) -> HttpResponse:
    if request.GET:
        return ogc_error(400, "InvalidParameterValue", "This record takes no parameters.")
    try:
        dataset = _visible_dataset(request, slug)
    except Http404:
        return ogc_error(404, "NotFound", f"No dataset {slug[:80]!r}.")
    record = dataset_record(
        dataset, base_url=_base_url(request), commodities=dataset_commodities().get(dataset.pk, [])
    )
    response = HttpResponse(iso19139_xml(record), content_type="application/xml; charset=utf-8")
    _private_or_public(request, response, max_age=300)
    return response


# Downloads ------------------------------------------------------------------------------------


class _TemporaryFile(FileResponse):
    """A FileResponse whose folder is removed once the file has been sent."""

    folder: Path | None = None

    def close(self) -> None:
        super().close()
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)


def _job_doc(request: HttpRequest, job: DownloadJob) -> dict[str, Any]:
    status_url = request.build_absolute_uri(reverse("download-job", args=[job.pk]))
    doc: dict[str, Any] = {
        "id": str(job.pk),
        "collection": job.collection_id,
        "format": job.format,
        "status": job.status,
        "progress": job.progress,
        "features": job.feature_count,
        "written": job.written,
        "status_url": status_url,
    }
    if job.status == DownloadStatus.DONE:
        doc["file_url"] = request.build_absolute_uri(reverse("download-job-file", args=[job.pk]))
        doc["size_bytes"] = job.size_bytes
    if job.status == DownloadStatus.FAILED:
        doc["message"] = job.error_message
    return doc


@require_GET
def download(request: HttpRequest, collection_id: str, fmt: str) -> HttpResponseBase:
    """`/downloads/<collection>/<format>`: a zip of the filtered (and clipped) features."""
    if fmt not in FORMATS:
        return ogc_error(404, "NotFound", f"No format {fmt[:20]!r}. Formats: {', '.join(FORMATS)}.")
    try:
        spec = download_spec_build(
            request.GET,
            collection_id=collection_id,
            fmt=fmt,
            user=request.user,
            url=request.build_absolute_uri(),
        )
        if spec is None:
            raise NotFound(f"No collection {collection_id[:80]!r}.")
        reject_unknown(request.GET, DOWNLOAD_PARAMS | filter_params(spec.collection))
    except BadRequest as exc:
        return ogc_error(400, "InvalidParameterValue", exc.message, exc.field)
    except NotFound as exc:
        return ogc_error(404, "NotFound", exc.message)
    restricted = access_for(request.user).is_restricted_viewer
    if FORMATS[fmt].streams:
        datasets = download_datasets(
            collection=spec.collection, user=spec.user, where=spec.where, clip=spec.clip
        )
        response: HttpResponseBase = StreamingHttpResponse(
            streamed_zip(spec, datasets), content_type="application/zip"
        )
    else:
        count = download_count(
            collection=spec.collection, user=spec.user, where=spec.where, clip=spec.clip
        )
        if count > settings.DOWNLOAD_MAX_FEATURES:
            return ogc_error(
                400,
                "InvalidParameterValue",
                f"{count} features match; a {fmt} download holds at most "
                f"{settings.DOWNLOAD_MAX_FEATURES}. Narrow it with bbox, a filter or a clip, "
                "or use GeoJSON or CSV, which stream at any size.",
            )
        if count > settings.DOWNLOAD_DIRECT_MAX_FEATURES:
            return _download_job_response(request, spec)
        path, folder = download_build_temporary(spec)
        file_response = _TemporaryFile(open(path, "rb"), content_type="application/zip")  # noqa: SIM115
        file_response.folder = folder
        response = file_response
    response["Content-Disposition"] = f'attachment; filename="{download_filename(spec)}"'
    response["Cache-Control"] = "private, no-store" if restricted else "public, max-age=60"
    return response


def _download_job_response(request: HttpRequest, spec: Any) -> HttpResponse:
    params = {k: str(v) for k, v in request.GET.items()}
    try:
        job = download_job_start(spec, params)
    except DownloadsBusy:
        response = ogc_error(
            503,
            "ServiceUnavailable",
            "Too many downloads are being prepared; try again in a minute.",
        )
        response["Retry-After"] = "60"
        return response
    return _job_response(request, job, status=202 if job.status != DownloadStatus.DONE else 200)


def _job_response(request: HttpRequest, job: DownloadJob, status: int = 200) -> HttpResponse:
    doc = _job_doc(request, job)
    if _wants_html(request):
        response = render(
            request, "catalogue/download_job.html", {"job": job, "doc": doc}, status=status
        )
    else:
        response = _json_response(request, doc)
        response.status_code = status
    if job.is_active:
        response["Retry-After"] = "2"
        response["Location"] = doc["status_url"]
    response["Cache-Control"] = "no-store"
    return response


def _job_for(request: HttpRequest, job_id: Any) -> DownloadJob | None:
    """A job whose file the requester may fetch: public ones, or the requester's own."""
    downloads_mark_lost()  # a job whose worker died says so, instead of running forever
    job = DownloadJob.objects.filter(pk=job_id).first()
    if job is None:
        return None
    if job.scope != "public" and job.scope != download_scope(request.user):
        return None
    return job


@require_GET
def download_job(request: HttpRequest, job_id: Any) -> HttpResponse:
    job = _job_for(request, job_id)
    if job is None:
        return ogc_error(404, "NotFound", "No such download job.")
    return _job_response(request, job)


@require_GET
def download_job_file(request: HttpRequest, job_id: Any) -> HttpResponseBase:
    job = _job_for(request, job_id)
    if job is None or job.status != DownloadStatus.DONE or not job.path:
        return ogc_error(
            404, "NotFound", "No such file: the job is unknown, not finished or expired."
        )
    # The collection must still be visible to whoever asks (it may have been withdrawn).
    from catalogue.collections import collection_get

    if collection_get(collection_id=job.collection_id, user=request.user) is None:
        return ogc_error(404, "NotFound", "No such file.")
    path = Path(settings.MEDIA_ROOT) / job.path
    if not path.is_file():
        return ogc_error(404, "NotFound", "The file has expired; request the download again.")
    handle = path.open("rb")  # FileResponse closes it
    response = FileResponse(
        handle, content_type="application/zip", as_attachment=True, filename=path.name
    )
    response["Cache-Control"] = "private, no-store"
    return response


@require_GET
def download_form(request: HttpRequest, collection_id: str) -> HttpResponse:
    """The download form without JavaScript: `?format=` chooses the download URL."""
    fmt = request.GET.get("format", "")
    if fmt not in FORMATS:
        return ogc_error(
            400, "InvalidParameterValue", f"format must be one of: {', '.join(FORMATS)}.", "format"
        )
    query = request.GET.copy()
    query.pop("format")
    target = reverse("download", args=[collection_id, fmt])
    return redirect(f"{target}?{query.urlencode()}" if query else target)
