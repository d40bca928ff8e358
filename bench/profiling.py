"""Where the time goes when a target is missed: py-spy over the server's workers while it is under
load, summarised per function, and EXPLAIN ANALYZE of the SQL it runs."""

import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

from django.db import connection

from bench.config import PEERS_VENV, ROOT
from bench.context import Bench
from bench.load import http_load
from bench.log import log

PY_SPY = PEERS_VENV / "bin" / "py-spy"
# The frame that stands for "waiting for PostgreSQL" in a Django request (it calls psycopg2).
_DB_FRAME = "_execute (django/db/backends/utils.py)"


def _frame_name(frame: str) -> str:
    """'occurrences_list (deposits/api.py:42)' -> 'occurrences_list (deposits/api.py)'."""
    name, _, where = frame.partition(" (")
    path = where.rstrip(")").rsplit(":", 1)[0]
    for marker in ("site-packages/", f"{ROOT}/"):
        if marker in path:
            path = path.split(marker, 1)[1]
    return f"{name} ({path})" if path else name


def summarise_collapsed(path: Path, *, top: int = 14) -> tuple[str, list[str]]:
    """Inclusive and self share per function over the samples taken inside a request.

    Frames on (nearly) every sample, the server loop and middleware wrappers, say nothing and
    are left out of the inclusive list.
    """
    inclusive: Counter[str] = Counter()
    leaf: Counter[str] = Counter()
    total = 0
    database = 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not count_text.isdigit() or "get_response" not in stack:
            continue  # idle worker threads waiting for a connection
        count = int(count_text)
        total += count
        frames = [_frame_name(f) for f in stack.split(";") if not f.startswith("process ")]
        if any(f.endswith(_DB_FRAME) for f in frames):
            database += count
        for name in set(frames):
            inclusive[name] += count
        if frames:
            leaf[frames[-1]] += count
    if not total:
        return "no samples inside a request", []
    shares = [
        f"{100 * n / total:5.1f}%  {name}"
        for name, n in inclusive.most_common()
        if n < 0.99 * total
    ]
    lines = ["inclusive:", *shares[:top], "self (where the sample was taken):"]
    lines += [f"{100 * n / total:5.1f}%  {name}" for name, n in leaf.most_common(top // 2)]
    summary = (
        f"{total} samples inside requests; {100 * database / total:.0f}% of request time is"
        " spent waiting for PostgreSQL (Django's cursor `_execute`), the rest in Python."
    )
    return summary, lines


def py_spy_under_load(
    bench: Bench, *, server: str, url: str, seconds: float, title: str, concurrency: int
) -> None:
    if not PY_SPY.exists():
        bench.results.notes.append(f"{title}: py-spy is not installed, no profile.")
        return
    out = bench.work_dir("profiles") / f"{title.replace(' ', '-').replace('/', '-')}.txt"
    master = bench.servers[server].process
    if master is None:
        return
    log(f"Profiling {title} with py-spy for {seconds:.0f} s")
    spy = subprocess.Popen(
        [
            str(PY_SPY),
            "record",
            "--pid",
            str(master.pid),
            "--subprocesses",
            "--idle",
            "--nonblocking",
            "--format",
            "raw",
            "--rate",
            "250",
            "--duration",
            str(round(seconds)),
            "--output",
            str(out),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    http_load(url=url, concurrency=concurrency, seconds=seconds, groups={})
    _, err = spy.communicate(timeout=seconds + 60)
    if spy.returncode != 0 or not out.exists():
        bench.results.notes.append(f"{title}: py-spy failed: {err.decode()[-300:]}")
        return
    summary, top = summarise_collapsed(out)
    bench.results.profiles.append(
        {
            "title": title,
            "summary": summary,
            "top": top,
            "tool": "py-spy record --idle --subprocesses",
        }
    )


def explain(bench: Bench, *, title: str, statements: list[str], lines: int = 45) -> None:
    """EXPLAIN (ANALYZE, BUFFERS) of the last statement (the one that builds the response)."""
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statements[-1])
        plan: list[Any] = [row[0] for row in cursor.fetchall()]
    timing = [
        p for p in plan if p.startswith(("Planning Time", "Execution Time", "JIT", "  Timing"))
    ]
    bench.results.profiles.append(
        {
            "title": title,
            "summary": "EXPLAIN (ANALYZE, BUFFERS) of the SQL; "
            + "; ".join(t.strip() for t in timing),
            "top": [p[:160] for p in plan[:lines]],
            "tool": "EXPLAIN ANALYZE",
        }
    )
