"""Checks of a GeoPackage through Python's own SQLite, read-only, before GDAL opens it.

The file is opened immutable (no journal, no lock files), with `trusted_schema` off so no
function in a view or trigger runs, and a progress handler that stops any statement past the
time budget.
"""

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from layers.ingest.crs import CrsFact, crs_from_epsg, crs_from_wkt
from layers.ingest.limits import Limits
from layers.ingest.rejections import Code, RejectedFile

APPLICATION_IDS = {0x47504B47, 0x47503130, 0x47503131}  # "GPKG", "GP10", "GP11"


@dataclass(frozen=True)
class GpkgLayer:
    name: str
    srs_id: int | None
    geometry_column: str | None


@dataclass
class GeoPackageFacts:
    layers: list[GpkgLayer]
    crs: dict[str, CrsFact | None]  # layer name → CRS (None: undefined, the editor must choose)
    max_vertices: dict[str, int]


@contextmanager
def _connect(path: Path, limits: Limits) -> Iterator[sqlite3.Connection]:
    uri = f"file:{quote(str(path.resolve()))}?mode=ro&immutable=1"
    deadline = time.monotonic() + limits.max_seconds
    try:
        connection = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=True)
    except sqlite3.Error as exc:
        raise _not_gpkg(path, str(exc)) from exc
    try:
        connection.execute("PRAGMA trusted_schema = OFF")
        connection.execute("PRAGMA query_only = ON")
        connection.set_progress_handler(lambda: int(time.monotonic() > deadline), 100_000)
        yield connection
    except sqlite3.OperationalError as exc:
        if "interrupted" in str(exc):
            raise RejectedFile(
                Code.TOO_SLOW,
                f"Checking '{path.name}' took longer than {limits.max_seconds} s. Export it again "
                "(QGIS: Export > Save Features As > GeoPackage) or split it, and upload again.",
                {"file": path.name},
            ) from exc
        raise _not_gpkg(path, str(exc)) from exc
    except sqlite3.DatabaseError as exc:
        raise _not_gpkg(path, str(exc)) from exc
    finally:
        connection.close()


def check_geopackage(path: Path, limits: Limits) -> GeoPackageFacts:
    with _connect(path, limits) as db:
        (app_id,) = db.execute("PRAGMA application_id").fetchone()
        if app_id not in APPLICATION_IDS:
            raise _not_gpkg(path, "it is an SQLite database but not a GeoPackage")
        tables = {
            row[0]: row[1]
            for row in db.execute(
                "SELECT name, type FROM sqlite_master WHERE type IN ('table','view')"
            )
        }
        if "gpkg_contents" not in tables or "gpkg_spatial_ref_sys" not in tables:
            raise _not_gpkg(path, "its GeoPackage tables (gpkg_contents) are missing")
        count = db.execute(
            "SELECT count(*) FROM gpkg_contents WHERE data_type = 'features'"
        ).fetchone()[0]
        if count > limits.max_layers:
            raise RejectedFile(
                Code.TOO_MANY_LAYERS,
                f"'{path.name}' has {count:,} vector layers; at most {limits.max_layers} are "
                "allowed in one upload. Save the layer you want to publish in its own GeoPackage "
                "and upload that.",
                {"layers": count, "limit": limits.max_layers},
            )
        rows = db.execute(
            "SELECT c.table_name, c.srs_id, g.column_name FROM gpkg_contents c "
            "LEFT JOIN gpkg_geometry_columns g ON g.table_name = c.table_name "
            "WHERE c.data_type = 'features' ORDER BY c.table_name"
        ).fetchall()
        layers = [GpkgLayer(str(name), srs, column) for name, srs, column in rows]
        for layer in layers:
            if tables.get(layer.name) != "table":
                raise RejectedFile(
                    Code.NOT_A_GEOPACKAGE,
                    f"The layer '{layer.name}' in '{path.name}' is a database view, not a table; "
                    "views are not accepted. Save the layer as a plain table and upload again.",
                    {"layer": layer.name},
                )
        crs = {layer.name: _layer_crs(db, layer, path) for layer in layers}
        vertices = {layer.name: _max_vertices(db, layer) for layer in layers}
    return GeoPackageFacts(layers=layers, crs=crs, max_vertices=vertices)


def _layer_crs(db: sqlite3.Connection, layer: GpkgLayer, path: Path) -> CrsFact | None:
    if layer.srs_id is None or layer.srs_id in (-1, 0):
        return None  # "undefined Cartesian/geographic": the editor chooses
    row = db.execute(
        "SELECT organization, organization_coordsys_id, definition FROM gpkg_spatial_ref_sys "
        "WHERE srs_id = ?",
        (layer.srs_id,),
    ).fetchone()
    source = f"the GeoPackage layer '{layer.name}'"
    if row is None:
        raise RejectedFile(
            Code.BAD_CRS,
            f"{source} refers to CRS {layer.srs_id}, which the file does not define. Export the "
            "layer again from your GIS.",
            {"layer": layer.name},
        )
    organization, code, definition = row
    if str(organization or "").upper() == "EPSG" and isinstance(code, int) and code > 0:
        return crs_from_epsg(code, source=source)
    if not isinstance(definition, str) or definition.strip().lower() in ("", "undefined"):
        return None
    return crs_from_wkt(definition, source=source)


def _max_vertices(db: sqlite3.Connection, layer: GpkgLayer) -> int:
    """An upper bound on the vertices of the largest geometry, from blob lengths alone: a GPKG
    geometry is an 8-byte header, an optional envelope, then WKB (9 bytes, 16 per vertex)."""
    if not layer.geometry_column:
        return 0
    table = layer.name.replace('"', '""')
    column = layer.geometry_column.replace('"', '""')
    row = db.execute(f'SELECT max(length("{column}")) FROM "{table}"').fetchone()
    longest = int(row[0] or 0) if row else 0
    return max(0, (longest - 8 - 9) // 16)


def _not_gpkg(path: Path, reason: str) -> RejectedFile:
    return RejectedFile(
        Code.NOT_A_GEOPACKAGE,
        f"'{path.name}' is not a usable GeoPackage ({reason}). Export the layer again as "
        "GeoPackage (QGIS: Export > Save Features As > GeoPackage) and upload it again.",
        {"file": path.name, "reason": reason},
    )
