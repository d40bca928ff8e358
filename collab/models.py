"""The AMCAP plan as data, quarterly monitoring, the document library, discussion and audit."""

from datetime import datetime

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.db.models import F, Q

from collab.storage import private_storage


class Role(models.TextChoices):
    SECRETARIAT = "secretariat", "ASEAN Secretariat administrator"
    FOCAL_POINT = "focal_point", "Member-state focal point"
    WORKING_GROUP = "working_group", "Working-group member"
    OBSERVER = "observer", "Observer (dialogue partner)"


class WorkingGroup(models.Model):
    """An ASOMM working group (WGTIM, WGSMD, WGCBM, WGMID today)."""

    code = models.SlugField(max_length=20, unique=True)
    name = models.CharField(max_length=200, unique=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code


class Profile(models.Model):
    """A platform member's role and scope; every member has exactly one."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="collab_profile"
    )
    role = models.CharField(max_length=20, choices=Role.choices)
    member_state = models.ForeignKey(
        "deposits.MemberState",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        help_text="Required for focal points: the member state whose reports they edit.",
    )
    working_groups = models.ManyToManyField(WorkingGroup, blank=True, related_name="members")
    organisation = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=~Q(role=Role.FOCAL_POINT) | Q(member_state__isnull=False),
                name="collab_profile_focal_point_has_state",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()})"


class Invitation(models.Model):
    """An administrator's invitation; the only way to become a member (no open sign-up).

    Only a hash of the token is stored: the link in the e-mail is the sole copy.
    """

    email = models.EmailField()
    role = models.CharField(max_length=20, choices=Role.choices)
    member_state = models.ForeignKey(
        "deposits.MemberState", null=True, blank=True, on_delete=models.PROTECT
    )
    working_groups = models.ManyToManyField(WorkingGroup, blank=True, related_name="+")
    organisation = models.CharField(max_length=200, blank=True)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(role=Role.FOCAL_POINT) | Q(member_state__isnull=False),
                name="collab_invitation_focal_point_has_state",
            )
        ]

    def __str__(self) -> str:
        return f"{self.email} as {self.get_role_display()}"

    def is_open(self, *, now: datetime) -> bool:
        return self.accepted_at is None and self.revoked_at is None and now < self.expires_at


# The plan


class Plan(models.Model):
    """An action plan (AMCAP-III Phase 2, AMCAP-IV, ...); a new one is added in the admin."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=200, unique=True)
    start_year = models.PositiveSmallIntegerField()
    end_year = models.PositiveSmallIntegerField()
    mid_term_year = models.PositiveSmallIntegerField(help_text="Year of the mid-term review.")
    final_term_year = models.PositiveSmallIntegerField(help_text="Year of the final-term review.")
    summary = models.TextField(blank=True)

    class Meta:
        ordering = ["-start_year", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_year__gte=F("start_year"))
                & Q(mid_term_year__gte=F("start_year"), mid_term_year__lte=F("end_year"))
                & Q(final_term_year__gte=F("start_year"), final_term_year__lte=F("end_year")),
                name="collab_plan_years_in_order",
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def years(self) -> range:
        return range(self.start_year, self.end_year + 1)

    @property
    def quarters(self) -> list[tuple[int, int]]:
        return [(year, quarter) for year in self.years for quarter in (1, 2, 3, 4)]


class ProgrammeArea(models.Model):
    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="programme_areas")
    code = models.SlugField(max_length=10)
    name = models.CharField(max_length=200)
    focus = models.TextField(blank=True, help_text="The area's key focus, in short.")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["plan", "position", "code"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "code"], name="collab_programmearea_code")
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Strategy(models.Model):
    """An outcome-based strategy of a programme area (TI1, ES2, ...)."""

    programme_area = models.ForeignKey(
        ProgrammeArea, on_delete=models.CASCADE, related_name="strategies"
    )
    code = models.SlugField(max_length=10)
    title = models.CharField(max_length=300)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["programme_area", "position", "code"]
        verbose_name_plural = "strategies"
        constraints = [
            models.UniqueConstraint(fields=["programme_area", "code"], name="collab_strategy_code")
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"


class ActionLine(models.Model):
    strategy = models.ForeignKey(Strategy, on_delete=models.CASCADE, related_name="action_lines")
    code = models.CharField(max_length=12)
    title = models.CharField(max_length=300)
    working_group = models.ForeignKey(
        WorkingGroup, on_delete=models.PROTECT, related_name="action_lines"
    )
    lead_country = models.ForeignKey(
        "deposits.MemberState",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Empty where the plan names no lead country.",
    )
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["strategy", "position", "code"]
        constraints = [
            models.UniqueConstraint(fields=["strategy", "code"], name="collab_actionline_code")
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"


class Milestone(models.Model):
    """A dated step: of one action line (a yearly target) or of the whole plan (a review)."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="milestones")
    action_line = models.ForeignKey(
        ActionLine,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="milestones",
        help_text="Empty for a milestone of the whole plan.",
    )
    year = models.PositiveSmallIntegerField()
    quarter = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Empty when due some time in the year (by its end)."
    )
    title = models.CharField(max_length=300)
    target_percent = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Completion expected by then, if the milestone sets one."
    )

    class Meta:
        ordering = ["plan", "year", F("quarter").asc(nulls_last=True), "action_line", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quarter__isnull=True) | Q(quarter__gte=1, quarter__lte=4),
                name="collab_milestone_quarter_1_4",
            ),
            models.CheckConstraint(
                condition=Q(target_percent__isnull=True) | Q(target_percent__lte=100),
                name="collab_milestone_target_0_100",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.due_label}: {self.title}"

    @property
    def due_label(self) -> str:
        return f"{self.year} Q{self.quarter}" if self.quarter else str(self.year)

    @property
    def due_quarter(self) -> tuple[int, int]:
        return (self.year, self.quarter or 4)


# Monitoring


class ImplementationStatus(models.TextChoices):
    NOT_STARTED = "not_started", "Not started"
    ONGOING = "ongoing", "Ongoing"
    COMPLETED = "completed", "Completed"
    CARRIED_OVER = "carried_over", "Carried over"
    WITHDRAWN = "withdrawn", "Withdrawn"


class ReviewState(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted for review"
    ACCEPTED = "accepted", "Accepted"
    RETURNED = "returned", "Returned for revision"


class Quarter(models.IntegerChoices):
    Q1 = 1, "Q1 (January–March)"
    Q2 = 2, "Q2 (April–June)"
    Q3 = 3, "Q3 (July–September)"
    Q4 = 4, "Q4 (October–December)"


class ProgressReport(models.Model):
    """One member state's progress on one action line in one quarter."""

    action_line = models.ForeignKey(ActionLine, on_delete=models.PROTECT, related_name="reports")
    member_state = models.ForeignKey(
        "deposits.MemberState", on_delete=models.PROTECT, related_name="+"
    )
    year = models.PositiveSmallIntegerField()
    quarter = models.PositiveSmallIntegerField(choices=Quarter.choices)
    status = models.CharField(max_length=20, choices=ImplementationStatus.choices)
    percent_complete = models.PositiveSmallIntegerField()
    narrative = models.TextField()
    datasets = models.ManyToManyField("layers.Dataset", blank=True, related_name="progress_reports")
    review_state = models.CharField(
        max_length=20, choices=ReviewState.choices, default=ReviewState.DRAFT
    )
    shared_with_observers = models.BooleanField(
        default=False, help_text="Observers (dialogue partners) may read it once accepted."
    )
    review_note = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-year", "-quarter", "action_line", "member_state"]
        constraints = [
            models.UniqueConstraint(
                fields=["action_line", "member_state", "year", "quarter"],
                name="collab_report_one_per_quarter",
            ),
            models.CheckConstraint(
                condition=Q(quarter__gte=1, quarter__lte=4), name="collab_report_quarter_1_4"
            ),
            models.CheckConstraint(
                condition=Q(percent_complete__lte=100), name="collab_report_percent_0_100"
            ),
            models.CheckConstraint(
                condition=~Q(status=ImplementationStatus.COMPLETED) | Q(percent_complete=100),
                name="collab_report_completed_is_100",
            ),
            models.CheckConstraint(
                condition=~Q(status=ImplementationStatus.NOT_STARTED) | Q(percent_complete=0),
                name="collab_report_not_started_is_0",
            ),
        ]
        indexes = [models.Index(fields=["review_state", "year", "quarter"])]

    def __str__(self) -> str:
        return f"{self.action_line.code} · {self.member_state.code} · {self.period_label}"

    @property
    def period_label(self) -> str:
        return f"{self.year} Q{self.quarter}"

    @property
    def is_open_for_editing(self) -> bool:
        return self.review_state in (ReviewState.DRAFT, ReviewState.RETURNED)


class StoredFile(models.Model):
    """An uploaded file kept in private storage under a random name; checked on the way in."""

    file = models.FileField(storage=private_storage, max_length=200)
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True


class Evidence(StoredFile):
    report = models.ForeignKey(ProgressReport, on_delete=models.CASCADE, related_name="evidence")

    class Meta:
        ordering = ["uploaded_at", "pk"]
        verbose_name_plural = "evidence"

    def __str__(self) -> str:
        return self.original_name


# Document library


class Folder(models.Model):
    """A library folder (per working group, per meeting, ...) with its own access list."""

    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    working_group = models.ForeignKey(
        WorkingGroup, null=True, blank=True, on_delete=models.PROTECT, related_name="folders"
    )
    read_roles = ArrayField(
        models.CharField(max_length=20, choices=Role.choices),
        default=list,
        blank=True,
        help_text="Roles that may open the folder (the Secretariat always may).",
    )
    read_groups = models.ManyToManyField(
        WorkingGroup, blank=True, related_name="+", help_text="Working groups that may open it."
    )
    upload_roles = ArrayField(
        models.CharField(max_length=20, choices=Role.choices),
        default=list,
        blank=True,
        help_text="Roles that may add documents (observers never may).",
    )
    upload_groups = models.ManyToManyField(
        WorkingGroup,
        blank=True,
        related_name="+",
        help_text="Working groups that may add documents.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["parent", "name"], name="collab_folder_name", nulls_distinct=False
            )
        ]

    def __str__(self) -> str:
        return self.name


class Document(models.Model):
    folder = models.ForeignKey(Folder, on_delete=models.PROTECT, related_name="documents")
    title = models.CharField(max_length=300)
    description = models.TextField(blank=True)
    tags = ArrayField(models.CharField(max_length=50), default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["title"]
        indexes = [GinIndex(fields=["tags"], name="collab_document_tags")]

    def __str__(self) -> str:
        return self.title


class DocumentVersion(StoredFile):
    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["document", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["document", "number"], name="collab_version_number")
        ]

    def __str__(self) -> str:
        return f"{self.document} v{self.number}"


# Discussion and notice


class Comment(models.Model):
    """A comment on exactly one action line, progress report or document."""

    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    action_line = models.ForeignKey(
        ActionLine, null=True, blank=True, on_delete=models.CASCADE, related_name="comments"
    )
    report = models.ForeignKey(
        ProgressReport, null=True, blank=True, on_delete=models.CASCADE, related_name="comments"
    )
    document = models.ForeignKey(
        Document, null=True, blank=True, on_delete=models.CASCADE, related_name="comments"
    )

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(action_line__isnull=False, report__isnull=True, document__isnull=True)
                | Q(action_line__isnull=True, report__isnull=False, document__isnull=True)
                | Q(action_line__isnull=True, report__isnull=True, document__isnull=False),
                name="collab_comment_one_target",
            )
        ]

    def __str__(self) -> str:
        return f"Comment by {self.author} on {self.target}"

    @property
    def target(self) -> "ActionLine | ProgressReport | Document":
        target = self.action_line or self.report or self.document
        assert target is not None  # the check constraint guarantees one
        return target


class NotificationKind(models.TextChoices):
    REPORT_SUBMITTED = "report_submitted", "Report submitted"
    REPORT_REVIEWED = "report_reviewed", "Report reviewed"
    COMMENT = "comment", "New comment"


class Notification(models.Model):
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="collab_notifications"
    )
    kind = models.CharField(max_length=30, choices=NotificationKind.choices)
    message = models.CharField(max_length=300)
    link = models.CharField(max_length=300, help_text="A path inside the platform.")
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["recipient", "read_at"])]

    def __str__(self) -> str:
        return self.message


# Audit


class AuditAction(models.TextChoices):
    CREATE = "create", "Created"
    UPDATE = "update", "Changed"
    DELETE = "delete", "Deleted"
    SUBMIT = "submit", "Submitted"
    REVIEW = "review", "Reviewed"
    INVITE = "invite", "Invited"
    ACCEPT_INVITATION = "accept_invitation", "Accepted an invitation"
    REVOKE = "revoke", "Revoked"
    ENROL = "enrol", "Enrolled a second factor"
    RECOVERY_CODES = "recovery_codes", "Made new recovery codes"
    SIGN_IN = "sign_in", "Signed in"
    SIGN_OUT = "sign_out", "Signed out"


class AuditEntry(models.Model):
    """Who changed what, when, with the values before and after. Written only by services."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=30, choices=AuditAction.choices)
    model = models.CharField(max_length=100, help_text="app_label.model_name")
    object_id = models.CharField(max_length=64, blank=True)
    object_repr = models.CharField(max_length=300, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name_plural = "audit entries"
        indexes = [models.Index(fields=["model", "object_id"])]

    def __str__(self) -> str:
        return (
            f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_name} {self.action} {self.object_repr}"
        )

    @property
    def changes(self) -> list[tuple[str, object, object]]:
        """The fields whose value differs between before and after, as (field, old, new)."""
        before = self.before or {}
        after = self.after or {}
        keys = sorted(set(before) | set(after))
        return [
            (key, before.get(key), after.get(key))
            for key in keys
            if before.get(key) != after.get(key)
        ]
