"""Servers started by the bench, and the CPU and memory they use.

Each server runs in its own session (process group) and is stopped through an ExitStack, so a
failure or Ctrl-C anywhere still stops every server the run started, and only those.
"""

import os
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Self

from bench.config import HOST, WORK
from bench.log import log

_CLK_TCK = os.sysconf("SC_CLK_TCK")


def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                stat = handle.read()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    return children


def process_tree(pid: int) -> list[int]:
    """`pid` and all its descendants alive now."""
    children = _children_map()
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of one process, or None once it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / _CLK_TCK


def peak_rss_mb(pids: Sequence[int]) -> float:
    """The largest peak resident set (VmHWM) among `pids`, in MiB."""
    peak = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status") as handle:
                for line in handle:
                    if line.startswith("VmHWM:"):
                        peak = max(peak, int(line.split()[1]))
        except OSError:
            continue
    return peak / 1024


def peak_rss_reset(pids: Sequence[int]) -> None:
    """Starts a new peak (VmHWM) for each process, so a peak belongs to one measurement."""
    for pid in pids:
        try:
            with open(f"/proc/{pid}/clear_refs", "w") as handle:
                handle.write("5")
        except OSError:
            continue


def cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return handle.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


PidSource = Callable[[], list[int]]


def machine_busy_seconds() -> float:
    """CPU seconds the whole machine has spent busy (all cores), from /proc/stat."""
    with open("/proc/stat") as handle:
        fields = [int(v) for v in handle.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal ...: all but idle and iowait.
    return (sum(fields[:8]) - fields[3] - fields[4]) / _CLK_TCK


@dataclass
class CpuMeter:
    """Samples the CPU time of groups of processes while a measurement runs.

    Processes that start during the window count from zero; each process's last sample counts,
    so short-lived backends are included up to their last sample (every 0.2 s).
    """

    groups: dict[str, PidSource]
    interval: float = 0.2
    _first: dict[str, dict[int, float]] = field(default_factory=dict)
    _last: dict[str, dict[int, float]] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _started: float = 0.0
    _machine_start: float = 0.0
    machine: float = 0.0
    wall: float = 0.0

    def _sample(self, initial: bool) -> None:
        for name, source in self.groups.items():
            last = self._last.setdefault(name, {})
            first = self._first.setdefault(name, {})
            for pid in source():
                seconds = cpu_seconds(pid)
                if seconds is None:
                    continue
                if pid not in first:
                    first[pid] = seconds if initial else 0.0
                last[pid] = seconds

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample(initial=False)

    def __enter__(self) -> Self:
        self._started = time.monotonic()
        self._machine_start = machine_busy_seconds()
        self._sample(initial=True)
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._sample(initial=False)
        self._stop.set()
        if self._thread:
            self._thread.join()
        self.wall = time.monotonic() - self._started
        self.machine = machine_busy_seconds() - self._machine_start

    def cores(self) -> dict[str, float]:
        """Average cores busy per group over the window (1.0 = one core fully busy).

        `other` is the rest of the machine (other processes, the kernel): the noise in a run.
        """
        if not self.wall:
            return {}
        result: dict[str, float] = {}
        for name in self.groups:
            first, last = self._first.get(name, {}), self._last.get(name, {})
            used = sum(last[pid] - first.get(pid, 0.0) for pid in last)
            result[name] = round(used / self.wall, 3)
        result["other"] = round(max(0.0, self.machine / self.wall - sum(result.values())), 3)
        return result


def postgres_pids(data_directory: str, database: str, other_databases: Sequence[str]) -> PidSource:
    """The postmaster, its helpers and the backends of `database` (not those of other databases)."""
    try:
        with open(Path(data_directory) / "postmaster.pid") as handle:
            postmaster = int(handle.readline())
    except OSError:
        return list

    skip = set(other_databases) - {database}

    def pids() -> list[int]:
        found = []
        for pid in process_tree(postmaster):
            # A backend's title is "postgres: USER DATABASE HOST(PORT) STATE".
            parts = cmdline(pid).split()
            if len(parts) >= 4 and parts[0] == "postgres:" and parts[2] in skip:
                continue
            found.append(pid)
        return found

    return pids


@dataclass
class Server:
    """One server process group: started, checked for readiness, measured, stopped."""

    name: str
    argv: list[str]
    ready_url: str
    env: dict[str, str] = field(default_factory=dict)
    cwd: Path | None = None
    process: subprocess.Popen[bytes] | None = None

    @property
    def log_path(self) -> Path:
        return WORK / "logs" / f"{self.name}.log"

    @property
    def pid_path(self) -> Path:
        """Process group ids of running servers, for scripts/bench.sh to stop if Python dies."""
        return WORK / "pids" / f"{self.name}.pgid"

    def _record(self, ids: Sequence[int]) -> None:
        self.pid_path.parent.mkdir(parents=True, exist_ok=True)
        self.pid_path.write_text("\n".join(str(i) for i in ids) + "\n")

    def start(self, timeout: float = 60.0) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("wb") as out:
            self.process = subprocess.Popen(
                self.argv,
                env={**os.environ, **self.env},
                cwd=self.cwd,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._record([self.process.pid])
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"{self.name} exited with {self.process.returncode}; see {self.log_path}:\n"
                    + self.log_path.read_text(errors="replace")[-2000:]
                )
            try:
                with urllib.request.urlopen(self.ready_url, timeout=5) as response:  # noqa: S310
                    if response.status < 500:
                        log(f"{self.name} is up (pid {self.process.pid})")
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.3)
        raise RuntimeError(f"{self.name} did not answer {self.ready_url} within {timeout} s")

    def pids(self) -> list[int]:
        return process_tree(self.process.pid) if self.process else []

    def stop(self) -> None:
        self.pid_path.unlink(missing_ok=True)
        if self.process is None or self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)
        except ProcessLookupError:
            pass
        log(f"{self.name} stopped")


def url(port: int, path: str) -> str:
    return f"http://{HOST}:{port}{path}"
