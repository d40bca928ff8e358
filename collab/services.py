"""Writes: invitations and second factors, the plan, reports, the library, comments, notices.

Every change goes through here and leaves an AuditEntry with the values before and after.
Permission checks happen in the views, through collab.permissions, before these are called.
"""

import hashlib
import json
import logging
import secrets
from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group, Permission, User
from django.core.files.uploadedfile import UploadedFile
from django.core.mail import send_mass_mail
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.db.models.fields.files import FieldFile
from django.urls import reverse
from django.utils import timezone
from django_otp import verify_token
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from collab.models import (
    ActionLine,
    AuditAction,
    AuditEntry,
    Comment,
    Document,
    DocumentVersion,
    Evidence,
    Folder,
    ImplementationStatus,
    Invitation,
    Milestone,
    Notification,
    NotificationKind,
    Plan,
    Profile,
    ProgrammeArea,
    ProgressReport,
    ReviewState,
    Role,
    Strategy,
    WorkingGroup,
)
from collab.permissions import Actor, actor_for, folders_visible_q, reports_visible_q
from collab.storage import private_storage
from collab.uploads import CheckedFile, storage_name
from deposits.models import MemberState, without_boundaries
from layers.models import Dataset

log = logging.getLogger(__name__)

RECOVERY_CODE_COUNT = 10
TOTP_DEVICE_NAME = "Authenticator app"
RECOVERY_DEVICE_NAME = "Recovery codes"
SECRETARIAT_GROUP = "AMCAP Secretariat"
# Fields never copied into the audit log.
_SECRET_FIELDS = {"token_hash", "password", "key"}


class InvitationInvalid(Exception):
    """The invitation link is unknown, used, revoked or expired."""


# Audit


def snapshot(instance: models.Model) -> dict[str, Any]:
    """The instance's field values (many-to-many as sorted ids), ready for a JSON column."""
    data: dict[str, Any] = {}
    for field in instance._meta.concrete_fields:
        if field.name in _SECRET_FIELDS:
            continue
        value = field.value_from_object(instance)
        if isinstance(value, FieldFile):
            value = value.name
        data[field.name] = value
    if instance.pk is not None:
        for m2m in instance._meta.many_to_many:
            related = getattr(instance, m2m.name)
            data[m2m.name] = sorted(related.values_list("pk", flat=True))
    result: dict[str, Any] = json.loads(json.dumps(data, cls=DjangoJSONEncoder))
    return result


def audit_record(
    *,
    actor: Any,
    action: AuditAction,
    instance: models.Model,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEntry:
    user = actor.user if isinstance(actor, Actor) else actor
    if user is not None and not user.is_authenticated:
        user = None
    return AuditEntry.objects.create(
        actor=user,
        actor_name=user.get_username() if user is not None else "",
        action=action,
        model=instance._meta.label_lower,
        object_id=str(instance.pk or ""),
        object_repr=str(instance)[:300],
        before=before,
        after=after,
    )


# Notices


def _send_emails(messages: list[tuple[str, str, None, list[str]]]) -> None:
    try:
        send_mass_mail(messages, fail_silently=False)
    except OSError:
        # The notice is in the platform already; a mail server outage must not fail the change.
        log.exception("Could not send %d notice e-mails", len(messages))


def notify(
    *,
    recipients: Iterable[User],
    kind: NotificationKind,
    message: str,
    link: str,
    base_url: str,
    exclude: User | None = None,
) -> list[Notification]:
    """An in-app notification for each recipient and an e-mail after the change is committed."""
    unique: dict[int, User] = {}
    for user in recipients:
        if user.is_active and (exclude is None or user.pk != exclude.pk):
            unique[user.pk] = user
    notifications = Notification.objects.bulk_create(
        [
            Notification(recipient=user, kind=kind, message=message[:300], link=link)
            for user in unique.values()
        ]
    )
    mails = [
        (
            f"[AMDIS] {message}"[:200],
            f"{message}\n\nOpen it in the AMCAP collaboration platform:\n{base_url}{link}\n",
            None,
            [user.email],
        )
        for user in unique.values()
        if user.email
    ]
    if mails:
        transaction.on_commit(lambda: _send_emails(mails))
    return notifications


def _members_with_role(role: Role) -> models.QuerySet[User]:
    return User.objects.filter(is_active=True, collab_profile__role=role)


def _secretariat_members() -> models.QuerySet[User]:
    return _members_with_role(Role.SECRETARIAT)


def _focal_points_of(member_state_id: int) -> models.QuerySet[User]:
    return _members_with_role(Role.FOCAL_POINT).filter(
        collab_profile__member_state_id=member_state_id
    )


def notifications_mark_read(*, user: User, pks: Sequence[int] | None = None) -> int:
    """Marks the user's notifications read (all of them when no ids are given)."""
    unread = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if pks is not None:
        unread = unread.filter(pk__in=pks)
    return unread.update(read_at=timezone.now())


# Invitations and accounts


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def invitation_create(
    *,
    actor: Actor | None,
    email: str,
    role: Role,
    member_state: MemberState | None = None,
    working_groups: Iterable[WorkingGroup] = (),
    organisation: str = "",
    base_url: str,
) -> tuple[Invitation, str]:
    """Invites someone by e-mail; returns the invitation and the one-time link sent to them."""
    now = timezone.now()
    email = email.strip()
    for older in Invitation.objects.filter(
        email__iexact=email, accepted_at__isnull=True, revoked_at__isnull=True
    ):
        invitation_revoke(actor=actor, invitation=older)
    token = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        email=email,
        role=role,
        member_state=member_state,
        organisation=organisation,
        token_hash=_token_hash(token),
        invited_by=actor.user if actor else None,
        expires_at=now + timedelta(days=settings.COLLAB_INVITATION_DAYS),
    )
    invitation.working_groups.set(list(working_groups))
    audit_record(
        actor=actor, action=AuditAction.INVITE, instance=invitation, after=snapshot(invitation)
    )
    link = base_url + reverse("collab:invitation-accept", args=[token])
    body = (
        f"You are invited to the AMCAP Online Collaboration Platform of AMDIS as "
        f"{invitation.get_role_display()}.\n\nAccept the invitation (the link works once, until "
        f"{invitation.expires_at:%d %B %Y %H:%M} UTC):\n{link}\n\nYou will choose a password and "
        "set up an authenticator app for two-factor sign-in.\n"
    )
    mail = [("[AMDIS] Invitation to the AMCAP collaboration platform", body, None, [email])]
    transaction.on_commit(lambda: _send_emails(mail))
    return invitation, link


def invitation_find(*, token: str) -> Invitation:
    """The open invitation behind a link, or InvitationInvalid."""
    invitation = (
        Invitation.objects.select_related("member_state")
        .defer(*without_boundaries("member_state"))
        .filter(token_hash=_token_hash(token))
        .first()
    )
    if invitation is None or not invitation.is_open(now=timezone.now()):
        raise InvitationInvalid("This invitation link is not valid any more.")
    return invitation


def secretariat_group() -> Group:
    """The auth group that gives Secretariat members their rights in the admin."""
    group, created = Group.objects.get_or_create(name=SECRETARIAT_GROUP)
    if created:
        group.permissions.set(
            Permission.objects.filter(
                content_type__app_label__in=["collab", "otp_totp", "otp_static"]
            )
            | Permission.objects.filter(content_type__app_label="axes", codename__startswith="view")
            | Permission.objects.filter(
                content_type__app_label="axes", codename="delete_accessattempt"
            )
        )
    return group


@transaction.atomic
def invitation_accept(*, token: str, username: str, password: str) -> User:
    """Creates the member's account from an open invitation; the link cannot be used again."""
    invitation = (
        Invitation.objects.select_for_update().filter(token_hash=_token_hash(token)).first()
    )
    if invitation is None or not invitation.is_open(now=timezone.now()):
        raise InvitationInvalid("This invitation link is not valid any more.")
    user = User.objects.create_user(
        username=username,
        email=invitation.email,
        password=password,
        is_staff=invitation.role == Role.SECRETARIAT,
    )
    profile = Profile.objects.create(
        user=user,
        role=invitation.role,
        member_state=invitation.member_state,
        organisation=invitation.organisation,
    )
    profile.working_groups.set(invitation.working_groups.all())
    if invitation.role == Role.SECRETARIAT:
        user.groups.add(secretariat_group())
    before = snapshot(invitation)
    invitation.accepted_at = timezone.now()
    invitation.user = user
    invitation.save(update_fields=["accepted_at", "user"])
    audit_record(
        actor=user,
        action=AuditAction.ACCEPT_INVITATION,
        instance=invitation,
        before=before,
        after=snapshot(invitation),
    )
    audit_record(actor=user, action=AuditAction.CREATE, instance=profile, after=snapshot(profile))
    return user


@transaction.atomic
def invitation_revoke(*, actor: Actor | None, invitation: Invitation) -> None:
    before = snapshot(invitation)
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at"])
    audit_record(
        actor=actor,
        action=AuditAction.REVOKE,
        instance=invitation,
        before=before,
        after=snapshot(invitation),
    )


# Second factor


def user_has_second_factor(*, user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def totp_device_for_enrolment(*, user: User) -> TOTPDevice:
    """The user's not-yet-confirmed authenticator, made once so a reload shows the same code."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=TOTP_DEVICE_NAME, confirmed=False)
    return device


@transaction.atomic
def totp_enrolment_confirm(*, device: TOTPDevice, token: str) -> bool:
    """Confirms the authenticator when the code it shows is right."""
    device = TOTPDevice.objects.select_for_update().get(pk=device.pk)
    if not device.verify_token(token.strip()):
        return False
    before = snapshot(device)
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    audit_record(
        actor=device.user,
        action=AuditAction.ENROL,
        instance=device,
        before=before,
        after=snapshot(device),
    )
    return True


@transaction.atomic
def recovery_codes_replace(*, user: User) -> list[str]:
    """New single-use recovery codes; any earlier ones stop working."""
    device, _ = StaticDevice.objects.get_or_create(
        user=user, name=RECOVERY_DEVICE_NAME, defaults={"confirmed": True}
    )
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    device.throttle_reset()
    audit_record(
        actor=user,
        action=AuditAction.RECOVERY_CODES,
        instance=device,
        after={"codes": len(codes)},
    )
    return codes


def second_factor_verify(*, user: User, code: str) -> Device | None:
    """The device that accepts the code: six digits for the app, otherwise a recovery code."""
    code = "".join(code.split()).lower()
    if not code:
        return None
    devices: Iterable[Device]
    if code.isdigit() and len(code) == 6:
        devices = TOTPDevice.objects.devices_for_user(user, confirmed=True)
    else:
        devices = StaticDevice.objects.devices_for_user(user, confirmed=True)
    for device in devices:
        verified: Device | None = verify_token(user, device.persistent_id, code)
        if verified is not None:
            return verified
    return None


def sign_in_record(*, user: User, device: Device) -> None:
    audit_record(actor=user, action=AuditAction.SIGN_IN, instance=device)


# The plan


@transaction.atomic
def plan_load(*, data: dict[str, Any]) -> Plan:
    """Creates or updates a plan with its areas, strategies, action lines and milestones.

    `data` has the shape of fixtures/collab/amcap-iii-phase2.json. Running it twice changes
    nothing; titles edited in the fixture are updated.
    """
    groups = {}
    for row in data.get("working_groups", []):
        groups[row["code"]], _ = WorkingGroup.objects.update_or_create(
            code=row["code"], defaults={"name": row["name"]}
        )
    groups.update({group.code: group for group in WorkingGroup.objects.all()})
    states = {state.code: state for state in MemberState.objects.all()}
    spec = data["plan"]
    plan, _ = Plan.objects.update_or_create(
        code=spec["code"],
        defaults={
            key: spec[key]
            for key in ("name", "start_year", "end_year", "mid_term_year", "final_term_year")
        }
        | {"summary": spec.get("summary", "")},
    )
    milestones: list[tuple[ActionLine | None, dict[str, Any]]] = [
        (None, m) for m in spec.get("milestones", [])
    ]
    for a_pos, area_spec in enumerate(spec["programme_areas"]):
        area, _ = ProgrammeArea.objects.update_or_create(
            plan=plan,
            code=area_spec["code"],
            defaults={
                "name": area_spec["name"],
                "focus": area_spec.get("focus", ""),
                "position": a_pos,
            },
        )
        for s_pos, strategy_spec in enumerate(area_spec["strategies"]):
            strategy, _ = Strategy.objects.update_or_create(
                programme_area=area,
                code=strategy_spec["code"],
                defaults={"title": strategy_spec["title"], "position": s_pos},
            )
            for l_pos, line_spec in enumerate(strategy_spec["action_lines"]):
                lead = line_spec.get("lead_country")
                line, _ = ActionLine.objects.update_or_create(
                    strategy=strategy,
                    code=line_spec["code"],
                    defaults={
                        "title": line_spec["title"],
                        "working_group": groups[
                            line_spec.get("working_group") or area_spec["working_group"]
                        ],
                        "lead_country": states[lead] if lead else None,
                        "position": l_pos,
                    },
                )
                milestones += [(line, m) for m in line_spec.get("milestones", [])]
    # Milestones added in the admin are kept; the fixture's own are matched by due date and title.
    for owner, m in milestones:
        Milestone.objects.update_or_create(
            plan=plan,
            action_line=owner,
            year=m["year"],
            quarter=m.get("quarter"),
            title=m["title"],
            defaults={"target_percent": m.get("target_percent")},
        )
    return plan


# Progress reports


def _report_fields(report: ProgressReport) -> dict[str, Any]:
    return snapshot(report)


@transaction.atomic
def report_create(
    *,
    actor: Actor,
    action_line: ActionLine,
    member_state: MemberState,
    year: int,
    quarter: int,
    status: ImplementationStatus,
    percent_complete: int,
    narrative: str,
    datasets: Iterable[Dataset] = (),
) -> ProgressReport:
    report = ProgressReport.objects.create(
        action_line=action_line,
        member_state=member_state,
        year=year,
        quarter=quarter,
        status=status,
        percent_complete=percent_complete,
        narrative=narrative,
        created_by=actor.user,
    )
    report.datasets.set(list(datasets))
    audit_record(actor=actor, action=AuditAction.CREATE, instance=report, after=snapshot(report))
    return report


@transaction.atomic
def report_update(
    *,
    actor: Actor,
    report: ProgressReport,
    status: ImplementationStatus,
    percent_complete: int,
    narrative: str,
    datasets: Iterable[Dataset] = (),
) -> ProgressReport:
    before = snapshot(report)
    report.status = status
    report.percent_complete = percent_complete
    report.narrative = narrative
    report.save()
    report.datasets.set(list(datasets))
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        instance=report,
        before=before,
        after=snapshot(report),
    )
    return report


@transaction.atomic
def report_submit(*, actor: Actor, report: ProgressReport, base_url: str) -> ProgressReport:
    """Sends the report to the Secretariat for review."""
    before = snapshot(report)
    report.review_state = ReviewState.SUBMITTED
    report.submitted_by = actor.user
    report.submitted_at = timezone.now()
    report.save()
    audit_record(
        actor=actor,
        action=AuditAction.SUBMIT,
        instance=report,
        before=before,
        after=snapshot(report),
    )
    notify(
        recipients=_secretariat_members(),
        kind=NotificationKind.REPORT_SUBMITTED,
        message=f"{report.member_state.name} submitted {report.action_line.code} for {report.period_label}",
        link=reverse("collab:report", args=[report.pk]),
        base_url=base_url,
        exclude=actor.user,
    )
    return report


@transaction.atomic
def report_review(
    *,
    actor: Actor,
    report: ProgressReport,
    accept: bool,
    note: str,
    shared_with_observers: bool,
    base_url: str,
) -> ProgressReport:
    """The Secretariat accepts the report (it then counts on the dashboards) or returns it."""
    before = snapshot(report)
    report.review_state = ReviewState.ACCEPTED if accept else ReviewState.RETURNED
    report.review_note = note
    report.shared_with_observers = shared_with_observers and accept
    report.reviewed_by = actor.user
    report.reviewed_at = timezone.now()
    report.save()
    audit_record(
        actor=actor,
        action=AuditAction.REVIEW,
        instance=report,
        before=before,
        after=snapshot(report),
    )
    outcome = "accepted" if accept else "returned for revision"
    recipients = list(_focal_points_of(report.member_state_id))
    if report.submitted_by is not None:
        recipients.append(report.submitted_by)
    notify(
        recipients=recipients,
        kind=NotificationKind.REPORT_REVIEWED,
        message=f"The Secretariat {outcome} {report.action_line.code} · {report.member_state.code} · {report.period_label}",
        link=reverse("collab:report", args=[report.pk]),
        base_url=base_url,
        exclude=actor.user,
    )
    return report


def _store(upload: UploadedFile, checked: CheckedFile, *, prefix: str) -> str:
    return private_storage().save(storage_name(prefix=prefix, extension=checked.extension), upload)


def _delete_file_on_commit(name: str) -> None:
    transaction.on_commit(lambda: private_storage().delete(name))


def evidence_add(
    *, actor: Actor, report: ProgressReport, upload: UploadedFile, checked: CheckedFile
) -> Evidence:
    name = _store(upload, checked, prefix="evidence")
    try:
        with transaction.atomic():
            evidence = Evidence.objects.create(
                report=report,
                file=name,
                original_name=checked.original_name,
                content_type=checked.content_type,
                size=checked.size,
                sha256=checked.sha256,
                uploaded_by=actor.user,
            )
            audit_record(
                actor=actor, action=AuditAction.CREATE, instance=evidence, after=snapshot(evidence)
            )
    except BaseException:
        private_storage().delete(name)
        raise
    return evidence


@transaction.atomic
def evidence_delete(*, actor: Actor, evidence: Evidence) -> None:
    before = snapshot(evidence)
    name = evidence.file.name
    audit_record(actor=actor, action=AuditAction.DELETE, instance=evidence, before=before)
    evidence.delete()
    _delete_file_on_commit(name)


# Document library


@transaction.atomic
def folder_save(
    *,
    actor: Actor,
    folder: Folder | None,
    name: str,
    description: str = "",
    parent: Folder | None = None,
    working_group: WorkingGroup | None = None,
    read_roles: Sequence[str] = (),
    read_groups: Iterable[WorkingGroup] = (),
    upload_roles: Sequence[str] = (),
    upload_groups: Iterable[WorkingGroup] = (),
) -> Folder:
    """Creates a folder (folder=None) or changes one, with its access list."""
    before = snapshot(folder) if folder is not None else None
    if folder is None:
        folder = Folder()
    folder.name = name
    folder.description = description
    folder.parent = parent
    folder.working_group = working_group
    folder.read_roles = sorted(set(read_roles))
    folder.upload_roles = sorted(set(upload_roles) - {Role.OBSERVER})
    folder.save()
    folder.read_groups.set(list(read_groups))
    folder.upload_groups.set(list(upload_groups))
    audit_record(
        actor=actor,
        action=AuditAction.CREATE if before is None else AuditAction.UPDATE,
        instance=folder,
        before=before,
        after=snapshot(folder),
    )
    return folder


def _version_create(
    *,
    actor: Actor,
    document: Document,
    number: int,
    upload: UploadedFile,
    checked: CheckedFile,
    note: str,
) -> DocumentVersion:
    version = DocumentVersion.objects.create(
        document=document,
        number=number,
        file=_store(upload, checked, prefix="library"),
        original_name=checked.original_name,
        content_type=checked.content_type,
        size=checked.size,
        sha256=checked.sha256,
        uploaded_by=actor.user,
        note=note,
    )
    audit_record(actor=actor, action=AuditAction.CREATE, instance=version, after=snapshot(version))
    return version


def document_create(
    *,
    actor: Actor,
    folder: Folder,
    title: str,
    description: str,
    tags: Sequence[str],
    upload: UploadedFile,
    checked: CheckedFile,
) -> Document:
    stored: list[DocumentVersion] = []
    try:
        with transaction.atomic():
            document = Document.objects.create(
                folder=folder,
                title=title,
                description=description,
                tags=list(tags),
                created_by=actor.user,
            )
            audit_record(
                actor=actor, action=AuditAction.CREATE, instance=document, after=snapshot(document)
            )
            stored.append(
                _version_create(
                    actor=actor,
                    document=document,
                    number=1,
                    upload=upload,
                    checked=checked,
                    note="",
                )
            )
    except BaseException:
        for version in stored:
            private_storage().delete(version.file.name)
        raise
    return document


def document_version_add(
    *, actor: Actor, document: Document, upload: UploadedFile, checked: CheckedFile, note: str
) -> DocumentVersion:
    stored: list[DocumentVersion] = []
    try:
        with transaction.atomic():
            locked = Document.objects.select_for_update().get(pk=document.pk)
            last = locked.versions.aggregate(n=models.Max("number"))["n"] or 0
            stored.append(
                _version_create(
                    actor=actor,
                    document=locked,
                    number=last + 1,
                    upload=upload,
                    checked=checked,
                    note=note,
                )
            )
            locked.save(update_fields=["updated_at"])
    except BaseException:
        for version in stored:
            private_storage().delete(version.file.name)
        raise
    return stored[0]


@transaction.atomic
def document_delete(*, actor: Actor, document: Document) -> None:
    names = list(document.versions.values_list("file", flat=True))
    audit_record(
        actor=actor,
        action=AuditAction.DELETE,
        instance=document,
        before=snapshot(document) | {"versions": names},
    )
    document.delete()
    for name in names:
        _delete_file_on_commit(name)


# Discussion


def _comment_audience(target: ActionLine | ProgressReport | Document) -> list[User]:
    """Members told about a new comment: those who follow the object and may see it."""
    previous = User.objects.filter(
        pk__in=Comment.objects.filter(**{_target_field(target): target}).values("author")
    )
    candidates: list[User] = [*previous, *_secretariat_members()]
    if isinstance(target, ProgressReport):
        candidates += list(_focal_points_of(target.member_state_id))
        candidates += list(
            User.objects.filter(
                is_active=True, collab_profile__working_groups=target.action_line.working_group_id
            )
        )
    elif isinstance(target, ActionLine):
        candidates += list(
            User.objects.filter(
                is_active=True, collab_profile__working_groups=target.working_group_id
            )
        )
    elif target.created_by is not None:
        candidates.append(target.created_by)
    audience = []
    for user in {user.pk: user for user in candidates}.values():
        member = actor_for(user)
        if member is None or member.is_observer:
            continue
        if (
            isinstance(target, ProgressReport)
            and not ProgressReport.objects.filter(reports_visible_q(member), pk=target.pk).exists()
        ):
            continue
        if (
            isinstance(target, Document)
            and not Folder.objects.filter(folders_visible_q(member), pk=target.folder_id).exists()
        ):
            continue
        audience.append(user)
    return audience


def _target_field(target: ActionLine | ProgressReport | Document) -> str:
    if isinstance(target, ActionLine):
        return "action_line"
    if isinstance(target, ProgressReport):
        return "report"
    return "document"


def _target_link(target: ActionLine | ProgressReport | Document) -> str:
    if isinstance(target, ActionLine):
        return reverse("collab:action-line", args=[target.pk])
    if isinstance(target, ProgressReport):
        return reverse("collab:report", args=[target.pk])
    return reverse("collab:document", args=[target.pk])


@transaction.atomic
def comment_create(
    *, actor: Actor, target: ActionLine | ProgressReport | Document, body: str, base_url: str
) -> Comment:
    audience = _comment_audience(target)
    comment = Comment.objects.create(
        author=actor.user, body=body, **{_target_field(target): target}
    )
    audit_record(actor=actor, action=AuditAction.CREATE, instance=comment, after=snapshot(comment))
    notify(
        recipients=audience,
        kind=NotificationKind.COMMENT,
        message=f"{actor.user.get_username()} commented on {target}",
        link=_target_link(target) + f"#comment-{comment.pk}",
        base_url=base_url,
        exclude=actor.user,
    )
    return comment


@transaction.atomic
def comment_delete(*, actor: Actor, comment: Comment) -> None:
    audit_record(actor=actor, action=AuditAction.DELETE, instance=comment, before=snapshot(comment))
    comment.delete()
