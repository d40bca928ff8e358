"""The validation report's rejected rows on the upload page: one line a reason, rows as ranges."""

import re
from typing import Any

import pytest
from django.test import Client

from layers.models import UploadStatus
from layers.report import RejectionGroup, rejections_grouped, row_ranges
from tests.layers.test_uploads import post_upload

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("rows", "ranges"),
    [
        ([], ""),
        ([5], "5"),
        ([1, 2, 3, 7, 9, 10], "1–3, 7, 9–10"),
        ([10, 9, 3, 1, 2, 7, 3], "1–3, 7, 9–10"),  # any order, repeats once
        ([2, 4, 6], "2, 4, 6"),
    ],
)
def test_row_numbers_read_as_ranges(rows: list[int], ranges: str) -> None:
    assert row_ranges(rows) == ranges


def test_rejections_are_grouped_by_reason_in_order_of_first_row() -> None:
    rejected = [
        {"row": 2, "reason": "outside Philippines"},
        {"row": 1, "reason": "Broken: longitude/latitude missing or not a number"},
        {"row": 3, "reason": "outside Philippines"},
        {"row": 4, "reason": "outside Philippines"},
        {"row": 9, "reason": "outside Philippines"},
    ]
    assert rejections_grouped(rejected) == [
        RejectionGroup("Broken: longitude/latitude missing or not a number", 1, "1"),
        RejectionGroup("outside Philippines", 4, "2–4, 9"),
    ]


def _rejection_rows(html: str) -> list[list[str]]:
    table = html.split('id="rejections"', 1)[1].split("</table>", 1)[0]
    return [
        re.findall(r"<td>(.*?)</td>", row)
        for row in re.findall(r"<tr>(.*?)</tr>", table)
        if "<td>" in row
    ]


def test_a_file_of_another_country_reads_as_one_line(editor_phl: Client, phl_survey: Any) -> None:
    lines = ["name,lon,lat,commodity"]
    lines += [f"Thai site {n},{100 + n / 100},{14 + n / 100},Cu" for n in range(1, 41)]
    lines += ["Tampakan,125.05,6.48,Cu", "Broken,abc,15.0,Cu", "Bangkok,100.5,13.75,Au"]
    upload = post_upload(
        editor_phl, phl_survey, "sites.csv", "\n".join(lines).encode(), "occurrences"
    )
    assert upload.status == UploadStatus.READY, upload.report
    assert upload.report["counts"]["rejected"] == 42
    html = editor_phl.get(f"/uploads/{upload.pk}/").content.decode()
    outside = next(r for r in upload.report["rejected"] if r["row"] == 1)["reason"]
    assert _rejection_rows(html) == [
        [outside, "41", "1–40, 43"],
        ["Broken: longitude/latitude missing or not a number", "1", "42"],
    ]
    assert "The first" not in html  # every rejected row is listed


def test_a_long_list_says_it_is_cut(
    editor_phl: Client, phl_survey: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from layers.ingest import pipeline

    monkeypatch.setattr(pipeline, "REPORT_LIST_LIMIT", 5)
    lines = ["name,lon,lat,commodity", "Tampakan,125.05,6.48,Cu"]
    lines += [f"Thai site {n},{100 + n / 100},14,Cu" for n in range(1, 9)]
    upload = post_upload(
        editor_phl, phl_survey, "sites.csv", "\n".join(lines).encode(), "occurrences"
    )
    html = editor_phl.get(f"/uploads/{upload.pk}/").content.decode()
    assert "The first 5 of 8 rejected rows" in html
    assert [row[1:] for row in _rejection_rows(html)] == [["5", "2–6"]]  # Tampakan is row 1
