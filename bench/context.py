"""What every scenario needs: the profile, the results, the database and the running servers."""

from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import connection

from bench.config import BENCH_DB, WORK, Profile
from bench.database import Server as DbServer
from bench.load import Run, pgbench
from bench.log import log
from bench.procs import PidSource, Server, postgres_pids
from bench.results_model import Results

# Processes that serve together with a named server.
COMPANIONS = {"mapserver": ["mapserv"]}


@dataclass
class Bench:
    profile: Profile
    results: Results
    db: DbServer
    database_url: str
    stack: ExitStack
    servers: dict[str, Server] = field(default_factory=dict)
    _pg: PidSource | None = None

    @property
    def pg_env(self) -> dict[str, str]:
        return self.db.libpq_env(BENCH_DB)

    def postgres(self) -> PidSource:
        if self._pg is None:
            with connection.cursor() as cursor:
                cursor.execute("SHOW data_directory")
                (data_directory,) = cursor.fetchone() or ("",)
                cursor.execute("SELECT datname FROM pg_database")
                others = [row[0] for row in cursor.fetchall()]
            self._pg = postgres_pids(data_directory, BENCH_DB, others)
        return self._pg

    def groups(self, server: str | None) -> dict[str, PidSource]:
        """CPU groups for a measurement: the server's processes (if any) and the database's."""
        groups: dict[str, PidSource] = {"database": self.postgres()}
        if server:
            groups["server"] = self.server_pids(server)
        return groups

    def floor(
        self,
        scenario: str,
        script: Path,
        clients: int,
        seconds: float,
        protocol: str = "simple",
    ) -> tuple[str, str, Callable[[], Run]]:
        """The SQL floor as a contender of `interleaved`: the pgbench `script` on the bench
        database at the same concurrency, with only the database's CPU recorded; `protocol`
        as AMDIS runs the statement (bench.load.pgbench)."""
        return (
            scenario,
            "floor-sql",
            lambda: pgbench(
                script=script,
                clients=clients,
                seconds=seconds,
                env=self.pg_env,
                groups=self.groups(None),
                protocol=protocol,
            ),
        )

    def server_pids(self, name: str) -> PidSource:
        """The processes of a server, with its companions (MapServer's FastCGI processes)."""
        names = [name, *COMPANIONS.get(name, [])]

        def pids() -> list[int]:
            return [pid for n in names if n in self.servers for pid in self.servers[n].pids()]

        return pids

    def start(self, server: Server) -> Server:
        """Starts `server`; it is stopped when the run ends, however it ends."""
        log(f"Starting {server.name}")
        self.stack.callback(server.stop)
        server.start(timeout=120)
        self.servers[server.name] = server
        return server

    def stop(self, name: str) -> None:
        server = self.servers.pop(name, None)
        if server:
            server.stop()

    def work_dir(self, name: str) -> Path:
        path = WORK / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    def interleaved(
        self,
        label: str,
        contenders: list[tuple[str, str, Callable[[], Run]]],
        params: dict[str, Any] | None = None,
        items: dict[str, int] | None = None,
        repeats: int | None = None,
    ) -> None:
        """Runs every contender once per repeat (the profile's `repeats` unless given), in
        turn, and records each run.

        `contenders` are (scenario, server, run function); interleaving spreads any drift of the
        machine (a checkpoint, another process) over all servers instead of one.
        """
        for repeat in range(repeats or self.profile.repeats):
            for scenario, server, run in contenders:
                result = run()
                m = self.results.measurement(
                    scenario,
                    server,
                    params=params,
                    items_per_request=(items or {}).get(server, 1),
                )
                m.runs.append(result)
                log(
                    f"  {label} #{repeat + 1} {server:<10} {result.rps:9.1f} req/s"
                    f"  p50 {result.p50_ms:8.1f} ms  p99 {result.p99_ms:8.1f} ms"
                    f"  err {result.errors}  cpu {result.cpu_cores}"
                )
