"""A throw-away PostgreSQL + PostGIS cluster of its own, for tests that restart or restore a server."""

import os
import secrets
import shutil
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import pytest


def _bin(name: str) -> str:
    folders = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name), reverse=True
    )
    return str(folders[0] / name)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Cluster:
    folder: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgres://amdis@127.0.0.1:{self.port}/amdis"

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        command = ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else list(args)
        return subprocess.run(command, capture_output=True, text=True, check=True, timeout=120)

    def start(self) -> None:
        self._run(
            _bin("pg_ctl"),
            "-D",
            str(self.folder / "data"),
            "-l",
            str(self.folder / "log"),
            "-w",
            "-t",
            "60",
            "start",
        )

    def stop(self, mode: str = "fast") -> None:
        self._run(_bin("pg_ctl"), "-D", str(self.folder / "data"), "-m", mode, "-w", "stop")

    def psql(self, sql: str, database: str = "amdis") -> str:
        return self._run(
            "psql",
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-U",
            "postgres",
            "-d",
            database,
            "-qtAc",
            sql,
        ).stdout.strip()


@contextmanager
def temporary_cluster() -> Iterator[Cluster]:
    """initdb, start, an empty `amdis` database with PostGIS; stopped and deleted afterwards."""
    if not Path("/usr/lib/postgresql").is_dir():
        pytest.skip("PostgreSQL server binaries are not installed")
    folder = Path("/var/tmp") / f"amdis-test-cluster-{secrets.token_hex(4)}"
    folder.mkdir(mode=0o700)
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    cluster = Cluster(folder, free_port())
    try:
        cluster._run(
            _bin("initdb"),
            "-D",
            str(folder / "data"),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
        )
        with (folder / "data" / "postgresql.conf").open("a") as conf:
            conf.write(
                f"listen_addresses = '127.0.0.1'\nport = {cluster.port}\nunix_socket_directories = '{folder}'\nfsync = off\n"
            )
        cluster.start()
        cluster.psql("CREATE ROLE amdis LOGIN SUPERUSER", database="postgres")
        cluster.psql("CREATE DATABASE amdis OWNER amdis", database="postgres")
        yield cluster
    finally:
        with suppress(subprocess.CalledProcessError):
            cluster.stop("immediate")
        shutil.rmtree(folder, ignore_errors=True)
