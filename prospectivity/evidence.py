"""The model grid, training points and evidence layers, read from PostGIS and the raster files.

The grid is in EPSG:6933 (WGS 84 / EASE-Grid 2.0, equal area), so every cell has the same area
and counts of cells are areas. Geometry is transformed, clipped and buffered in PostGIS; Python
only burns the resulting polygons into the grid with rasterio.features.rasterize.
"""

import math
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import numpy as np
import psycopg2
import rasterio
import shapely
from affine import Affine
from django.db import connection
from rasterio.enums import Resampling
from rasterio.features import rasterize
from rasterio.warp import reproject, transform_bounds
from shapely.geometry import box, shape

from layers.ingest.gdalenv import gdal_safe_env
from layers.models import RasterLayer
from layers.rasters import media_path
from layers.selectors import dataset_visibility_where
from prospectivity.engine import Evidence
from prospectivity.recipes import BadRecipe

GRID_SRID = 6933
GRID_CRS = f"EPSG:{GRID_SRID}"
MAX_CLASSES = 100


@dataclass
class Grid:
    transform: Affine
    width: int
    height: int
    cell_size: float
    study: np.ndarray  # bool (height, width): cells inside the area of interest

    @property
    def shape(self) -> tuple[int, int]:
        return (self.height, self.width)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        west, north = self.transform.c, self.transform.f
        return (
            west,
            north - self.height * self.cell_size,
            west + self.width * self.cell_size,
            north,
        )

    def bounds_4326(self) -> list[float]:
        return [
            round(v, 6)
            for v in transform_bounds(GRID_CRS, "EPSG:4326", *self.bounds, densify_pts=21)
        ]

    def cell_area_km2(self) -> float:
        return self.cell_size * self.cell_size / 1e6


def area_sql(area: dict[str, Any]) -> tuple[str, list[Any]]:
    """The area of interest as a SQL expression (EPSG:4326) with its parameters."""
    if "member_state" in area:
        return "(SELECT boundary FROM deposits_memberstate WHERE code = %s)", [area["member_state"]]
    geometry = box(*area["bbox"]) if "bbox" in area else shape(area["polygon"])
    return "ST_MakeValid(ST_SetSRID(ST_GeomFromWKB(%s), 4326))", [
        psycopg2.Binary(shapely.to_wkb(geometry))
    ]


def _fetch(sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


def grid_for(area: dict[str, Any], cell_size: float, *, max_cells: int) -> Grid:
    """The grid over the area, snapped to whole cells; its study mask is the area itself."""
    expr, params = area_sql(area)
    rows = _fetch(
        f"SELECT ST_AsBinary(ST_Transform(a.g, {GRID_SRID})) FROM (SELECT {expr} AS g) a", params
    )
    if not rows or rows[0][0] is None:
        if "member_state" in area:
            raise BadRecipe(
                f"Member state {area['member_state']!r} is unknown or has no boundary.",
                field="area.member_state",
            )
        raise BadRecipe("The area of interest is empty.", field="area")
    geometry = shapely.from_wkb(bytes(rows[0][0]))
    if geometry.is_empty or geometry.area <= 0:
        raise BadRecipe("The area of interest is empty.", field="area")
    west, south, east, north = geometry.bounds
    west = math.floor(west / cell_size) * cell_size
    north = math.ceil(north / cell_size) * cell_size
    width = max(1, math.ceil((east - west) / cell_size))
    height = max(1, math.ceil((north - south) / cell_size))
    if width * height > max_cells:
        smallest = math.ceil(cell_size * math.sqrt(width * height / max_cells))
        raise BadRecipe(
            f"The area holds {width * height:,} cells of {cell_size:g} m; the most is {max_cells:,}. "
            f"Choose a cell size of at least {smallest} m or a smaller area.",
            field="cell_size",
        )
    transform = Affine(cell_size, 0, west, 0, -cell_size, north)
    study = rasterize(
        [(geometry, 1)], out_shape=(height, width), transform=transform, fill=0, dtype="uint8"
    )
    if not study.any():
        raise BadRecipe(
            "The area of interest is smaller than one cell: choose a smaller cell size.",
            field="cell_size",
        )
    return Grid(
        transform=transform,
        width=width,
        height=height,
        cell_size=cell_size,
        study=study.astype(bool),
    )


def training_points(
    *, user: Any, commodity_id: int, main_only: bool, area: dict[str, Any], grid: Grid
) -> tuple[np.ndarray, np.ndarray]:
    """Ids of the visible occurrences of the commodity inside the area, and their flat cell index."""
    expr, params = area_sql(area)
    visible = dataset_visibility_where(user=user, column="t.dataset_id")
    rank = " AND oc.rank = 'main'" if main_only else ""
    rows = _fetch(
        f"""
        WITH a AS (SELECT {expr} AS g)
        SELECT t.id, ST_X(p), ST_Y(p) FROM (
            SELECT t.id, ST_Transform(t.geom, {GRID_SRID}) AS p
            FROM deposits_mineraloccurrence t, a
            WHERE ST_Intersects(t.geom, a.g) AND ({visible.sql})
              AND EXISTS (SELECT 1 FROM deposits_occurrencecommodity oc
                          WHERE oc.occurrence_id = t.id AND oc.commodity_id = %s{rank})
        ) t ORDER BY t.id
        """,
        [*params, *visible.params, commodity_id],
    )
    if not rows:
        return np.zeros(0, dtype="int64"), np.zeros(0, dtype="int64")
    data = np.array(rows, dtype="float64")
    ids = data[:, 0].astype("int64")
    west, _south, _east, north = grid.bounds
    cols = np.floor((data[:, 1] - west) / grid.cell_size).astype("int64")
    rows_ = np.floor((north - data[:, 2]) / grid.cell_size).astype("int64")
    inside = (cols >= 0) & (cols < grid.width) & (rows_ >= 0) & (rows_ < grid.height)
    flat = rows_ * grid.width + cols
    flat[~inside] = -1
    keep = inside.copy()
    keep[inside] = grid.study.reshape(-1)[flat[inside]]
    return ids[keep], flat[keep]


def _grid_box_sql(grid: Grid) -> tuple[str, list[Any]]:
    west, south, east, north = grid.bounds
    return f"ST_MakeEnvelope(%s, %s, %s, %s, {GRID_SRID})", [west, south, east, north]


def _grid_envelope_4326(grid: Grid, margin_m: float = 0) -> list[float]:
    west, south, east, north = grid.bounds
    return list(
        transform_bounds(
            GRID_CRS, "EPSG:4326", west - margin_m, south - margin_m, east + margin_m, north + margin_m,
            densify_pts=21,
        )
    )  # fmt: skip


def geology_evidence(*, user: Any, attribute: str, grid: Grid) -> Evidence:
    """Geological units grouped by an attribute; cells outside every unit have no data."""
    column = {"lithology": "lithology", "age": "age", "name": "name"}[attribute]
    visible = dataset_visibility_where(user=user, column="t.dataset_id")
    box_sql, box_params = _grid_box_sql(grid)
    rows = _fetch(
        f"""
        SELECT coalesce(nullif(trim(t.{column}), ''), '(none)'),
               ST_AsBinary(ST_ClipByBox2D(ST_Transform(t.geom, {GRID_SRID}), {box_sql}))
        FROM layers_geologicalunit t
        WHERE t.geom && ST_MakeEnvelope(%s, %s, %s, %s, 4326) AND ({visible.sql})
        ORDER BY t.id
        """,
        [*box_params, *_grid_envelope_4326(grid), *visible.params],
    )
    labels = sorted({row[0] for row in rows})
    if len(labels) > MAX_CLASSES:
        raise BadRecipe(
            f"Geology by {attribute} has {len(labels)} classes in this area; the most is {MAX_CLASSES}. "
            "Group it by another attribute.",
            field="evidence",
        )
    code = {label: i + 1 for i, label in enumerate(labels)}
    shapes = [(shapely.from_wkb(bytes(wkb)), code[label]) for label, wkb in rows if wkb is not None]
    codes = _burn(shapes, grid)
    return Evidence(name=f"Geology by {attribute}", kind="geology", labels=labels, codes=codes)


def _burn(shapes: list[tuple[Any, int]], grid: Grid) -> np.ndarray:
    shapes = [(g, v) for g, v in shapes if g is not None and not g.is_empty]
    if not shapes:
        return np.zeros(grid.shape, dtype="uint16")
    return rasterize(shapes, out_shape=grid.shape, transform=grid.transform, fill=0, dtype="uint16")


def _distance_label(metres: float) -> str:
    return f"{metres / 1000:g} km" if metres >= 1000 else f"{metres:g} m"


def structures_evidence(*, user: Any, buffers: list[float], grid: Grid) -> Evidence:
    """Distance to structures in buffers (geodesic, buffered in PostGIS): class k is the k-th
    ring, the last class lies beyond every buffer."""
    visible = dataset_visibility_where(user=user, column="t.dataset_id")
    box_sql, box_params = _grid_box_sql(grid)
    rows = _fetch(
        f"""
        SELECT d.i, ST_AsBinary(ST_ClipByBox2D(
                   ST_Transform(ST_Buffer(t.geom::geography, d.distance)::geometry, {GRID_SRID}), {box_sql}))
        FROM layers_structure t
        CROSS JOIN unnest(%s::float8[]) WITH ORDINALITY AS d(distance, i)
        WHERE t.geom && ST_MakeEnvelope(%s, %s, %s, %s, 4326) AND ({visible.sql})
        ORDER BY d.i DESC, t.id
        """,
        [*box_params, list(buffers), *_grid_envelope_4326(grid, max(buffers)), *visible.params],
    )
    # The widest buffers are burnt first, so each cell keeps the nearest ring it falls in.
    burnt = _burn(
        [(shapely.from_wkb(bytes(wkb)), int(i)) for i, wkb in rows if wkb is not None], grid
    )
    beyond = len(buffers) + 1
    codes = np.where(burnt == 0, beyond, burnt).astype("uint16")
    edges = [0.0, *buffers]
    labels = [f"{_distance_label(a)}–{_distance_label(b)}" for a, b in pairwise(edges)]
    labels.append(f"beyond {_distance_label(buffers[-1])}")
    return Evidence(name="Distance to structures", kind="structures", labels=labels, codes=codes)


def _format_break(value: float) -> str:
    return f"{value:.4g}"


def raster_evidence(*, raster: RasterLayer, item: dict[str, Any], grid: Grid) -> Evidence:
    """A raster layer resampled onto the grid and binned into classes (quantiles or breaks)."""
    path = media_path(raster.path)
    values = np.full(grid.shape, np.nan, dtype="float32")
    integer = np.dtype(raster.dtype).kind in "iub"
    with gdal_safe_env(), rasterio.open(path, driver="GTiff") as src:
        reproject(
            source=rasterio.band(src, item["band"]),
            destination=values,
            dst_transform=grid.transform,
            dst_crs=GRID_CRS,
            dst_nodata=np.nan,
            resampling=Resampling.nearest if integer else Resampling.bilinear,
        )
    known = np.isfinite(values) & grid.study
    if "breaks" in item:
        breaks = np.array(item["breaks"], dtype="float64")
    else:
        if not known.any():
            raise BadRecipe(
                f"Raster layer {item['layer']!r} has no data in the area of interest.",
                field="evidence",
            )
        quantiles = np.quantile(values[known], np.linspace(0, 1, item["bins"] + 1)[1:-1])
        breaks = np.unique(quantiles)
    codes = np.zeros(grid.shape, dtype="uint16")
    codes[known] = (np.digitize(values[known], breaks) + 1).astype("uint16")
    labels = [f"< {_format_break(breaks[0])}"]
    labels += [f"{_format_break(a)} – {_format_break(b)}" for a, b in pairwise(breaks)]
    labels.append(f"≥ {_format_break(breaks[-1])}")
    units = f" ({raster.units})" if raster.units else ""
    return Evidence(
        name=f"{raster.dataset.title}{units}",
        kind="raster",
        labels=labels,
        codes=codes,
        extra={"breaks": [float(b) for b in breaks]},
    )
