"""Recipes: the JSON that says exactly how to make a prospectivity model.

    {"version": 1, "method": "wofe", "commodity": "copper", "commodity_rank": "any",
     "area": {"member_state": "PHL"},                # or {"bbox": [w, s, e, n]} or {"polygon": GeoJSON}
     "cell_size": 1000,                              # metres, on an equal-area grid (EPSG:6933)
     "evidence": [
        {"type": "geology", "attribute": "lithology"},
        {"type": "structures", "buffers": [1000, 2000, 5000]},
        {"type": "raster", "layer": "geoid", "version": 1, "band": 1, "bins": 5}],
     "validation": {"holdout": 0.25, "seed": 1},
     "data": {"occurrences-phl": 3, "geology-phl": 1, "faults": 2}}  # filled in by the server

`data` pins the version of every vector dataset the model reads (training occurrences, geology,
structures), as raster evidence pins its `version`: a recipe either re-runs over exactly the
same data or is refused with the datasets that changed.

Index overlay and fuzzy methods also read each layer's `weight` and optional `scores`
(a list per class for structures and rasters, a {class: score} object or a `favourable` list for
geology) and, for fuzzy gamma, `gamma`. Parsing checks every key, type and range and fills the
defaults, so a parsed recipe is canonical: its JSON (sorted keys) hashes the same every time.
Nothing here touches the database; names of layers and commodities are checked by the services.
"""

import hashlib
import json
import math
from typing import Any

from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from webgis.lib.errors import BadRequest

RECIPE_VERSION = 1
METHODS = ("wofe", "index_overlay", "fuzzy_gamma")
GEOLOGY_ATTRIBUTES = ("lithology", "age", "name")
EVIDENCE_TYPES = ("geology", "structures", "raster")
MIN_CELL_SIZE_M = 50
MAX_CELL_SIZE_M = 100_000
MAX_EVIDENCE = 8
MAX_BUFFERS = 10
MAX_BUFFER_M = 100_000
MAX_BREAKS = 19
MAX_POLYGON_VERTICES = 10_000
# The equal-area grid (EPSG:6933) is defined within these latitudes.
MAX_LATITUDE = 85.0


class BadRecipe(BadRequest):
    """A recipe that cannot be run; the message says what to change."""

    def payload(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": "invalid_recipe", "message": self.message}
        if self.field:
            error["field"] = self.field
        return {"error": error}


def _object(value: Any, path: str, allowed: set[str]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise BadRecipe(f"{path} must be a JSON object.", field=path)
    unknown = sorted(set(value) - allowed)
    if unknown:
        raise BadRecipe(
            f"Unknown key {unknown[0][:40]!r} in {path}. Allowed: {', '.join(sorted(allowed))}.",
            field=f"{path}.{unknown[0][:40]}",
        )
    return value


def _number(value: Any, path: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise BadRecipe(f"{path} must be a number from {low:g} to {high:g}.", field=path)
    if not low <= value <= high:
        raise BadRecipe(f"{path} must be from {low:g} to {high:g}; got {value:g}.", field=path)
    return float(value)


def _integer(value: Any, path: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadRecipe(f"{path} must be a whole number from {low} to {high}.", field=path)
    if not low <= value <= high:
        raise BadRecipe(f"{path} must be from {low} to {high}; got {value}.", field=path)
    return value


def _text(value: Any, path: str, max_length: int = 120) -> str:
    if (
        not isinstance(value, str)
        or not value.strip()
        or len(value) > max_length
        or "\x00" in value
    ):
        raise BadRecipe(
            f"{path} must be a non-empty text of at most {max_length} characters.", field=path
        )
    return value.strip()


def _choice(value: Any, path: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        shown = str(value)[:40] if isinstance(value, str | int | float) else type(value).__name__
        raise BadRecipe(f"Unknown {path} {shown!r}. Use one of: {', '.join(choices)}.", field=path)
    return str(value)


def _scores_list(value: Any, path: str) -> list[float]:
    if not isinstance(value, list) or not value or len(value) > MAX_BREAKS + 1:
        raise BadRecipe(f"{path} must be a list of scores from 0 to 1, one per class.", field=path)
    return [_number(v, f"{path}[{i}]", 0, 1) for i, v in enumerate(value)]


def parse_polygon(value: Any, path: str) -> BaseGeometry:
    """A GeoJSON Polygon or MultiPolygon in WGS 84, checked in Python (never handed to GDAL)."""
    geometry = _object(value, path, {"type", "coordinates"})
    if geometry.get("type") not in ("Polygon", "MultiPolygon"):
        raise BadRecipe(f"{path} must be a GeoJSON Polygon or MultiPolygon.", field=path)
    count = 0

    def check(node: Any, depth: int) -> None:
        nonlocal count
        if depth > 4 or not isinstance(node, list):
            raise BadRecipe(f"{path} coordinates are not a valid polygon.", field=path)
        if node and all(isinstance(v, int | float) and not isinstance(v, bool) for v in node):
            if len(node) != 2 or not all(math.isfinite(v) for v in node):
                raise BadRecipe(f"{path} positions must be [lon, lat] numbers.", field=path)
            if not (-180 <= node[0] <= 180 and -MAX_LATITUDE <= node[1] <= MAX_LATITUDE):
                raise BadRecipe(
                    f"{path} positions must lie within -180..180 longitude and "
                    f"-{MAX_LATITUDE:g}..{MAX_LATITUDE:g} latitude.",
                    field=path,
                )
            count += 1
            if count > MAX_POLYGON_VERTICES:
                raise BadRecipe(
                    f"{path} has more than {MAX_POLYGON_VERTICES} vertices.", field=path
                )
            return
        for child in node:
            check(child, depth + 1)

    check(geometry.get("coordinates"), 0)
    try:
        polygon = shape(geometry)
    except (ValueError, TypeError, IndexError, AttributeError) as exc:
        raise BadRecipe(f"{path} is not a valid polygon.", field=path) from exc
    if polygon.is_empty or polygon.area == 0:
        raise BadRecipe(f"{path} encloses no area.", field=path)
    return polygon


def _area(value: Any) -> dict[str, Any]:
    area = _object(value, "area", {"member_state", "bbox", "polygon"})
    if len(area) != 1:
        raise BadRecipe(
            "area must name exactly one of member_state, bbox or polygon.", field="area"
        )
    if "member_state" in area:
        code = _text(area["member_state"], "area.member_state", 3).upper()
        return {"member_state": code}
    if "bbox" in area:
        bbox = area["bbox"]
        if not isinstance(bbox, list) or len(bbox) != 4:
            raise BadRecipe("area.bbox must be [west, south, east, north].", field="area.bbox")
        west, east = (_number(bbox[i], f"area.bbox[{i}]", -180, 180) for i in (0, 2))
        south, north = (
            _number(bbox[i], f"area.bbox[{i}]", -MAX_LATITUDE, MAX_LATITUDE) for i in (1, 3)
        )
        if not (west < east and south < north):
            raise BadRecipe(
                "area.bbox is empty: west must be below east and south below north.",
                field="area.bbox",
            )
        return {"bbox": [west, south, east, north]}
    polygon = parse_polygon(area["polygon"], "area.polygon")
    return {"polygon": json.loads(json.dumps(polygon.__geo_interface__))}


def _evidence_item(value: Any, index: int, method: str) -> dict[str, Any]:
    path = f"evidence[{index}]"
    if not isinstance(value, dict):
        raise BadRecipe(f"{path} must be a JSON object.", field=path)
    kind = _choice(value.get("type"), f"{path}.type", EVIDENCE_TYPES)
    common = {"type", "weight", "scores"}
    item: dict[str, Any] = {"type": kind}
    if kind == "geology":
        raw = _object(value, path, common | {"attribute", "favourable"})
        item["attribute"] = _choice(
            raw.get("attribute", "lithology"), f"{path}.attribute", GEOLOGY_ATTRIBUTES
        )
        if "favourable" in raw:
            favourable = raw["favourable"]
            if not isinstance(favourable, list) or len(favourable) > 100:
                raise BadRecipe(
                    f"{path}.favourable must be a list of class names.", field=f"{path}.favourable"
                )
            item["favourable"] = sorted({_text(v, f"{path}.favourable", 300) for v in favourable})
        if "scores" in raw:
            scores = raw["scores"]
            if not isinstance(scores, dict) or len(scores) > 200:
                raise BadRecipe(
                    f"{path}.scores must be an object of class name to score (0 to 1).",
                    field=f"{path}.scores",
                )
            item["scores"] = {
                _text(k, f"{path}.scores", 300): _number(v, f"{path}.scores.{k[:40]}", 0, 1)
                for k, v in scores.items()
            }
    elif kind == "structures":
        raw = _object(value, path, common | {"buffers"})
        buffers = raw.get("buffers", [1000, 2000, 5000])
        if not isinstance(buffers, list) or not 1 <= len(buffers) <= MAX_BUFFERS:
            raise BadRecipe(
                f"{path}.buffers must be a list of 1 to {MAX_BUFFERS} distances in metres.",
                field=f"{path}.buffers",
            )
        distances = [
            _number(b, f"{path}.buffers[{i}]", 1, MAX_BUFFER_M) for i, b in enumerate(buffers)
        ]
        if sorted(set(distances)) != distances:
            raise BadRecipe(
                f"{path}.buffers must be distinct and in increasing order.", field=f"{path}.buffers"
            )
        item["buffers"] = distances
        if "scores" in raw:
            item["scores"] = _scores_list(raw["scores"], f"{path}.scores")
            if len(item["scores"]) != len(distances) + 1:
                raise BadRecipe(
                    f"{path}.scores needs {len(distances) + 1} values: one per buffer and one beyond.",
                    field=f"{path}.scores",
                )
    else:
        raw = _object(
            value, path, common | {"layer", "version", "band", "bins", "breaks", "ascending"}
        )
        item["layer"] = _text(raw.get("layer"), f"{path}.layer", 120)
        if "version" in raw:
            item["version"] = _integer(raw["version"], f"{path}.version", 1, 10**9)
        item["band"] = _integer(raw.get("band", 1), f"{path}.band", 1, 1000)
        if "breaks" in raw and "bins" in raw:
            raise BadRecipe(f"{path}: give bins or breaks, not both.", field=path)
        if "breaks" in raw:
            breaks = raw["breaks"]
            if not isinstance(breaks, list) or not 1 <= len(breaks) <= MAX_BREAKS:
                raise BadRecipe(
                    f"{path}.breaks must be a list of 1 to {MAX_BREAKS} numbers.",
                    field=f"{path}.breaks",
                )
            values = [_number(b, f"{path}.breaks[{i}]", -1e15, 1e15) for i, b in enumerate(breaks)]
            if sorted(set(values)) != values:
                raise BadRecipe(
                    f"{path}.breaks must be distinct and increasing.", field=f"{path}.breaks"
                )
            item["breaks"] = values
        else:
            item["bins"] = _integer(raw.get("bins", 5), f"{path}.bins", 2, MAX_BREAKS + 1)
        ascending = raw.get("ascending", True)
        if not isinstance(ascending, bool):
            raise BadRecipe(f"{path}.ascending must be true or false.", field=f"{path}.ascending")
        item["ascending"] = ascending
        if "scores" in raw:
            item["scores"] = _scores_list(raw["scores"], f"{path}.scores")
            classes = len(item["breaks"]) + 1 if "breaks" in item else item["bins"]
            if len(item["scores"]) != classes:
                raise BadRecipe(
                    f"{path}.scores needs {classes} values, one per class.", field=f"{path}.scores"
                )
    item["weight"] = _number(value.get("weight", 1), f"{path}.weight", 0.01, 100)
    if method == "wofe":
        # Weights and scores play no part in weights of evidence: keep the recipe canonical.
        item.pop("scores", None)
        item.pop("favourable", None)
        item["weight"] = 1.0
    return item


def _data_pins(value: Any) -> dict[str, int]:
    if not isinstance(value, dict) or len(value) > 1000:
        raise BadRecipe(
            "data must be a JSON object of dataset slug to version, as the server exported it.",
            field="data",
        )
    pins: dict[str, int] = {}
    for slug, version in value.items():
        pins[_text(slug, "data key", 120)] = _integer(version, f"data.{slug[:60]}", 1, 10**9)
    return pins


def parse_recipe(value: Any) -> dict[str, Any]:
    """The canonical recipe, or BadRecipe naming the first problem."""
    recipe = _object(
        value,
        "recipe",
        {"version", "method", "commodity", "commodity_rank", "area", "cell_size", "evidence",
         "validation", "gamma", "made_with", "data"},
    )  # fmt: skip
    version = recipe.get("version", RECIPE_VERSION)
    if version != RECIPE_VERSION:
        raise BadRecipe(f"version must be {RECIPE_VERSION}.", field="version")
    method = _choice(recipe.get("method", "wofe"), "method", METHODS)
    if "commodity" not in recipe:
        raise BadRecipe(
            "commodity is required (a CGI commodity code such as copper).", field="commodity"
        )
    evidence = recipe.get("evidence")
    if not isinstance(evidence, list) or not 1 <= len(evidence) <= MAX_EVIDENCE:
        raise BadRecipe(f"evidence must be a list of 1 to {MAX_EVIDENCE} layers.", field="evidence")
    if "area" not in recipe:
        raise BadRecipe("area is required: a member_state, a bbox or a polygon.", field="area")
    validation = _object(recipe.get("validation", {}), "validation", {"holdout", "seed"})
    parsed: dict[str, Any] = {
        "version": RECIPE_VERSION,
        "method": method,
        "commodity": _text(recipe["commodity"], "commodity", 60).lower(),
        "commodity_rank": _choice(
            recipe.get("commodity_rank", "any"), "commodity_rank", ("any", "main")
        ),
        "area": _area(recipe["area"]),
        "cell_size": _number(
            recipe.get("cell_size", 1000), "cell_size", MIN_CELL_SIZE_M, MAX_CELL_SIZE_M
        ),
        "evidence": [_evidence_item(item, i, method) for i, item in enumerate(evidence)],
        "validation": {
            "holdout": _number(validation.get("holdout", 0.25), "validation.holdout", 0, 0.5),
            "seed": _integer(validation.get("seed", 1), "validation.seed", 0, 2**31 - 1),
        },
    }
    if method == "fuzzy_gamma":
        parsed["gamma"] = _number(recipe.get("gamma", 0.9), "gamma", 0, 1)
    if "data" in recipe:
        parsed["data"] = _data_pins(recipe["data"])
    return parsed


def canonical_json(recipe: dict[str, Any]) -> str:
    return json.dumps(recipe, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def recipe_hash(recipe: dict[str, Any], data_state: str) -> str:
    """The cache key: the same recipe over the same data gives the same run."""
    return hashlib.sha256(f"{canonical_json(recipe)}|{data_state}".encode()).hexdigest()
