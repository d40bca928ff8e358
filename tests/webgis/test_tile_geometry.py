"""The fast polygon/line tile path against PostGIS's own ST_AsMVTGeom, feature by feature.

Polygon and line tiles skip ST_AsMVTGeom's validity repair (see webgis.lib.mvt): these tests
decode both encodings of the same tile and check they agree on features, area, ring
orientation and the clip to the tile's buffer.
"""

from collections.abc import Callable
from typing import Any

import mapbox_vector_tile
import pytest
from django.contrib.gis.geos import LinearRing, LineString, MultiLineString, MultiPolygon, Polygon
from django.db import connection
from django.test import Client
from shapely.geometry import shape

from layers.models import Dataset, DatasetKind, GeologicalUnit, Structure
from tests.webgis.test_tiles import tile_of

pytestmark = pytest.mark.django_db

Z = 10
EXTENT, BUFFER = 4096, 64


def _reference(table: str, z: int, x: int, y: int, layer: str) -> dict[str, Any]:
    """The same features encoded the standard way: ST_AsMVTGeom with validity repair."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""WITH bounds AS (SELECT ST_TileEnvelope(%s, %s, %s) AS env)
            SELECT ST_AsMVT(f.*, %s, {EXTENT}, 'geom', 'id') FROM (
                SELECT t.id, ST_AsMVTGeom(t.geom_3857, bounds.env, {EXTENT}, {BUFFER}, true) AS geom
                FROM {table} t, bounds WHERE t.geom_3857 && bounds.env) f
            WHERE geom IS NOT NULL""",
            [z, x, y, layer],
        )
        row = cursor.fetchone()
    return mapbox_vector_tile.decode(bytes(row[0]), default_options={"y_coord_down": True})


def _served(client: Client, url: str) -> dict[str, Any]:
    response = client.get(url)
    assert response.status_code == 200, response.content
    return mapbox_vector_tile.decode(response.content, default_options={"y_coord_down": True})


def _by_id(layers: dict[str, Any], layer: str) -> dict[int, dict[str, Any]]:
    return {f["id"]: f for f in layers[layer]["features"]}


def _signed_area(ring: list[list[float]]) -> float:
    return sum(
        x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(ring, ring[1:] + ring[:1], strict=True)
    )


def _exterior_rings(geometry: dict[str, Any]) -> list[list[list[float]]]:
    polygons = (
        [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
    )
    return [polygon[0] for polygon in polygons]


@pytest.fixture
def geology(make_dataset: Callable[..., Dataset]) -> Dataset:
    dataset = make_dataset(kind=DatasetKind.GEOLOGY)
    # A unit with a hole, whose eastern part runs off the tile (so it is clipped), a small
    # unit wholly inside, and a fault crossing the tile edge.
    outer = LinearRing(
        (120.95, 14.95), (121.6, 14.95), (121.6, 15.25), (120.95, 15.25), (120.95, 14.95)
    )
    hole = LinearRing((121.0, 15.0), (121.0, 15.1), (121.1, 15.1), (121.1, 15.0), (121.0, 15.0))
    GeologicalUnit.objects.create(
        dataset=dataset, name="Holed unit", geom=MultiPolygon(Polygon(outer, hole), srid=4326)
    )
    GeologicalUnit.objects.create(
        dataset=dataset,
        name="Small unit",
        geom=MultiPolygon(
            Polygon(((121.2, 15.0), (121.25, 15.0), (121.22, 15.05), (121.2, 15.0))), srid=4326
        ),
    )
    Structure.objects.create(
        dataset=dataset,
        name="Fault",
        structure_type="fault",
        geom=MultiLineString(LineString((120.9, 14.9), (121.1, 15.05), (121.7, 15.2)), srid=4326),
    )
    return dataset


# z10 simplifies in tile space; from z12 on the geometry is only snapped (SIMPLIFY_BELOW_ZOOM).
@pytest.mark.parametrize("z", [Z, 13])
def test_polygon_tiles_match_st_asmvtgeom(anonymous: Client, geology: Dataset, z: int) -> None:
    x, y = tile_of(121.0, 15.0, z)

    served = _by_id(
        _served(anonymous, f"/tiles/geological-units/{z}/{x}/{y}.mvt"), "geological-units"
    )
    reference = _by_id(
        _reference("layers_geologicalunit", z, x, y, "geological-units"), "geological-units"
    )

    assert set(served) == set(reference) and served
    for fid, feature in served.items():
        mine, theirs = shape(feature["geometry"]), shape(reference[fid]["geometry"])
        assert mine.area == pytest.approx(theirs.area, rel=0.01)
        assert mine.symmetric_difference(theirs).area < 0.01 * theirs.area
        # Same ring orientation as ST_AsMVTGeom (the MVT spec's exterior-ring winding).
        for ring_mine, ring_theirs in zip(
            _exterior_rings(feature["geometry"]),
            _exterior_rings(reference[fid]["geometry"]),
            strict=True,
        ):
            assert (_signed_area(ring_mine) > 0) == (_signed_area(ring_theirs) > 0)
        xs, ys = zip(*mine.exterior.coords, strict=True)
        assert min(xs) >= -BUFFER and max(xs) <= EXTENT + BUFFER, "clipped to the tile buffer"
        assert min(ys) >= -BUFFER and max(ys) <= EXTENT + BUFFER
    if z == Z:
        assert len(served) == 2
        holed = next(f for f in served.values() if f["properties"]["name"] == "Holed unit")
        assert len(holed["geometry"]["coordinates"]) == 2, "the hole is kept"


def test_line_tiles_match_st_asmvtgeom(anonymous: Client, geology: Dataset) -> None:
    x, y = tile_of(121.0, 15.0, Z)

    served = _by_id(_served(anonymous, f"/tiles/structures/{Z}/{x}/{y}.mvt"), "structures")
    reference = _by_id(_reference("layers_structure", Z, x, y, "structures"), "structures")

    assert set(served) == set(reference) and len(served) == 1
    for fid, feature in served.items():
        mine, theirs = shape(feature["geometry"]), shape(reference[fid]["geometry"])
        assert mine.length == pytest.approx(theirs.length, rel=0.01)
        assert mine.hausdorff_distance(theirs) <= 4  # a quarter pixel of simplification


def test_a_unit_off_the_tile_is_not_in_it(anonymous: Client, geology: Dataset) -> None:
    x, y = tile_of(121.0, 15.0, Z)

    far = _served(anonymous, f"/tiles/geological-units/{Z}/{x - 3}/{y}.mvt")

    assert "geological-units" not in far or not far["geological-units"]["features"]
