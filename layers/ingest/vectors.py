"""Opening an uploaded vector dataset with GDAL (pyogrio) only after its own checks passed, and
only through the driver its content was identified as."""

from dataclasses import dataclass, field
from typing import Any

import pyogrio
import pyogrio.errors

from layers.ingest.crs import crs_from_epsg, crs_from_prj_bytes
from layers.ingest.discovery import CSV, GEOJSON, GEOPACKAGE, SHAPEFILE, FoundDataset, check_content
from layers.ingest.encodings import UTF8, EncodingGuess
from layers.ingest.features import FeatureProblem
from layers.ingest.gdalenv import gdal_safe_env
from layers.ingest.geojson_scan import inspect_geojson
from layers.ingest.geopackages import check_geopackage
from layers.ingest.limits import Limits
from layers.ingest.rejections import Code, RejectedFile
from layers.ingest.shapefiles import check_shapefile

# The GDAL driver each kind must be read with. pyogrio has no allowed-drivers argument, so the
# content is identified first (magic bytes, then each format's own structural check), GeoJSON
# and GeoPackage are opened with GDAL's driver prefix (only that driver answers), and the driver
# GDAL reports is checked after opening.
DRIVERS = {SHAPEFILE: "ESRI Shapefile", GEOPACKAGE: "GPKG", GEOJSON: "GeoJSON"}
DRIVER_PREFIXES = {GEOPACKAGE: "GPKG:", GEOJSON: "GeoJSON:"}


@dataclass
class VectorInfo:
    kind: str
    driver: str
    open_path: str  # what to give pyogrio (with the driver prefix where GDAL has one)
    layers: list[str]
    layer: str | None  # None while a GeoPackage with several layers waits for a choice
    needs_layer_choice: bool
    feature_count: int
    fields: dict[str, str]  # name → type
    geometry_type: str | None
    crs_epsg: int | None
    crs_name: str | None
    needs_crs: bool  # no CRS in the file: ask the editor, never assume WGS 84
    encoding: str  # Python codec of the text attributes
    read_encoding: str | None  # give to pyogrio.read(encoding=...); None: the format fixes UTF-8
    encoding_guess: EncodingGuess | None
    max_vertices: int
    problems: list[FeatureProblem] = field(default_factory=list)
    problem_count: int = 0
    notes: list[str] = field(default_factory=list)


def inspect_vector(found: FoundDataset, limits: Limits, *, layer: str | None = None) -> VectorInfo:
    """Check and describe a shapefile, GeoPackage or GeoJSON upload."""
    if found.kind == CSV:
        raise ValueError("CSV files are read with inspect_csv, not GDAL.")
    if found.kind not in DRIVERS:
        raise ValueError(f"Not a vector dataset: {found.kind}")
    check_content(found)
    if found.kind == SHAPEFILE:
        return _shapefile(found, limits)
    if found.kind == GEOPACKAGE:
        return _geopackage(found, limits, layer)
    return _geojson(found, limits)


def _shapefile(found: FoundDataset, limits: Limits) -> VectorInfo:
    facts = check_shapefile(found, limits)
    prj = found.sidecars.get(".prj")
    crs = crs_from_prj_bytes(prj.read_bytes(), source=f"'{prj.name}'") if prj else None
    guess = facts.encoding
    info = _read_info(found, str(found.path), limits, layer=None, encoding=guess.encoding)
    notes = [] if prj else ["The shapefile has no .prj: choose its CRS."]
    if guess.conflicts_with_declared:
        notes.append(
            f"The text reads as {guess.encoding}, not as the declared {guess.declared}: confirm."
        )
    return VectorInfo(
        kind=SHAPEFILE,
        driver=DRIVERS[SHAPEFILE],
        open_path=str(found.path),
        layers=[str(info["layer_name"])],
        layer=str(info["layer_name"]),
        needs_layer_choice=False,
        feature_count=facts.record_count,
        fields=_fields(info),
        geometry_type=_geometry_type(info),
        crs_epsg=crs.epsg if crs else None,
        crs_name=crs.name if crs else None,
        needs_crs=crs is None,
        encoding=guess.encoding,
        read_encoding=guess.encoding,
        encoding_guess=guess,
        max_vertices=facts.max_vertices,
        notes=notes,
    )


def _geopackage(found: FoundDataset, limits: Limits, layer: str | None) -> VectorInfo:
    facts = check_geopackage(found.path, limits)
    names = [item.name for item in facts.layers]
    open_path = _prefixed(found)
    if not names:
        raise RejectedFile(
            Code.NO_LAYER,
            f"'{found.path.name}' has no vector layer (tables with geometry). Save the features "
            "in the GeoPackage and upload again.",
            {"file": found.path.name},
        )
    if layer is not None and layer not in names:
        raise RejectedFile(
            Code.UNKNOWN_LAYER,
            f"'{found.path.name}' has no layer named '{layer[:100]}'. Choose one of: "
            f"{', '.join(names[:20])}.",
            {"layers": names},
        )
    if layer is None and len(names) > 1:
        return VectorInfo(
            kind=GEOPACKAGE,
            driver=DRIVERS[GEOPACKAGE],
            open_path=open_path,
            layers=names,
            layer=None,
            needs_layer_choice=True,
            feature_count=0,
            fields={},
            geometry_type=None,
            crs_epsg=None,
            crs_name=None,
            needs_crs=False,
            encoding=UTF8,
            read_encoding=None,
            encoding_guess=None,
            max_vertices=0,
            notes=[f"The GeoPackage has {len(names)} layers: choose one."],
        )
    chosen = layer or names[0]
    vertices = facts.max_vertices.get(chosen, 0)
    if vertices > limits.max_vertices_per_geometry:
        raise RejectedFile(
            Code.TOO_MANY_VERTICES,
            f"A geometry in layer '{chosen}' has about {vertices:,} vertices; at most "
            f"{limits.max_vertices_per_geometry:,} are allowed. Simplify or split it and upload again.",
            {"layer": chosen, "vertices": vertices},
        )
    info = _read_info(found, open_path, limits, layer=chosen, encoding=None)
    crs = facts.crs.get(chosen)
    return VectorInfo(
        kind=GEOPACKAGE,
        driver=DRIVERS[GEOPACKAGE],
        open_path=open_path,
        layers=names,
        layer=chosen,
        needs_layer_choice=False,
        feature_count=int(info["features"]),
        fields=_fields(info),
        geometry_type=_geometry_type(info),
        crs_epsg=crs.epsg if crs else None,
        crs_name=crs.name if crs else None,
        needs_crs=crs is None,
        encoding=UTF8,
        read_encoding=None,
        encoding_guess=None,
        max_vertices=vertices,
        notes=[] if crs else [f"The layer '{chosen}' has no CRS: choose one."],
    )


def _geojson(found: FoundDataset, limits: Limits) -> VectorInfo:
    scan = inspect_geojson(found.path, limits)
    open_path = _prefixed(found)
    info = _read_info(found, open_path, limits, layer=None, encoding=None)
    return VectorInfo(
        kind=GEOJSON,
        driver=DRIVERS[GEOJSON],
        open_path=open_path,
        layers=[str(info["layer_name"])],
        layer=str(info["layer_name"]),
        needs_layer_choice=False,
        feature_count=scan.feature_count,
        fields=_fields(info),
        geometry_type=_geometry_type(info),
        crs_epsg=scan.crs_epsg,
        crs_name=crs_from_epsg(scan.crs_epsg, source=f"'{found.path.name}'").name,
        needs_crs=False,
        encoding=UTF8,
        read_encoding=None,
        encoding_guess=None,
        max_vertices=scan.max_vertices,
        problems=scan.problems,
        problem_count=scan.problem_count,
    )


def _prefixed(found: FoundDataset) -> str:
    path = str(found.path)
    prefix = DRIVER_PREFIXES.get(found.kind)
    # GDAL splits "GPKG:file:layer" on colons, so a path with one is opened without the prefix
    # (the driver check after opening still applies).
    return f"{prefix}{path}" if prefix and ":" not in path else path


def _read_info(
    found: FoundDataset, open_path: str, limits: Limits, *, layer: str | None, encoding: str | None
) -> dict[str, Any]:
    expected = DRIVERS[found.kind]
    try:
        with gdal_safe_env(limits):
            info: dict[str, Any] = pyogrio.read_info(open_path, layer=layer, encoding=encoding)
    except (
        pyogrio.errors.DataSourceError,
        pyogrio.errors.DataLayerError,
        UnicodeDecodeError,
    ) as exc:
        reason = _without_paths(str(exc), found)
        raise RejectedFile(
            Code.UNREADABLE,
            f"GDAL cannot read '{found.path.name}' ({reason}). Export the data again and upload it again.",
            {"reason": reason},
        ) from exc
    if info.get("driver") != expected:
        raise RejectedFile(
            Code.WRONG_CONTENT,
            f"'{found.path.name}' was not recognised as {expected} data. Export it again as "
            f"{expected} and upload it again.",
            {"driver": info.get("driver")},
        )
    features = int(info.get("features") or 0)
    if features > limits.max_features:
        raise RejectedFile(
            Code.TOO_MANY_FEATURES,
            f"'{found.path.name}' holds {features:,} features; at most {limits.max_features:,} are "
            "allowed. Split it and upload the parts.",
            {"features": features},
        )
    if len(info.get("fields", [])) > limits.max_fields:
        raise RejectedFile(
            Code.TOO_MANY_FIELDS,
            f"'{found.path.name}' has more than {limits.max_fields:,} columns. Remove the columns "
            "you do not need and upload again.",
        )
    return info


def _fields(info: dict[str, Any]) -> dict[str, str]:
    return {
        str(name): str(dtype) for name, dtype in zip(info["fields"], info["dtypes"], strict=True)
    }


def _geometry_type(info: dict[str, Any]) -> str | None:
    value = info.get("geometry_type")
    return str(value) if value else None


def _without_paths(text: str, found: FoundDataset) -> str:
    """GDAL messages name the server path; editors see only the file name."""
    for folder in (found.files_dir, found.path.parent):
        if folder is not None:
            text = text.replace(str(folder) + "/", "").replace(str(folder), "")
    return text.replace("GPKG:", "").replace("GeoJSON:", "")[:300]
