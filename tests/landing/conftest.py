"""Indicator files written by each test, and the plan's figures loaded on demand."""

from collections.abc import Callable
from pathlib import Path

import pytest

from landing.services import indicators_reference_load

LONG_HEADER = "indicator,member_state,commodity,year,value,unit,qualifier,source,note"


@pytest.fixture
def plan_figures(db: None) -> None:
    """Indicators, sources and the plan's figures (a transactional test elsewhere may have flushed them)."""
    indicators_reference_load()


@pytest.fixture
def write_csv(tmp_path: Path) -> Callable[..., Path]:
    """Writes `text` (or bytes) to a file; lines are joined with newlines."""

    def write(*lines: str, name: str = "figures.csv", raw: bytes | None = None) -> Path:
        path = tmp_path / name
        if raw is not None:
            path.write_bytes(raw)
        else:
            path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

    return write
