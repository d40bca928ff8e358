"""GeoJSON uploads: RELIABILITY.md file cases 18-22 (and per-feature reports)."""

import socket
import threading
import time
from pathlib import Path

import pytest

from layers.ingest.limits import Limits
from layers.ingest.safety import Code, RejectedFile, find_dataset, inspect_geojson, inspect_vector
from tests.layers.ingest import hostile

POINT = {"type": "Point", "coordinates": [100.5, 13.7]}


def write(tmp_path: Path, data: bytes, name: str = "survey.geojson") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def rejected(path: Path, limits: Limits) -> RejectedFile:
    with pytest.raises(RejectedFile) as caught:
        inspect_geojson(path, limits)
    return caught.value


class Listener:
    """A local TCP server that records whether anything connected to it."""

    def __init__(self) -> None:
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(1)
        self.server.settimeout(0.5)
        self.port = self.server.getsockname()[1]
        self.connections = 0
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        try:
            conn, _ = self.server.accept()
            self.connections += 1
            conn.close()
        except OSError:
            pass

    def close(self) -> int:
        self.thread.join(timeout=2)
        self.server.close()
        return self.connections


def test_a_crs_link_is_refused_and_never_fetched(tmp_path: Path, limits: Limits) -> None:
    listener = Listener()
    crs = {
        "type": "link",
        "properties": {"href": f"http://127.0.0.1:{listener.port}/", "type": "ogcwkt"},
    }
    path = write(tmp_path, hostile.feature_collection([hostile.feature(POINT)], crs=crs))

    with pytest.raises(RejectedFile) as caught:
        inspect_vector(find_dataset(tmp_path), limits)

    assert caught.value.code == Code.CRS_LINK
    assert "never follows such links" in caught.value.message
    assert listener.close() == 0, "no request may be made"
    assert path.exists()


def test_the_metadata_address_link_is_refused(tmp_path: Path, limits: Limits) -> None:
    crs = {"type": "link", "properties": {"href": "http://169.254.169.254/"}}
    path = write(tmp_path, hostile.feature_collection([hostile.feature(POINT)], crs=crs))

    assert rejected(path, limits).code == Code.CRS_LINK


@pytest.mark.parametrize(
    "crs",
    [
        {"type": "name", "properties": {"name": "http://127.0.0.1/crs.wkt"}},
        {"type": "name", "properties": {"name": "/etc/passwd"}},
        {"type": "name", "properties": {"name": "+proj=longlat"}},
        "EPSG:4326",
    ],
)
def test_a_crs_that_is_not_a_plain_name_is_refused(
    tmp_path: Path, limits: Limits, crs: object
) -> None:
    path = write(tmp_path, hostile.feature_collection([hostile.feature(POINT)], crs=crs))

    error = rejected(path, limits)

    assert error.code == Code.BAD_CRS
    assert "EPSG:32647" in error.message


def test_a_crs_hidden_by_json_escapes_is_still_seen(tmp_path: Path, limits: Limits) -> None:
    data = (
        b'{"type":"FeatureCollection","\\u0063rs":{"type":"link","properties":{"href":"http://x/"}},'
        b'"features":[]}'
    )
    assert rejected(write(tmp_path, data), limits).code == Code.CRS_LINK


def test_a_named_epsg_crs_is_read(tmp_path: Path, limits: Limits) -> None:
    crs = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::32647"}}
    point = {"type": "Point", "coordinates": [650000, 1500000]}
    path = write(tmp_path, hostile.feature_collection([hostile.feature(point)], crs=crs))

    info = inspect_geojson(path, limits)

    assert info.crs_epsg == 32647 and info.crs_declared and info.problems == []


def test_a_crs_key_inside_properties_is_only_an_attribute(tmp_path: Path, limits: Limits) -> None:
    path = write(tmp_path, hostile.feature_collection([hostile.feature(POINT, crs={"href": "x"})]))

    assert inspect_geojson(path, limits).feature_count == 1


def test_a_geometry_collection_nested_10000_deep_is_refused(tmp_path: Path, limits: Limits) -> None:
    path = write(tmp_path, hostile.nested_geometry_collection(10_000))
    started = time.monotonic()

    error = rejected(path, limits)

    assert error.code == Code.TOO_DEEP
    assert "more than 64 levels" in error.message
    assert time.monotonic() - started < 1


def test_bad_positions_are_reported_per_feature(tmp_path: Path, limits: Limits) -> None:
    data = (
        b'{"type":"FeatureCollection","features":['
        b'{"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[100.5,13.7]}},'
        b'{"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[200,10]}},'
        b'{"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[10,95]}},'
        b'{"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[NaN,10]}},'
        b'{"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":["100","10"]}}]}'
    )

    info = inspect_geojson(write(tmp_path, data), limits)

    assert [(p.row, p.code) for p in info.problems] == [
        (2, "out_of_range"),
        (3, "out_of_range"),
        (4, "not_finite"),
        (5, "text_coordinates"),
    ]
    assert "longitude 200" in info.problems[0].message and "latitude 95" in info.problems[1].message
    assert info.feature_count == 5


def test_an_unclosed_ring_is_reported_per_feature(tmp_path: Path, limits: Limits) -> None:
    ring_open = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]]}
    ring_closed = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}
    path = write(
        tmp_path,
        hostile.feature_collection([hostile.feature(ring_closed), hostile.feature(ring_open)]),
    )

    info = inspect_geojson(path, limits)

    assert [(p.row, p.code) for p in info.problems] == [(2, "unclosed_ring")]


def test_one_geometry_with_too_many_vertices_is_refused_while_streaming(tmp_path: Path) -> None:
    path = write(tmp_path, hostile.polygon_text(50_000))

    error = rejected(path, Limits(max_vertices_per_geometry=10_000))

    assert error.code == Code.TOO_MANY_VERTICES
    assert "Feature 1" in error.message and "more than 10,000 vertices" in error.message


def test_a_1_gb_geojson_is_refused_before_reading(tmp_path: Path, limits: Limits) -> None:
    path = tmp_path / "huge.geojson"
    with path.open("wb") as handle:
        handle.write(b'{"type":"FeatureCollection","features":[')
        handle.truncate(1024**3)  # sparse: takes no disk space
    started = time.monotonic()

    error = rejected(path, limits)

    assert error.code == Code.FILE_TOO_LARGE
    assert "GeoPackage" in error.message
    assert time.monotonic() - started < 0.5


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b'{"type":"Topology","objects":{}}', Code.NOT_GEOJSON),
        (
            b'{"type":"gdal_streamed_alg","command_line":"gdal vector pipeline read /etc/passwd"}',
            Code.NOT_GEOJSON,
        ),
        (b'[{"type":"Feature"}]', Code.NOT_GEOJSON),
        (b'{"type":"FeatureCollection", /* hidden */ "features":[]}', Code.INVALID_JSON),
        (b"{'type':'FeatureCollection','features':[]}", Code.INVALID_JSON),
        (
            b'{"type":"FeatureCollection","features":[]}{"type":"FeatureCollection"}',
            Code.INVALID_JSON,
        ),
        (b'{"type":"FeatureCollection","features":[', Code.INVALID_JSON),
    ],
)
def test_non_geojson_or_lenient_json_is_refused(
    tmp_path: Path, limits: Limits, data: bytes, code: str
) -> None:
    assert rejected(write(tmp_path, data), limits).code == code


def test_a_geojson_is_read_only_by_the_geojson_driver(tmp_path: Path, limits: Limits) -> None:
    write(tmp_path, hostile.feature_collection([hostile.feature(POINT, name="Bangkok")]))

    info = inspect_vector(find_dataset(tmp_path), limits)

    assert info.driver == "GeoJSON" and info.open_path.startswith("GeoJSON:")
    assert (info.feature_count, info.crs_epsg, list(info.fields)) == (1, 4326, ["name"])
