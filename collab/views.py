"""Pages of the collaboration platform: parse, ask collab.permissions, call a service or a
selector, render. Sign-in pages are in collab/signin.py."""

import csv
from datetime import date
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import IntegrityError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from collab import charts, selectors, services
from collab.forms import (
    CommentForm,
    DocumentForm,
    EvidenceForm,
    FolderForm,
    InvitationForm,
    LibrarySearchForm,
    QuarterForm,
    ReportFilterForm,
    ReportForm,
    ReviewForm,
    VersionForm,
)
from collab.models import (
    ActionLine,
    AuditEntry,
    Document,
    Evidence,
    Folder,
    ImplementationStatus,
    Invitation,
    Notification,
    Plan,
    ProgressReport,
    ReviewState,
    Role,
    StoredFile,
)
from collab.permissions import (
    Actor,
    can_comment,
    can_manage_people,
    can_read_audit,
    can_read_comments,
    comment_can_delete,
    document_can_delete,
    folder_can_manage,
    folder_can_upload,
    member_view,
    report_can_create,
    report_can_edit,
    report_can_review,
    require,
)
from collab.uploads import upload_limited
from deposits.models import MemberState


def _base_url(request: HttpRequest) -> str:
    """Scheme and host for links in e-mails (the Host header is checked by ALLOWED_HOSTS)."""
    return request.build_absolute_uri("/").rstrip("/")


def _page(request: HttpRequest, items: Any, per_page: int = 50) -> Any:
    return Paginator(items, per_page).get_page(request.GET.get("page"))


def _plan(code: str | None) -> Plan:
    if code:
        return get_object_or_404(Plan, code=code)
    plan = selectors.plan_current(today=date.today())
    if plan is None:
        raise Http404("No plan has been loaded.")
    return plan


def _file_response(stored: StoredFile) -> FileResponse:
    """The file as a download; never rendered inline, whatever it holds."""
    try:
        handle = stored.file.open("rb")
    except FileNotFoundError as exc:
        raise Http404("The file is missing.") from exc
    return FileResponse(
        handle,
        as_attachment=True,
        filename=stored.original_name,
        content_type=stored.content_type,
    )


def _comment_context(
    actor: Actor, target: ActionLine | ProgressReport | Document
) -> dict[str, Any]:
    if not can_read_comments(actor):
        return {"comments": None, "comment_form": None}
    comments = list(selectors.comments_on(target=target))
    return {
        "comments": comments,
        "deletable": {c.pk for c in comments if comment_can_delete(actor, c)},
        "comment_form": CommentForm() if can_comment(actor) else None,
    }


# Home and plan


@member_view
@require_GET
def home(request: HttpRequest, actor: Actor) -> HttpResponse:
    plan = selectors.plan_current(today=date.today())
    board = selectors.dashboard(actor=actor, plan=plan, today=date.today()) if plan else None
    mine = (
        selectors.reports_visible(actor=actor).filter(
            member_state_id=actor.member_state_id,
            review_state__in=[ReviewState.DRAFT, ReviewState.RETURNED],
        )
        if actor.is_focal_point
        else None
    )
    awaiting = selectors.reports_awaiting_review(actor=actor) if actor.is_secretariat else None
    return render(
        request,
        "collab/home.html",
        {
            "actor": actor,
            "plan": plan,
            "board": board,
            "my_open_reports": mine,
            "awaiting_review": awaiting,
            "notifications": selectors.notifications_for(user=actor.user).filter(
                read_at__isnull=True
            )[:5],
        },
    )


@member_view
@require_GET
def plan_view(request: HttpRequest, actor: Actor, code: str | None = None) -> HttpResponse:
    plan = _plan(code)
    return render(
        request,
        "collab/plan.html",
        {
            "plan": plan,
            "plans": Plan.objects.all(),
            "areas": selectors.plan_areas(plan=plan),
            "milestones": selectors.milestones_of(plan=plan).filter(action_line__isnull=True),
        },
    )


@member_view
@require_GET
def action_line_view(request: HttpRequest, actor: Actor, pk: int) -> HttpResponse:
    line = get_object_or_404(
        ActionLine.objects.select_related(
            "strategy__programme_area__plan", "working_group", "lead_country"
        ),
        pk=pk,
    )
    plan = line.strategy.programme_area.plan
    reports = selectors.report_list(actor=actor, action_line=line)
    return render(
        request,
        "collab/action_line.html",
        {
            "line": line,
            "plan": plan,
            "milestones": selectors.milestones_of(plan=plan, action_line=line),
            "reports": reports,
            "can_report": report_can_create(actor),
            **_comment_context(actor, line),
        },
    )


# Reports


@member_view
@require_GET
def report_list(request: HttpRequest, actor: Actor) -> HttpResponse:
    filters = ReportFilterForm(request.GET or None)
    reports = selectors.reports_visible(actor=actor)
    if filters.is_valid():
        reports = selectors.report_list(
            actor=actor,
            member_state=filters.cleaned_data["member_state"],
            review_state=filters.cleaned_data["review_state"],
            year=filters.cleaned_data["year"],
        )
    return render(
        request,
        "collab/report_list.html",
        {
            "filters": filters,
            "page": _page(request, reports),
            "can_report": report_can_create(actor),
        },
        status=200 if not filters.errors else 400,
    )


def _save_evidence(actor: Actor, report: ProgressReport, form: ReportForm) -> None:
    upload = form.cleaned_data.get("evidence")
    if upload and form.checked_evidence is not None:
        services.evidence_add(
            actor=actor, report=report, upload=upload, checked=form.checked_evidence
        )


@member_view
@upload_limited
@require_http_methods(["GET", "POST"])
def report_new(request: HttpRequest, actor: Actor) -> HttpResponse:
    require(report_can_create(actor))
    state = get_object_or_404(MemberState, pk=actor.member_state_id)
    initial: dict[str, Any] = {}
    if line_pk := request.GET.get("action_line", "").strip():
        initial["action_line"] = line_pk if line_pk.isdigit() else None
    form = ReportForm(request.POST or None, request.FILES or None, actor=actor, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                report = services.report_create(
                    actor=actor,
                    action_line=data["action_line"],
                    member_state=state,
                    year=data["year"],
                    quarter=data["quarter"],
                    status=ImplementationStatus(data["status"]),
                    percent_complete=data["percent_complete"],
                    narrative=data["narrative"],
                    datasets=data["datasets"],
                )
            except IntegrityError:
                form.add_error(
                    None,
                    f"{state.name} has a report on this action line for this quarter already.",
                )
            else:
                _save_evidence(actor, report, form)
                if "submit" in request.POST:
                    services.report_submit(actor=actor, report=report, base_url=_base_url(request))
                    messages.success(request, "The report is submitted for review.")
                else:
                    messages.success(request, "The report is saved as a draft.")
                return redirect("collab:report", pk=report.pk)
        status = 400
    return render(request, "collab/report_form.html", {"form": form, "state": state}, status=status)


@member_view
@require_GET
def report_view(request: HttpRequest, actor: Actor, pk: int) -> HttpResponse:
    report = get_object_or_404(selectors.reports_visible(actor=actor), pk=pk)
    can_edit = report_can_edit(actor, report)
    return render(
        request,
        "collab/report.html",
        {
            "report": report,
            "evidence": report.evidence.all(),
            "datasets": report.datasets.all(),
            "can_edit": can_edit,
            "evidence_form": EvidenceForm() if can_edit else None,
            "review_form": ReviewForm() if report_can_review(actor, report) else None,
            **_comment_context(actor, report),
        },
    )


@member_view
@upload_limited
@require_http_methods(["GET", "POST"])
def report_edit(request: HttpRequest, actor: Actor, pk: int) -> HttpResponse:
    report = get_object_or_404(selectors.reports_visible(actor=actor), pk=pk)
    require(report_can_edit(actor, report))
    initial = {
        "status": report.status,
        "percent_complete": report.percent_complete,
        "narrative": report.narrative,
        "datasets": report.datasets.all(),
    }
    form = ReportForm(
        request.POST or None, request.FILES or None, actor=actor, fixed_period=True, initial=initial
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            services.report_update(
                actor=actor,
                report=report,
                status=ImplementationStatus(data["status"]),
                percent_complete=data["percent_complete"],
                narrative=data["narrative"],
                datasets=data["datasets"],
            )
            _save_evidence(actor, report, form)
            if "submit" in request.POST:
                services.report_submit(actor=actor, report=report, base_url=_base_url(request))
                messages.success(request, "The report is submitted for review.")
            else:
                messages.success(request, "The report is saved.")
            return redirect("collab:report", pk=report.pk)
        status = 400
    return render(
        request,
        "collab/report_form.html",
        {"form": form, "report": report, "state": report.member_state},
        status=status,
    )


@member_view
@require_POST
def report_submit(request: HttpRequest, actor: Actor, pk: int) -> HttpResponse:
    report = get_object_or_404(selectors.reports_visible(actor=actor), pk=pk)
    require(report_can_edit(actor, report))
    services.report_submit(actor=actor, report=report, base_url=_base_url(request))
    messages.success(request, "The report is submitted for review.")
    return redirect("collab:report", pk=report.pk)


@member_view
@require_POST
def report_review(request: HttpRequest, actor: Actor, pk: int) -> HttpResponse:
    report = get_object_or_404(selectors.reports_visible(actor=actor), pk=pk)
    require(report_can_review(actor, report))
    form = ReviewForm(request.POST)
    if not form.is_valid():
        return render(
            request,
            "collab/report.html",
            {
                "report": report,
                "evidence": report.evidence.all(),
                "datasets": report.datasets.all(),
                "review_form": form,
                **_comment_context(actor, report),
            },
            status=400,
        )
    services.report_review(
        actor=actor,
        report=report,
        accept=form.cleaned_data["decision"] == ReviewState.ACCEPTED,
        note=form.cleaned_data["note"],
        shared_with_observers=form.cleaned_data["shared_with_observers"],
        base_url=_base_url(request),
    )
    messages.success(request, f"The report is {report.get_review_state_display().lower()}.")
    return redirect("collab:report", pk=report.pk)


@member_view
@upload_limited
@require_POST
def evidence_add(request: HttpRequest, actor: Actor, pk: int) -> HttpResponse:
    report = get_object_or_404(selectors.reports_visible(actor=actor), pk=pk)
    require(report_can_edit(actor, report))
    form = EvidenceForm(request.POST, request.FILES)
    if not form.is_valid():
        return render(
            request, "collab/upload_rejected.html", {"form": form, "back": report}, status=400
        )
    services.evidence_add(
        actor=actor, report=report, upload=form.cleaned_data["file"], checked=form.checked
    )
    messages.success(request, "The evidence is attached.")
    return redirect("collab:report", pk=report.pk)


@member_view
@require_POST
def evidence_delete(request: HttpRequest, actor: Actor, pk: int) -> HttpResponse:
    evidence = get_object_or_404(
        Evidence.objects.filter(report__in=selectors.reports_visible(actor=actor)), pk=pk
    )
    require(report_can_edit(actor, evidence.report))
    services.evidence_delete(actor=actor, evidence=evidence)
    messages.success(request, "The evidence is removed.")
    return redirect("collab:report", pk=evidence.report_id)


@member_view
@require_GET
def evidence_download(request: HttpRequest, actor: Actor, pk: int) -> FileResponse:
    evidence = get_object_or_404(
        Evidence.objects.filter(report__in=selectors.reports_visible(actor=actor)), pk=pk
    )
    return _file_response(evidence)


# Dashboards and exports


@member_view
@require_GET
def dashboard_view(request: HttpRequest, actor: Actor, code: str | None = None) -> HttpResponse:
    plan = _plan(code)
    board = selectors.dashboard(actor=actor, plan=plan, today=date.today())
    return render(
        request,
        "collab/dashboard.html",
        {
            "plan": plan,
            "plans": Plan.objects.all(),
            "board": board,
            "overall_chart": charts.bar_chart([board.overall], title="Overall completion"),
            "status_chart": charts.status_chart(
                board.status_counts, title="Action lines by implementation status"
            ),
            "area_chart": charts.bar_chart(board.by_area, title="Completion by programme area"),
            "group_chart": charts.bar_chart(board.by_group, title="Completion by working group"),
            "state_chart": charts.bar_chart(board.by_state, title="Completion by member state"),
            "timeline_chart": charts.timeline_chart(
                board.timeline, board.plan_milestones, title="Completion over time and milestones"
            ),
            "quarter_form": QuarterForm(
                initial={"year": board.as_of[0], "quarter": board.as_of[1]}
            ),
        },
    )


def _csv_cell(value: object) -> str:
    """Text for a CSV cell; a leading = + - @ is quoted so spreadsheets do not run it."""
    text = "" if value is None else str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


def _csv_response(filename: str, header: list[str], rows: list[list[object]]) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.write("\ufeff")  # spreadsheet programs then read the file as UTF-8
    writer = csv.writer(response)
    writer.writerow(header)
    writer.writerows([[_csv_cell(cell) for cell in row] for row in rows])
    return response


@member_view
@require_GET
def export_quarterly(request: HttpRequest, actor: Actor, code: str) -> HttpResponse:
    plan = _plan(code)
    form = QuarterForm(request.GET)
    if not form.is_valid():
        return render(request, "collab/bad_request.html", {"form": form}, status=400)
    year, quarter = form.cleaned_data["year"], form.cleaned_data["quarter"]
    rows = selectors.quarterly_rows(actor=actor, plan=plan, year=year, quarter=quarter)
    if request.GET.get("format") == "csv":
        header = [
            "programme_area", "strategy", "action_line", "title", "working_group",
            "lead_country", "member_state", "status", "percent_complete", "review_state",
            "narrative", "reviewed_at",
        ]  # fmt: skip
        table: list[list[object]] = []
        for row in rows:
            line, report = row.action_line, row.report
            table.append(
                [
                    line.strategy.programme_area.code,
                    line.strategy.code,
                    line.code,
                    line.title,
                    line.working_group.code,
                    line.lead_country.code if line.lead_country else "",
                    report.member_state.code if report else "",
                    report.get_status_display() if report else "No report",
                    report.percent_complete if report else "",
                    report.get_review_state_display() if report else "",
                    report.narrative if report else "",
                    report.reviewed_at.isoformat() if report and report.reviewed_at else "",
                ]
            )
        return _csv_response(f"{plan.code}-{year}-Q{quarter}-monitoring.csv", header, table)
    return render(
        request,
        "collab/export_quarterly.html",
        {"plan": plan, "year": year, "quarter": quarter, "rows": rows},
    )


@member_view
@require_GET
def export_review(request: HttpRequest, actor: Actor, code: str, kind: str) -> HttpResponse:
    plan = _plan(code)
    if kind not in ("mid-term", "final-term"):
        raise Http404
    year = plan.mid_term_year if kind == "mid-term" else plan.final_term_year
    rows = selectors.review_rows(actor=actor, plan=plan, year=year)
    states = list(MemberState.objects.order_by("name").values_list("code", flat=True))
    if request.GET.get("format") == "csv":
        header = [
            "programme_area", "strategy", "action_line", "title", "working_group",
            "lead_country", "status", "percent_complete", "states_reporting",
            "targets_due", "targets_met", *[f"percent_{code}" for code in states],
        ]  # fmt: skip
        table: list[list[object]] = []
        for row in rows:
            line = row.progress.action_line
            table.append(
                [
                    line.strategy.programme_area.code,
                    line.strategy.code,
                    line.code,
                    line.title,
                    line.working_group.code,
                    line.lead_country.code if line.lead_country else "",
                    row.progress.status_label,
                    f"{row.progress.percent:.0f}",
                    row.progress.states_reported,
                    row.targets_due,
                    row.targets_met,
                    *[row.progress.by_state.get(code, "") for code in states],
                ]
            )
        return _csv_response(f"{plan.code}-{kind}-review-{year}.csv", header, table)
    return render(
        request,
        "collab/export_review.html",
        {"plan": plan, "kind": kind, "year": year, "rows": rows, "states": states},
    )


# Document library


@member_view
@require_GET
def library(request: HttpRequest, actor: Actor) -> HttpResponse:
    search = LibrarySearchForm(request.GET or None)
    results = None
    if search.is_valid() and search.cleaned_data["q"].strip():
        results = selectors.document_search(actor=actor, query=search.cleaned_data["q"].strip())[
            :100
        ]
    folders = selectors.folders_visible(actor=actor)
    visible_ids = {folder.pk for folder in folders}
    # A folder whose parent is hidden from this member shows at the top level.
    top = [f for f in folders if f.parent_id is None or f.parent_id not in visible_ids]
    return render(
        request,
        "collab/library.html",
        {
            "search": search,
            "results": results,
            "folders": top,
            "can_manage": folder_can_manage(actor),
        },
        status=200 if not search.errors else 400,
    )


def _folder_form_save(actor: Actor, form: FolderForm, folder: Folder | None) -> Folder:
    data = form.cleaned_data
    return services.folder_save(
        actor=actor,
        folder=folder,
        name=data["name"],
        description=data["description"],
        parent=data["parent"],
        working_group=data["working_group"],
        read_roles=data["read_roles"],
        read_groups=data["read_groups"],
        upload_roles=data["upload_roles"],
        upload_groups=data["upload_groups"],
    )


@member_view
@require_http_methods(["GET", "POST"])
def folder_new(request: HttpRequest, actor: Actor) -> HttpResponse:
    require(folder_can_manage(actor))
    form = FolderForm(request.POST or None, actor=actor)
    if request.method == "POST" and form.is_valid():
        folder = _folder_form_save(actor, form, None)
        return redirect("collab:folder", pk=folder.pk)
    status = 400 if form.errors else 200
    return render(request, "collab/folder_form.html", {"form": form}, status=status)


@member_view
@require_http_methods(["GET", "POST"])
def folder_edit(request: HttpRequest, actor: Actor, pk: int) -> HttpResponse:
    folder = get_object_or_404(selectors.folders_visible(actor=actor), pk=pk)
    require(folder_can_manage(actor))
    initial = {
        "name": folder.name,
        "description": folder.description,
        "parent": folder.parent,
        "working_group": folder.working_group,
        "read_roles": folder.read_roles,
        "read_groups": folder.read_groups.all(),
        "upload_roles": folder.upload_roles,
        "upload_groups": folder.upload_groups.all(),
    }
    form = FolderForm(request.POST or None, actor=actor, folder=folder, initial=initial)
    if request.method == "POST" and form.is_valid():
        _folder_form_save(actor, form, folder)
        messages.success(request, "The folder is saved.")
        return redirect("collab:folder", pk=folder.pk)
    status = 400 if form.errors else 200
    return render(
        request, "collab/folder_form.html", {"form": form, "folder": folder}, status=status
    )


@member_view
@require_GET
def folder_view(request: HttpRequest, actor: Actor, pk: int) -> HttpResponse:
    visible = selectors.folders_visible(actor=actor)
    folder = get_object_or_404(visible, pk=pk)
    return render(
        request,
        "collab/folder.html",
        {
            "folder": folder,
            "children": visible.filter(parent=folder),
            "documents": folder.documents.prefetch_related("versions").order_by("title"),
            "can_upload": folder_can_upload(actor, folder),
            "can_manage": folder_can_manage(actor),
            "read_groups": folder.read_groups.all(),
            "upload_groups": folder.upload_groups.all(),
            "role_labels": [Role(r).label for r in folder.read_roles],
            "upload_role_labels": [Role(r).label for r in folder.upload_roles],
        },
    )


@member_view
@upload_limited
@require_http_methods(["GET", "POST"])
def document_new(request: HttpRequest, actor: Actor, pk: int) -> HttpResponse:
    folder = get_object_or_404(selectors.folders_visible(actor=actor), pk=pk)
    require(folder_can_upload(actor, folder))
    form = DocumentForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        document = services.document_create(
            actor=actor,
            folder=folder,
            title=form.cleaned_data["title"],
            description=form.cleaned_data["description"],
            tags=form.cleaned_data["tags"],
            upload=form.cleaned_data["file"],
            checked=form.checked,
        )
        messages.success(request, "The document is in the library.")
        return redirect("collab:document", pk=document.pk)
    status = 400 if form.errors else 200
    return render(
        request, "collab/document_form.html", {"form": form, "folder": folder}, status=status
    )


@member_view
@require_GET
def document_view(request: HttpRequest, actor: Actor, pk: int) -> HttpResponse:
    document = get_object_or_404(selectors.documents_visible(actor=actor), pk=pk)
    can_upload = folder_can_upload(actor, document.folder)
    return render(
        request,
        "collab/document.html",
        {
            "document": document,
            "versions": selectors.document_versions(document=document),
            "version_form": VersionForm() if can_upload else None,
            "can_delete": document_can_delete(actor),
            **_comment_context(actor, document),
        },
    )


@member_view
@upload_limited
@require_POST
def version_new(request: HttpRequest, actor: Actor, pk: int) -> HttpResponse:
    document = get_object_or_404(selectors.documents_visible(actor=actor), pk=pk)
    require(folder_can_upload(actor, document.folder))
    form = VersionForm(request.POST, request.FILES)
    if not form.is_valid():
        return render(
            request, "collab/upload_rejected.html", {"form": form, "back": document}, status=400
        )
    version = services.document_version_add(
        actor=actor,
        document=document,
        upload=form.cleaned_data["file"],
        checked=form.checked,
        note=form.cleaned_data["note"],
    )
    messages.success(request, f"Version {version.number} is uploaded.")
    return redirect("collab:document", pk=document.pk)


@member_view
@require_POST
def document_delete(request: HttpRequest, actor: Actor, pk: int) -> HttpResponse:
    document = get_object_or_404(selectors.documents_visible(actor=actor), pk=pk)
    require(document_can_delete(actor))
    folder_pk = document.folder_id
    services.document_delete(actor=actor, document=document)
    messages.success(request, "The document is deleted.")
    return redirect("collab:folder", pk=folder_pk)


@member_view
@require_GET
def document_download(request: HttpRequest, actor: Actor, pk: int) -> FileResponse:
    document = get_object_or_404(selectors.documents_visible(actor=actor), pk=pk)
    version = selectors.document_versions(document=document).first()
    if version is None:
        raise Http404("The document has no file.")
    return _file_response(version)


@member_view
@require_GET
def version_download(request: HttpRequest, actor: Actor, pk: int) -> FileResponse:
    version = get_object_or_404(selectors.versions_visible(actor=actor), pk=pk)
    return _file_response(version)


# Discussion


def _comment_on(
    request: HttpRequest, actor: Actor, target: ActionLine | ProgressReport | Document, back: str
) -> HttpResponse:
    require(can_comment(actor))
    form = CommentForm(request.POST)
    if not form.is_valid():
        messages.error(request, "A comment needs some text (at most 5,000 characters).")
        return redirect(back)
    comment = services.comment_create(
        actor=actor, target=target, body=form.cleaned_data["body"], base_url=_base_url(request)
    )
    return redirect(f"{back}#comment-{comment.pk}")


@member_view
@require_POST
def comment_action_line(request: HttpRequest, actor: Actor, pk: int) -> HttpResponse:
    line = get_object_or_404(ActionLine, pk=pk)
    return _comment_on(request, actor, line, reverse("collab:action-line", args=[pk]))


@member_view
@require_POST
def comment_report(request: HttpRequest, actor: Actor, pk: int) -> HttpResponse:
    report = get_object_or_404(selectors.reports_visible(actor=actor), pk=pk)
    return _comment_on(request, actor, report, reverse("collab:report", args=[pk]))


@member_view
@require_POST
def comment_document(request: HttpRequest, actor: Actor, pk: int) -> HttpResponse:
    document = get_object_or_404(selectors.documents_visible(actor=actor), pk=pk)
    return _comment_on(request, actor, document, reverse("collab:document", args=[pk]))


@member_view
@require_POST
def comment_delete(request: HttpRequest, actor: Actor, pk: int) -> HttpResponse:
    comment = get_object_or_404(selectors.comments_visible(actor=actor), pk=pk)
    require(comment_can_delete(actor, comment))
    target = comment.target
    services.comment_delete(actor=actor, comment=comment)
    messages.success(request, "The comment is deleted.")
    if isinstance(target, ActionLine):
        return redirect("collab:action-line", pk=target.pk)
    if isinstance(target, ProgressReport):
        return redirect("collab:report", pk=target.pk)
    return redirect("collab:document", pk=target.pk)


# Notices


@member_view
@require_GET
def notifications(request: HttpRequest, actor: Actor) -> HttpResponse:
    return render(
        request,
        "collab/notifications.html",
        {"page": _page(request, selectors.notifications_for(user=actor.user))},
    )


@member_view
@require_POST
def notifications_read(request: HttpRequest, actor: Actor) -> HttpResponse:
    """Marks one notification (id in the form) or all of them read."""
    raw = request.POST.get("id", "")
    if raw:
        if not raw.isdigit():
            return HttpResponse("Bad notification id.", status=400, content_type="text/plain")
        notification = get_object_or_404(Notification, pk=int(raw), recipient=actor.user)
        services.notifications_mark_read(user=actor.user, pks=[notification.pk])
        return redirect(notification.link)
    services.notifications_mark_read(user=actor.user)
    return redirect("collab:notifications")


# Administration


@member_view
@require_GET
def audit_log(request: HttpRequest, actor: Actor) -> HttpResponse:
    require(can_read_audit(actor))
    model = request.GET.get("model", "")[:100]
    who = request.GET.get("actor", "")[:150]
    return render(
        request,
        "collab/audit.html",
        {
            "page": _page(request, selectors.audit_entries(model=model, actor=who), per_page=100),
            "models": AuditEntry.objects.values_list("model", flat=True)
            .distinct()
            .order_by("model"),
            "model": model,
            "who": who,
        },
    )


@member_view
@require_http_methods(["GET", "POST"])
def people(request: HttpRequest, actor: Actor) -> HttpResponse:
    require(can_manage_people(actor))
    form = InvitationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        invitation, _link = services.invitation_create(
            actor=actor,
            email=data["email"],
            role=Role(data["role"]),
            member_state=data["member_state"],
            working_groups=data["working_groups"],
            organisation=data["organisation"],
            base_url=_base_url(request),
        )
        messages.success(request, f"An invitation is on its way to {invitation.email}.")
        return redirect("collab:people")
    return render(
        request,
        "collab/people.html",
        {
            "form": form,
            "members": selectors.members_list(),
            "invitations": selectors.invitations_list()[:200],
        },
        status=400 if form.errors else 200,
    )


@member_view
@require_POST
def invitation_revoke(request: HttpRequest, actor: Actor, pk: int) -> HttpResponse:
    require(can_manage_people(actor))
    invitation = get_object_or_404(
        Invitation, pk=pk, accepted_at__isnull=True, revoked_at__isnull=True
    )
    services.invitation_revoke(actor=actor, invitation=invitation)
    messages.success(request, f"The invitation to {invitation.email} is revoked.")
    return redirect("collab:people")


@member_view
@require_GET
def account(request: HttpRequest, actor: Actor) -> HttpResponse:
    return render(
        request,
        "collab/account.html",
        {
            "actor": actor,
            "profile": getattr(actor.user, "collab_profile", None),
            "devices": TOTPDevice.objects.filter(user=actor.user, confirmed=True),
            "recovery_left": StaticToken.objects.filter(device__user=actor.user).count(),
        },
    )
