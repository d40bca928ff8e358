"""Extracting uploads: RELIABILITY.md file cases 1-5 and 17."""

import time
import zipfile
from pathlib import Path

import pytest

from layers.ingest.limits import Limits
from layers.ingest.safety import Code, RejectedFile, check_upload_size, extract_upload
from tests.layers.ingest import hostile
from tests.layers.ingest.conftest import nothing_left


def reject(upload: Path, job: Path, limits: Limits) -> RejectedFile:
    with pytest.raises(RejectedFile) as caught:
        extract_upload(upload, job, limits)
    assert nothing_left(job), "a refused upload must leave nothing in the job's files folder"
    return caught.value


@pytest.mark.parametrize(
    "name",
    ["../../x.py", "data/../../../x.py", "/etc/cron.d/x", "C:/Windows/x.bat", "..\\..\\x.py"],
)
def test_it_rejects_zip_slip(uploads: Path, job: Path, limits: Limits, name: str) -> None:
    upload = hostile.zip_of(uploads / "slip.zip", {"ok.txt": b"fine", name: b"import os"})

    error = reject(upload, job, limits)

    assert error.code == Code.ZIP_SLIP
    assert "unsafe path" in error.message and "upload again" in error.message
    assert not (job.parent / "x.py").exists() and not (job / "x.py").exists()


def test_it_rejects_a_symlink(uploads: Path, job: Path, limits: Limits) -> None:
    error = reject(hostile.zip_with_symlink(uploads / "link.zip"), job, limits)

    assert error.code == Code.SYMLINK
    assert "symbolic link" in error.message and "countries.shp" in error.message


def test_it_rejects_a_zip_inside_a_zip(uploads: Path, job: Path, limits: Limits) -> None:
    inner = hostile.zip_of(uploads / "inner.zip", {"a.geojson": b"{}"}).read_bytes()
    upload = hostile.zip_of(uploads / "outer.zip", {"data/inner.zip": inner})

    error = reject(upload, job, limits)

    assert error.code == Code.NESTED_ARCHIVE
    assert "data/inner.zip" in error.message and "archive inside an archive" in error.message


def test_it_rejects_an_archive_renamed_inside_a_zip(
    uploads: Path, job: Path, limits: Limits
) -> None:
    inner = hostile.zip_of(uploads / "inner.zip", {"a.geojson": b"{}"}).read_bytes()
    upload = hostile.zip_of(uploads / "outer.zip", {"roads.dbf": inner})

    assert reject(upload, job, limits).code == Code.NESTED_ARCHIVE


def test_it_rejects_an_entry_declaring_10_gb(uploads: Path, job: Path, limits: Limits) -> None:
    upload = hostile.zip_declaring_huge_entry(uploads / "huge.zip", declared=10 * 1024**3)

    error = reject(upload, job, limits)

    assert error.code == Code.TOO_LARGE_UNCOMPRESSED
    assert "Split the data" in error.message


def test_it_rejects_an_entry_that_under_declares_its_size(uploads: Path, job: Path) -> None:
    # 20 MB of zeros declared as 1,000 bytes: the lie shows while extracting.
    chunks = (bytes(1024 * 1024) for _ in range(20))
    upload = hostile.zip_deflated_entry(
        uploads / "liar.zip", "a.geojson", chunks, declared_size=1000
    )
    started = time.monotonic()

    error = reject(upload, job, Limits())

    assert error.code == Code.SIZE_MISMATCH
    assert "more data than its header declares" in error.message
    assert time.monotonic() - started < 2


def test_it_rejects_a_compression_bomb_by_ratio(uploads: Path, job: Path) -> None:
    chunks = (bytes(1024 * 1024) for _ in range(50))
    upload = hostile.zip_deflated_entry(uploads / "bomb.zip", "a.geojson", chunks)
    assert upload.stat().st_size < 200_000

    error = reject(upload, job, Limits())

    assert error.code == Code.COMPRESSION_RATIO
    assert "zip bomb" in error.message


def test_it_caps_the_bytes_actually_extracted(uploads: Path, job: Path) -> None:
    chunks = (bytes(1024 * 1024) for _ in range(3))
    upload = hostile.zip_deflated_entry(uploads / "big.zip", "a.geojson", chunks)

    error = reject(
        upload, job, Limits(max_uncompressed_bytes=2 * 1024 * 1024, max_compression_ratio=10**6)
    )

    assert error.code == Code.TOO_LARGE_UNCOMPRESSED


def test_it_rejects_100000_entries(uploads: Path, job: Path, limits: Limits) -> None:
    upload = hostile.zip_with_many_entries(uploads / "many.zip", 100_000)
    started = time.monotonic()

    error = reject(upload, job, limits)

    assert error.code == Code.TOO_MANY_ENTRIES
    assert "at most 1,000" in error.message
    assert time.monotonic() - started < 1


def test_it_counts_entries_even_when_the_end_record_lies(
    uploads: Path, job: Path, limits: Limits
) -> None:
    upload = hostile.zip_with_many_entries(uploads / "liar.zip", 1001, claimed=1)

    assert reject(upload, job, limits).code == Code.TOO_MANY_ENTRIES


def test_it_rejects_overlapping_entries(uploads: Path, job: Path, limits: Limits) -> None:
    upload = hostile.zip_with_many_entries(uploads / "overlap.zip", 5)

    assert reject(upload, job, limits).code == Code.OVERLAPPING_ENTRIES


def test_it_rejects_other_archive_formats(uploads: Path, job: Path, limits: Limits) -> None:
    import gzip

    upload = uploads / "data.geojson.gz"
    upload.write_bytes(gzip.compress(b"{}"))

    error = reject(upload, job, limits)

    assert error.code == Code.UNSUPPORTED_ARCHIVE
    assert "Only .zip" in error.message


def test_it_rejects_an_upload_over_the_limit_as_413(uploads: Path, job: Path) -> None:
    upload = uploads / "big.geojson"
    upload.write_bytes(b" " * 2048)

    error = reject(upload, job, Limits(max_upload_bytes=1024))

    assert error.code == Code.UPLOAD_TOO_LARGE
    assert error.details["http_status"] == 413
    assert "more than the 1.0 KB allowed" in error.message


def test_the_view_can_refuse_a_declared_length_before_reading() -> None:
    with pytest.raises(RejectedFile) as caught:
        check_upload_size(3 * 1024**3, Limits())
    assert caught.value.details["http_status"] == 413


def test_it_extracts_a_clean_zip_into_the_files_folder(
    uploads: Path, job: Path, limits: Limits
) -> None:
    upload = hostile.zip_of(
        uploads / "ok.zip",
        {
            "survey/roads.geojson": b"{}",
            "__MACOSX/survey/._roads.geojson": b"junk",
            ".DS_Store": b"x",
        },
    )

    files = extract_upload(upload, job, limits)

    assert files == job / "files"
    assert sorted(p.relative_to(files).as_posix() for p in files.rglob("*") if p.is_file()) == [
        "survey/roads.geojson"
    ]
    assert (files / "survey/roads.geojson").stat().st_mode & 0o077 == 0


def test_it_copies_a_single_file_under_a_safe_name(
    uploads: Path, job: Path, limits: Limits
) -> None:
    upload = uploads / "..évil;name$.geojson"
    upload.write_bytes(b"{}")

    files = extract_upload(upload, job, limits)

    assert [p.name for p in files.iterdir()] == ["évil_name_.geojson"]


def test_it_rejects_a_damaged_zip(uploads: Path, job: Path, limits: Limits) -> None:
    upload = hostile.zip_of(uploads / "cut.zip", {"a.geojson": b"{}" * 1000})
    upload.write_bytes(upload.read_bytes()[:-30])

    assert reject(upload, job, limits).code == Code.BAD_ZIP


def test_it_rejects_duplicate_names(uploads: Path, job: Path, limits: Limits) -> None:
    with zipfile.ZipFile(uploads / "dup.zip", "w") as archive:
        archive.writestr("A.shp", b"1")
        archive.writestr("a.SHP", b"2")

    assert reject(uploads / "dup.zip", job, limits).code == Code.DUPLICATE_ENTRY
