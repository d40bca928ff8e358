"""Where the time goes when a target is missed: py-spy over the server's workers while it is under
load, summarised per function, and EXPLAIN ANALYZE of the SQL it runs."""

import subprocess
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.db import connection, transaction

from bench.config import PEERS_VENV, ROOT
from bench.context import Bench
from bench.log import log

PY_SPY = PEERS_VENV / "bin" / "py-spy"
# The frames that stand for "waiting for PostgreSQL" in a Django request: the cursor's
# execute, and the wrapper around its other calls to psycopg2 (fetchmany of a server-side
# cursor, when a large page is sent as it is read).
_DB_FRAMES = (
    "_execute (django/db/backends/utils.py)",
    "DatabaseErrorWrapper.__call__.<locals>.inner (django/db/utils.py)",
)
# A sample is inside a request when it is in Django's request handling or in Granian's call of
# the WSGI application, which also iterates the body of a streamed response (after
# get_response has returned).
_REQUEST_MARKERS = ("get_response", "_runner (granian/wsgi.py")


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
        if not count_text.isdigit() or not any(m in stack for m in _REQUEST_MARKERS):
            continue  # idle worker threads waiting for a connection
        count = int(count_text)
        total += count
        frames = [_frame_name(f) for f in stack.split(";") if not f.startswith("process ")]
        if any(f.endswith(_DB_FRAMES) for f in frames):
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
        " spent waiting for PostgreSQL (in Django's cursor calls), the rest in Python."
    )
    return summary, lines


def py_spy_under_load(
    bench: Bench, *, server: str, seconds: float, title: str, load: Callable[[], object]
) -> None:
    """py-spy over `server`'s workers while `load` (the scenario's own load, for `seconds`)
    runs; the summary goes into the report's profiles."""
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
    load()
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
    """EXPLAIN (ANALYZE, BUFFERS) of the last statement (the one that builds the response),
    after the ones before it (the settings the app runs it with, such as no parallel workers),
    in a transaction rolled back after, so no setting outlives it."""
    with transaction.atomic(), connection.cursor() as cursor:
        for statement in statements[:-1]:
            if statement.lstrip().upper().startswith("SET "):
                cursor.execute(statement)
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statements[-1])
        plan: list[Any] = [row[0] for row in cursor.fetchall()]
        transaction.set_rollback(True)
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


def stage_profile(bench: Bench, *, title: str, figures: dict[str, Any]) -> None:
    """Where an upload's time goes: wall seconds per pipeline stage and its slowest SQL. The
    work is in PostgreSQL, where a Python profiler sees only the wait, and a profiler attached
    to the timed run would slow it: the pipeline times its own stages instead."""
    total = float(figures["seconds"])
    stages = sorted(figures["stages_s"].items(), key=lambda kv: -kv[1])
    lines = [f"{seconds:7.1f} s {100 * seconds / total:5.1f}%  {name}" for name, seconds in stages]
    lines.append(f"{figures['commit_s']:7.1f} s {100 * figures['commit_s'] / total:5.1f}%  commit")
    lines += ["slowest SQL statements (s):"]
    lines += [f"{seconds:7.1f}  {sql[:140]}" for seconds, sql in figures["slowest_sql"][:10]]
    bench.results.profiles.append(
        {
            "title": title,
            "summary": (
                f"{total:.1f} s from upload to published: checked in {figures['process_s']:.1f} s,"
                f" published in {figures['publish_s']:.1f} s (of which the commit, with the"
                f" deferred foreign-key checks of every row, {figures['commit_s']:.1f} s)."
                + (
                    f" Then the job writing the stored GeoJSON took {figures['json_job_s']:.1f} s."
                    if figures.get("json_job_datasets")
                    else ""
                )
            ),
            "top": lines,
            "tool": "stage timer and SQL timer of bench/peer_ingest.py",
        }
    )
