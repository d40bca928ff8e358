"""Hostile and broken files through the whole upload pipeline: each fails with a clear message
and leaves nothing behind: no dataset, no staging table, no unpacked file, no outbound request.
(The gate itself is tested case by case in tests/layers/ingest/.)"""

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client

from layers.ingest import pipeline
from layers.models import Dataset, Upload, UploadStatus
from tests.layers.ingest import hostile

pytestmark = pytest.mark.django_db


def staged_tables() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'ingest'"
        )
        return {r[0] for r in cursor.fetchall()}


def build_zip(members: dict[str, bytes]) -> Callable[[Path], tuple[str, bytes]]:
    def build(tmp: Path) -> tuple[str, bytes]:
        return "bad.zip", hostile.zip_of(tmp / "bad.zip", members).read_bytes()

    return build


CASES: dict[str, tuple[str, Callable[[Path], tuple[str, bytes]]]] = {
    "zip slip": ("vector", build_zip({"../../x.py": b"print(1)"})),
    "absolute path in zip": ("vector", build_zip({"/etc/cron.d/x": b"* * * * * root true"})),
    "zip in zip": (
        "vector",
        build_zip(
            {
                "inner.zip": hostile.zip_of(
                    Path("/tmp/amdis-inner.zip"), {"a.txt": b"a"}
                ).read_bytes()
            }
        ),
    ),
    "symlink in zip": (
        "vector",
        lambda tmp: ("link.zip", hostile.zip_with_symlink(tmp / "link.zip").read_bytes()),
    ),
    "declares 10 GB": (
        "vector",
        lambda tmp: ("huge.zip", hostile.zip_declaring_huge_entry(tmp / "huge.zip").read_bytes()),
    ),
    "no dataset in zip": ("vector", build_zip({"readme.txt": b"hello"})),
    "missing .shx": (
        "vector",
        build_zip(
            {
                k: v
                for k, v in hostile.point_shapefile_parts([(121.0, 15.0)]).items()
                if not k.endswith("shx")
            }
        ),
    ),
    "executable renamed .shp": (
        "vector",
        lambda tmp: ("tool.shp", b"\x7fELF\x02\x01\x01" + b"\x00" * 200),
    ),
    "text named .gpkg": ("geology", lambda tmp: ("units.gpkg", b"not a database at all" * 10)),
    "VRT renamed .tif": ("raster", lambda tmp: ("dem.tif", hostile.vrt_pointing_at("/etc/passwd"))),
    "pixel bomb": ("raster", lambda tmp: ("bomb.tif", hostile.tiff_bytes(1_000_000, 1_000_000))),
    "GeoJSON crs link": (
        "vector",
        lambda tmp: (
            "x.geojson",
            hostile.feature_collection(
                [hostile.feature({"type": "Point", "coordinates": [121, 15]})],
                crs={"type": "link", "properties": {"href": "http://169.254.169.254/"}},
            ),
        ),
    ),
    "nested 10,000 deep": (
        "vector",
        lambda tmp: ("deep.geojson", hostile.nested_geometry_collection(10_000)),
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_hostile_file_fails_clearly_and_leaves_nothing(
    editor_phl: Client, phl_survey: Any, tmp_path: Path, case: str
) -> None:
    target, build = CASES[case]
    name, content = build(tmp_path)
    tables_before = staged_tables()

    response = editor_phl.post(
        "/uploads/new/",
        {
            "organisation": phl_survey.pk,
            "target": target,
            "mode": "replace",
            "title": "Hostile",
            "licence": "CC BY 4.0",
            "file": SimpleUploadedFile(name, content),
        },
    )

    assert response.status_code == 302
    upload = Upload.objects.get()
    assert upload.status == UploadStatus.FAILED, (case, upload.report)
    assert upload.error_code and upload.error_code != "internal_error", upload.error_message
    assert len(upload.error_message) > 20
    assert staged_tables() == tables_before
    assert not (pipeline.upload_dir(upload) / "files").exists()
    assert not Dataset.objects.filter(title="Hostile").exists()
    status = json.loads(editor_phl.get(f"/api/uploads/{upload.pk}/").content)
    assert status["error"]["message"] == upload.error_message


def test_script_in_attribute_names_and_values_is_stored_as_text_and_escaped(
    editor_phl: Client, anonymous: Client, phl_survey: Any
) -> None:
    csv = '<script>alert(1)</script>,lon,lat,commodity\n"<img src=x onerror=alert(1)>",121.0,15.0,Cu\n'
    response = editor_phl.post(
        "/uploads/new/",
        {
            "organisation": phl_survey.pk,
            "target": "occurrences",
            "mode": "replace",
            "title": "XSS",
            "licence": "CC BY 4.0",
            "file": SimpleUploadedFile("x.csv", csv.encode()),
        },
    )
    upload = Upload.objects.get(pk=response["Location"].rstrip("/").split("/")[-1])
    editor_phl.post(
        f"/uploads/{upload.pk}/options",
        {
            "map_name": "<script>alert(1)</script>",
            "map_lon": "lon",
            "map_lat": "lat",
            "map_commodity": "commodity",
        },
    )
    page = editor_phl.get(f"/uploads/{upload.pk}/").content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;" in page
    editor_phl.post(f"/uploads/{upload.pk}/publish")
    feature = json.loads(anonymous.get("/api/occurrences/").content)["features"][0]
    assert feature["properties"]["name"] == "<img src=x onerror=alert(1)>"  # stored as text
    html = anonymous.get(feature["properties"]["url"]).content.decode()
    assert "<img src=x" not in html and "&lt;img src=x" in html
