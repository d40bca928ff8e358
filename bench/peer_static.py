"""Issue 8: cached tiles. The 200 z8 occurrence tiles pre-rendered by AMDIS and served from disk
by nginx (what a tile cache or CDN in front of AMDIS can reach), against AMDIS rendering live.
AMDIS itself keeps no server-side tile cache; its tile URLs are versioned and immutable so that
such a cache can hold them forever."""

from bench import servers
from bench.config import PORTS
from bench.context import Bench
from bench.load import http_get, wrk
from bench.log import log
from bench.procs import url
from bench.tiles import z8_paths


def run(bench: Bench) -> None:
    profile, results = bench.profile, bench.results
    if not servers.nginx_available():
        results.skip("static", "nginx is not installed")
        return
    live_paths = z8_paths(bench)
    root = bench.work_dir("static")
    static_paths = []
    for path in live_paths:
        plain = path.split("?", 1)[0]
        target = root / plain.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(http_get(url(PORTS["amdis"], path)).body)
        static_paths.append(plain)
    bench.start(servers.nginx(root))
    try:
        sample = static_paths[0]
        same = (
            http_get(url(PORTS["nginx"], sample)).body == (root / sample.lstrip("/")).read_bytes()
        )
        results.check("static: nginx serves the tiles AMDIS rendered", same, sample)
        for c in (16, 64):
            _measure(bench, c, live_paths, static_paths)
    finally:
        bench.stop("nginx")
    log("Cached tiles done")
    del profile


def _measure(bench: Bench, c: int, live_paths: list[str], static_paths: list[str]) -> None:
    scenario = f"static-z8-c{c}"
    seconds = bench.profile.static_seconds
    amdis_base, nginx_base = url(PORTS["amdis"], ""), url(PORTS["nginx"], "")
    bench.interleaved(
        scenario,
        [
            (
                scenario,
                "amdis",
                lambda: wrk(
                    base_url=amdis_base,
                    paths=live_paths,
                    connections=c,
                    seconds=seconds,
                    groups=bench.groups("amdis"),
                    servers=bench.servers["amdis"].pids,
                ),
            ),
            (
                scenario,
                "nginx",
                lambda: wrk(
                    base_url=nginx_base,
                    paths=static_paths,
                    connections=c,
                    seconds=seconds,
                    groups=bench.groups("nginx"),
                    servers=bench.servers["nginx"].pids,
                ),
            ),
        ],
        params={"connections": c, "tiles": len(live_paths), "zoom": 8},
    )
    bench.results.ratio(
        f"cached z8 tiles, {c} connections: AMDIS live ÷ nginx static",
        scenario,
        "amdis",
        scenario,
        "nginx",
    )
