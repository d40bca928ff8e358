"""The validation report shaped for its page (layers/templates/layers/upload_detail.html)."""

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RejectionGroup:
    reason: str
    rows: int
    ranges: str  # "1–17, 28–114"


def row_ranges(rows: list[int]) -> str:
    """Row numbers as ranges: [1, 2, 3, 7, 9, 10] -> "1–3, 7, 9–10"."""
    ordered = sorted(set(rows))
    parts: list[str] = []
    first = 0
    while first < len(ordered):
        last = first
        while last + 1 < len(ordered) and ordered[last + 1] == ordered[last] + 1:
            last += 1
        parts.append(str(ordered[first]) if first == last else f"{ordered[first]}–{ordered[last]}")
        first = last + 1
    return ", ".join(parts)


def rejections_grouped(rejected: list[dict[str, Any]]) -> list[RejectionGroup]:
    """The report's rejected rows, one line a reason with its rows as ranges, in the order each
    reason first appears: a file in the wrong coordinate system or of the wrong member state
    makes hundreds of rows with the one same reason, which read better as one line."""
    rows_by_reason: dict[str, list[int]] = {}
    for rejection in rejected:
        rows_by_reason.setdefault(str(rejection["reason"]), []).append(int(rejection["row"]))
    return [
        RejectionGroup(reason, len(rows), row_ranges(rows))
        for reason, rows in sorted(rows_by_reason.items(), key=lambda item: min(item[1]))
    ]
