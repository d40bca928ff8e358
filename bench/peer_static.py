"""Issue 8: cached tiles. The 200 z8 occurrence tiles served by AMDIS from its own warm tile cache
(webgis/lib/tilecache.py: a WSGI fast path in front of Django reads the file) against nginx
serving the same tiles as static files, with AMDIS rendering live (cache off) for reference.

The cached AMDIS is a second Granian server with the same workers × threads as the live one, its
cache turned on and emptied at start, then warmed by requesting every tile once."""

from collections.abc import Callable

from bench import servers
from bench.config import PORTS
from bench.context import Bench
from bench.load import Run, http_get, wrk
from bench.log import log
from bench.procs import url
from bench.tiles import z8_paths

CACHED = "amdis-cached"
CACHED_PORT = PORTS["amdis"] + 100
TARGET = 0.1  # issue 8: cached tiles at least a tenth of nginx static


def run(bench: Bench) -> None:
    results = bench.results
    if not servers.nginx_available():
        results.skip("static", "nginx is not installed")
        return
    live_paths = z8_paths(bench)
    root = bench.work_dir("static")
    static_paths = []
    bench.start(servers.amdis(bench.database_url, tile_cache=True, name=CACHED, port=CACHED_PORT))
    try:
        warm = [http_get(url(CACHED_PORT, path)) for path in live_paths]  # each tile once: a miss
        for path, response in zip(live_paths, warm, strict=True):
            plain = path.split("?", 1)[0]
            target = root / plain.lstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(response.body)
            static_paths.append(plain)
        results.check(
            "static: AMDIS stored every tile (versioned, immutable)",
            all(
                r.status == 200 and r.headers.get("cache-control", "").endswith("immutable")
                for r in warm
            ),
            f"{len(warm)} tiles",
        )
        sample = live_paths[0]
        live = http_get(url(PORTS["amdis"], sample)).body
        cached = http_get(url(CACHED_PORT, sample)).body
        results.check(
            "static: the cached tile is the tile AMDIS renders live", cached == live, sample
        )
        bench.start(servers.nginx(root))
        try:
            static = http_get(url(PORTS["nginx"], static_paths[0])).body
            results.check("static: nginx serves the tiles AMDIS rendered", static == live, sample)
            for c in (16, 64):
                _measure(bench, c, live_paths, static_paths)
        finally:
            bench.stop("nginx")
    finally:
        bench.stop(CACHED)
    log("Cached tiles done")


def _measure(bench: Bench, c: int, live_paths: list[str], static_paths: list[str]) -> None:
    scenario = f"static-z8-c{c}"
    seconds = bench.profile.static_seconds

    def load(server: str, port: int, paths: list[str]) -> tuple[str, str, Callable[[], Run]]:
        return (
            scenario,
            server,
            lambda: wrk(
                base_url=url(port, ""),
                paths=paths,
                connections=c,
                seconds=seconds,
                groups=bench.groups(server),
                servers=bench.servers[server].pids,
            ),
        )

    bench.interleaved(
        scenario,
        [
            load(CACHED, CACHED_PORT, live_paths),
            load("nginx", PORTS["nginx"], static_paths),
            load("amdis", PORTS["amdis"], live_paths),
        ],
        params={"connections": c, "tiles": len(live_paths), "zoom": 8},
    )
    bench.results.ratio(
        f"cached z8 tiles, {c} connections: AMDIS tile cache ÷ nginx static",
        scenario,
        CACHED,
        scenario,
        "nginx",
        target=TARGET,
    )
    bench.results.ratio(
        f"cached z8 tiles, {c} connections: AMDIS live (no cache) ÷ nginx static",
        scenario,
        "amdis",
        scenario,
        "nginx",
    )
