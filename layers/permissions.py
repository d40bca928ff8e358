"""The one rule for what a user may see and do with datasets, used by every surface:
pages, GeoJSON, tiles, downloads, uploads and the admin lists built on them.

- the public (and any signed-in user without a role) sees published datasets;
- an editor of a national survey also sees its own member state's unpublished datasets,
  and may upload and publish for that member state only;
- a reviewer (ASEAN Secretariat) and a superuser see everything; reviewers publish nothing.
"""

from dataclasses import dataclass
from typing import Any

from django.db.models import Q

from layers.models import Dataset, Membership, OrganisationKind, Role


@dataclass(frozen=True)
class Access:
    """What one user may do, computed once per request."""

    sees_everything: bool = False
    editor_member_states: frozenset[int] = frozenset()  # member state ids
    editor_organisations: frozenset[int] = frozenset()

    @property
    def is_restricted_viewer(self) -> bool:
        """True when this user can see data the public cannot (responses must be private)."""
        return self.sees_everything or bool(self.editor_member_states)


PUBLIC = Access()


def access_for(user: Any) -> Access:
    if user is None or not getattr(user, "is_authenticated", False):
        return PUBLIC
    cached = getattr(user, "_amdis_access", None)
    if isinstance(cached, Access):
        return cached
    memberships = list(
        Membership.objects.filter(user=user)
        .select_related("organisation")
        .only("role", "organisation__kind", "organisation__member_state_id")
    )
    sees_everything = bool(user.is_superuser) or any(
        m.role == Role.REVIEWER and m.organisation.kind == OrganisationKind.SECRETARIAT
        for m in memberships
    )
    editors = [m for m in memberships if m.role == Role.EDITOR and m.organisation.member_state_id]
    access = Access(
        sees_everything=sees_everything,
        editor_member_states=frozenset(
            m.organisation.member_state_id for m in editors if m.organisation.member_state_id
        ),
        editor_organisations=frozenset(m.organisation_id for m in editors),
    )
    user._amdis_access = access
    return access


def dataset_visibility_q(user: Any) -> Q:
    access = access_for(user)
    if access.sees_everything:
        return Q()
    if access.editor_member_states:
        return Q(is_published=True) | Q(member_state_id__in=access.editor_member_states)
    return Q(is_published=True)


def visible_dataset_ids_sql(user: Any) -> tuple[str, list[Any]]:
    """The same rule as a SQL subquery of dataset ids (for PostGIS-built GeoJSON and tiles)."""
    access = access_for(user)
    if access.sees_everything:
        return "SELECT id FROM layers_dataset", []
    if access.editor_member_states:
        return (
            "SELECT id FROM layers_dataset WHERE is_published OR member_state_id = ANY(%s)",
            [sorted(access.editor_member_states)],
        )
    return "SELECT id FROM layers_dataset WHERE is_published", []


def can_view_dataset(user: Any, dataset: Dataset) -> bool:
    return Dataset.objects.filter(dataset_visibility_q(user), pk=dataset.pk).exists()


def can_upload_for(user: Any, member_state_id: int | None) -> bool:
    if getattr(user, "is_superuser", False):
        return True
    return member_state_id is not None and member_state_id in access_for(user).editor_member_states


def can_edit_dataset(user: Any, dataset: Dataset) -> bool:
    """Upload a new version, publish, restore: editors of the dataset's member state."""
    return can_upload_for(user, dataset.member_state_id)


def can_use_uploads(user: Any) -> bool:
    access = access_for(user)
    return bool(
        getattr(user, "is_superuser", False)
        or access.editor_member_states
        or access.sees_everything
    )
