"""The bench report is written again after every scenario, from the same data: writing it must
not change the data (a note once added came out once more with every write)."""

import copy
import json
from pathlib import Path

import pytest

from bench import peer_polygons
from bench.config import FULL
from bench.profiling import stage_profile, summarise_collapsed
from bench.report import markdown
from bench.results_model import Ratio, Results

RESULTS = Path(__file__).resolve().parents[2] / "bench" / "results" / "full.json"


def test_writing_the_report_again_repeats_no_note() -> None:
    data = json.loads(RESULTS.read_text())
    data["notes"] = [n for n in data["notes"] if not n.startswith("Other work")]
    # One measurement with busy neighbours is enough to draw the note.
    data["measurements"][0]["cpu_cores"]["other"] = 0.5
    before = copy.deepcopy(data)
    markdown(data)
    second = markdown(data)
    assert data == before
    assert second.count("Other work on the machine took more than 0.3 cores") == 1


class _Bench:
    """What the profiling helpers use of a Bench: its results and its profile."""

    def __init__(self, results: Results) -> None:
        self.results = results
        self.profile = FULL


def test_a_missed_ingest_target_is_profiled_stage_by_stage_in_the_report() -> None:
    data = json.loads(RESULTS.read_text())
    figures = data["extra"]["ingest-1000k_amdis"]
    bench = _Bench(Results("full"))
    stage_profile(bench, title="AMDIS upload ingest-1000k, stage by stage", figures=figures)  # type: ignore[arg-type]
    data["profiles"] = bench.results.profiles
    report = markdown(data)
    section = report.split("## Profiles", 1)[1]
    assert "### AMDIS upload ingest-1000k, stage by stage" in section
    slowest_stage = max(figures["stages_s"], key=figures["stages_s"].get)
    assert f"%  {slowest_stage}" in section
    assert "commit" in section and "slowest SQL statements" in section


def test_only_a_zoom_with_a_missed_polygon_target_is_profiled(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    profiled: list[str] = []
    monkeypatch.setattr(
        peer_polygons, "py_spy_under_load", lambda bench, **kw: profiled.append(kw["title"])
    )
    monkeypatch.setattr(
        peer_polygons, "explain", lambda bench, **kw: profiled.append(kw["statements"][0])
    )
    results = Results("full")
    results.ratios += [
        Ratio("polygons z13: AMDIS ÷ tipg", "a", "b", 2.4, 2.0),
        Ratio("polygons z13: AMDIS ÷ SQL floor", "a", "c", 0.7, 0.5),
        Ratio("polygons z14: AMDIS ÷ tipg", "a", "b", 1.99, 2.0),
        Ratio("polygons z14: AMDIS ÷ mapserver", "a", "d", 1.3, 1.0),
    ]
    bench = _Bench(results)
    peer_polygons._profile_if_missed(bench, 13, ["/t"], "SELECT 13")  # type: ignore[arg-type]
    assert profiled == []
    peer_polygons._profile_if_missed(bench, 14, ["/t"], "SELECT 14")  # type: ignore[arg-type]
    assert profiled == ["AMDIS polygon tiles z14 (AMDIS ÷ tipg missed; py-spy)", "SELECT 14"]


def test_a_streamed_response_is_profiled_while_its_body_is_sent(tmp_path: Path) -> None:
    """Granian iterates a streamed body after get_response has returned: those samples are
    request time too, and a server-side cursor's fetches are time spent waiting for PostgreSQL."""
    runner = "process 1:granian;_callback_wrapper.<locals>._runner (granian/wsgi.py:62)"
    view = (
        f"{runner};WSGIHandler.__call__ (django/core/handlers/wsgi.py:122);"
        "BaseHandler.get_response (django/core/handlers/base.py:140);items (catalogue/api.py:461)"
    )
    body = f"{runner};_items_json.<locals>.body (catalogue/api.py:444)"
    collapsed = tmp_path / "profile.txt"
    collapsed.write_text(
        f"{view};CursorWrapper._execute (django/db/backends/utils.py:105) 10\n"
        f"{view} 10\n"
        f"{body};FeatureStream.chunks (deposits/selectors.py:294);"
        "DatabaseErrorWrapper.__call__.<locals>.inner (django/db/utils.py:98) 70\n"
        f"{body};FeatureStream.chunks (deposits/selectors.py:298) 10\n"
        "process 1:granian;Thread.run (threading.py:982) 500\n"
    )
    summary, lines = summarise_collapsed(collapsed)
    assert summary.startswith("100 samples inside requests; 80% of request time")
    assert " 80.0%  _items_json.<locals>.body (catalogue/api.py)" in lines
