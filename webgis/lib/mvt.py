"""Mapbox Vector Tiles built in PostGIS (ST_AsMVT), and the registry of tile layers.

Geometry is stored in EPSG:3857 (generated columns), so a tile query filters with the
spatial index on `geom_3857 && ST_TileEnvelope(z, x, y)` and never transforms a whole table.
"""

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from django.db import connection
from django.http import QueryDict

from webgis.lib.tiles import Tile

EXTENT = 4096
BUFFER = 64
# Points are merged into cells of CLUSTER_GRID x CLUSTER_GRID per tile (4 px at 256 px tiles),
# so a tile holds at most 4,096 point features whatever the data density.
CLUSTER_GRID = 64
# From this zoom on, snapping to the tile grid alone leaves polygon tiles within 2% of their
# simplified size (200,000 generated units: z12 69.1 KB against 67.6 KB), and skipping the
# simplification saves a third of the SQL time.
SIMPLIFY_BELOW_ZOOM = 12

SqlParams = list[Any]


@dataclass(frozen=True)
class Where:
    """A SQL condition over the alias `t`, with its parameters.

    `matches_first`: the condition has an index of its own and may match few rows or none (a
    text search): a page should collect its matches through that index and sort them, not
    walk the rows in id order testing each (occurrences_page_sql)."""

    sql: str = "TRUE"
    params: Sequence[Any] = ()
    matches_first: bool = False

    def __and__(self, other: "Where") -> "Where":
        return Where(
            f"({self.sql}) AND ({other.sql})",
            [*self.params, *other.params],
            self.matches_first or other.matches_first,
        )


def one_dataset_where(table: str, dataset_sql: str, params: Sequence[Any]) -> Where:
    """The rows of `table` of one dataset, whose id `dataset_sql` gives.

    Also bounded below by the dataset's first id, which every row of it passes: a page in id
    order then starts at the dataset's rows. PostgreSQL takes a dataset's rows to be spread
    evenly among the others', and walked the primary key from the table's first id: the first
    1,000-feature page of a dataset published after a million others took 0.70-0.75 s, 59 ms
    with the bound (most of it the page's count). The first id is read from the (dataset, id)
    index: asked as `min(id)` or `= … ORDER BY id`, the planner would walk the primary key for
    it too; a list of one dataset (`= ANY`) in (dataset, id) order is an order only that index
    holds."""
    return Where(
        f"t.dataset_id = {dataset_sql} AND t.id >= (SELECT m.id FROM {table} m"
        f" WHERE m.dataset_id = ANY(ARRAY[{dataset_sql}]) ORDER BY m.dataset_id, m.id LIMIT 1)",
        [*params, *params],
    )


def _select_list(properties: Mapping[str, str]) -> str:
    return "".join(f', {expr} AS "{name}"' for name, expr in properties.items())


def _tile_geometry_sql(geom: str, tile: Tile, family: str | None) -> tuple[str, SqlParams]:
    """The tile-space geometry expression for one feature, with its parameters.

    Polygons and lines take a fast path: clip to the buffered tile (ST_ClipByBox2D), scale into
    tile units with the y axis flipped (ST_Affine), snap to the integer grid, simplify by a
    quarter pixel and, for polygons, orient rings as ST_AsMVTGeom does. That is what
    ST_AsMVTGeom does too, less its final GEOS validity check and repair, which measured
    3-4x the cost of all the rest (z8: 72 ms against 16 ms a tile over 200,000 polygons).
    Snapping a valid polygon to a 4,096 grid can leave a self-touching ring (2 of 1,622 features
    in a z12 test tile); renderers draw those the same. Exact, valid geometry is served by the
    GeoJSON API and the downloads. Points and mixed layers keep ST_AsMVTGeom.
    """
    if family not in {"polygon", "line"}:
        pixel = tile.width_m / 256
        return (
            f"ST_AsMVTGeom(ST_Simplify({geom}, %s, true), bounds.env, {EXTENT}, {BUFFER}, true)",
            [pixel / 4],
        )
    scale = EXTENT / tile.width_m
    margin = tile.width_m * BUFFER / EXTENT
    # The offsets come from the tile's envelope in SQL, not from Python: the statement then
    # depends on z alone, and the bench's SQL floor runs it for any x and y.
    snapped = (
        f"ST_SnapToGrid(ST_Affine(ST_ClipByBox2D({geom}, ST_Expand(bounds.env, %s)),"
        " %s, 0, 0, %s, -ST_XMin(bounds.env) * %s, ST_YMax(bounds.env) * %s), 1)"
    )
    params: SqlParams = [margin, scale, -scale, scale, scale]
    if tile.z < SIMPLIFY_BELOW_ZOOM:
        snapped = f"ST_Simplify({snapped}, %s, true)"
        params.append(EXTENT / 1024)
    if family == "polygon":
        snapped = f"ST_ForcePolygonCCW({snapped})"
    return snapped, params


def feature_tile_sql(
    *,
    layer: str,
    table: str,
    properties: Mapping[str, str],
    where: Where,
    tile: Tile,
    max_features: int,
    min_feature_px: float = 0.0,
    geom_column: str = "geom_3857",
    geometry_family: str | None = None,
) -> tuple[str, SqlParams]:
    """Lines or polygons: simplified to the tile's pixel size, tiny features dropped at low zoom.

    `geometry_family` ("polygon" or "line") when every feature is of that kind selects the fast
    geometry path of _tile_geometry_sql.
    """
    pixel = tile.width_m / 256
    size_filter = ""
    size_params: SqlParams = []
    if min_feature_px > 0:
        # Compare the bounding box with the pixel size: cheap, and uses no vertex.
        size_filter = (
            f" AND (ST_XMax(t.{geom_column}) - ST_XMin(t.{geom_column}) > %s"
            f" OR ST_YMax(t.{geom_column}) - ST_YMin(t.{geom_column}) > %s)"
        )
        size_params = [pixel * min_feature_px, pixel * min_feature_px]
    geometry, geometry_params = _tile_geometry_sql(f"t.{geom_column}", tile, geometry_family)
    sql = f"""
        WITH bounds AS (SELECT ST_TileEnvelope(%s, %s, %s) AS env),
        features AS (
            SELECT t.id, {geometry} AS geom
                   {_select_list(properties)}
            FROM {table} t, bounds
            WHERE t.{geom_column} && bounds.env AND ({where.sql}){size_filter}
            LIMIT %s
        )
        SELECT ST_AsMVT(features.*, %s, {EXTENT}, 'geom', 'id') FROM features
        WHERE geom IS NOT NULL AND NOT ST_IsEmpty(geom)
    """
    params: SqlParams = [
        tile.z,
        tile.x,
        tile.y,
        *geometry_params,
        *where.params,
        *size_params,
        max_features,
        layer,
    ]
    return sql, params


def clustered_point_tile_sql(
    *,
    layer: str,
    table: str,
    properties: Mapping[str, str],
    where: Where,
    tile: Tile,
    grid: int = CLUSTER_GRID,
) -> tuple[str, SqlParams]:
    """Points merged per grid cell: `count` > 1 marks a cluster, single points carry properties.

    At high zoom a cell is 4 screen pixels, so only points that would overlap are merged.
    """
    sql = f"""
        WITH bounds AS (
            SELECT env, ST_XMin(env) AS x0, ST_YMax(env) AS y0,
                   (ST_XMax(env) - ST_XMin(env)) / %s AS cell
            FROM (SELECT ST_TileEnvelope(%s, %s, %s) AS env) e
        ),
        cells AS (
            SELECT count(*) AS n, min(t.id) AS id,
                   avg(ST_X(t.geom_3857)) AS cx, avg(ST_Y(t.geom_3857)) AS cy
            FROM {table} t, bounds
            WHERE t.geom_3857 && bounds.env AND ({where.sql})
            GROUP BY floor((ST_X(t.geom_3857) - bounds.x0) / bounds.cell),
                     floor((bounds.y0 - ST_Y(t.geom_3857)) / bounds.cell)
        ),
        features AS (
            SELECT c.id, c.n AS count,
                   ST_AsMVTGeom(ST_SetSRID(ST_MakePoint(c.cx, c.cy), 3857), bounds.env,
                                {EXTENT}, {BUFFER}, true) AS geom
                   {_select_list(properties)}
            FROM cells c CROSS JOIN bounds
            LEFT JOIN {table} t ON t.id = c.id AND c.n = 1
        )
        SELECT ST_AsMVT(features.*, %s, {EXTENT}, 'geom', 'id') FROM features WHERE geom IS NOT NULL
    """
    params: SqlParams = [grid, tile.z, tile.x, tile.y, *where.params, layer]
    return sql, params


def state_version(state: str) -> str:
    """A layer's version: a short hash of its data state (the text of its `version_sql`)."""
    return hashlib.sha256(state.encode()).hexdigest()[:12]


def run_tile_query(sql: str, params: SqlParams, *, version_sql: str = "''") -> tuple[bytes, str]:
    """The tile and the version of the data it was made from, read in one statement.

    One statement is one snapshot: a publish committed between two queries could otherwise
    label new data with the old version, and an immutable URL would keep it. It is also one
    round trip instead of two, on the busiest path of the server.
    """
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT ({sql}), ({version_sql})", params)
        tile, state = cursor.fetchone()
    return (bytes(tile) if tile is not None else b""), state_version(state or "")


@dataclass
class TileLayer:
    """A vector tile layer; apps declare one per map layer and register it."""

    name: str
    title: str
    description: str
    geometry_type: str  # "point", "line" or "polygon"
    fields: dict[str, str] = field(default_factory=dict)
    min_zoom: int = 0
    max_zoom: int = 22
    # False for layers whose content is the same for everyone (no unpublished data in them).
    permission_dependent: bool = True

    def tile_sql(self, tile: Tile, query: QueryDict, user: Any) -> tuple[str, SqlParams]:
        raise NotImplementedError

    def version_sql(self) -> str:
        """SQL giving one text that changes whenever the layer's data does (no parameters)."""
        raise NotImplementedError

    def version(self, user: Any) -> str:
        """Tile URLs carry it, so caches may keep a tile for good and never serve a stale one."""
        with connection.cursor() as cursor:
            cursor.execute(self.version_sql())
            (state,) = cursor.fetchone() or ("",)
        return state_version(state or "")

    def allowed_params(self) -> set[str]:
        return {"v"}


_REGISTRY: dict[str, TileLayer] = {}


class LayerSource(Protocol):
    """Tile layers that come from data (one per published vector dataset), not from code."""

    def resolve(self, name: str, user: Any) -> TileLayer | None: ...

    def visible(self, user: Any) -> list[TileLayer]: ...


_SOURCES: list[LayerSource] = []


def register(layer: TileLayer) -> TileLayer:
    _REGISTRY[layer.name] = layer
    return layer


def register_source(source: LayerSource) -> None:
    _SOURCES.append(source)


def get_layer(name: str, user: Any = None) -> TileLayer | None:
    """A layer by name; data-made layers resolve only for users who may see their dataset."""
    if name in _REGISTRY:
        return _REGISTRY[name]
    for source in _SOURCES:
        layer = source.resolve(name, user)
        if layer is not None:
            return layer
    return None


def all_layers(user: Any = None) -> list[TileLayer]:
    layers = list(_REGISTRY.values())
    for source in _SOURCES:
        layers.extend(source.visible(user))
    return layers
