"""National survey uploads end to end: upload → job → report → answers → publish → API and tiles;
versions, atomic publishing, permissions, audit. Jobs run inline here (see conftest); the real
worker is exercised in test_worker.py."""

import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client

from deposits.models import MineralOccurrence
from layers.ingest import pipeline
from layers.models import (
    AuditEntry,
    ColumnMapping,
    Dataset,
    DatasetVersion,
    GeologicalUnit,
    RasterLayer,
    Structure,
    Upload,
    UploadStatus,
    VectorFeature,
)

pytestmark = pytest.mark.django_db

PHL_CSV = (
    "site,lon,lat,commodity,status\n"
    "Tampakan,125.05,6.48,Cu;Au,prospect\n"
    "Didipio,121.46,16.33,Au;Cu,operating_mine\n"
    "Bogus,121.0,15.0,Coper,occurrence\n"
    "Far away,100.0,13.0,Cu,occurrence\n"
    "Broken,abc,15.0,Cu,occurrence\n"
)


def post_upload(
    client: Client, organisation: Any, name: str, content: bytes, target: str, **extra: Any
) -> Any:
    data = {
        "organisation": organisation.pk,
        "target": target,
        "mode": "replace",
        "title": extra.pop("title", "Test dataset"),
        "licence": "CC BY 4.0",
        "file": SimpleUploadedFile(name, content),
        **extra,
    }
    response = client.post("/uploads/new/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    return Upload.objects.get(pk=response["Location"].rstrip("/").split("/")[-1])


def answer(client: Client, upload: Upload, **fields: Any) -> Upload:
    response = client.post(f"/uploads/{upload.pk}/options", fields)
    assert response.status_code == 302
    upload.refresh_from_db()
    return upload


def publish(client: Client, upload: Upload) -> Upload:
    response = client.post(f"/uploads/{upload.pk}/publish")
    assert response.status_code == 302
    upload.refresh_from_db()
    assert upload.status == UploadStatus.PUBLISHED, (upload.error_code, upload.error_message)
    return upload


def api_names(client: Client, **params: Any) -> list[str]:
    doc = json.loads(client.get("/api/occurrences/", params).content)
    return sorted(f["properties"]["name"] for f in doc["features"])


def test_csv_occurrences_from_upload_to_the_api(
    editor_phl: Client, anonymous: Client, phl_survey: Any
) -> None:
    upload = post_upload(editor_phl, phl_survey, "sites.csv", PHL_CSV.encode(), "occurrences")

    # "site" is not a usual name for the name column: the editor is asked.
    assert upload.status == UploadStatus.NEEDS_INPUT
    assert "Name" in upload.report["questions"][0]["message"]
    upload = answer(
        editor_phl,
        upload,
        map_name="site",
        map_lon="lon",
        map_lat="lat",
        map_commodity="commodity",
        map_status="status",
    )

    assert upload.status == UploadStatus.READY, upload.report
    report = upload.report
    assert report["counts"] == {"read": 5, "accepted": 3, "rejected": 2, "repaired": 0}
    reasons = {r["row"]: r["reason"] for r in report["rejected"]}
    assert "not a number" in reasons[5]
    assert "outside Philippines" in reasons[4]
    assert report["unmapped_terms"]["commodity"][0]["term"] == "Coper"
    assert "copper" in report["unmapped_terms"]["commodity"][0]["suggestions"]
    page = editor_phl.get(f"/uploads/{upload.pk}/")
    assert b"Did you mean" in page.content and b"copper" in page.content

    assert api_names(anonymous) == []  # nothing public before publishing
    publish(editor_phl, upload)

    assert api_names(anonymous) == ["Bogus", "Didipio", "Tampakan"]
    didipio = MineralOccurrence.objects.get(name="Didipio")
    assert didipio.status == "operating_mine"
    assert sorted(didipio.commodities.values_list("code", flat=True)) == ["copper", "gold"]
    dataset = Dataset.objects.get(title="Test dataset")
    assert (dataset.version, dataset.is_published, dataset.member_state.code) == (1, True, "PHL")


def test_the_mapping_is_remembered_for_the_next_upload(editor_phl: Client, phl_survey: Any) -> None:
    first = post_upload(editor_phl, phl_survey, "a.csv", PHL_CSV.encode(), "occurrences")
    answer(
        editor_phl, first, map_name="site", map_lon="lon", map_lat="lat", map_commodity="commodity"
    )

    second = post_upload(
        editor_phl, phl_survey, "b.csv", PHL_CSV.encode(), "occurrences", title="Second"
    )

    assert second.status == UploadStatus.READY
    assert (
        ColumnMapping.objects.get(organisation=phl_survey, target="occurrences").mapping["fields"][
            "name"
        ]
        == "site"
    )


def test_a_real_usgs_csv_keeps_only_the_editors_member_state(
    editor_phl: Client, phl_survey: Any, shared_data: Path
) -> None:
    content = (
        shared_data / "minerals_usgs_porphyry_copper_2008" / "porcu_seasia_bbox.csv"
    ).read_bytes()
    upload = post_upload(editor_phl, phl_survey, "porcu.csv", content, "occurrences")
    # NameDeposit and the coordinate columns are recognised; the commodity column is not.
    assert upload.status == UploadStatus.NEEDS_INPUT
    chosen = upload.report["mapping"]["chosen"]
    assert (chosen["name"], chosen["lon"], chosen["lat"]) == (
        "NameDeposit",
        "LongitudeDecimal",
        "LatitudeDecimal",
    )

    upload = answer(
        editor_phl,
        upload,
        map_name="NameDeposit",
        map_lon="LongitudeDecimal",
        map_lat="LatitudeDecimal",
        map_commodity="Subtype",
        map_province="StateProvince",
    )

    assert upload.report["counts"]["read"] == 79
    assert upload.report["counts"]["accepted"] == 44  # SOURCE.md: 44 in the Philippines


def write_zip(path: Path, files: dict[str, bytes]) -> bytes:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return path.read_bytes()


def test_a_zipped_natural_earth_shapefile_becomes_a_vector_layer(
    editor_phl: Client, phl_survey: Any, shared_data: Path
) -> None:
    content = (shared_data / "ne_admin0" / "ne_110m_admin_0_countries.zip").read_bytes()
    upload = post_upload(editor_phl, phl_survey, "ne_110m.zip", content, "vector")

    assert upload.status == UploadStatus.READY, (
        upload.error_message,
        upload.report.get("questions"),
    )
    assert upload.report["crs"]["found"] == 4326
    assert upload.report["counts"]["read"] == 177
    publish(editor_phl, upload)

    assert (
        VectorFeature.objects.filter(dataset=upload.dataset).count()
        == upload.report["counts"]["accepted"]
    )
    indonesia = VectorFeature.objects.get(dataset=upload.dataset, attributes__ISO_A3="IDN")
    assert indonesia.geom.geom_type == "MultiPolygon"


def test_active_faults_geojson_becomes_structures(
    editor_phl: Client, phl_survey: Any, shared_data: Path
) -> None:
    content = (
        shared_data / "faults_gem_gaf_2017" / "gem_active_faults_seasia_bbox.geojson"
    ).read_bytes()
    upload = post_upload(editor_phl, phl_survey, "faults.geojson", content, "structures")
    if upload.status == UploadStatus.NEEDS_INPUT:
        upload = answer(editor_phl, upload, map_name="name", map_structure_type="slip_type")

    assert upload.status == UploadStatus.READY, (
        upload.error_message,
        upload.report.get("questions"),
    )
    assert upload.report["counts"]["read"] == 265
    publish(editor_phl, upload)
    structures = Structure.objects.filter(dataset=upload.dataset)
    assert structures.count() == upload.report["counts"]["accepted"] >= 260
    assert structures.exclude(structure_type="fault").exists()  # slip types were mapped


def test_the_geoid_geotiff_becomes_a_cloud_optimised_raster(
    editor_phl: Client, phl_survey: Any, shared_data: Path
) -> None:
    import rasterio

    content = (shared_data / "raster_egm96_geoid" / "egm96_geoid_seasia.tif").read_bytes()
    upload = post_upload(editor_phl, phl_survey, "geoid.tif", content, "raster")

    assert upload.status == UploadStatus.READY, upload.error_message
    assert upload.report["raster"]["width"] == 200
    publish(editor_phl, upload)
    raster = RasterLayer.objects.get(dataset=upload.dataset)
    from django.conf import settings

    with rasterio.open(Path(settings.MEDIA_ROOT) / raster.path) as cog:
        assert cog.driver == "GTiff"
        assert cog.profile.get("tiled") or cog.block_shapes[0][0] < cog.height
    assert raster.statistics[0]["min"] < raster.statistics[0]["max"]


def geology_gpkg(path: Path, *, layers: int = 1) -> bytes:
    import numpy as np
    import pyogrio
    import shapely

    for i in range(layers):
        geometries = np.array(
            [shapely.box(121 + j * 0.1, 15, 121.05 + j * 0.1, 15.05).wkb for j in range(3)],
            dtype=object,
        )
        pyogrio.raw.write(
            path,
            geometry=geometries,
            field_data=[np.array(["Granite A", "Limestone B", "Schist C"], dtype=object)],
            fields=["unit"],
            layer=f"units_{i}",
            driver="GPKG",
            crs="EPSG:4326",
            geometry_type="Polygon",
            append=i > 0,
        )
    return path.read_bytes()


def test_a_geopackage_with_two_layers_asks_which(
    editor_phl: Client, phl_survey: Any, tmp_path: Path
) -> None:
    upload = post_upload(
        editor_phl,
        phl_survey,
        "geology.gpkg",
        geology_gpkg(tmp_path / "g.gpkg", layers=2),
        "geology",
    )
    assert upload.status == UploadStatus.NEEDS_INPUT
    assert upload.report["questions"][0]["field"] == "layer"

    upload = answer(editor_phl, upload, layer="units_1")
    assert upload.report["source"]["layer"] == "units_1"
    if (
        upload.status == UploadStatus.NEEDS_INPUT
    ):  # "unit" is not a usual column name for the unit name
        upload = answer(editor_phl, upload, layer="units_1", map_name="unit")

    assert upload.status == UploadStatus.READY, upload.report.get("questions")
    publish(editor_phl, upload)
    assert sorted(
        GeologicalUnit.objects.filter(dataset=upload.dataset).values_list("name", flat=True)
    ) == ["Granite A", "Limestone B", "Schist C"]


def shapefile_zip(
    path: Path,
    *,
    prj: bool = True,
    names: list[str] | None = None,
    encoding: str = "UTF-8",
    cpg: str | None = None,
) -> bytes:
    import numpy as np
    import pyogrio
    import shapely

    folder = path.parent / "shp"
    folder.mkdir(exist_ok=True)
    names = names or ["Mine A", "Mine B"]
    points = np.array(
        [shapely.Point(121.0 + i * 0.1, 15.0).wkb for i in range(len(names))], dtype=object
    )
    pyogrio.raw.write(
        folder / "sites.shp",
        geometry=points,
        field_data=[np.array(names, dtype=object), np.array(["Au"] * len(names), dtype=object)],
        fields=["name", "commodity"],
        driver="ESRI Shapefile",
        crs="EPSG:4326" if prj else None,
        geometry_type="Point",
        encoding=encoding,
    )
    files = {
        f"data/{p.name}": p.read_bytes()
        for p in folder.iterdir()
        if p.suffix != ".cpg" or cpg is None
    }
    if cpg is not None:
        files["data/sites.cpg"] = cpg.encode()
    if not prj:
        files.pop("data/sites.prj", None)
    return write_zip(path, files)


def test_a_shapefile_without_prj_asks_for_the_crs(
    editor_phl: Client, phl_survey: Any, tmp_path: Path
) -> None:
    upload = post_upload(
        editor_phl,
        phl_survey,
        "sites.zip",
        shapefile_zip(tmp_path / "s.zip", prj=False),
        "occurrences",
    )
    assert upload.status == UploadStatus.NEEDS_INPUT
    assert any(q["field"] == "srid" for q in upload.report["questions"])

    upload = answer(editor_phl, upload, srid="4326", map_name="name", map_commodity="commodity")

    assert upload.status == UploadStatus.READY
    assert upload.report["crs"]["used"] == 4326


def test_thai_text_in_a_dbf_that_claims_utf8_is_detected(
    editor_phl: Client, phl_survey: Any, tmp_path: Path
) -> None:
    names = ["เหมืองทองคำ", "แหล่งดีบุก"]
    content = shapefile_zip(tmp_path / "th.zip", names=names, encoding="cp874", cpg="UTF-8")
    upload = post_upload(editor_phl, phl_survey, "thai.zip", content, "occurrences")
    assert upload.status == UploadStatus.NEEDS_INPUT
    question = next(q for q in upload.report["questions"] if q["field"] == "encoding")
    assert question["suggested"] == "cp874"

    upload = answer(
        editor_phl, upload, encoding="cp874", map_name="name", map_commodity="commodity"
    )
    assert upload.status == UploadStatus.READY
    publish(editor_phl, upload)
    assert sorted(
        MineralOccurrence.objects.filter(dataset=upload.dataset).values_list("name", flat=True)
    ) == sorted(names)


@pytest.mark.parametrize(
    "looked_up", ["by name", "by place"], ids=["hash-join-on-names", "index-around-each-point"]
)
def test_both_ways_of_finding_duplicates_report_the_same_ones(
    editor_phl: Client,
    phl_survey: Any,
    make_occurrence: Any,
    monkeypatch: pytest.MonkeyPatch,
    looked_up: str,
) -> None:
    """Possible duplicates (same name, any case, within 1 km) are reported, the same whichever
    way they are found: around each point for a small upload, by name for a large one."""
    chosen: list[bool] = []

    def by_place(staged: float, live: float) -> bool:
        chosen.append(looked_up == "by place")
        return chosen[-1]

    monkeypatch.setattr(pipeline, "duplicates_by_place", by_place)
    make_occurrence("Didipio", lon=121.461, lat=16.331)  # about 150 m from the upload's
    make_occurrence("tampakan", lon=125.055, lat=6.48)  # 553 m east, another case
    make_occurrence("TAMPAKAN", lon=125.0597, lat=6.48)  # 1,072 m east: too far
    make_occurrence("Not Didipio", lon=121.46, lat=16.33)  # same place, another name

    upload = post_upload(
        editor_phl,
        phl_survey,
        "sites.csv",
        PHL_CSV.replace("site,", "name,").encode(),
        "occurrences",
    )

    assert upload.status == UploadStatus.READY
    found = [(d["row"], d["name"], d["existing_name"]) for d in upload.report["duplicates"]]
    assert found == [(1, "Tampakan", "tampakan"), (2, "Didipio", "Didipio")]
    assert [round(d["distance_m"], -1) for d in upload.report["duplicates"]] == [550, 150]
    assert chosen == [looked_up == "by place"]


def test_duplicates_are_looked_up_around_each_point_only_for_small_uploads() -> None:
    assert pipeline.duplicates_by_place(1_000, 1_000_000)
    assert not pipeline.duplicates_by_place(1_000_000, 1_000_000)
    assert not pipeline.duplicates_by_place(50, 0)  # an empty live table: nothing to look in


@pytest.mark.parametrize("lat", [0.0, 6.48, 16.3, 45.0, 60.0, 80.0, -70.0])
def test_the_box_around_a_point_holds_every_point_within_the_distance(db: None, lat: float) -> None:
    """Points 999 m away in every direction lie in the box; 1,100 m north or south do not."""
    margins = pipeline._degree_margins(pipeline.DUPLICATE_DISTANCE_M)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""WITH s AS (SELECT ST_SetSRID(ST_MakePoint(121.5, %(lat)s), 4326) AS geom)
                SELECT bool_and(ST_Covers({pipeline.NEAR_BOX_SQL},
                           ST_Project(s.geom::geography, 999, radians(azimuth))::geometry)),
                       bool_or(ST_Covers({pipeline.NEAR_BOX_SQL},
                           ST_Project(s.geom::geography, 1100, radians(azimuth))::geometry))
                           FILTER (WHERE azimuth IN (0, 180))
                FROM s, generate_series(0, 355, 5) AS azimuth""",
            {"lat": lat, **margins},
        )
        within, beyond = cursor.fetchone()
    assert within is True
    assert beyond is False


def test_a_bad_archive_fails_with_a_clear_message_and_leaves_nothing(
    editor_phl: Client, phl_survey: Any, tmp_path: Path
) -> None:
    content = write_zip(tmp_path / "evil.zip", {"../../evil.py": b"print('x')"})
    upload = post_upload(editor_phl, phl_survey, "evil.zip", content, "vector")

    assert upload.status == UploadStatus.FAILED
    assert upload.error_message
    assert not (pipeline.upload_dir(upload) / "files").exists()
    assert upload.staging_table == ""
    assert not Dataset.objects.filter(title="Test dataset").exists()


def test_an_upload_larger_than_the_limit_is_413(
    editor_phl: Client, phl_survey: Any, settings: Any
) -> None:
    settings.UPLOAD_MAX_BYTES = 1000
    response = editor_phl.post(
        "/uploads/new/",
        {
            "organisation": phl_survey.pk,
            "target": "vector",
            "title": "x",
            "mode": "replace",
            "file": SimpleUploadedFile("big.csv", b"x" * 5000),
        },
    )
    assert response.status_code == 413
    assert "limit" in response.json()["error"]["message"]
    assert not Upload.objects.exists()


def staged_tables() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_schema || '.' || table_name FROM information_schema.tables WHERE table_schema IN ('ingest', 'dataset_versions')"
        )
        return {r[0] for r in cursor.fetchall()}


def test_a_failed_publish_changes_nothing(
    editor_phl: Client, phl_survey: Any, editor_phl_user: Any
) -> None:
    first = post_upload(
        editor_phl, phl_survey, "a.csv", PHL_CSV.replace("site,", "name,").encode(), "occurrences"
    )
    publish(editor_phl, first)
    second = post_upload(
        editor_phl,
        phl_survey,
        "b.csv",
        b"name,lon,lat,commodity\nOnly one,121,15,Au\n",
        "occurrences",
        dataset=first.dataset.pk,
    )
    tables_before = staged_tables()

    def boom() -> None:
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        pipeline.upload_publish(second, actor=editor_phl_user, fail_before_commit=boom)

    assert sorted(MineralOccurrence.objects.values_list("name", flat=True)) == [
        "Bogus",
        "Didipio",
        "Tampakan",
    ]
    dataset = Dataset.objects.get(pk=first.dataset.pk)
    assert dataset.version == 1
    assert staged_tables() == tables_before
    second.refresh_from_db()
    assert second.status == UploadStatus.READY


def test_publishing_is_not_bound_by_the_web_statement_timeout(
    editor_phl: Client, phl_survey: Any, editor_phl_user: Any
) -> None:
    """A million-row publish runs longer than a web request may: the job lifts the limit for
    its own transaction only, and the connection's limit is back once it ends."""
    upload = post_upload(
        editor_phl, phl_survey, "a.csv", PHL_CSV.replace("site,", "name,").encode(), "occurrences"
    )
    seen: list[str] = []

    def inside() -> None:
        with connection.cursor() as cursor:
            cursor.execute("SHOW statement_timeout")
            seen.append(cursor.fetchone()[0])
        raise RuntimeError("stop before commit")

    with connection.cursor() as cursor:
        cursor.execute("SET statement_timeout = '30s'")
    with pytest.raises(RuntimeError):
        pipeline.upload_publish(upload, actor=editor_phl_user, fail_before_commit=inside)
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        after = cursor.fetchone()[0]
    assert seen == ["0"]
    assert after == "30s"


def test_versions_are_listed_compared_and_restored(
    editor_phl: Client, anonymous: Client, phl_survey: Any
) -> None:
    v1 = post_upload(
        editor_phl, phl_survey, "a.csv", PHL_CSV.replace("site,", "name,").encode(), "occurrences"
    )
    publish(editor_phl, v1)
    changed = (
        "name,lon,lat,commodity,status\n"
        "Tampakan,125.05,6.48,Cu;Au,deposit\n"  # status changed
        "Siana,125.9,9.7,Au,operating_mine\n"
    )  # added; Didipio and Bogus removed
    v2 = post_upload(
        editor_phl, phl_survey, "b.csv", changed.encode(), "occurrences", dataset=v1.dataset.pk
    )
    publish(editor_phl, v2)
    slug = v1.dataset.slug

    page = editor_phl.get(f"/datasets/{slug}/versions/", {"older": 1, "newer": 2})
    comparison = page.context["comparison"]
    assert (comparison["added"], comparison["removed"], comparison["changed"]) == (1, 2, 1)
    assert [e["label"] for e in comparison["removed_examples"]] == ["Bogus", "Didipio"]
    # The database counts every difference but sends only the first examples of each kind.
    versions = {v.number: v for v in DatasetVersion.objects.filter(dataset__slug=slug)}
    first = pipeline.versions_compare(versions[1], versions[2], limit=1)
    assert (first["added"], first["removed"], first["changed"]) == (1, 2, 1)
    assert [e["label"] for e in first["removed_examples"]] == ["Bogus"]
    assert [e["label"] for e in first["changed_examples"]] == ["Tampakan"]
    assert api_names(anonymous) == ["Siana", "Tampakan"]

    response = editor_phl.post(f"/datasets/{slug}/versions/1/restore")
    assert response.status_code == 302
    assert api_names(anonymous) == ["Bogus", "Didipio", "Tampakan"]
    assert list(
        DatasetVersion.objects.filter(dataset__slug=slug).values_list("number", flat=True)
    ) == [3, 2, 1]
    assert Dataset.objects.get(slug=slug).version == 3


def test_append_mode_adds_to_the_previous_version(
    editor_phl: Client, anonymous: Client, phl_survey: Any
) -> None:
    v1 = post_upload(
        editor_phl, phl_survey, "a.csv", PHL_CSV.replace("site,", "name,").encode(), "occurrences"
    )
    publish(editor_phl, v1)
    v2 = post_upload(
        editor_phl,
        phl_survey,
        "b.csv",
        b"name,lon,lat,commodity\nSiana,125.9,9.7,Au\n",
        "occurrences",
        dataset=v1.dataset.pk,
        mode="append",
    )
    publish(editor_phl, v2)
    assert api_names(anonymous) == ["Bogus", "Didipio", "Siana", "Tampakan"]


def test_another_member_states_editor_cannot_see_or_act(
    editor_phl: Client, editor_idn: Client, phl_survey: Any
) -> None:
    upload = post_upload(
        editor_phl, phl_survey, "a.csv", PHL_CSV.replace("site,", "name,").encode(), "occurrences"
    )

    assert editor_idn.get(f"/uploads/{upload.pk}/").status_code == 404
    assert editor_idn.get(f"/api/uploads/{upload.pk}/").status_code == 404
    assert editor_idn.post(f"/uploads/{upload.pk}/publish").status_code == 404
    response = editor_idn.post(
        "/uploads/new/",
        {
            "organisation": phl_survey.pk,
            "target": "vector",
            "title": "x",
            "mode": "replace",
            "file": SimpleUploadedFile("a.csv", b"a,b\n1,2\n"),
        },
    )
    assert response.status_code == 400
    assert Upload.objects.count() == 1


def test_uploading_needs_an_editor(anonymous: Client, registered: Client) -> None:
    assert anonymous.get("/uploads/new/").status_code == 302  # to the login page
    assert registered.get("/uploads/new/").status_code == 403


def test_the_audit_trail_is_for_reviewers(
    editor_phl: Client, reviewer: Client, phl_survey: Any
) -> None:
    upload = post_upload(
        editor_phl, phl_survey, "a.csv", PHL_CSV.replace("site,", "name,").encode(), "occurrences"
    )
    publish(editor_phl, upload)

    actions = list(AuditEntry.objects.filter(upload=upload).values_list("action", flat=True))
    assert set(actions) >= {"uploaded", "checked", "published"}
    assert reviewer.get("/audit/").status_code == 200
    assert b"Published" in reviewer.get("/audit/").content
    assert editor_phl.get("/audit/").status_code == 403


def test_the_progress_api_reports_status(editor_phl: Client, phl_survey: Any) -> None:
    upload = post_upload(
        editor_phl, phl_survey, "a.csv", PHL_CSV.replace("site,", "name,").encode(), "occurrences"
    )
    status = editor_phl.get(f"/api/uploads/{upload.pk}/").json()
    assert (status["status"], status["progress"]) == ("ready", 100)
    preview = json.loads(editor_phl.get(f"/api/uploads/{upload.pk}/preview.geojson").content)
    assert len(preview["features"]) == 4  # the row without coordinates has no geometry
    assert sum(f["properties"]["rejected"] for f in preview["features"]) == 1


def test_a_large_preview_is_sampled_over_the_whole_file_rejected_rows_first(
    editor_phl: Client, phl_survey: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from layers import views

    rows = ["name,lon,lat,commodity"]
    rows += [f"Site {n},{121 + n / 100},{15 + n / 100},Cu" for n in range(1, 21)]  # Luzon
    rows[7] = "Far away,100.0,13.0,Cu"  # row 7: outside the Philippines, rejected
    upload = post_upload(
        editor_phl, phl_survey, "sites.csv", "\n".join(rows).encode(), "occurrences"
    )
    assert upload.status == UploadStatus.READY
    monkeypatch.setattr(views, "PREVIEW_LIMIT", 6)

    preview = json.loads(editor_phl.get(f"/api/uploads/{upload.pk}/preview.geojson").content)

    assert (preview["numberMatched"], preview["numberReturned"]) == (20, 6)  # 1 + 5
    shown = [(f["properties"]["row"], f["properties"]["rejected"]) for f in preview["features"]]
    assert (7, True) in shown  # the rejected row is always there
    accepted = [row for row, rejected in shown if not rejected]
    assert accepted == [1, 5, 9, 13, 17]  # one row in 4 over the whole file, not the first 5


def test_a_small_preview_shows_every_staged_feature(editor_phl: Client, phl_survey: Any) -> None:
    upload = post_upload(
        editor_phl, phl_survey, "a.csv", PHL_CSV.replace("site,", "name,").encode(), "occurrences"
    )
    preview = json.loads(editor_phl.get(f"/api/uploads/{upload.pk}/preview.geojson").content)
    assert preview["numberMatched"] == preview["numberReturned"] == len(preview["features"]) == 4


def test_a_published_vector_layer_is_tiled_and_listed_on_the_map(
    editor_phl: Client, anonymous: Client, editor_idn: Client, phl_survey: Any, shared_data: Path
) -> None:
    import mapbox_vector_tile

    content = (shared_data / "ne_admin0" / "ne_110m_admin_0_countries.zip").read_bytes()
    upload = post_upload(
        editor_phl, phl_survey, "ne_110m.zip", content, "vector", title="Countries 110m"
    )
    publish(editor_phl, upload)
    name = f"dataset-{upload.dataset.slug}"

    tile = anonymous.get(f"/tiles/{name}/2/3/1.mvt")
    assert tile.status_code == 200
    features = mapbox_vector_tile.decode(tile.content)[name]["features"]
    assert any(f["properties"].get("ISO_A3") == "IDN" for f in features)
    map_config = anonymous.get("/map/").context["map_config"]
    assert map_config["layers"][name]["title"] == "Countries 110m"

    # Withdrawn: the public and other member states' editors get 404, the survey's editors still see it.
    Dataset.objects.filter(pk=upload.dataset.pk).update(is_published=False)
    assert anonymous.get(f"/tiles/{name}/2/3/1.mvt").status_code == 404
    assert editor_idn.get(f"/tiles/{name}.json").status_code == 404
    assert editor_phl.get(f"/tiles/{name}/2/3/1.mvt").status_code == 200
    assert name not in anonymous.get("/map/").context["map_config"]["layers"]


def test_uploaded_occurrences_appear_in_the_tiles(
    editor_phl: Client, anonymous: Client, phl_survey: Any
) -> None:
    import mapbox_vector_tile

    upload = post_upload(
        editor_phl, phl_survey, "a.csv", PHL_CSV.replace("site,", "name,").encode(), "occurrences"
    )
    publish(editor_phl, upload)

    tile = anonymous.get("/tiles/occurrences/9/433/246.mvt")  # around Tampakan
    names = [
        f["properties"].get("name")
        for f in mapbox_vector_tile.decode(tile.content)["occurrences"]["features"]
    ]
    assert "Tampakan" in names


def test_a_full_disk_while_receiving_the_file_is_a_clear_507(
    editor_phl: Client, phl_survey: Any, monkeypatch: Any
) -> None:
    import errno
    import pathlib

    real_open = pathlib.Path.open

    def full_disk(self: pathlib.Path, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        if "w" in mode and "uploads" in str(self):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_open(self, mode, *args, **kwargs)

    monkeypatch.setattr(pathlib.Path, "open", full_disk)
    response = editor_phl.post(
        "/uploads/new/",
        {
            "organisation": phl_survey.pk,
            "target": "vector",
            "title": "x",
            "mode": "replace",
            "file": SimpleUploadedFile("a.csv", b"a,b\n1,2\n"),
        },
    )
    assert response.status_code == 507
    assert b"ran out of disk space" in response.content
    assert not Upload.objects.exists()
    from django.conf import settings

    assert not any((Path(settings.MEDIA_ROOT) / "uploads").glob("*"))


def test_a_full_disk_while_processing_fails_cleanly(
    editor_phl: Client, phl_survey: Any, monkeypatch: Any
) -> None:
    import errno

    from layers.ingest import pipeline as pipeline_module

    def full_disk(*args: Any, **kwargs: Any) -> Any:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(pipeline_module.safety, "extract_upload", full_disk)
    upload = post_upload(editor_phl, phl_survey, "a.csv", PHL_CSV.encode(), "occurrences")

    assert upload.status == UploadStatus.FAILED
    assert upload.error_code == "storage_full"
    assert "disk space" in upload.error_message
    assert upload.staging_table == ""
    assert not Dataset.objects.exists()


def test_other_names_and_multipoints_are_published_as_the_occurrence_needs_them(
    editor_phl: Client, anonymous: Client, phl_survey: Any
) -> None:
    """Publishing skips the per-row work for rows that need none (no other names, a plain
    point): the rows that do need it must still get it."""
    rows = (
        "name,aliases,lon,lat,commodity\n"
        'Tampakan,"Tampakan East, Tampakan Copper",125.05,6.48,Cu\n'
        "Didipio,,121.46,16.33,Au\n"
    )
    publish(editor_phl, post_upload(editor_phl, phl_survey, "a.csv", rows.encode(), "occurrences"))
    tampakan = MineralOccurrence.objects.get(name="Tampakan")
    assert tampakan.other_names == ["Tampakan East", "Tampakan Copper"]
    assert MineralOccurrence.objects.get(name="Didipio").other_names == []

    multipoint = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"name": "Twin pits", "commodity": "Au"},
                "geometry": {"type": "MultiPoint", "coordinates": [[121.0, 15.0], [121.2, 15.0]]},
            }
        ],
    }
    upload = post_upload(
        editor_phl, phl_survey, "b.geojson", json.dumps(multipoint).encode(), "occurrences"
    )
    publish(editor_phl, upload)
    twin = MineralOccurrence.objects.get(name="Twin pits")
    assert twin.geom.geom_type == "Point"
    assert 121.0 <= twin.geom.x <= 121.2 and twin.geom.y == pytest.approx(15.0)
    assert "Twin pits" in api_names(anonymous)
