"""The bench report is written again after every scenario, from the same data: writing it must
not change the data (a note once added came out once more with every write)."""

import copy
import json
from pathlib import Path

from bench.report import markdown

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
