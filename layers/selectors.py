"""Reads about datasets, including the one rule for who may see what."""

import hashlib
from typing import Any

from django.db import connection
from django.db.models import QuerySet

from layers.models import Dataset
from layers.permissions import access_for, dataset_visibility_q, visible_dataset_ids_sql
from webgis.lib.mvt import Where


def datasets_visible(*, user: Any) -> QuerySet[Dataset]:
    return Dataset.objects.filter(dataset_visibility_q(user))


def dataset_visibility_where(*, user: Any, column: str = "t.dataset_id") -> Where:
    """The permission rule (layers.permissions) as SQL over a table with a dataset id column."""
    if access_for(user).sees_everything:
        return Where()
    subquery, params = visible_dataset_ids_sql(user)
    return Where(f"{column} IN ({subquery})", params)


def data_version() -> str:
    """A short hash that changes whenever any dataset is published, withdrawn or re-versioned,
    or has its features edited directly (`revision`, counted by triggers: migration 0003).

    Tile URLs carry it, so caches can keep tiles forever and never serve stale ones.
    """
    sql = (
        "SELECT coalesce(string_agg(id || ':' || version || ':' || revision || ':'"
        " || is_published::int, ',' ORDER BY id), '') FROM layers_dataset"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)
        (state,) = cursor.fetchone() or ("",)
    return hashlib.sha256(state.encode()).hexdigest()[:12]
