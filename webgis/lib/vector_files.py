"""Reading tabular and vector files into plain records: CSV with any common delimiter,
and anything GDAL reads through pyogrio (Shapefile, zipped or not, GeoPackage, GeoJSON,
TopoJSON). Paths come from the server's own command line, never from a request."""

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyogrio
from pyproj import CRS

DELIMITERS = (",", ";", "\t", "|")
# Drivers whose specification fixes the CRS to WGS 84 longitude/latitude.
WGS84_BY_SPEC = {"GeoJSON", "TopoJSON", "GeoJSONSeq"}


class FileReadError(Exception):
    """The file cannot be read as asked; the message says why and what to do."""


@dataclass
class Records:
    columns: list[str]
    rows: list[dict[str, Any]]
    geometries: list[bytes | None] = field(default_factory=list)  # WKB, one per row
    srid: int | None = None
    encoding: str = "utf-8"


def gdal_path(path: Path) -> str:
    """Zipped shapefiles are read through GDAL's /vsizip/ on the server's own file."""
    return f"/vsizip/{path}" if path.suffix.lower() == ".zip" else str(path)


def detect_delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    if counts[best] == 0:
        raise FileReadError(
            "Could not find a column delimiter in the first line; use comma, semicolon, tab or pipe."
        )
    return best


def _decode(raw: bytes) -> tuple[str, str]:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise FileReadError("The file is neither UTF-8 nor cp1252 text; save it as UTF-8.")


def read_csv(path: Path, *, delimiter: str | None = None) -> Records:
    text, encoding = _decode(path.read_bytes())
    first_line = text.split("\n", 1)[0]
    reader = csv.DictReader(
        io.StringIO(text, newline=""), delimiter=delimiter or detect_delimiter(first_line)
    )
    if not reader.fieldnames:
        raise FileReadError("The CSV file has no header row.")
    columns = [c.strip() for c in reader.fieldnames]
    reader.fieldnames = columns
    rows = [dict(row) for row in reader]
    return Records(
        columns=columns, rows=rows, encoding="utf-8" if encoding == "utf-8-sig" else encoding
    )


def _srid_of(crs_text: str | None, driver: str, override: int | None) -> int:
    if override is not None:
        return override
    if crs_text:
        epsg = CRS.from_user_input(crs_text).to_epsg()
        if epsg is None:
            raise FileReadError(f"The file's CRS ({crs_text[:80]}) has no EPSG code; give --srid.")
        return int(epsg)
    if driver in WGS84_BY_SPEC:
        return 4326
    raise FileReadError("The file declares no CRS (no .prj?); give its EPSG code with --srid.")


def list_layers(path: Path) -> list[str]:
    return [str(name) for name, _ in pyogrio.list_layers(gdal_path(path))]


def read_vector(path: Path, *, layer: str | None = None, srid: int | None = None) -> Records:
    source = gdal_path(path)
    try:
        info = pyogrio.read_info(source, layer=layer)
        meta, _fids, geometry, field_data = pyogrio.raw.read(source, layer=layer)
    except pyogrio.errors.DataSourceError as exc:
        raise FileReadError(f"GDAL cannot open {path.name}: {exc}") from exc
    columns = [str(c) for c in meta["fields"]]
    rows = [
        {column: _plain(values[i]) for column, values in zip(columns, field_data, strict=True)}
        for i in range(len(geometry))
    ]
    return Records(
        columns=columns,
        rows=rows,
        geometries=[bytes(g) if g is not None else None for g in geometry],
        srid=_srid_of(meta.get("crs"), str(info.get("driver")), srid),
        encoding=str(meta.get("encoding") or "utf-8"),
    )


def _plain(value: Any) -> Any:
    """numpy scalars and datetimes to JSON-friendly Python values."""
    if value is None:
        return None
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and value != value:  # NaN
        return None
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value if isinstance(value, str | int | float | bool) else str(value)


def read_any(path: Path, *, layer: str | None = None, srid: int | None = None) -> Records:
    if not path.exists():
        raise FileReadError(f"No such file: {path}")
    if path.suffix.lower() in {".csv", ".txt", ".tsv"}:
        return read_csv(path)
    return read_vector(path, layer=layer, srid=srid)


def iter_chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
