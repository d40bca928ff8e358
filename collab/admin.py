"""The plan is edited here (a new plan such as AMCAP-IV needs no code); every change is audited."""

from typing import Any

from django.contrib import admin
from django.db.models import Model
from django.forms import ModelForm
from django.http import HttpRequest

from collab.models import (
    ActionLine,
    AuditAction,
    AuditEntry,
    Comment,
    Document,
    DocumentVersion,
    Evidence,
    Folder,
    Invitation,
    Milestone,
    Notification,
    Plan,
    Profile,
    ProgrammeArea,
    ProgressReport,
    Strategy,
    WorkingGroup,
)
from collab.services import audit_record, snapshot


class AuditedAdmin(admin.ModelAdmin):
    """Writes an AuditEntry, with before and after, for each change made in the admin."""

    def save_model(self, request: HttpRequest, obj: Any, form: ModelForm, change: bool) -> None:
        before = None
        if change and obj.pk is not None:
            stored = type(obj).objects.filter(pk=obj.pk).first()
            before = snapshot(stored) if stored is not None else None
        request._collab_audit_before = before  # type: ignore[attr-defined]
        super().save_model(request, obj, form, change)

    def save_related(
        self, request: HttpRequest, form: ModelForm, formsets: Any, change: bool
    ) -> None:
        super().save_related(request, form, formsets, change)
        obj = form.instance
        audit_record(
            actor=request.user,
            action=AuditAction.UPDATE if change else AuditAction.CREATE,
            instance=obj,
            before=getattr(request, "_collab_audit_before", None),
            after=snapshot(obj),
        )

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        """Inline rows (milestones, strategies, ...) are audited one by one."""
        befores: dict[int, dict[str, Any]] = {}
        for inline_form in formset.initial_forms:
            obj = inline_form.instance
            if obj.pk is not None:
                stored = type(obj).objects.filter(pk=obj.pk).first()
                if stored is not None:
                    befores[id(obj)] = snapshot(stored)
        super().save_formset(request, form, formset, change)
        for obj in formset.new_objects:
            audit_record(
                actor=request.user, action=AuditAction.CREATE, instance=obj, after=snapshot(obj)
            )
        for obj, _fields in formset.changed_objects:
            audit_record(
                actor=request.user,
                action=AuditAction.UPDATE,
                instance=obj,
                before=befores.get(id(obj)),
                after=snapshot(obj),
            )
        for obj in formset.deleted_objects:
            audit_record(
                actor=request.user,
                action=AuditAction.DELETE,
                instance=obj,
                before=befores.get(id(obj)),
            )

    def delete_model(self, request: HttpRequest, obj: Model) -> None:
        audit_record(
            actor=request.user, action=AuditAction.DELETE, instance=obj, before=snapshot(obj)
        )
        super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for obj in queryset:
            audit_record(
                actor=request.user, action=AuditAction.DELETE, instance=obj, before=snapshot(obj)
            )
        super().delete_queryset(request, queryset)


@admin.register(WorkingGroup)
class WorkingGroupAdmin(AuditedAdmin):
    list_display = ("code", "name")
    search_fields = ("code", "name")


class ProgrammeAreaInline(admin.TabularInline):
    model = ProgrammeArea
    extra = 0
    show_change_link = True


class PlanMilestoneInline(admin.TabularInline):
    model = Milestone
    extra = 0
    fields = ("year", "quarter", "title", "action_line", "target_percent")
    autocomplete_fields = ("action_line",)


@admin.register(Plan)
class PlanAdmin(AuditedAdmin):
    list_display = ("name", "code", "start_year", "end_year", "mid_term_year", "final_term_year")
    prepopulated_fields = {"code": ("name",)}
    inlines = (ProgrammeAreaInline, PlanMilestoneInline)


class StrategyInline(admin.TabularInline):
    model = Strategy
    extra = 0
    show_change_link = True


@admin.register(ProgrammeArea)
class ProgrammeAreaAdmin(AuditedAdmin):
    list_display = ("code", "name", "plan", "position")
    list_filter = ("plan",)
    inlines = (StrategyInline,)


class ActionLineInline(admin.TabularInline):
    model = ActionLine
    extra = 0
    show_change_link = True
    fields = ("code", "title", "working_group", "lead_country", "position")


@admin.register(Strategy)
class StrategyAdmin(AuditedAdmin):
    list_display = ("code", "title", "programme_area")
    list_filter = ("programme_area__plan",)
    inlines = (ActionLineInline,)


class ActionLineMilestoneInline(admin.TabularInline):
    model = Milestone
    extra = 1
    fields = ("plan", "year", "quarter", "title", "target_percent")


@admin.register(ActionLine)
class ActionLineAdmin(AuditedAdmin):
    list_display = ("code", "title", "working_group", "lead_country", "strategy")
    list_filter = ("strategy__programme_area__plan", "working_group", "lead_country")
    search_fields = ("code", "title")
    list_select_related = ("working_group", "lead_country", "strategy")
    inlines = (ActionLineMilestoneInline,)


@admin.register(Milestone)
class MilestoneAdmin(AuditedAdmin):
    list_display = ("due_label", "title", "action_line", "target_percent", "plan")
    list_filter = ("plan", "year")
    autocomplete_fields = ("action_line",)


@admin.register(Profile)
class ProfileAdmin(AuditedAdmin):
    list_display = ("user", "role", "member_state", "organisation")
    list_filter = ("role", "member_state", "working_groups")
    search_fields = ("user__username", "user__email", "organisation")
    autocomplete_fields = ("user",)


@admin.register(Invitation)
class InvitationAdmin(AuditedAdmin):
    """Invitations are sent from the platform's People page (which e-mails the link)."""

    list_display = (
        "email",
        "role",
        "member_state",
        "created_at",
        "expires_at",
        "accepted_at",
        "revoked_at",
    )
    list_filter = ("role",)
    readonly_fields = ("token_hash", "created_at", "accepted_at", "user", "invited_by")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


class EvidenceInline(admin.TabularInline):
    model = Evidence
    extra = 0
    fields = ("original_name", "content_type", "size", "uploaded_by", "uploaded_at")
    readonly_fields = fields
    can_delete = False


@admin.register(ProgressReport)
class ProgressReportAdmin(AuditedAdmin):
    list_display = (
        "action_line",
        "member_state",
        "year",
        "quarter",
        "status",
        "percent_complete",
        "review_state",
    )
    list_filter = ("review_state", "status", "year", "quarter", "member_state")
    search_fields = ("action_line__code", "narrative")
    list_select_related = ("action_line", "member_state")
    raw_id_fields = ("datasets",)
    inlines = (EvidenceInline,)


class DocumentVersionInline(admin.TabularInline):
    model = DocumentVersion
    extra = 0
    fields = (
        "number",
        "original_name",
        "content_type",
        "size",
        "note",
        "uploaded_by",
        "uploaded_at",
    )
    readonly_fields = fields
    can_delete = False


@admin.register(Folder)
class FolderAdmin(AuditedAdmin):
    list_display = ("name", "parent", "working_group", "read_roles", "upload_roles")
    list_filter = ("working_group",)
    search_fields = ("name",)


@admin.register(Document)
class DocumentAdmin(AuditedAdmin):
    list_display = ("title", "folder", "updated_at")
    list_filter = ("folder",)
    search_fields = ("title", "description", "tags")
    inlines = (DocumentVersionInline,)


@admin.register(Comment)
class CommentAdmin(AuditedAdmin):
    list_display = ("author", "created_at", "action_line", "report", "document")
    raw_id_fields = ("action_line", "report", "document")


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("recipient", "kind", "message", "created_at", "read_at")
    list_filter = ("kind",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """Read-only: the log cannot be edited or pruned from the admin."""

    list_display = ("created_at", "actor_name", "action", "model", "object_repr")
    list_filter = ("action", "model")
    search_fields = ("actor_name", "object_repr", "object_id")
    date_hierarchy = "created_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
