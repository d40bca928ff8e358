"""layers.ingest.wkb: plain 2D points taken from their WKB bytes give exactly what the shapely
path gave (the same EWKB, the same coordinates), and anything else is left to that path."""

import numpy as np
import shapely

from layers.ingest.wkb import coordinates, ewkb_hex, plain_points


def _wkb(geometries: list[shapely.Geometry]) -> list[bytes | None]:
    return [bytes(w) for w in shapely.to_wkb(geometries, byte_order=1, flavor="iso")]


def test_points_become_the_ewkb_shapely_writes() -> None:
    rng = np.random.default_rng(7)
    xy = np.column_stack([rng.uniform(-180, 180, 500), rng.uniform(-90, 90, 500)])
    shapes = shapely.points(xy)
    points = plain_points(_wkb(list(shapes)))
    assert points is not None
    expected = shapely.to_wkb(shapely.set_srid(shapes, 4326), hex=True, include_srid=True)
    assert ewkb_hex(points, 4326) == [e.lower() for e in expected.tolist()]
    assert np.array_equal(coordinates(points), xy)
    # Another SRID is written into the header, the coordinates untouched.
    other = ewkb_hex(points, 32651)[0]
    assert shapely.get_srid(shapely.from_wkb(bytes.fromhex(other))) == 32651
    assert shapely.from_wkb(bytes.fromhex(other)).equals(shapes[0])


def test_anything_but_finite_2d_little_endian_points_goes_the_general_way() -> None:
    point = shapely.Point(121.5, 14.6)
    plain = _wkb([point])
    assert plain_points(plain * 3) is not None
    cases = {
        "a missing geometry": [*plain, None],
        "an empty point (NaN coordinates)": _wkb([shapely.from_wkt("POINT EMPTY")]),
        "a 3D point": _wkb([shapely.Point(121.5, 14.6, 10)]),
        "a multipoint": _wkb([shapely.MultiPoint([(1, 2)])]),
        "a line": _wkb([shapely.LineString([(1, 2), (3, 4)])]),
        "big-endian": [bytes(shapely.to_wkb(point, byte_order=0))],
        "an infinite coordinate": _wkb([shapely.Point(float("inf"), 1)]),
        "an empty batch": [],
    }
    for case, wkb in cases.items():
        assert plain_points(plain + wkb if wkb else []) is None, case
