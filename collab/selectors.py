"""Reads: the plan, what each member may see, dashboards and the review tables."""

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date

from django.contrib.auth.models import User
from django.contrib.postgres.search import SearchQuery, SearchVector
from django.db.models import F, Func, Prefetch, Q, QuerySet, TextField, Value
from django.db.models.functions import Coalesce

from collab.models import (
    ActionLine,
    AuditEntry,
    Comment,
    Document,
    DocumentVersion,
    Folder,
    ImplementationStatus,
    Invitation,
    Milestone,
    Notification,
    Plan,
    ProgrammeArea,
    ProgressReport,
    ReviewState,
    Strategy,
    WorkingGroup,
)
from collab.permissions import Actor, folders_visible_q, reports_visible_q
from deposits.models import MemberState, without_boundaries

Period = tuple[int, int]  # (year, quarter)


def quarter_of(day: date) -> Period:
    return (day.year, (day.month - 1) // 3 + 1)


# The plan


def plan_current(*, today: date) -> Plan | None:
    """The plan running this year, else the latest one."""
    plans = Plan.objects.all()
    running = plans.filter(start_year__lte=today.year, end_year__gte=today.year).first()
    return running or plans.first()


def plan_areas(*, plan: Plan) -> QuerySet[ProgrammeArea]:
    """The plan's programme areas with their strategies and action lines, in plan order."""
    lines = ActionLine.objects.select_related("working_group", "lead_country").defer(
        *without_boundaries("lead_country")
    )
    return plan.programme_areas.prefetch_related(
        Prefetch(
            "strategies",
            queryset=Strategy.objects.prefetch_related(Prefetch("action_lines", queryset=lines)),
        )
    )


def action_lines_of(*, plan: Plan) -> QuerySet[ActionLine]:
    return ActionLine.objects.filter(strategy__programme_area__plan=plan).select_related(
        "strategy__programme_area", "working_group", "lead_country"
    )


def action_lines_open() -> QuerySet[ActionLine]:
    """Action lines that can be reported on, newest plan first (late reports are allowed)."""
    return ActionLine.objects.select_related("strategy__programme_area__plan").order_by(
        "-strategy__programme_area__plan__start_year",
        "strategy__programme_area__position",
        "strategy__position",
        "position",
    )


def milestones_of(*, plan: Plan, action_line: ActionLine | None = None) -> QuerySet[Milestone]:
    milestones = plan.milestones.select_related("action_line")
    if action_line is not None:
        return milestones.filter(action_line=action_line)
    return milestones


# Reports


def reports_visible(*, actor: Actor) -> QuerySet[ProgressReport]:
    return (
        ProgressReport.objects.filter(reports_visible_q(actor))
        .select_related(
            "action_line__strategy__programme_area__plan",
            "action_line__working_group",
            "member_state",
        )
        .defer(*without_boundaries("member_state"))
    )


def report_list(
    *,
    actor: Actor,
    member_state: MemberState | None = None,
    action_line: ActionLine | None = None,
    review_state: str = "",
    year: int | None = None,
) -> QuerySet[ProgressReport]:
    reports = reports_visible(actor=actor)
    if member_state is not None:
        reports = reports.filter(member_state=member_state)
    if action_line is not None:
        reports = reports.filter(action_line=action_line)
    if review_state:
        reports = reports.filter(review_state=review_state)
    if year is not None:
        reports = reports.filter(year=year)
    return reports


def reports_awaiting_review(*, actor: Actor) -> QuerySet[ProgressReport]:
    return reports_visible(actor=actor).filter(review_state=ReviewState.SUBMITTED)


# Dashboards


@dataclass
class Progress:
    """Completion of a group of action lines (or of one member state across them)."""

    label: str
    percent: float
    reported: int
    total: int
    key: str = ""


@dataclass
class ActionLineProgress:
    action_line: ActionLine
    percent: float
    status: str
    states_reported: int
    by_state: dict[str, int] = field(default_factory=dict)

    @property
    def status_label(self) -> str:
        return ImplementationStatus(self.status).label if self.status else "No accepted report"


@dataclass
class TimelinePoint:
    period: Period
    actual: float | None
    planned: float | None

    @property
    def label(self) -> str:
        return f"{self.period[0]} Q{self.period[1]}"


@dataclass
class Dashboard:
    plan: Plan
    as_of: Period
    overall: Progress
    status_counts: dict[str, int]
    by_area: list[Progress]
    by_group: list[Progress]
    by_state: list[Progress]
    action_lines: list[ActionLineProgress]
    timeline: list[TimelinePoint]
    plan_milestones: list[Milestone]
    has_targets: bool


@dataclass
class _Latest:
    """The latest accepted report per (action line, member state) up to a quarter."""

    percent: dict[tuple[int, int], int] = field(default_factory=dict)
    status: dict[tuple[int, int], tuple[Period, str]] = field(default_factory=dict)


def _accepted_rows(*, actor: Actor, plan: Plan) -> list[dict[str, object]]:
    return [
        dict(row)
        for row in reports_visible(actor=actor)
        .filter(review_state=ReviewState.ACCEPTED, action_line__strategy__programme_area__plan=plan)
        .order_by("year", "quarter", "reviewed_at", "pk")
        .values(
            "action_line_id", "member_state_id", "year", "quarter", "status", "percent_complete"
        )
    ]


def _latest_until(rows: list[dict[str, object]], until: Period) -> _Latest:
    latest = _Latest()
    for row in rows:
        period = (int(row["year"]), int(row["quarter"]))  # type: ignore[call-overload]
        if period > until:
            break
        key = (int(row["action_line_id"]), int(row["member_state_id"]))  # type: ignore[call-overload]
        latest.percent[key] = int(row["percent_complete"])  # type: ignore[call-overload]
        latest.status[key] = (period, str(row["status"]))
    return latest


def _line_progress(lines: list[ActionLine], latest: _Latest) -> dict[int, tuple[float, str, int]]:
    """Per action line: mean percent over reporting states, latest status, states reporting."""
    percents: dict[int, list[int]] = defaultdict(list)
    statuses: dict[int, tuple[Period, str]] = {}
    for (line_id, _state_id), percent in latest.percent.items():
        percents[line_id].append(percent)
        period, status = latest.status[(line_id, _state_id)]
        if line_id not in statuses or period >= statuses[line_id][0]:
            statuses[line_id] = (period, status)
    result = {}
    for line in lines:
        values = percents.get(line.pk, [])
        mean = sum(values) / len(values) if values else 0.0
        result[line.pk] = (mean, statuses.get(line.pk, ((0, 0), ""))[1], len(values))
    return result


def _mean_over(lines: list[ActionLine], progress: dict[int, tuple[float, str, int]]) -> Progress:
    counted = [line for line in lines if progress[line.pk][1] != ImplementationStatus.WITHDRAWN]
    total = len(counted)
    percent = sum(progress[line.pk][0] for line in counted) / total if total else 0.0
    reported = sum(1 for line in counted if progress[line.pk][2])
    return Progress(label="", percent=percent, reported=reported, total=total)


def _planned_until(lines: list[ActionLine], targets: list[Milestone], until: Period) -> float:
    latest: dict[int, int] = {}
    for milestone in targets:
        if milestone.due_quarter <= until and milestone.action_line_id is not None:
            latest[milestone.action_line_id] = milestone.target_percent or 0
    return sum(latest.get(line.pk, 0) for line in lines) / len(lines) if lines else 0.0


def dashboard(*, actor: Actor, plan: Plan, today: date) -> Dashboard:
    """Completion from accepted reports the member may see, overall and by area, group, state."""
    lines = list(action_lines_of(plan=plan))
    rows = _accepted_rows(actor=actor, plan=plan)
    as_of = min(quarter_of(today), (plan.end_year, 4))
    latest = _latest_until(rows, as_of)
    progress = _line_progress(lines, latest)

    overall = _mean_over(lines, progress)
    overall.label = "All action lines"

    by_area = []
    for area in plan.programme_areas.all():
        members = [line for line in lines if line.strategy.programme_area_id == area.pk]
        item = _mean_over(members, progress)
        item.label, item.key = area.name, area.code
        by_area.append(item)

    by_group = []
    for group in WorkingGroup.objects.filter(action_lines__in=lines).distinct():
        members = [line for line in lines if line.working_group_id == group.pk]
        item = _mean_over(members, progress)
        short = group.name.removeprefix("Working Group on ")
        item.label, item.key = f"{group.code} · {short}", group.code
        by_group.append(item)

    counted = [line for line in lines if progress[line.pk][1] != ImplementationStatus.WITHDRAWN]
    by_state = []
    for state in MemberState.objects.order_by("name"):
        values = [latest.percent.get((line.pk, state.pk)) for line in counted]
        reported = [v for v in values if v is not None]
        percent = sum(reported) / len(counted) if counted else 0.0
        by_state.append(Progress(state.name, percent, len(reported), len(counted), state.code))

    states = {state.pk: state.code for state in MemberState.objects.all()}
    line_rows = []
    for line in lines:
        percent, status, reporting = progress[line.pk]
        by_code = {
            states[state_id]: value
            for (line_id, state_id), value in latest.percent.items()
            if line_id == line.pk
        }
        line_rows.append(ActionLineProgress(line, percent, status, reporting, by_code))

    status_counts = Counter(
        progress[line.pk][1] or ImplementationStatus.NOT_STARTED.value for line in lines
    )
    ordered_counts = {
        choice.value: status_counts.get(choice.value, 0) for choice in ImplementationStatus
    }

    all_milestones = list(milestones_of(plan=plan))
    targets = [m for m in all_milestones if m.action_line_id and m.target_percent is not None]
    timeline = []
    for period in plan.quarters:
        actual = None
        if period <= as_of:
            actual = _mean_over(lines, _line_progress(lines, _latest_until(rows, period))).percent
        planned = _planned_until(counted, targets, period) if targets else None
        timeline.append(TimelinePoint(period, actual, planned))

    return Dashboard(
        plan=plan,
        as_of=as_of,
        overall=overall,
        status_counts=ordered_counts,
        by_area=by_area,
        by_group=by_group,
        by_state=by_state,
        action_lines=line_rows,
        timeline=timeline,
        plan_milestones=[m for m in all_milestones if m.action_line_id is None],
        has_targets=bool(targets),
    )


@dataclass
class QuarterlyRow:
    action_line: ActionLine
    report: ProgressReport | None


def quarterly_rows(*, actor: Actor, plan: Plan, year: int, quarter: int) -> list[QuarterlyRow]:
    """The quarterly monitoring report: every action line with the quarter's reports on it.

    Accepted and submitted reports count (the review state is shown); drafts do not.
    """
    reports = (
        reports_visible(actor=actor)
        .filter(
            action_line__strategy__programme_area__plan=plan,
            year=year,
            quarter=quarter,
            review_state__in=[ReviewState.SUBMITTED, ReviewState.ACCEPTED],
        )
        .order_by("member_state__name")
    )
    by_line: dict[int, list[ProgressReport]] = defaultdict(list)
    for report in reports:
        by_line[report.action_line_id].append(report)
    rows = []
    for line in action_lines_of(plan=plan):
        rows += [QuarterlyRow(line, report) for report in by_line.get(line.pk, [])] or [
            QuarterlyRow(line, None)
        ]
    return rows


@dataclass
class ReviewRow:
    progress: ActionLineProgress
    targets_due: int
    targets_met: int
    milestones: list[Milestone]


def review_rows(*, actor: Actor, plan: Plan, year: int) -> list[ReviewRow]:
    """The mid-term or final-term review table: each action line as of the end of `year`."""
    lines = list(action_lines_of(plan=plan))
    rows = _accepted_rows(actor=actor, plan=plan)
    latest = _latest_until(rows, (year, 4))
    progress = _line_progress(lines, latest)
    states = {state.pk: state.code for state in MemberState.objects.all()}
    due: dict[int, list[Milestone]] = defaultdict(list)
    for milestone in milestones_of(plan=plan).filter(action_line__isnull=False, year__lte=year):
        due[milestone.action_line_id].append(milestone)  # type: ignore[index]
    result = []
    for line in lines:
        percent, status, reporting = progress[line.pk]
        by_code = {
            states[state_id]: value
            for (line_id, state_id), value in latest.percent.items()
            if line_id == line.pk
        }
        milestones = due.get(line.pk, [])
        with_target = [m for m in milestones if m.target_percent is not None]
        met = sum(1 for m in with_target if percent >= (m.target_percent or 0))
        result.append(
            ReviewRow(
                ActionLineProgress(line, percent, status, reporting, by_code),
                len(with_target),
                met,
                milestones,
            )
        )
    return result


# Document library


def folders_visible(*, actor: Actor) -> QuerySet[Folder]:
    return Folder.objects.filter(folders_visible_q(actor)).select_related("parent", "working_group")


def documents_visible(*, actor: Actor) -> QuerySet[Document]:
    return Document.objects.filter(folder__in=folders_visible(actor=actor)).select_related(
        "folder", "created_by"
    )


def document_search(*, actor: Actor, query: str) -> QuerySet[Document]:
    """Documents whose title, description or tags match, best first."""
    tags = Func(F("tags"), Value(" "), function="array_to_string", output_field=TextField())
    vector = (
        SearchVector("title", weight="A", config="simple")
        + SearchVector(
            Coalesce(tags, Value(""), output_field=TextField()), weight="A", config="simple"
        )
        + SearchVector("description", weight="B", config="simple")
    )
    words = SearchQuery(query, search_type="websearch", config="simple")
    return (
        documents_visible(actor=actor)
        .annotate(search=vector, tag_text=tags)
        .filter(
            Q(search=words)
            | Q(title__icontains=query)
            | Q(description__icontains=query)
            | Q(tag_text__icontains=query)
        )
        .order_by("-updated_at")
    )


def document_versions(*, document: Document) -> QuerySet[DocumentVersion]:
    return document.versions.select_related("uploaded_by").order_by("-number")


def versions_visible(*, actor: Actor) -> QuerySet[DocumentVersion]:
    return DocumentVersion.objects.filter(document__in=documents_visible(actor=actor))


# Discussion and notice


def comments_on(*, target: ActionLine | ProgressReport | Document) -> QuerySet[Comment]:
    if isinstance(target, ActionLine):
        comments = Comment.objects.filter(action_line=target)
    elif isinstance(target, ProgressReport):
        comments = Comment.objects.filter(report=target)
    else:
        comments = Comment.objects.filter(document=target)
    return comments.select_related("author")


def comments_visible(*, actor: Actor) -> QuerySet[Comment]:
    """Comments on things the member may see (none for observers)."""
    if actor.is_observer:
        return Comment.objects.none()
    return Comment.objects.filter(
        Q(action_line__isnull=False)
        | Q(report__in=reports_visible(actor=actor))
        | Q(document__in=documents_visible(actor=actor))
    )


def notifications_for(*, user: User) -> QuerySet[Notification]:
    return Notification.objects.filter(recipient=user)


def notifications_unread_count(*, user: User) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


# Administration


def members_list() -> QuerySet[User]:
    return (
        User.objects.filter(Q(collab_profile__isnull=False) | Q(is_superuser=True))
        .select_related("collab_profile__member_state")
        .defer(*without_boundaries("collab_profile__member_state"))
        .prefetch_related("collab_profile__working_groups")
        .order_by("username")
    )


def invitations_list() -> QuerySet[Invitation]:
    return Invitation.objects.select_related("member_state", "invited_by", "user").defer(
        *without_boundaries("member_state")
    )


def audit_entries(*, model: str = "", actor: str = "") -> QuerySet[AuditEntry]:
    entries = AuditEntry.objects.all()
    if model:
        entries = entries.filter(model=model)
    if actor:
        entries = entries.filter(actor_name=actor)
    return entries
