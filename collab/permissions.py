"""Who may see and do what in the collaboration platform: the one module every view asks.

Rules, in short:
- Only verified members (password and second factor) with a role get in; others are sent to
  the sign-in page (anonymous, not yet verified) or refused (signed in without a role).
- The Secretariat sees and reviews everything, manages folders, people and the audit log.
- A focal point edits its own member state's reports (while draft or returned) and sees them
  all; it sees other states' reports once accepted.
- Working-group members also see the submitted reports on their groups' action lines.
- Observers are read-only: accepted reports shared with observers, folders open to observers.
- An object a person may not see answers 404; an action on a visible object they may not
  take answers 403.
"""

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, Concatenate, ParamSpec

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.urls import reverse
from django.utils.cache import add_never_cache_headers

from collab.models import (
    Comment,
    Folder,
    ProgressReport,
    ReviewState,
    Role,
)

P = ParamSpec("P")


@dataclass(frozen=True)
class Actor:
    """A verified platform member and their scope."""

    user: Any
    role: Role
    member_state_id: int | None
    working_group_ids: frozenset[int]

    @property
    def is_secretariat(self) -> bool:
        return self.role == Role.SECRETARIAT

    @property
    def is_observer(self) -> bool:
        return self.role == Role.OBSERVER

    @property
    def is_focal_point(self) -> bool:
        return self.role == Role.FOCAL_POINT


def is_verified(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Signed in with a password and a second factor in this session."""
    check = getattr(user, "is_verified", None)
    return bool(user.is_authenticated and callable(check) and check())


def actor_for(user: AbstractBaseUser | AnonymousUser) -> Actor | None:
    """The member behind a signed-in user; None when the user has no role in the platform."""
    if not user.is_authenticated:
        return None
    profile = getattr(user, "collab_profile", None)
    if profile is None:
        # A superuser made with createsuperuser administers the platform without a profile.
        if getattr(user, "is_superuser", False):
            return Actor(user, Role.SECRETARIAT, None, frozenset())
        return None
    return Actor(
        user=user,
        role=Role(profile.role),
        member_state_id=profile.member_state_id,
        working_group_ids=frozenset(profile.working_groups.values_list("pk", flat=True)),
    )


def member_view(
    view: Callable[Concatenate[HttpRequest, Actor, P], HttpResponseBase],
) -> Callable[Concatenate[HttpRequest, P], HttpResponseBase]:
    """Lets in verified members only, passes their Actor, and keeps responses out of caches."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: P.args, **kwargs: P.kwargs) -> HttpResponseBase:
        if not is_verified(request.user):
            return redirect_to_login(request.get_full_path(), reverse("collab:login"))
        actor = actor_for(request.user)
        if actor is None:
            raise PermissionDenied("You have no role in the collaboration platform.")
        response = view(request, actor, *args, **kwargs)
        add_never_cache_headers(response)  # includes Cache-Control: private
        return response

    return wrapped


def verified_view(
    view: Callable[Concatenate[HttpRequest, P], HttpResponseBase],
) -> Callable[Concatenate[HttpRequest, P], HttpResponseBase]:
    """Lets in anyone signed in with both factors, member or not (their own account pages)."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: P.args, **kwargs: P.kwargs) -> HttpResponseBase:
        if not is_verified(request.user):
            return redirect_to_login(request.get_full_path(), reverse("collab:login"))
        response = view(request, *args, **kwargs)
        add_never_cache_headers(response)
        return response

    return wrapped


def require(allowed: bool) -> None:
    """Refuses (403) an action on an object the person can see but may not act on."""
    if not allowed:
        raise PermissionDenied


# Progress reports


def reports_visible_q(actor: Actor) -> Q:
    if actor.is_secretariat:
        return Q()
    if actor.is_observer:
        return Q(review_state=ReviewState.ACCEPTED, shared_with_observers=True)
    rule = Q(review_state=ReviewState.ACCEPTED)
    if actor.is_focal_point and actor.member_state_id is not None:
        rule |= Q(member_state_id=actor.member_state_id)
    if actor.working_group_ids:
        rule |= Q(action_line__working_group_id__in=actor.working_group_ids) & ~Q(
            review_state=ReviewState.DRAFT
        )
    return rule


def report_can_create(actor: Actor, *, member_state_id: int | None = None) -> bool:
    """Focal points report for their own member state (any state when none is given yet)."""
    if not actor.is_focal_point or actor.member_state_id is None:
        return False
    return member_state_id is None or member_state_id == actor.member_state_id


def report_can_edit(actor: Actor, report: ProgressReport) -> bool:
    """Edit, attach evidence and submit: own member state's focal points, before acceptance."""
    return report_can_create(actor, member_state_id=report.member_state_id) and (
        report.is_open_for_editing
    )


def report_can_review(actor: Actor, report: ProgressReport) -> bool:
    return actor.is_secretariat and report.review_state == ReviewState.SUBMITTED


# Discussion


def can_read_comments(actor: Actor) -> bool:
    """Discussions are among members; observers do not see them."""
    return not actor.is_observer


def can_comment(actor: Actor) -> bool:
    return not actor.is_observer


def comment_can_delete(actor: Actor, comment: Comment) -> bool:
    return actor.is_secretariat or (
        comment.author_id is not None and comment.author_id == actor.user.pk
    )


# Document library


def folders_visible_q(actor: Actor) -> Q:
    if actor.is_secretariat:
        return Q()
    rule = Q(read_roles__contains=[actor.role])
    if actor.working_group_ids:
        rule |= Q(
            pk__in=Folder.read_groups.through.objects.filter(
                workinggroup_id__in=actor.working_group_ids
            ).values("folder_id")
        )
    return rule


def folder_can_upload(actor: Actor, folder: Folder) -> bool:
    """Add documents or versions; the caller has already checked the folder is visible."""
    if actor.is_secretariat:
        return True
    if actor.is_observer:
        return False
    if actor.role in folder.upload_roles:
        return True
    return folder.upload_groups.filter(pk__in=actor.working_group_ids).exists()


def folder_can_manage(actor: Actor) -> bool:
    """Create folders and set their access."""
    return actor.is_secretariat


def document_can_delete(actor: Actor) -> bool:
    return actor.is_secretariat


# Administration


def can_manage_people(actor: Actor) -> bool:
    return actor.is_secretariat


def can_read_audit(actor: Actor) -> bool:
    return actor.is_secretariat
