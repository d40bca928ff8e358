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


def test_a_name_a_cache_server_would_refuse_is_stored_under_its_digest() -> None:
    """memcached refuses spaces, control characters and keys over 250 characters; a profile
    map's name holds a timestamp's text ("2026-11-30 05:29:24+00")."""
    import warnings

    from django.core.cache.backends.base import CacheKeyWarning

    from layers.selectors import cached_per_data_version, portable_cache_key

    assert portable_cache_key("landing:map:PHL") == "landing:map:PHL"
    spaced = portable_cache_key("landing:map:2026-11-30 05:29:24+00")
    assert spaced.startswith("sha256:") and " " not in spaced and len(spaced) < 100
    assert portable_cache_key("x" * 201).startswith("sha256:")
    assert spaced != portable_cache_key("landing:map:2026-11-30 05:29:25+00")
    computed: list[int] = []
    with warnings.catch_warnings():
        warnings.simplefilter("error", CacheKeyWarning)
        for _ in range(2):
            value = cached_per_data_version(
                "test:2026-11-30 05:29:24+00", user=None, compute=lambda: computed.append(1) or 7
            )
    assert value == 7 and computed == [1]
