"""CSV uploads: RELIABILITY.md file case 24, and case 20 for coordinate columns."""

import codecs
from pathlib import Path

import pytest

from layers.ingest.limits import Limits
from layers.ingest.safety import (
    Code,
    CsvInfo,
    RejectedFile,
    check_points,
    csv_records,
    find_dataset,
    inspect_csv,
)

ROWS = 'name;lon;lat;notes\r\nBan Khao;100.5;13.7;"first line\r\nsecond; line"\r\nLoei;101.7;17.5;plain\r\n'


def inspect(
    tmp_path: Path, data: bytes, name: str = "mines.csv", limits: Limits | None = None
) -> CsvInfo:
    (tmp_path / name).write_bytes(data)
    return inspect_csv(find_dataset(tmp_path), limits or Limits())


@pytest.mark.parametrize(
    ("delimiter", "label"), [(";", "semicolon"), ("\t", "tab"), ("|", "pipe"), (",", "comma")]
)
def test_each_delimiter_is_detected(tmp_path: Path, delimiter: str, label: str) -> None:
    text = ROWS.replace(";", delimiter).replace("second" + delimiter, "second;")

    info = inspect(tmp_path, text.encode())

    assert info.delimiter_name == label
    assert info.columns == ["name", "lon", "lat", "notes"]
    assert (info.row_count, info.multiline_rows, info.ragged_count) == (2, 1, 0)
    assert (info.lon_column, info.lat_column) == ("lon", "lat")


def test_a_quoted_multi_line_field_stays_one_value(tmp_path: Path) -> None:
    info = inspect(tmp_path, ROWS.encode())

    records = list(csv_records(info))

    assert records[0] == (
        1,
        {"name": "Ban Khao", "lon": "100.5", "lat": "13.7", "notes": "first line\r\nsecond; line"},
    )
    assert records[1][0] == 2


def test_a_utf8_bom_is_removed_from_the_first_column(tmp_path: Path) -> None:
    info = inspect(tmp_path, codecs.BOM_UTF8 + "ชื่อ;lon;lat\nเหมือง;100;15\n".encode())

    assert info.has_bom and info.encoding == "utf-8-sig"
    assert info.columns == ["ชื่อ", "lon", "lat"]
    assert list(csv_records(info)) == [(1, {"ชื่อ": "เหมือง", "lon": "100", "lat": "15"})]


def test_excel_unicode_text_is_read(tmp_path: Path) -> None:
    info = inspect(
        tmp_path, "name\tlon\tlat\r\nHà Nội\t105.8\t21.0\r\n".encode("utf-16"), name="mines.txt"
    )

    assert info.encoding == "utf-16" and info.delimiter_name == "tab"
    assert next(csv_records(info))[1]["name"] == "Hà Nội"


def test_a_thai_cp874_csv_is_detected(tmp_path: Path) -> None:
    info = inspect(
        tmp_path, "name,lon,lat\nเหมืองแร่ดีบุก,98.3,7.9\nบ่อทองคำ,101.1,16.2\n".encode("cp874")
    )

    assert info.encoding == "cp874"
    assert next(csv_records(info))[1]["name"] == "เหมืองแร่ดีบุก"


def test_blank_and_repeated_column_names_are_made_unique(tmp_path: Path) -> None:
    info = inspect(tmp_path, b",name,name,lat\n1,a,b,2\n")

    assert info.columns == ["column_1", "name", "name_2", "lat"]
    assert info.renamed_columns == {0: "column_1", 2: "name_2"}


def test_ragged_rows_are_reported_with_record_numbers(tmp_path: Path) -> None:
    info = inspect(tmp_path, b"name,lon,lat\na,1,2\nb,1\nc,1,2,3\n")

    assert info.ragged_rows == [2, 3]


def test_an_unclosed_quote_is_refused_with_the_record(tmp_path: Path) -> None:
    data = b'name,lon,lat\na,1,2\n"b,1,2\n' + b"x" * 2_000_000

    with pytest.raises(RejectedFile) as caught:
        inspect(tmp_path, data)

    assert caught.value.code == Code.BAD_CSV
    assert "record" in caught.value.message and "quote" in caught.value.message


def test_bad_coordinates_are_reported_per_row() -> None:
    rows = [
        (1, "100.5", "13.7"),
        (2, "200", "10"),
        (3, "10", "95"),
        (4, "NaN", "10"),
        (5, "abc", "10"),
        (6, "", "1"),
    ]

    problems = check_points(rows)

    assert [(p.row, p.code) for p in problems] == [
        (2, "out_of_range"),
        (3, "out_of_range"),
        (4, "not_finite"),
        (5, "not_a_number"),
        (6, "not_a_number"),
    ]
    assert "'abc' is not a number" in problems[3].message
