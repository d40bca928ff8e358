"""Reads about datasets, including the one rule for who may see what."""

import hashlib
from typing import Any

from django.db import connection
from django.db.models import Q, QuerySet

from layers.models import Dataset
from webgis.lib.mvt import Where


def dataset_visibility_q(user: Any) -> Q:
    """The permission rule every surface applies: the public sees published datasets only."""
    if getattr(user, "is_staff", False):
        return Q()
    return Q(is_published=True)


def datasets_visible(*, user: Any) -> QuerySet[Dataset]:
    return Dataset.objects.filter(dataset_visibility_q(user))


def dataset_visibility_where(*, user: Any, column: str = "t.dataset_id") -> Where:
    """The same rule as SQL over a table that has a dataset id column."""
    if getattr(user, "is_staff", False):
        return Where()
    return Where(f"{column} IN (SELECT id FROM layers_dataset WHERE is_published)")


def data_version() -> str:
    """A short hash that changes whenever any dataset is published, withdrawn or re-versioned.

    Tile URLs carry it, so caches can keep tiles forever and never serve stale ones.
    """
    sql = (
        "SELECT coalesce(string_agg(id || ':' || version || ':' || is_published::int, ','"
        " ORDER BY id), '') FROM layers_dataset"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)
        (state,) = cursor.fetchone() or ("",)
    return hashlib.sha256(state.encode()).hexdigest()[:12]
