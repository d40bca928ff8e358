"""Occurrences from vector files are staged a batch at a time, column by column
(deposits.services._stage_columns): the report must say exactly what the row-by-row staging
said — rejected rows with their reasons and row numbers, unmapped terms with their counts —
and the published rows must carry the same values."""

import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pyogrio
import pytest
import shapely
from django.db import connection
from django.test import Client

from deposits.mapping import OccurrenceMapping
from deposits.models import MineralOccurrence
from deposits.services import _commodity_lookup, _stage_columns, _stage_row, member_state_lookup
from layers.ingest import pipeline
from layers.ingest.pipeline import copy_text
from layers.models import UploadStatus
from tests.layers.test_uploads import post_upload, publish

pytestmark = pytest.mark.django_db


def feature(name: Any, geometry: Any, **properties: Any) -> dict[str, Any]:
    return {
        "type": "Feature",
        "geometry": geometry,
        "properties": {"name": name, **properties},
    }


def point(lon: float, lat: float) -> dict[str, Any]:
    return {"type": "Point", "coordinates": [lon, lat]}


SITES = [
    feature("Tampakan", point(125.05, 6.48), commodity="Cu;Au", status="prospect", tonnage=2.5),
    feature(None, point(121.0, 15.0), commodity="Au", status="prospect", tonnage=1.0),
    feature("No geometry", None, commodity="Au", status="prospect", tonnage=1.0),
    feature(
        "A line",
        {"type": "LineString", "coordinates": [[121.0, 15.0], [121.1, 15.1]]},
        commodity="Au",
        status="prospect",
        tonnage=1.0,
    ),
    feature("Far away", point(100.0, 13.0), commodity="Cu", status="prospect", tonnage=1.0),
    feature("Bogus", point(121.2, 15.2), commodity="Coper", status="producer", tonnage=0.0),
    feature("Bogus 2", point(121.3, 15.3), commodity="Coper;Au", status="deposit", tonnage=None),
    feature(
        'Tab\there \\ "quoted"\nnew line', point(121.4, 15.4), commodity="Ni", status="deposit"
    ),
]


def test_a_geojson_of_occurrences_reports_rows_and_terms_as_before(
    editor_phl: Client, phl_survey: Any
) -> None:
    content = json.dumps({"type": "FeatureCollection", "features": SITES}).encode()
    upload = post_upload(editor_phl, phl_survey, "sites.geojson", content, "occurrences")
    assert upload.status == UploadStatus.READY, (upload.error_message, upload.report)
    report = upload.report

    assert report["counts"] == {"read": 8, "accepted": 4, "rejected": 4, "repaired": 0}
    reasons = {r["row"]: r["reason"] for r in report["rejected"]}
    assert reasons[2] == "no name"
    assert reasons[3] == "No geometry: no geometry"
    assert "linestring where the target needs a point" in reasons[4]
    assert "outside Philippines" in reasons[5]
    assert sorted(reasons) == [2, 3, 4, 5]
    commodity = {t["term"]: t["rows"] for t in report["unmapped_terms"]["commodity"]}
    assert commodity == {"Coper": 2}
    assert {t["term"]: t["rows"] for t in report["unmapped_terms"]["status"]} == {"producer": 1}

    publish(editor_phl, upload)
    published = {o.name: o for o in MineralOccurrence.objects.filter(dataset=upload.dataset)}
    assert sorted(published) == sorted(
        ["Tampakan", "Bogus", "Bogus 2", 'Tab\there \\ "quoted"\nnew line']
    )
    tampakan = published["Tampakan"]
    assert sorted(tampakan.commodities.values_list("code", flat=True)) == ["copper", "gold"]
    assert tampakan.attributes == {
        "name": "Tampakan",
        "commodity": "Cu;Au",
        "status": "prospect",
        "tonnage": 2.5,
    }
    assert tampakan.member_state.code == "PHL"
    assert (round(tampakan.geom.x, 2), round(tampakan.geom.y, 2)) == (125.05, 6.48)
    assert published["Bogus"].status == "occurrence"
    assert list(published["Bogus 2"].commodities.values_list("code", flat=True)) == ["gold"]
    assert "tonnage" not in published["Bogus 2"].attributes


@pytest.mark.parametrize("z", [12.0, None], ids=["with-a-z-point", "plain-points"])
def test_projected_points_are_reprojected(
    editor_phl: Client, phl_survey: Any, tmp_path: Path, z: float | None
) -> None:
    """With a Z point the batch goes through shapely (staged as WKB, not as coordinates);
    plain 2D points are read from their WKB bytes (layers.ingest.wkb)."""
    folder = tmp_path / "shp"
    folder.mkdir()
    # UTM 51N: Tampakan and another point.
    second = shapely.Point(727_815.3, 717_833.8, z) if z else shapely.Point(727_815.3, 717_833.8)
    geometry = np.array([shapely.Point(726_713.5, 716_723.2).wkb, second.wkb], dtype=object)
    pyogrio.raw.write(
        folder / "sites.shp",
        geometry=geometry,
        field_data=[np.array(["Tampakan", "Z point"], dtype=object), np.array(["Cu", "Au"])],
        fields=["name", "commodity"],
        driver="ESRI Shapefile",
        crs="EPSG:32651",
        geometry_type="Point Z" if z else "Point",
    )
    archive = tmp_path / "utm.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for part in folder.iterdir():
            zipped.write(part, part.name)
    upload = post_upload(editor_phl, phl_survey, "utm.zip", archive.read_bytes(), "occurrences")
    assert upload.status == UploadStatus.READY, (upload.error_message, upload.report)
    assert upload.report["counts"]["accepted"] == 2
    publish(editor_phl, upload)
    tampakan = MineralOccurrence.objects.get(dataset=upload.dataset, name="Tampakan")
    assert abs(tampakan.geom.x - 125.05) < 0.01 and abs(tampakan.geom.y - 6.48) < 0.01


def test_a_copy_that_fails_in_its_thread_fails_the_upload_and_leaves_nothing(
    editor_phl: Client, phl_survey: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each batch's COPY runs in a thread while the next is prepared (pipeline._BackgroundCopy):
    its error reaches the job, which reports it, drops the staging table and can go on."""
    monkeypatch.setattr(pipeline, "copy_text", lambda values: "not\tenough columns\n")
    content = json.dumps({"type": "FeatureCollection", "features": SITES}).encode()
    upload = post_upload(editor_phl, phl_survey, "sites.geojson", content, "occurrences")
    assert (upload.status, upload.error_code) == (UploadStatus.FAILED, "internal_error")
    assert upload.error_message.startswith("The file could not be processed (DataError).")
    assert upload.staging_table == ""
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'ingest'")
        assert cursor.fetchone() == (0,)

    monkeypatch.undo()  # the connection is fine: the same file goes through
    again = post_upload(editor_phl, phl_survey, "sites.geojson", content, "occurrences")
    assert again.status == UploadStatus.READY, again.error_message


class Problems:
    def __init__(self) -> None:
        self.rejected: list[tuple[int, str]] = []
        self.unmapped: dict[str, dict[str, int]] = {}

    def note_unmapped(self, kind: str, term: str) -> None:
        terms = self.unmapped.setdefault(kind, {})
        terms[term] = terms.get(term, 0) + 1


def test_column_staging_equals_row_staging(reference_data: None) -> None:
    """Every mapping rule (values, splits, constants, grades, secondary from grades, country,
    dates, null values) gives the same staging values column by column as row by row."""
    mapping = OccurrenceMapping.from_dict(
        {
            "dataset": {"slug": "x", "title": "x", "licence": "x"},
            "geometry": {"lon": "x", "lat": "y"},
            "fields": {
                "name": "name",
                "other_names": {"column": "aka", "split": ","},
                "deposit_type": {"column": "type", "values": {"17": "Porphyry Cu"}},
                "status": {"constant": "deposit"},
                "resource_date": "date",
                "reporting_code": "code",
                "country": "country",
                "source_id": "id",
            },
            "commodities": {
                "main": {"column": "commodity", "split": ";"},
                "secondary": {"from_grades": True},
            },
            "grades": {
                "gold": {"column": "au", "unit": "g/t"},
                "copper": {"column": "cu", "unit": "%"},
            },
            "null_values": ["", "n.d."],
        }
    )
    names = [
        "name",
        "aka",
        "type",
        "date",
        "code",
        "country",
        "id",
        "commodity",
        "au",
        "cu",
        "x",
        "y",
    ]
    rows = [
        ["A", "B, C", "17", "2020-01-02", "jorc", "Philippines", 7, "Cu;Au", 1.5, 0.0, "121", "15"],
        ["n.d.", None, "18", "bad", "", "France", 8, "Cu", None, 0.3, "121", "15"],
        ["D", "", None, None, "xx", None, None, "Coper; ;Zn", "0", "n.d.", "abc", "15"],
        ["E", None, "17", None, None, "PHL", 9, None, "2", "1", "200", "15"],
        ["F", "G", "17", None, "ni43101", "", "", "Gold;gold", "n.d.", "2.5", "121.5", "-8"],
    ]
    commodities, states = _commodity_lookup(), member_state_lookup()
    by_row, by_column = Problems(), Problems()
    expected = [
        staged
        for number, values in enumerate(rows, start=1)
        if (
            staged := _stage_row(
                number,
                dict(zip(names, values, strict=True)),
                None,
                mapping,
                commodities,
                states,
                by_row,
            )
        )
        is not None
    ]
    columns = [list(c) for c in zip(*rows, strict=True)]
    got = _stage_columns(
        1, names, columns, [None] * len(rows), mapping, commodities, states, by_column
    )
    assert by_column.rejected == by_row.rejected
    assert by_column.unmapped == by_row.unmapped
    from deposits.services import STAGING_COLUMNS

    for i, name in enumerate(STAGING_COLUMNS):
        values = got[name]
        if name in {"attributes", "other_names", "grades", "main_ids", "secondary_ids"}:
            assert [json.loads(v) for v in values] == [json.loads(r[i]) for r in expected], name
        elif name != "wkb":
            assert values == [r[i] for r in expected], name


def test_copy_text_escapes_what_copy_needs() -> None:
    text = copy_text([[1, 2, 3], ["a\tb", None, "c\\d\ne\rf"], [None, 1.5, True]])
    assert text == "1\ta\\tb\t\\N\n2\t\\N\t1.5\n3\tc\\\\d\\ne\\rf\tTrue\n"


def test_copy_text_writes_an_empty_column_as_nulls() -> None:
    assert copy_text([[1, 2], [None, None], ["", None]]) == "1\t\\N\t\n2\t\\N\t\\N\n"
