"""Raster tiles, TileJSON, pixel values and metadata, on the real geoid COG."""

import io
import zlib
from collections.abc import Callable

import numpy as np
import pytest
from django.test import Client

from layers.models import Dataset, DatasetKind, RasterLayer

pytestmark = pytest.mark.django_db

# z=4 tile over Indochina and the Philippines; the geoid covers 91.875–141.875°E, 10.875°S–29.125°N.
INSIDE = "/tiles/raster/geoid/4/12/7.png"
OUTSIDE = "/tiles/raster/geoid/4/0/0.png"


def decode_png(body: bytes) -> np.ndarray:
    """RGBA pixels of the project's own PNGs: 8-bit RGBA or 8-bit palette, filter 0."""
    assert body[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width, height, color_type = 8, b"", 0, 0, 0
    palette, alpha = b"", b""
    while pos < len(body):
        length = int.from_bytes(body[pos : pos + 4], "big")
        kind = body[pos + 4 : pos + 8]
        payload = body[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height = int.from_bytes(payload[:4], "big"), int.from_bytes(payload[4:8], "big")
            color_type = payload[9]
        elif kind == b"PLTE":
            palette = payload
        elif kind == b"tRNS":
            alpha = payload
        elif kind == b"IDAT":
            idat += payload
        pos += 12 + length
    channels = {6: 4, 3: 1}[color_type]
    rows = np.frombuffer(zlib.decompress(idat), dtype="uint8").reshape(height, width * channels + 1)
    assert not rows[:, 0].any(), "filter 0 on every row"
    if color_type == 6:
        return rows[:, 1:].reshape(height, width, 4)
    lut = np.full((256, 4), 255, dtype="uint8")
    lut[: len(palette) // 3, :3] = np.frombuffer(palette, dtype="uint8").reshape(-1, 3)
    lut[: len(alpha), 3] = np.frombuffer(alpha, dtype="uint8")
    return lut[rows[:, 1:]]


def test_a_tile_inside_the_raster_is_a_coloured_png(anonymous: Client, geoid: RasterLayer) -> None:
    response = anonymous.get(INSIDE)

    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    pixels = decode_png(response.content)
    assert pixels.shape == (256, 256, 4)
    # West of 91.875°E there is no raster: transparent; the rest is opaque.
    assert pixels[128, 0, 3] == 0
    assert pixels[128, 200, 3] == 255


def test_a_tile_outside_the_raster_is_transparent(anonymous: Client, geoid: RasterLayer) -> None:
    response = anonymous.get(OUTSIDE)

    assert response.status_code == 200
    assert decode_png(response.content)[..., 3].max() == 0


def test_nodata_pixels_are_transparent(
    anonymous: Client, make_dataset: Callable[..., Dataset], tmp_path: "io.Any"
) -> None:
    from tests.rasters.factories import raster_layer_from_array

    data = np.full((64, 64), 5.0, dtype="float32")
    data[:, :32] = -9999.0
    dataset = make_dataset(slug="half", kind=DatasetKind.RASTER)
    raster_layer_from_array(
        dataset, data, bounds=(100.0, 0.0, 110.0, 10.0), nodata=-9999.0, tmp=tmp_path
    )

    # z=6 tile x=50 y=31 spans about 101.25–106.9°E, 0–5.6°N: the west half of the raster is no data.
    pixels = decode_png(anonymous.get("/tiles/raster/half/6/50/31.png?rescale=0,10").content)

    assert pixels[128, 10, 3] == 0
    assert pixels[128, 250, 3] == 255


def test_the_colour_map_and_stretch_change_the_colours(
    anonymous: Client, geoid: RasterLayer
) -> None:
    viridis = decode_png(anonymous.get(INSIDE + "?colormap=viridis&rescale=-60,60").content)
    greys = decode_png(anonymous.get(INSIDE + "?colormap=greys&rescale=-60,60").content)
    stretched = decode_png(anonymous.get(INSIDE + "?colormap=viridis&rescale=0,1").content)

    assert not np.array_equal(viridis, greys)
    assert not np.array_equal(viridis, stretched)


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/tiles/raster/geoid/99/0/0.png", "z"),
        ("/tiles/raster/geoid/-1/0/0.png", "z"),
        ("/tiles/raster/geoid/2/4/0.png", "x"),
        ("/tiles/raster/geoid/2/0/4.png", "y"),
        ("/tiles/raster/geoid/1/1e309/0.png", "x"),
        ("/tiles/raster/geoid/4/12/7.png?colormap=rainbow", "colormap"),
        ("/tiles/raster/geoid/4/12/7.png?colormap=/vsicurl/http://127.0.0.1/", "colormap"),
        ("/tiles/raster/geoid/4/12/7.png?rescale=5,1", "rescale"),
        ("/tiles/raster/geoid/4/12/7.png?rescale=nan,1", "rescale"),
        ("/tiles/raster/geoid/4/12/7.png?rescale=abc", "rescale"),
        ("/tiles/raster/geoid/4/12/7.png?band=1)%20AND%201=1--", "band"),
        ("/tiles/raster/geoid/4/12/7.png?band=2", "band"),
        ("/tiles/raster/geoid/4/12/7.png?path=/etc/passwd", "path"),
    ],
)
def test_bad_tile_requests_are_400_with_a_json_error(
    anonymous: Client, geoid: RasterLayer, url: str, field: str
) -> None:
    response = anonymous.get(url)

    assert response.status_code == 400
    assert response.json()["error"]["field"] == field
    assert response.json()["error"]["message"]


def test_a_versioned_tile_url_is_cached_forever_with_an_etag(
    anonymous: Client, geoid: RasterLayer
) -> None:
    response = anonymous.get(INSIDE + "?v=1")

    assert response["Cache-Control"] == "public, max-age=31536000, immutable"
    again = anonymous.get(INSIDE + "?v=1", HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304


def test_an_unversioned_tile_url_is_cached_briefly(anonymous: Client, geoid: RasterLayer) -> None:
    assert anonymous.get(INSIDE)["Cache-Control"] == "public, max-age=60"


def test_the_tile_url_changes_with_a_new_version(anonymous: Client, geoid: RasterLayer) -> None:
    before = anonymous.get("/tiles/raster/geoid.json").json()["tiles"][0]
    geoid.pk = None
    geoid.version = 2
    geoid.save()
    Dataset.objects.filter(pk=geoid.dataset_id).update(version=2)

    after = anonymous.get("/tiles/raster/geoid.json").json()["tiles"][0]

    assert "v=1" in before and "v=2" in after


def test_tilejson_describes_the_layer(anonymous: Client, geoid: RasterLayer) -> None:
    doc = anonymous.get("/tiles/raster/geoid.json?colormap=magma").json()

    assert doc["tilejson"] == "3.0.0"
    assert doc["tiles"][0].startswith("http://testserver/tiles/raster/geoid/{z}/{x}/{y}.png?v=1&")
    assert "colormap=magma" in doc["tiles"][0]
    assert doc["units"] == "m"
    west, _south, _east, north = doc["bounds"]
    assert west == pytest.approx(91.875) and north == pytest.approx(29.125)
    assert doc["rescale"][0] < doc["rescale"][1]


def test_the_point_api_gives_the_pixel_value(anonymous: Client, geoid: RasterLayer) -> None:
    body = anonymous.get("/api/rasters/geoid/point?lon=121.0&lat=15.0").json()

    assert body["inside"] is True
    assert body["units"] == "m"
    # EGM96 geoid height near Manila is about +42 m.
    assert body["values"][0]["value"] == pytest.approx(42.5, abs=1.0)


def test_a_point_outside_the_raster_has_no_value(anonymous: Client, geoid: RasterLayer) -> None:
    body = anonymous.get("/api/rasters/geoid/point?lon=0&lat=0").json()

    assert body == {"lon": 0.0, "lat": 0.0, "inside": False, "values": [], "units": "m"}


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("lon=200&lat=10", "lon"),
        ("lon=100&lat=95", "lat"),
        ("lon=NaN&lat=10", "lon"),
        ("lon=abc&lat=10", "lon"),
        ("lat=10", "lon"),
        ("lon=100&lat=10&band=1", "band"),
    ],
)
def test_bad_coordinates_are_400(
    anonymous: Client, geoid: RasterLayer, query: str, field: str
) -> None:
    response = anonymous.get(f"/api/rasters/geoid/point?{query}")

    assert response.status_code == 400
    assert response.json()["error"]["field"] == field


def test_an_unknown_layer_is_404(anonymous: Client, geoid: RasterLayer) -> None:
    assert anonymous.get("/tiles/raster/nope/0/0/0.png").status_code == 404
    assert anonymous.get("/api/rasters/nope/point?lon=1&lat=1").status_code == 404


def test_the_list_and_detail_apis_describe_visible_rasters(
    anonymous: Client, geoid: RasterLayer
) -> None:
    listed = anonymous.get("/api/rasters/").json()["rasters"]
    detail = anonymous.get("/api/rasters/geoid/").json()

    assert [r["slug"] for r in listed] == ["geoid"]
    assert detail["title"] == "EGM96 geoid height"
    assert detail["statistics"][0]["min"] < detail["statistics"][0]["max"]
    assert detail["prospectivity"] is None
