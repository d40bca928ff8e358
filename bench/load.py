"""Load generators: wrk over HTTP, pgbench straight against the database, and a small threaded
client for responses too slow or too large for wrk's fixed window (multi-megabyte GeoJSON)."""

import http.client
import json
import math
import os
import statistics
import subprocess
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench.config import BENCH_DIR, WORK
from bench.procs import CpuMeter, PidSource, peak_rss_mb, peak_rss_reset


@dataclass
class Run:
    """One timed run of one scenario against one server."""

    requests: int
    seconds: float
    errors: int
    p50_ms: float
    p99_ms: float
    bytes: int = 0
    cpu_cores: dict[str, float] = field(default_factory=dict)
    peak_rss_mb: float | None = None

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "rps": round(self.rps, 3)}


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100); 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else 0.0


class _Holder:
    """The pid of a load generator that is started inside a CPU measurement."""

    def __init__(self) -> None:
        self.pid: int | None = None

    def pids(self) -> list[int]:
        return [self.pid] if self.pid else []


def wrk(
    *,
    base_url: str,
    paths: Sequence[str],
    connections: int,
    seconds: float,
    groups: dict[str, PidSource],
    servers: PidSource | None = None,
    timeout_s: int = 60,
) -> Run:
    """`wrk -t1 -cN` rotating through `paths` (see rotate.lua)."""
    paths_file = WORK / "wrk-paths.txt"
    paths_file.parent.mkdir(parents=True, exist_ok=True)
    paths_file.write_text("\n".join(paths) + "\n")
    holder = _Holder()
    if servers:
        peak_rss_reset(servers())
    argv = [
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        f"--timeout={timeout_s}s",
        "-s",
        str(BENCH_DIR / "rotate.lua"),
        base_url,
        "--",
        str(paths_file),
    ]
    with CpuMeter({**groups, "loadgen": holder.pids}) as meter:
        process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        holder.pid = process.pid
        out, err = process.communicate(timeout=seconds + timeout_s + 30)
    text = out.decode()
    line = next((ln for ln in text.splitlines() if ln.startswith("BENCH_JSON ")), None)
    if process.returncode != 0 or line is None:
        raise RuntimeError(
            f"wrk failed ({process.returncode}): {text[-1000:]} {err.decode()[-1000:]}"
        )
    summary = json.loads(line.removeprefix("BENCH_JSON "))
    errors = sum(
        summary[k]
        for k in ("connect_errors", "read_errors", "write_errors", "status_errors", "timeouts")
    )
    return Run(
        requests=summary["requests"],
        seconds=summary["duration_us"] / 1e6,
        errors=errors,
        p50_ms=summary["p50_us"] / 1000,
        p99_ms=summary["p99_us"] / 1000,
        bytes=summary["bytes"],
        cpu_cores=meter.cores(),
        peak_rss_mb=peak_rss_mb(servers()) if servers else None,
    )


def pgbench(
    *,
    script: Path,
    clients: int,
    seconds: float,
    env: dict[str, str],
    groups: dict[str, PidSource],
    protocol: str = "simple",
) -> Run:
    """pgbench with a custom script, `-c clients -j 1`, and JIT off, as the app's connections
    have it (webgis.settings): pages of 10,000 rows cost enough to be JIT-compiled, which took
    longer than running them. `protocol` as the app runs the statement: "simple" (Django's
    driver sends each statement as text) or "prepared" (webgis.db.prepared)."""
    log_dir = WORK / "pgbench"
    log_dir.mkdir(parents=True, exist_ok=True)
    for old in log_dir.glob("tx*"):
        old.unlink()
    holder = _Holder()
    argv = [
        "pgbench",
        "-n",
        "-c",
        str(clients),
        "-j",
        "1",
        "-T",
        str(max(1, round(seconds))),
        "-M",
        protocol,
        "-f",
        str(script),
        "-l",
        "--log-prefix",
        str(log_dir / "tx"),
    ]
    with CpuMeter({**groups, "loadgen": holder.pids}) as meter:
        process = subprocess.Popen(
            argv,
            env={**os.environ, **env, "PGOPTIONS": "-c jit=off"},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        holder.pid = process.pid
        out, err = process.communicate(timeout=seconds + 120)
    if process.returncode != 0:
        raise RuntimeError(f"pgbench failed: {out.decode()[-800:]} {err.decode()[-1500:]}")
    latencies: list[float] = []
    starts: list[float] = []
    ends: list[float] = []
    for log_file in log_dir.glob("tx*"):
        for row in log_file.read_text().splitlines():
            parts = row.split()
            latency_us = int(parts[2])
            end = int(parts[4]) + int(parts[5]) / 1e6
            latencies.append(latency_us / 1000)
            ends.append(end)
            starts.append(end - latency_us / 1e6)
    window = (max(ends) - min(starts)) if ends else seconds
    return Run(
        requests=len(latencies),
        seconds=window,
        errors=0,
        p50_ms=percentile(latencies, 50),
        p99_ms=percentile(latencies, 99),
        cpu_cores=meter.cores(),
    )


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes
    seconds: float


def http_get(url: str, timeout: float = 300.0) -> Response:
    """One GET without Accept-Encoding (every server answers uncompressed)."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=timeout)
    started = time.monotonic()
    try:
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        conn.request("GET", path, headers={"Accept-Encoding": "identity"})
        response = conn.getresponse()
        body = response.read()
        headers = {k.lower(): v for k, v in response.getheaders()}
        return Response(response.status, headers, body, time.monotonic() - started)
    finally:
        conn.close()


def http_load(
    *,
    url: str,
    concurrency: int,
    seconds: float,
    groups: dict[str, PidSource],
    servers: PidSource | None = None,
    timeout: float = 300.0,
) -> Run:
    """`concurrency` keep-alive clients GET `url` for `seconds`; each finishes at least one request.

    Throughput counts completed requests over the time until the last one finished, so a server
    slower than the window is still measured rather than shown as zero.
    """
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    latencies: list[float] = []
    sizes: list[int] = []
    errors: list[str] = []
    lock = threading.Lock()
    started = time.monotonic()
    deadline = started + seconds

    def client() -> None:
        conn = http.client.HTTPConnection(
            parts.hostname or "127.0.0.1", parts.port, timeout=timeout
        )
        try:
            while True:
                begin = time.monotonic()
                conn.request("GET", path, headers={"Accept-Encoding": "identity"})
                response = conn.getresponse()
                body = response.read()
                took = time.monotonic() - begin
                with lock:
                    if response.status != 200:
                        errors.append(str(response.status))
                    latencies.append(took * 1000)
                    sizes.append(len(body))
                if response.getheader("connection", "").lower() == "close":
                    conn.close()
                if time.monotonic() >= deadline:
                    return
        except (OSError, http.client.HTTPException) as exc:
            with lock:
                errors.append(repr(exc))
        finally:
            conn.close()

    if servers:
        peak_rss_reset(servers())
    with CpuMeter({**groups, "loadgen": lambda: [os.getpid()]}) as meter:
        threads = [threading.Thread(target=client) for _ in range(concurrency)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    return Run(
        requests=len(latencies),
        seconds=meter.wall,
        errors=len(errors),
        p50_ms=percentile(latencies, 50),
        p99_ms=percentile(latencies, 99),
        bytes=sum(sizes),
        cpu_cores=meter.cores(),
        peak_rss_mb=peak_rss_mb(servers()) if servers else None,
    )
