"""Warming the tile cache after a data change: the map's first views are drawn before anyone asks.

A publish changes the version of every layer its data is in, and with it every tile URL, so the
first visitors after it wait for PostgreSQL to draw each tile of their view (with two million
occurrences a z4 tile takes 1-2 s, the z0 tile 2.9 s). A tile cache that only visitors fill
(GeoWebCache's, unless an operator seeds it) leaves that wait to them; here a job seeds it after
each change: every public layer's tiles from zoom 0 to TILE_WARM_MAX_ZOOM over the member
states' extent (the map opens at zoom 4 on it), each drawn and stored exactly as the tile view
would (`webgis.views`), so the WSGI fast path (`tilecache.TileCacheApp`) answers them.

Only the public rendering is warmed, for the anonymous visitor: the only one the cache stores.
A layer whose version moves on while it is warmed is left: the change that moved it queues a
job of its own.
"""

import logging
import math
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.http import QueryDict

from webgis.lib import tilecache
from webgis.lib.mvt import TileLayer, all_layers, run_tile_query
from webgis.lib.tiles import WEB_MERCATOR_HALF, Tile

logger = logging.getLogger(__name__)

# The region the map shows: the member states' boundaries, in Web Mercator.
REGION_SQL = """
SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e)
FROM (SELECT ST_Extent(boundary_3857) AS e FROM deposits_memberstate) s
"""


@dataclass
class LayerWarmed:
    """What a warm-up did for one layer."""

    version: str
    rendered: int = 0  # tiles drawn by PostgreSQL and stored
    present: int = 0  # tiles the cache held already
    stopped: bool = False  # the layer's data changed during the warm-up


@dataclass
class Warmed:
    layers: dict[str, LayerWarmed] = field(default_factory=dict)

    @property
    def rendered(self) -> int:
        return sum(layer.rendered for layer in self.layers.values())


def max_zoom() -> int:
    """The deepest zoom warmed; below 0, warming is off."""
    return int(settings.TILE_WARM_MAX_ZOOM)


def enabled() -> bool:
    return tilecache.enabled() and max_zoom() >= 0


def region_3857() -> tuple[float, float, float, float] | None:
    with connection.cursor() as cursor:
        cursor.execute(REGION_SQL)
        row = cursor.fetchone()
    if row is None or row[0] is None:
        return None
    return (float(row[0]), float(row[1]), float(row[2]), float(row[3]))


def tiles_over(bounds: tuple[float, float, float, float], zooms: range) -> Iterator[Tile]:
    """Every tile of `zooms` that meets `bounds` (Web Mercator metres), zoom by zoom."""
    minx, miny, maxx, maxy = bounds
    for z in zooms:
        columns = range(_cell(minx + WEB_MERCATOR_HALF, z), _cell(maxx + WEB_MERCATOR_HALF, z) + 1)
        rows = range(_cell(WEB_MERCATOR_HALF - maxy, z), _cell(WEB_MERCATOR_HALF - miny, z) + 1)
        for x in columns:
            for y in rows:
                yield Tile(z, x, y)


def _cell(metres: float, z: int) -> int:
    """The column (or row) at `metres` from the tile matrix's left (or top) edge."""
    size = 1 << z
    return min(size - 1, max(0, math.floor(metres * size / (2 * WEB_MERCATOR_HALF))))


def warm_layer(
    layer: TileLayer, bounds: tuple[float, float, float, float], deepest: int
) -> LayerWarmed:
    """Renders and stores the layer's missing tiles over `bounds`, as the tile view would."""
    anonymous = AnonymousUser()
    no_filters = QueryDict("")
    version = layer.version(anonymous)
    done = LayerWarmed(version)
    zooms = range(max(0, layer.min_zoom), min(layer.max_zoom, deepest) + 1)
    for tile in tiles_over(bounds, zooms):
        entry = tilecache.Entry.for_request(layer.name, version, tile, no_filters)
        if entry is None:  # a name or version the cache cannot file
            break
        if entry.read() is not None:
            done.present += 1
            continue
        sql, params = layer.tile_sql(tile, no_filters, anonymous)
        body, current = run_tile_query(sql, params, version_sql=layer.version_sql())
        if current != version:
            done.stopped = True
            break
        entry.write(body)
        done.rendered += 1
    return done


def warm(deepest: int | None = None) -> Warmed:
    """Warms every public layer (the ones an anonymous visitor sees); returns what it did."""
    deepest = max_zoom() if deepest is None else deepest
    warmed = Warmed()
    if not tilecache.enabled() or deepest < 0:
        return warmed
    bounds = region_3857()
    if bounds is None:
        return warmed
    for layer in all_layers(AnonymousUser()):
        warmed.layers[layer.name] = result = warm_layer(layer, bounds, deepest)
        logger.info(
            "Tile cache warmed: %s v%s, %s tiles drawn, %s there already%s",
            layer.name,
            result.version,
            result.rendered,
            result.present,
            " (stopped: its data changed)" if result.stopped else "",
        )
    return warmed
