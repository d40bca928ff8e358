"""Finding and checking shapefiles: RELIABILITY.md file cases 6-12 and a vertex bomb (22)."""

import time
import unicodedata
from collections.abc import Callable
from pathlib import Path

import pytest

from layers.ingest.limits import Limits
from layers.ingest.safety import Code, FoundDataset, RejectedFile, inspect_vector
from tests.layers.ingest import hostile
from tests.layers.ingest.conftest import snapshot

OpenUpload = Callable[[Path], FoundDataset]
THAI = ["กรุงเทพมหานคร", "เหมืองแร่ดีบุก", "จังหวัดกาญจนบุรี", "บ่อทองคำ"]
TONES = "\u0300\u0301\u0303\u0309\u0323"
VIETNAMESE = ["Việt Nam", "Mỏ đồng Sin Quyền", "Quặng sắt Thạch Khê", "Thành phố Hồ Chí Minh"]


def cp1258(text: str) -> bytes:
    """Vietnamese in Windows-1258: base letters plus combining tone marks where needed."""
    out = b""
    for ch in unicodedata.normalize("NFC", text):
        try:
            out += ch.encode("cp1258")
        except UnicodeEncodeError:
            marks = unicodedata.normalize("NFD", ch)
            tone = next(m for m in marks if m in TONES)
            base = unicodedata.normalize("NFC", marks.replace(tone, ""))
            out += base.encode("cp1258") + tone.encode("cp1258")
    return out


def shapefile_zip(
    uploads: Path,
    *,
    names: list[bytes] | None = None,
    prj: str | None = hostile.WGS84_PRJ,
    cpg: str | None = "UTF-8",
    drop: str | None = None,
    folder: str = "",
    zip_name: str = "survey.zip",
) -> Path:
    names = names or [b"Ban Khao", b"Loei"]
    points = [(100.0 + i, 15.0) for i in range(len(names))]
    parts = hostile.point_shapefile_parts(points, records=[[n] for n in names])
    if drop:
        parts.pop(drop)
    source = uploads / zip_name.replace(".zip", "")
    hostile.write_shapefile(source / folder, "mines", parts, prj=prj, cpg=cpg)
    return hostile.zip_folder(source, uploads / zip_name)


def rejected(call: Callable[[], object]) -> RejectedFile:
    with pytest.raises(RejectedFile) as caught:
        call()
    return caught.value


def test_a_zip_without_a_shp_asks_for_exactly_one_dataset(
    uploads: Path, open_upload: OpenUpload
) -> None:
    upload = hostile.zip_of(uploads / "x.zip", {"mines.dbf": b"x", "README.txt": b"read me"})

    error = rejected(lambda: open_upload(upload))

    assert error.code == Code.NO_DATASET
    assert "Upload exactly one dataset" in error.message and "mines.dbf" in error.message


def test_two_datasets_in_one_zip_are_refused(uploads: Path, open_upload: OpenUpload) -> None:
    parts = hostile.point_shapefile_parts([(100, 15)])
    hostile.write_shapefile(uploads / "two/a", "mines", parts)
    hostile.write_shapefile(uploads / "two/b", "faults", parts)
    (uploads / "two/notes.geojson").write_text('{"type": "FeatureCollection", "features": []}')
    upload = hostile.zip_folder(uploads / "two", uploads / "two.zip")

    error = rejected(lambda: open_upload(upload))

    assert error.code == Code.SEVERAL_DATASETS
    assert "3 datasets" in error.message and "exactly one dataset" in error.message
    assert "a/mines.shp" in error.message


def test_a_shapefile_in_a_sub_folder_is_accepted(
    uploads: Path, open_upload: OpenUpload, limits: Limits
) -> None:
    found = open_upload(shapefile_zip(uploads, folder="export/2024"))

    info = inspect_vector(found, limits)

    assert found.path.relative_to(found.files_dir or Path()).as_posix() == "export/2024/mines.shp"
    assert info.feature_count == 2 and info.crs_epsg == 4326 and info.geometry_type == "Point"


@pytest.mark.parametrize(
    ("part", "named"), [(".shx", "index (.shx)"), (".dbf", "attribute table (.dbf)")]
)
def test_a_missing_part_is_named(
    uploads: Path, open_upload: OpenUpload, part: str, named: str
) -> None:
    error = rejected(lambda: open_upload(shapefile_zip(uploads, drop=part)))

    assert error.code == Code.MISSING_SIDECAR
    assert named in error.message and "is missing" in error.message
    assert error.details["missing"] == [part]


def test_a_missing_shx_is_never_rebuilt(uploads: Path, job: Path, limits: Limits) -> None:
    parts = hostile.point_shapefile_parts([(100, 15)])
    shp = hostile.write_shapefile(job / "files", "mines", parts)
    shp.with_suffix(".shx").unlink()
    found = FoundDataset(
        kind="shapefile",
        path=shp,
        sidecars={".dbf": shp.with_suffix(".dbf")},
        files_dir=job / "files",
    )

    with pytest.raises(KeyError):
        inspect_vector(found, limits)  # the pipeline never gets here: find_dataset refuses first
    assert not shp.with_suffix(".shx").exists()


def test_a_missing_prj_asks_for_the_crs(
    uploads: Path, open_upload: OpenUpload, limits: Limits
) -> None:
    info = inspect_vector(open_upload(shapefile_zip(uploads, prj=None)), limits)

    assert info.crs_epsg is None and info.needs_crs
    assert any("no .prj" in note for note in info.notes)


@pytest.mark.parametrize(
    ("prj", "code", "reason"),
    [
        ("this is not a projection", Code.BAD_CRS, "not a WKT definition"),
        ('GEOGCS["broken",DATUM["x"', Code.BAD_CRS, "cannot be read"),
        ("+proj=longlat +datum=WGS84", Code.BAD_CRS, "not a WKT definition"),
        ("http://169.254.169.254/latest/meta-data", Code.BAD_CRS, "not a WKT definition"),
        (
            'PROJCS["Mine grid",GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",'
            '6378137.0,298.257223563]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],'
            'PROJECTION["Transverse_Mercator"],PARAMETER["False_Easting",123456.0],'
            'PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",101.123],'
            'PARAMETER["Scale_Factor",0.9999],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]',
            Code.UNKNOWN_CRS,
            "matches no EPSG code",
        ),
    ],
)
def test_a_bad_or_unknown_prj_is_refused_with_the_reason(
    uploads: Path, open_upload: OpenUpload, limits: Limits, prj: str, code: str, reason: str
) -> None:
    found = open_upload(shapefile_zip(uploads, prj=prj))

    error = rejected(lambda: inspect_vector(found, limits))

    assert error.code == code
    assert reason in error.message and "mines.prj" in error.message


def test_a_thai_dbf_with_a_cpg_claiming_utf8_is_detected_as_cp874(
    uploads: Path, open_upload: OpenUpload, limits: Limits
) -> None:
    found = open_upload(
        shapefile_zip(uploads, names=[t.encode("cp874") for t in THAI], cpg="UTF-8")
    )

    info = inspect_vector(found, limits)

    guess = info.encoding_guess
    assert guess is not None
    assert guess.encoding == "cp874" and guess.declared == "utf-8"
    assert guess.conflicts_with_declared and guess.confidence >= 0.8
    assert "กรุงเทพมหานคร" in guess.examples
    assert info.read_encoding == "cp874"


def test_a_vietnamese_dbf_with_a_cpg_claiming_utf8_is_detected_as_cp1258(
    uploads: Path, open_upload: OpenUpload, limits: Limits
) -> None:
    found = open_upload(shapefile_zip(uploads, names=[cp1258(t) for t in VIETNAMESE], cpg="UTF-8"))

    guess = inspect_vector(found, limits).encoding_guess

    assert guess is not None and guess.encoding == "cp1258" and guess.conflicts_with_declared
    decoded = [unicodedata.normalize("NFC", e) for e in guess.examples]
    assert "Mỏ đồng Sin Quyền" in decoded


def test_a_western_dbf_with_a_cpg_claiming_utf8_is_detected_as_cp1252(
    uploads: Path, open_upload: OpenUpload, limits: Limits
) -> None:
    names = [t.encode("cp1252") for t in ["Mina São João", "Zürich Straße", "Peñasco", "Montréal"]]

    guess = inspect_vector(open_upload(shapefile_zip(uploads, names=names)), limits).encoding_guess

    assert guess is not None and guess.encoding == "cp1252" and guess.conflicts_with_declared


def test_a_correct_cpg_is_trusted(uploads: Path, open_upload: OpenUpload, limits: Limits) -> None:
    found = open_upload(shapefile_zip(uploads, names=[t.encode() for t in THAI], cpg="UTF-8"))

    guess = inspect_vector(found, limits).encoding_guess

    assert guess is not None and guess.encoding == "utf-8" and not guess.conflicts_with_declared


def _write(job: Path, parts: dict[str, bytes]) -> FoundDataset:
    shp = hostile.write_shapefile(job / "files", "mines", parts)
    sidecars = {s: shp.with_suffix(s) for s in (".shx", ".dbf", ".prj")}
    return FoundDataset(kind="shapefile", path=shp, sidecars=sidecars, files_dir=job / "files")


def _timed_rejection(found: FoundDataset, limits: Limits) -> RejectedFile:
    before = snapshot(found.path.parent)
    started = time.monotonic()
    error = rejected(lambda: inspect_vector(found, limits))
    assert time.monotonic() - started < 1, "a lying header must be caught at once"
    assert snapshot(found.path.parent) == before, "no file may be written or rebuilt"
    return error


def test_a_dbf_claiming_more_records_than_it_holds_is_refused(job: Path, limits: Limits) -> None:
    parts = hostile.point_shapefile_parts([(100, 15)])
    dbf = bytearray(parts[".dbf"])
    dbf[4:8] = (2_000_000_000).to_bytes(4, "little")
    parts[".dbf"] = bytes(dbf)

    error = _timed_rejection(_write(job, parts), Limits(max_features=5_000_000_000))

    assert error.code == Code.BAD_DBF
    assert "claims 2,000,000,000 records but the file holds only 1" in error.message


def test_dbf_field_widths_larger_than_the_record_are_refused(job: Path, limits: Limits) -> None:
    parts = hostile.point_shapefile_parts([(100, 15)])
    dbf = bytearray(parts[".dbf"])
    dbf[10:12] = (5).to_bytes(2, "little")  # records of 5 bytes for a 40-byte field
    parts[".dbf"] = bytes(dbf)

    error = _timed_rejection(_write(job, parts), limits)

    assert error.code == Code.BAD_DBF
    assert "41 bytes wide in total but each record is only 5 bytes" in error.message


def test_shx_offsets_past_the_end_of_the_shp_are_refused(job: Path, limits: Limits) -> None:
    parts = hostile.point_shapefile_parts([(100, 15), (101, 16)])
    shx = bytearray(parts[".shx"])
    shx[108:112] = (50_000_000).to_bytes(4, "big")
    parts[".shx"] = bytes(shx)

    error = _timed_rejection(_write(job, parts), limits)

    assert error.code == Code.BAD_SHX
    assert "points outside 'mines.shp' (record 2" in error.message


def test_a_zero_byte_shp_is_refused(uploads: Path, open_upload: OpenUpload) -> None:
    parts = hostile.point_shapefile_parts([(100, 15)])
    parts[".shp"] = b""
    hostile.write_shapefile(uploads / "z", "mines", parts)

    error = rejected(lambda: open_upload(hostile.zip_folder(uploads / "z", uploads / "z.zip")))

    assert error.code == Code.EMPTY_FILE
    assert "'mines.shp' is empty" in error.message


def test_an_executable_renamed_shp_is_refused(uploads: Path, open_upload: OpenUpload) -> None:
    parts = hostile.point_shapefile_parts([(100, 15)])
    parts[".shp"] = b"MZ\x90\x00" + bytes(200) + b"This program cannot be run in DOS mode."
    hostile.write_shapefile(uploads / "e", "mines", parts)

    error = rejected(lambda: open_upload(hostile.zip_folder(uploads / "e", uploads / "e.zip")))

    assert error.code == Code.WRONG_CONTENT
    assert "a Windows program" in error.message and "mines.shp" in error.message


def test_a_shx_and_dbf_that_disagree_are_refused(job: Path, limits: Limits) -> None:
    parts = hostile.point_shapefile_parts([(100, 15), (101, 16)])
    parts[".dbf"] = hostile.dbf_bytes([("NAME", 10)], [[b"one"]])

    error = _timed_rejection(_write(job, parts), limits)

    assert error.code == Code.RECORD_COUNT_MISMATCH


def test_a_polygon_with_too_many_vertices_is_refused_from_the_index(job: Path) -> None:
    found = _write(job, hostile.polygon_shapefile_parts(5000))

    error = _timed_rejection(found, Limits(max_vertices_per_geometry=1000))

    assert error.code == Code.TOO_MANY_VERTICES
    assert "Shape 1" in error.message and "Simplify" in error.message


def test_reading_a_shapefile_writes_nothing_next_to_it(job: Path, limits: Limits) -> None:
    found = _write(job, hostile.point_shapefile_parts([(100, 15)]))
    before = snapshot(job)

    inspect_vector(found, limits)

    assert snapshot(job) == before
