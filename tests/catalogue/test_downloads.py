"""Downloads: GeoJSON and CSV stream, GeoPackage and Shapefile come from GDAL; every one is a zip
with a licence and citation file, filtered like the API and optionally clipped."""

import csv
import io
import json
import subprocess
import tracemalloc
import zipfile
from pathlib import Path
from typing import Any
from unittest import mock

import pyogrio
import pytest
from django.db import connection
from django.http import StreamingHttpResponse
from django.test import Client
from django.utils import timezone

from catalogue import services
from catalogue.downloads import README_NAME
from catalogue.models import DownloadJob, DownloadStatus
from layers.models import VectorFeature
from tests.catalogue.conftest import THAI, VIETNAMESE, World
from webgis.lib.jobs import STALLED_AFTER

pytestmark = pytest.mark.django_db


def _zip(response: Any) -> zipfile.ZipFile:
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"].startswith("attachment;")
    body = (
        b"".join(response.streaming_content)
        if isinstance(response, StreamingHttpResponse) or response.streaming
        else response.content
    )
    return zipfile.ZipFile(io.BytesIO(body))


def _extract(archive: zipfile.ZipFile, folder: Path) -> Path:
    archive.extractall(folder)
    return folder


def test_geojson_download_streams_with_licence_and_citation(
    anonymous: Client, world: World
) -> None:
    response = anonymous.get("/downloads/phl-mines/geojson")
    assert isinstance(response, StreamingHttpResponse)
    archive = _zip(response)
    assert sorted(archive.namelist()) == [README_NAME, "phl-mines.geojson"]
    readme = archive.read(README_NAME).decode()
    assert "Licence: CC BY 4.0" in readme
    assert "MGB (2024). Mines and prospects of the Philippines." in readme
    data = json.loads(archive.read("phl-mines.geojson"))
    assert data["type"] == "FeatureCollection"
    names = {f["properties"]["name"] for f in data["features"]}
    assert names == {"Tampakan", VIETNAMESE, THAI}
    tampakan = next(f for f in data["features"] if f["properties"]["name"] == "Tampakan")
    assert tampakan["geometry"] == {"type": "Point", "coordinates": [125.05, 6.48]}
    assert tampakan["properties"]["main_commodities"] == "copper"
    assert tampakan["properties"]["resource_mt"] == 2940.0


def test_aggregate_download_cites_every_dataset_it_holds(
    anonymous: Client, world: World, make_dataset: Any, make_occurrence: Any
) -> None:
    other = make_dataset(title="Lao deposits", citation="DGM Lao (2023).", licence="ODbL")
    make_occurrence("Sepon", lon=106.2, lat=16.9, state="LAO", dataset=other)
    readme = _zip(anonymous.get("/downloads/occurrences/geojson")).read(README_NAME).decode()
    assert "DGM Lao (2023)." in readme and "Licence: ODbL" in readme
    assert "MGB (2024)" in readme
    assert "Unpublished" not in readme and "phl-secret" not in readme


def test_downloads_take_the_api_filters(anonymous: Client, world: World) -> None:
    archive = _zip(anonymous.get("/downloads/phl-mines/geojson", {"commodity": "gold"}))
    names = {
        f["properties"]["name"] for f in json.loads(archive.read("phl-mines.geojson"))["features"]
    }
    assert names == {"Tampakan", VIETNAMESE}
    archive = _zip(anonymous.get("/downloads/phl-mines/geojson", {"filter": "status = 'prospect'"}))
    names = {
        f["properties"]["name"] for f in json.loads(archive.read("phl-mines.geojson"))["features"]
    }
    assert names == {VIETNAMESE}


def test_csv_with_lon_lat_columns(anonymous: Client, world: World) -> None:
    archive = _zip(anonymous.get("/downloads/phl-mines/csv", {"geometry": "lonlat"}))
    text = archive.read("phl-mines.csv").decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 3
    tampakan = next(r for r in rows if r["name"] == "Tampakan")
    assert (tampakan["lon"], tampakan["lat"]) == ("125.0500000", "6.4800000")
    assert {r["name"] for r in rows} >= {VIETNAMESE, THAI}


def test_csv_with_wkt(anonymous: Client, world: World) -> None:
    archive = _zip(anonymous.get("/downloads/idn-geology/csv"))
    rows = list(csv.DictReader(io.StringIO(archive.read("idn-geology.csv").decode("utf-8-sig"))))
    assert rows[0]["wkt"].startswith("MULTIPOLYGON(((100 -1,")
    assert rows[0]["lithology"] == "granite"


def test_clip_to_a_rectangle_cuts_polygons(anonymous: Client, world: World) -> None:
    archive = _zip(
        anonymous.get("/downloads/idn-geology/geojson", {"clip_bbox": "100,-1,100.5,-0.5"})
    )
    features = json.loads(archive.read("idn-geology.geojson"))["features"]
    assert [f["properties"]["name"] for f in features] == ["Granite A"]
    ring = features[0]["geometry"]["coordinates"][0][0]
    assert max(x for x, _ in ring) == pytest.approx(100.5)


def test_clip_to_a_polygon_keeps_points_inside(anonymous: Client, world: World) -> None:
    triangle = "124,5,127,5,125,8,124,5".replace(",", " ").split()
    polygon = ",".join(f"{triangle[i]} {triangle[i + 1]}" for i in range(0, len(triangle), 2))
    archive = _zip(anonymous.get("/downloads/occurrences/geojson", {"clip_polygon": polygon}))
    names = [
        f["properties"]["name"] for f in json.loads(archive.read("occurrences.geojson"))["features"]
    ]
    assert names == ["Tampakan"]


def test_geopackage_opens_in_gdal_with_crs_count_and_text(
    anonymous: Client, world: World, tmp_path: Path
) -> None:
    folder = _extract(_zip(anonymous.get("/downloads/phl-mines/gpkg")), tmp_path)
    assert (folder / README_NAME).is_file()
    info = subprocess.run(
        ["ogrinfo", "-ro", "-al", "-so", str(folder / "phl-mines.gpkg")],
        capture_output=True, text=True, check=True, timeout=60,
    ).stdout  # fmt: skip
    assert "Feature Count: 3" in info
    assert 'ID["EPSG",4326]' in info
    meta, _, _, values = pyogrio.raw.read(folder / "phl-mines.gpkg")
    names = set(values[list(meta["fields"]).index("name")])
    assert names == {"Tampakan", VIETNAMESE, THAI}


def test_shapefile_opens_in_gdal_with_prj_cpg_count_and_text(
    anonymous: Client, world: World, tmp_path: Path
) -> None:
    archive = _zip(anonymous.get("/downloads/phl-mines/shp"))
    assert {
        "phl-mines.shp",
        "phl-mines.shx",
        "phl-mines.dbf",
        "phl-mines.prj",
        "phl-mines.cpg",
    } <= set(archive.namelist())
    assert archive.read("phl-mines.cpg").decode().strip() == "UTF-8"
    readme = archive.read(README_NAME).decode()
    assert "comm_main  main_commodities" in readme
    folder = _extract(archive, tmp_path)
    info = subprocess.run(
        ["ogrinfo", "-ro", "-al", str(folder / "phl-mines.shp")],
        capture_output=True, text=True, check=True, timeout=60,
    ).stdout  # fmt: skip
    assert "Feature Count: 3" in info
    assert 'ID["EPSG",4326]' in info
    assert VIETNAMESE in info and THAI in info
    assert "comm_main (String) = copper" in info


def test_shapefile_of_a_mixed_layer_has_one_file_per_geometry_family(
    anonymous: Client, world: World
) -> None:
    from django.contrib.gis.geos import LineString

    VectorFeature.objects.create(
        dataset=world.vector,
        attributes={"sample": "line"},
        geom=LineString((101, 3), (102, 4), srid=4326),
    )
    names = set(_zip(anonymous.get("/downloads/mys-samples/shp")).namelist())
    assert {"mys-samples_points.shp", "mys-samples_lines.shp"} <= names


def test_empty_result_is_an_empty_layer(anonymous: Client, world: World, tmp_path: Path) -> None:
    archive = _zip(anonymous.get("/downloads/tha-faults/gpkg", {"bbox": "0,0,1,1"}))
    folder = _extract(archive, tmp_path)
    assert pyogrio.read_info(folder / "tha-faults.gpkg")["features"] == 0
    assert "No feature matched" in archive.read(README_NAME).decode()


def test_large_geopackage_runs_as_a_job(anonymous: Client, world: World, settings: Any) -> None:
    settings.DOWNLOAD_DIRECT_MAX_FEATURES = 1
    response = anonymous.get("/downloads/phl-mines/gpkg", HTTP_ACCEPT="application/json")
    # Jobs run inline in tests, so the job is already done when the response is made.
    assert response.status_code == 200
    doc = response.json()
    assert doc["status"] == "done" and doc["progress"] == 100 and doc["features"] == 3
    job = DownloadJob.objects.get(pk=doc["id"])
    assert job.status == DownloadStatus.DONE
    status = anonymous.get(doc["status_url"], HTTP_ACCEPT="application/json").json()
    assert status["file_url"] == doc["file_url"]
    archive = _zip(anonymous.get(doc["file_url"]))
    assert "phl-mines.gpkg" in archive.namelist()
    # The same request again is served by the same job.
    again = anonymous.get("/downloads/phl-mines/gpkg", HTTP_ACCEPT="application/json").json()
    assert again["id"] == doc["id"]


def test_job_page_in_a_browser(anonymous: Client, world: World, settings: Any) -> None:
    settings.DOWNLOAD_DIRECT_MAX_FEATURES = 1
    page = anonymous.get("/downloads/phl-mines/shp", HTTP_ACCEPT="text/html")
    assert page.status_code == 200
    assert b"catalogue/download_job" in page.content
    assert b"Download the file" in page.content


def test_a_restricted_job_is_only_for_its_requester(
    editor_phl: Client, editor_idn: Client, anonymous: Client, world: World, settings: Any
) -> None:
    settings.DOWNLOAD_DIRECT_MAX_FEATURES = 0
    doc = editor_phl.get("/downloads/phl-secret/gpkg", HTTP_ACCEPT="application/json").json()
    assert doc["status"] == "done"
    for client in (anonymous, editor_idn):
        assert client.get(doc["status_url"]).status_code == 404
        assert client.get(doc["file_url"]).status_code == 404
    assert editor_phl.get(doc["file_url"]).status_code == 200


def test_too_many_jobs_is_503_with_retry_after(
    anonymous: Client, world: World, settings: Any
) -> None:
    settings.DOWNLOAD_DIRECT_MAX_FEATURES = 0
    settings.DOWNLOAD_MAX_ACTIVE_JOBS = 0
    response = anonymous.get("/downloads/phl-mines/gpkg", HTTP_ACCEPT="application/json")
    assert response.status_code == 503
    assert response["Retry-After"] == "60"


def test_too_large_for_a_file_format_is_400(anonymous: Client, world: World, settings: Any) -> None:
    settings.DOWNLOAD_MAX_FEATURES = 2
    response = anonymous.get("/downloads/phl-mines/shp")
    assert response.status_code == 400
    assert "stream at any size" in response.json()["description"]


def test_form_without_javascript_redirects_to_the_format(anonymous: Client, world: World) -> None:
    response = anonymous.get("/downloads/phl-mines/", {"format": "csv", "geometry": "lonlat"})
    assert response.status_code == 302
    assert response["Location"] == "/downloads/phl-mines/csv?geometry=lonlat"


def test_streaming_memory_stays_bounded(anonymous: Client, world: World) -> None:
    """30,000 features (over 10 MB of GeoJSON) stream in batches: Python never holds the file."""
    with connection.cursor() as cursor:
        cursor.execute(
            """INSERT INTO layers_vectorfeature (dataset_id, attributes, geom)
               SELECT %s, jsonb_build_object('sample', 'bulk-' || i, 'note', repeat('x', 300)),
                      ST_SetSRID(ST_MakePoint(100 + i / 10000.0, 3 + i / 10000.0), 4326)
               FROM generate_series(1, 30000) i""",
            [world.vector.pk],
        )
    response = anonymous.get("/downloads/mys-samples/geojson")
    tracemalloc.start()
    compressed = 0
    try:
        for chunk in response.streaming_content:
            compressed += len(chunk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert compressed > 0
    assert peak < 5 * 1024 * 1024, peak  # a third of the file, whatever its size


@pytest.mark.parametrize(
    ("url", "status", "field"),
    [
        ("/downloads/phl-mines/xlsx", 404, None),
        ("/downloads/nope/geojson", 404, None),
        ("/downloads/phl-secret/geojson", 404, None),
        ("/downloads/phl-mines/geojson?clip_bbox=1,2,3", 400, "clip_bbox"),
        ("/downloads/phl-mines/geojson?clip_bbox=1,1,1,5", 400, "clip_bbox"),
        ("/downloads/phl-mines/geojson?clip_polygon=0 0,1 1,0 0", 400, "clip_polygon"),
        ("/downloads/phl-mines/geojson?clip_polygon=0 0,2 2,2 0,0 2", 400, "clip_polygon"),
        (
            "/downloads/phl-mines/geojson?clip_polygon=/vsicurl/http://127.0.0.1/",
            400,
            "clip_polygon",
        ),
        ("/downloads/phl-mines/geojson?clip_polygon=0 0,200 0,0 5", 400, "clip_polygon"),
        (
            "/downloads/phl-mines/geojson?clip_bbox=0,0,1,1&clip_polygon=0 0,1 0,0 1",
            400,
            "clip_polygon",
        ),
        ("/downloads/idn-geology/csv?geometry=lonlat", 400, "geometry"),
        ("/downloads/phl-mines/csv?geometry=x", 400, "geometry"),
        ("/downloads/phl-mines/gpkg?filter=drop table", 400, "filter"),
        ("/downloads/phl-mines/gpkg?srs=EPSG:4326", 400, "srs"),
        ("/downloads/phl-mines/?format=xlsx", 400, "format"),
    ],
)
def test_bad_download_requests(
    anonymous: Client, world: World, url: str, status: int, field: str | None
) -> None:
    response = anonymous.get(url)
    assert response.status_code == status, response.content[:300]
    body = response.json()
    assert body["code"] in ("InvalidParameterValue", "NotFound")
    if field:
        assert body["error"]["field"] == field


def test_other_states_editor_cannot_download_unpublished(
    editor_idn: Client, editor_phl: Client, world: World
) -> None:
    assert editor_idn.get("/downloads/phl-secret/csv").status_code == 404
    response = editor_phl.get("/downloads/phl-secret/csv")
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"


def _running_job(anonymous: Client, settings: Any) -> DownloadJob:
    """A job the worker took and then stopped writing (its worker killed): status running."""
    settings.DOWNLOAD_DIRECT_MAX_FEATURES = 1
    doc = anonymous.get("/downloads/phl-mines/gpkg", HTTP_ACCEPT="application/json").json()
    DownloadJob.objects.filter(pk=doc["id"]).update(
        status=DownloadStatus.RUNNING, path="", finished_at=None, heartbeat_at=timezone.now()
    )
    return DownloadJob.objects.get(pk=doc["id"])


def test_a_job_whose_worker_died_fails_and_the_same_request_starts_again(
    anonymous: Client, world: World, settings: Any
) -> None:
    """The queue would call it running forever: every identical request waited on it."""
    job = _running_job(anonymous, settings)
    status_url = f"/downloads/jobs/{job.pk}"
    # Writing recently: at work, left alone, and an identical request waits on it.
    assert anonymous.get(status_url, HTTP_ACCEPT="application/json").json()["status"] == "running"
    again = anonymous.get("/downloads/phl-mines/gpkg", HTTP_ACCEPT="application/json").json()
    assert again["id"] == str(job.pk)

    DownloadJob.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - STALLED_AFTER * 2)
    doc = anonymous.get(status_url, HTTP_ACCEPT="application/json").json()
    assert doc["status"] == "failed"
    job.refresh_from_db()
    assert job.error_message == services.LOST_MESSAGE and job.finished_at is not None

    fresh = anonymous.get("/downloads/phl-mines/gpkg", HTTP_ACCEPT="application/json").json()
    assert fresh["id"] != str(job.pk) and fresh["status"] == "done"


def test_a_lost_job_no_longer_counts_against_the_limit(
    anonymous: Client, world: World, settings: Any
) -> None:
    job = _running_job(anonymous, settings)
    DownloadJob.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - STALLED_AFTER * 2)
    settings.DOWNLOAD_MAX_ACTIVE_JOBS = 1
    response = anonymous.get(
        "/downloads/tha-faults/gpkg", HTTP_ACCEPT="application/json"
    )  # another request: the lost job no longer fills the only slot
    assert response.status_code == 200, response.content[:300]


def test_a_worker_that_writes_again_keeps_its_job(world: World) -> None:
    """Marking is compare-and-set on the heartbeat it read: a write in between wins."""
    stale = timezone.now() - STALLED_AFTER * 2
    job = DownloadJob.objects.create(
        key="k", collection_id="phl-mines", format="gpkg", scope="public",
        status=DownloadStatus.RUNNING, heartbeat_at=stale,
    )  # fmt: skip
    real_filter = DownloadJob.objects.filter

    def write_in_between(*args: Any, **kwargs: Any) -> Any:
        if kwargs.get("heartbeat_at") == stale:  # the marking update: the worker wrote first
            real_filter(pk=job.pk).update(heartbeat_at=timezone.now())
        return real_filter(*args, **kwargs)

    with mock.patch.object(DownloadJob.objects, "filter", side_effect=write_in_between):
        assert services.downloads_mark_lost() == 0
    job.refresh_from_db()
    assert job.status == DownloadStatus.RUNNING
