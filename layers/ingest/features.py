"""Per-feature checks made while reading: problems are reported with row numbers, the feature is
left out, and the rest of the file goes on. Nothing is repaired here; repairs are the caller's
documented policy."""

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import shapely


@dataclass(frozen=True)
class FeatureProblem:
    row: int  # 1-based feature or record number in the source file
    code: str  # "not_a_number", "text_coordinates", "out_of_range", "unclosed_ring", ...
    message: str

    def to_dict(self) -> dict[str, object]:
        return {"row": self.row, "code": self.code, "message": self.message}


def check_points(
    rows: Iterable[tuple[int, object, object]], *, geographic: bool = True
) -> list[FeatureProblem]:
    """(row, x, y) values from CSV columns: numbers, finite, and in range when geographic."""
    problems: list[FeatureProblem] = []
    for row, x_raw, y_raw in rows:
        values: list[float] = []
        for axis, raw in (("longitude/x", x_raw), ("latitude/y", y_raw)):
            value = _number(raw)
            if value is None:
                problems.append(
                    FeatureProblem(
                        row, "not_a_number", f"the {axis} '{str(raw)[:40]}' is not a number"
                    )
                )
            elif not math.isfinite(value):
                problems.append(FeatureProblem(row, "not_finite", f"the {axis} is {raw}"))
            else:
                values.append(value)
        if geographic and len(values) == 2:
            problems.extend(_range_problems(row, values[0], values[1]))
    return problems


def check_geometries(
    wkb: Sequence[bytes | None], *, first_row: int = 1, geographic: bool = True
) -> list[FeatureProblem]:
    """Problems of a batch of WKB geometries (as pyogrio returns them), vectorised with shapely."""
    problems: list[FeatureProblem] = []
    geoms = np.empty(len(wkb), dtype=object)
    for i, blob in enumerate(wkb):
        if blob is None:
            problems.append(
                FeatureProblem(first_row + i, "no_geometry", "the feature has no geometry")
            )
            continue
        try:
            geoms[i] = shapely.from_wkb(blob)
        except shapely.errors.ShapelyError as exc:
            problems.append(
                FeatureProblem(
                    first_row + i, "unreadable_geometry", f"the geometry cannot be read: {exc}"
                )
            )
    present = np.array([g is not None for g in geoms], dtype=bool)
    if not present.any():
        return sorted(problems, key=lambda p: p.row)
    index = np.flatnonzero(present)
    shapes = geoms[present]
    empty = shapely.is_empty(shapes)
    coords, owners = shapely.get_coordinates(shapes, return_index=True)
    finite = np.ones(len(shapes), dtype=bool)
    if len(coords):
        bad = ~np.isfinite(coords).all(axis=1)
        finite[np.unique(owners[bad])] = False
    reasons = shapely.is_valid_reason(shapes)
    bounds = shapely.bounds(shapes)
    for k, position in enumerate(index.tolist()):
        row = first_row + position
        if empty[k]:
            problems.append(FeatureProblem(row, "empty_geometry", "the geometry is empty"))
            continue
        if not finite[k]:
            problems.append(FeatureProblem(row, "not_finite", "a coordinate is NaN or infinite"))
            continue
        if reasons[k] != "Valid Geometry":
            problems.append(
                FeatureProblem(row, "invalid_geometry", f"invalid geometry: {reasons[k]}")
            )
        if geographic:
            minx, miny, maxx, maxy = bounds[k]
            problems.extend(_range_problems(row, minx, miny))
            problems.extend(_range_problems(row, maxx, maxy))
    return sorted(_unique(problems), key=lambda p: p.row)


def _range_problems(row: int, x: float, y: float) -> list[FeatureProblem]:
    found = []
    if not -180 <= x <= 180:
        found.append(FeatureProblem(row, "out_of_range", f"longitude {x:g} is outside -180..180"))
    if not -90 <= y <= 90:
        found.append(FeatureProblem(row, "out_of_range", f"latitude {y:g} is outside -90..90"))
    return found


def _number(raw: object) -> float | None:
    if isinstance(raw, bool) or raw is None:
        return None
    if isinstance(raw, int | float):
        return float(raw)
    text = str(raw).strip().replace("\u2212", "-")
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        return None


def _unique(problems: list[FeatureProblem]) -> list[FeatureProblem]:
    seen: set[tuple[int, str, str]] = set()
    kept = []
    for p in problems:
        key = (p.row, p.code, p.message)
        if key not in seen:
            seen.add(key)
            kept.append(p)
    return kept
