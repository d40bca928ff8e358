"""Fixtures for the file-gate tests: pure file tests, no database."""

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from layers.ingest.limits import Limits
from layers.ingest.safety import FoundDataset, extract_upload, find_dataset


@pytest.fixture
def limits() -> Limits:
    return Limits()


@pytest.fixture
def job(tmp_path: Path) -> Path:
    folder = tmp_path / "job"
    folder.mkdir()
    return folder


@pytest.fixture
def uploads(tmp_path: Path) -> Path:
    folder = tmp_path / "uploads"
    folder.mkdir()
    return folder


@pytest.fixture
def open_upload(job: Path, limits: Limits) -> Callable[[Path], FoundDataset]:
    """extract_upload then find_dataset, as the pipeline does."""

    def run(upload: Path) -> FoundDataset:
        return find_dataset(extract_upload(upload, job, limits))

    return run


def snapshot(folder: Path) -> dict[str, int]:
    """Every file below folder with its size: proof that a check wrote nothing."""
    return {
        p.relative_to(folder).as_posix(): p.stat().st_size
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def nothing_left(job: Path) -> bool:
    files = job / "files"
    return not files.exists() or not any(files.iterdir())


@pytest.fixture
def shared_files() -> Path:
    root = Path(os.environ.get("AMDIS_SHARED_DATA", ""))
    if not root.is_dir():
        pytest.fail(f"The shared data folder {root} is missing (set AMDIS_SHARED_DATA).")
    return root
