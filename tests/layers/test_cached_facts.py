"""Facts cached per dataset version (layers.selectors.cached_per_dataset)."""

from typing import Any

import pytest
from django.core.cache import cache

from layers.models import Dataset
from layers.selectors import cached_per_dataset

pytestmark = pytest.mark.django_db


def test_only_changed_datasets_are_computed_again_and_deleted_ones_drop_out(
    make_dataset: Any,
) -> None:
    first, second, empty = make_dataset(slug="first"), make_dataset(slug="second"), make_dataset()
    asked: list[list[int]] = []

    def facts(ids: list[int]) -> dict[int, str]:
        asked.append(sorted(ids))
        # The third dataset has no fact (as a dataset without features has no extent).
        return {pk: f"{pk}:{Dataset.objects.get(pk=pk).version}" for pk in ids if pk != empty.pk}

    assert cached_per_dataset("test:facts", facts) == {
        first.pk: f"{first.pk}:1",
        second.pk: f"{second.pk}:1",
    }
    assert cached_per_dataset("test:facts", facts) == {
        first.pk: f"{first.pk}:1",
        second.pk: f"{second.pk}:1",
    }
    assert asked == [sorted([first.pk, second.pk, empty.pk])]  # once, the empty one included

    Dataset.objects.filter(pk=second.pk).update(version=2)  # a new version of one dataset
    first.delete()
    assert cached_per_dataset("test:facts", facts) == {second.pk: f"{second.pk}:2"}
    assert asked[1:] == [[second.pk]]
    assert set(cache.get("test:facts")) == {second.pk, empty.pk}  # one entry, no deleted rows
