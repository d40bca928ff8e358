"""Parsing of query parameters: every value is checked against a type, a range or an allow-list."""

import math
import re
from collections.abc import Iterable, Mapping

from webgis.lib.errors import BadRequest

_INT = re.compile(r"^[0-9]{1,9}$")
_NUMBER = re.compile(r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]{1,3})?$")


def parse_int(value: str | None, *, field: str, default: int, minimum: int, maximum: int) -> int:
    if value is None or value == "":
        return default
    if not _INT.match(value):
        raise BadRequest(
            f"{field} must be a whole number from {minimum} to {maximum}.", field=field
        )
    number = int(value)
    if not minimum <= number <= maximum:
        raise BadRequest(f"{field} must be from {minimum} to {maximum}; got {number}.", field=field)
    return number


def parse_float(value: str, *, field: str) -> float:
    if not _NUMBER.match(value.strip()):
        raise BadRequest(f"{field} must be a number; got {value[:40]!r}.", field=field)
    number = float(value)
    if not math.isfinite(number):
        raise BadRequest(f"{field} must be a finite number.", field=field)
    return number


BBox = tuple[float, float, float, float]


def parse_bbox(value: str | None, *, field: str = "bbox") -> BBox | None:
    """`minLon,minLat,maxLon,maxLat` in WGS 84, as in OGC API - Features."""
    if value is None or value == "":
        return None
    parts = value.split(",")
    if len(parts) != 4:
        raise BadRequest(
            "bbox must be four comma-separated numbers: minLon,minLat,maxLon,maxLat "
            "(for example bbox=100,5,110,15).",
            field=field,
        )
    minx, miny, maxx, maxy = (parse_float(p, field=field) for p in parts)
    if not (
        -180 <= minx <= 180 and -180 <= maxx <= 180 and -90 <= miny <= 90 and -90 <= maxy <= 90
    ):
        raise BadRequest(
            "bbox must lie within -180..180 longitude and -90..90 latitude.", field=field
        )
    if minx > maxx or miny > maxy:
        raise BadRequest(
            "bbox minimum must not exceed its maximum (minLon,minLat,maxLon,maxLat).", field=field
        )
    return (minx, miny, maxx, maxy)


def parse_choices(
    params: Mapping[str, str], field: str, allowed: Iterable[str], *, normalise: bool = True
) -> list[str]:
    """A comma-separated list whose every item is in `allowed` (compared case-insensitively)."""
    raw = params.get(field)
    if raw is None or raw == "":
        return []
    lookup = {a.lower() if normalise else a: a for a in allowed}
    chosen: list[str] = []
    for item in raw.split(","):
        key = item.strip().lower() if normalise else item.strip()
        if key not in lookup:
            shown = ", ".join(sorted(lookup.values())[:30])
            raise BadRequest(
                f"Unknown {field} {item.strip()[:60]!r}. Use one of: {shown}.", field=field
            )
        chosen.append(lookup[key])
    return chosen


def parse_text(value: str | None, *, field: str, max_length: int = 100) -> str:
    if value is None:
        return ""
    text = value.strip()
    if len(text) > max_length:
        raise BadRequest(f"{field} must be at most {max_length} characters.", field=field)
    if "\x00" in text:
        raise BadRequest(f"{field} must not contain NUL characters.", field=field)
    return text


def reject_unknown(params: Mapping[str, str], allowed: Iterable[str]) -> None:
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        raise BadRequest(
            f"Unknown parameter {unknown[0]!r}. Allowed: {', '.join(sorted(allowed))}.",
            field=unknown[0],
        )
