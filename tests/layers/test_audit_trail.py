"""The reviewers' audit trail of uploads and datasets: every entry reachable, page by page, and
filtered by action, dataset (deleted ones too) and user."""

import re
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from layers.models import AuditAction, AuditEntry
from layers.services import dataset_delete

pytestmark = pytest.mark.django_db


def rows(response: Any) -> list[str]:
    body = response.content.decode()
    table = body[body.index('<table class="data-table" id="audit">') : body.index("</table>")]
    return re.findall(r"<tr><td>.*?</tr>", table, flags=re.S)


@pytest.fixture
def entries(make_dataset: Any) -> dict[str, Any]:
    copper, tin = make_dataset(title="Copper prospects"), make_dataset(title="Tin placers")
    pia = User.objects.create_user("pia", password="x-unused-x")
    AuditEntry.objects.bulk_create(
        [AuditEntry(action=AuditAction.PUBLISHED, dataset=copper, actor=pia) for _ in range(120)]
        + [AuditEntry(action=AuditAction.RESTORED, dataset=tin) for _ in range(15)]
    )
    return {"copper": copper, "tin": tin}


def test_every_entry_is_reachable_page_by_page(reviewer: Client, entries: Any) -> None:
    first = reviewer.get("/audit/")
    assert len(rows(first)) == 100 and b"135 entries." in first.content
    assert b"Page 1 of 2" in first.content
    second = reviewer.get("/audit/", {"page": 2})
    assert len(rows(second)) == 35
    # A page that is not a number, or past the end, is the first or the last.
    assert len(rows(reviewer.get("/audit/", {"page": "x"}))) == 100
    assert len(rows(reviewer.get("/audit/", {"page": 99}))) == 35


def test_the_trail_filters_by_action_dataset_and_user(reviewer: Client, entries: Any) -> None:
    restored = reviewer.get("/audit/", {"action": "restored"})
    assert len(rows(restored)) == 15
    assert all("Restored a version" in row for row in rows(restored))
    by_title = reviewer.get("/audit/", {"dataset": "copper"})
    assert b"120 entries." in by_title.content
    # The pager keeps the filters.
    assert b"dataset=copper&amp;page=2" in by_title.content
    by_slug = reviewer.get("/audit/", {"dataset": entries["tin"].slug})
    assert b"15 entries." in by_slug.content
    assert b"120 entries." in reviewer.get("/audit/", {"actor": "pia"}).content
    none = reviewer.get("/audit/", {"action": "published", "actor": "nobody"})
    assert rows(none) == [] and b"Nothing matches these filters." in none.content


def test_a_bad_filter_is_named_and_shows_nothing(reviewer: Client, entries: Any) -> None:
    page = reviewer.get("/audit/", {"action": "exploded", "dataset": "copper"})
    assert page.status_code == 400
    assert b"Select a valid choice. exploded is not one of the available choices." in page.content
    assert rows(page) == []
    too_long = reviewer.get("/audit/", {"dataset": "x" * 201})
    assert too_long.status_code == 400 and rows(too_long) == []


def test_a_deleted_datasets_entries_stay_findable(reviewer: Client, entries: Any) -> None:
    dataset_delete(entries["tin"], actor=None)
    page = reviewer.get("/audit/", {"dataset": "placers"})
    found = rows(page)
    # Its own deletion, by title; its earlier entries lost the link to it (the history stays).
    assert len(found) == 1 and 'Tin placers <span class="small">(deleted)</span>' in found[0]
    assert "Deleted a dataset" in found[0]
    assert len(rows(reviewer.get("/audit/", {"action": "restored"}))) == 15


def test_the_trail_is_for_reviewers(editor_phl: Client, anonymous: Client) -> None:
    assert editor_phl.get("/audit/").status_code == 403
    assert anonymous.get("/audit/").status_code == 302
