"""Load held (issue 9): 60 s at 64 connections on the tile and GeoJSON endpoints with zero failed
requests; then, past saturation, every request is answered (503 + Retry-After) instead of hanging.

Run with `make load` (or `python -m bench.hold [--seconds N]`); the server is a Granian (WSGI)
server of this checkout on the loopback address, over the demo data of the database in
DATABASE_URL."""

import argparse
import http.client
import json
import math
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
ROTATE = ROOT / "bench" / "rotate.lua"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def tile(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    return int((lon + 180) / 360 * n), int(
        (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n
    )


def paths_for_load() -> tuple[list[str], list[str]]:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webgis.settings")
    django.setup()
    from deposits.models import MineralOccurrence

    points = list(MineralOccurrence.objects.values_list("geom", flat=True)[:400])
    tiles = sorted(
        {
            f"/tiles/occurrences/{z}/{x}/{y}.mvt"
            for p in points
            for z in (6, 8, 10)
            for x, y in [tile(p.x, p.y, z)]
        }
    )
    tiles += [
        f"/tiles/geological-units/{z}/{x}/{y}.mvt"
        for z in (5, 7)
        for x, y in {tile(p.x, p.y, z) for p in points[:60]}
    ]
    geojson = [f"/api/occurrences/?limit=100&offset={o}" for o in range(0, 300, 100)]
    geojson += [
        f"/api/occurrences/?member_state={s}&limit=200" for s in ("PHL", "IDN", "VNM", "THA", "MYS")
    ]
    return tiles, geojson


def start_server(port: int, **env_extra: str) -> subprocess.Popen[bytes]:
    env = dict(os.environ, SECURE_SSL_REDIRECT="0", SECURE_COOKIES="0", **env_extra)
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "granian"),
            "--interface",
            "wsgi",
            "webgis.wsgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "2",
            "--blocking-threads",
            "8",
            "--backlog",
            "2048",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return server
        except OSError:
            time.sleep(0.3)
    server.kill()
    raise RuntimeError("the server did not start")


def stop_server(server: subprocess.Popen[bytes]) -> None:
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(20)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait(10)


def wrk(
    port: int, paths: list[str], *, connections: int, seconds: int, name: str
) -> dict[str, Any]:
    listing = RESULTS / f"hold-{name}.paths"
    listing.write_text("\n".join(paths) + "\n")
    result = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{seconds}s",
            "--timeout",
            "10s",
            "-s",
            str(ROTATE),
            f"http://127.0.0.1:{port}",
            "--",
            str(listing),
        ],
        capture_output=True,
        text=True,
        timeout=seconds + 120,
        check=True,
    )
    listing.unlink()
    line = next(line for line in result.stdout.splitlines() if line.startswith("BENCH_JSON "))
    summary: dict[str, Any] = json.loads(line.removeprefix("BENCH_JSON "))
    summary["failed"] = sum(
        summary[k]
        for k in ("connect_errors", "read_errors", "write_errors", "status_errors", "timeouts")
    )
    summary["rps"] = summary["requests"] / (summary["duration_us"] / 1e6)
    return summary


def probe_503(port: int, path: str) -> tuple[int, str | None]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
    connection.request("GET", path)
    response = connection.getresponse()
    response.read()
    return response.status, response.getheader("Retry-After")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--connections", type=int, default=64)
    args = parser.parse_args()
    RESULTS.mkdir(exist_ok=True)
    tiles, geojson = paths_for_load()
    report: dict[str, Any] = {"seconds": args.seconds, "connections": args.connections}

    port = free_port()
    server = start_server(port)
    try:
        for name, paths in (("tiles", tiles), ("geojson", geojson)):
            report[name] = wrk(
                port, paths, connections=args.connections, seconds=args.seconds, name=name
            )
    finally:
        stop_server(server)

    # Past saturation: few slots, a short wait, many connections asking for big pages.
    port = free_port()
    server = start_server(port, MAX_CONCURRENT_REQUESTS="2", QUEUE_WAIT_SECONDS="0.2")
    try:
        big = ["/api/occurrences/?limit=10000", "/api/occurrences/?limit=5000&offset=10"]
        import threading

        saturated: dict[str, Any] = {}
        load = threading.Thread(
            target=lambda: saturated.update(
                wrk(port, big, connections=256, seconds=15, name="saturation")
            )
        )
        load.start()
        time.sleep(5)
        probes = [probe_503(port, "/api/occurrences/?limit=10000") for _ in range(20)]
        load.join()
        report["saturation"] = saturated | {
            "probe_statuses": sorted({s for s, _ in probes}),
            "retry_after_on_503": all(r == "2" for s, r in probes if s == 503),
        }
    finally:
        stop_server(server)

    held = report["tiles"]["failed"] == 0 and report["geojson"]["failed"] == 0
    shed = (
        report["saturation"]["timeouts"] == 0
        and report["saturation"]["status_errors"] > 0
        and report["saturation"]["retry_after_on_503"]
    )
    report["held"], report["shed"] = held, shed
    (RESULTS / "hold.json").write_text(json.dumps(report, indent=2))
    lines = [
        "# Load held and saturation (issue 9)",
        "",
        f"{args.seconds} s at {args.connections} connections (wrk, 1 thread), Granian 2 workers × 8 blocking threads, demo data.",
        "",
        "| scenario | requests | req/s | p50 ms | p99 ms | failed (errors, non-2xx, timeouts) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name in ("tiles", "geojson"):
        r = report[name]
        lines.append(
            f"| {name} | {r['requests']:,} | {r['rps']:.0f} | {r['p50_us'] / 1000:.1f} | {r['p99_us'] / 1000:.1f} | {r['failed']} |"
        )
    s = report["saturation"]
    lines += [
        "",
        f"Saturation (2 request slots per process, 0.2 s queue wait, 256 connections asking for 10,000-feature pages, 15 s): "
        f"{s['requests']:,} answered, {s['status_errors']:,} of them 503, {s['timeouts']} timeouts; "
        f"probe statuses {s['probe_statuses']}, Retry-After on every 503: {s['retry_after_on_503']}.",
        "",
        f"Held with zero failures: **{'yes' if held else 'NO'}**. Past saturation answered 503 with Retry-After, never hung: **{'yes' if shed else 'NO'}**.",
    ]
    (RESULTS / "hold.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    sys.exit(0 if held and shed else 1)


if __name__ == "__main__":
    main()
