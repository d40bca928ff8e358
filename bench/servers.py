"""How each server under test is started. Every one gets WORKERS processes (THREADS threads
where the server has threads), no response cache (but AMDIS's own tile cache in the cached-tiles
scenario), no compression, and the bench database."""

import os
import re
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.config import HOST, PEERS_VENV, PORTS, ROOT, THREADS, WORK, WORKERS
from bench.log import log
from bench.procs import Server, url


def amdis(
    database_url: str, *, tile_cache: bool = False, name: str = "amdis", port: int = PORTS["amdis"]
) -> Server:
    """AMDIS (and the DRF baseline, in the same process) under Granian, as `make run` serves it.

    The tile cache is off (every tile rendered live) unless `tile_cache`: only the cached-tiles
    scenario turns it on, in a server of its own with its own, emptied, cache folder.
    """
    cache_dir = WORK / f"tilecache-{name}"
    if tile_cache:
        shutil.rmtree(cache_dir, ignore_errors=True)
    return Server(
        name=name,
        argv=[
            str(ROOT / ".venv" / "bin" / "granian"),
            "--interface",
            "wsgi",
            "webgis.wsgi:application",
            "--host",
            HOST,
            "--port",
            str(port),
            "--workers",
            str(WORKERS),
            "--blocking-threads",
            str(THREADS),
            "--backlog",
            "2048",
            "--log-level",
            "warning",
        ],
        ready_url=url(port, "/healthz"),
        env={
            "DATABASE_URL": database_url,
            "TILE_CACHE": "1" if tile_cache else "0",
            "TILE_CACHE_DIR": str(cache_dir),
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            "DEBUG": "0",
            # Plain http on loopback, as `make run` serves it: no redirect to https, no HSTS.
            "SECURE_COOKIES": "0",
            "SECURE_SSL_REDIRECT": "0",
            "SECURE_HSTS_SECONDS": "0",
            "API_MAX_PAGE_SIZE": "100000",
            "DB_STATEMENT_TIMEOUT_MS": "600000",
            "LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(ROOT),
        },
        cwd=ROOT,
    )


def peers_available() -> bool:
    return (PEERS_VENV / "bin" / "python").exists()


def tipg(database_url: str) -> Server:
    """TiPg (FastAPI + asyncpg) under uvicorn, over the geological units table only."""
    return Server(
        name="tipg",
        argv=[
            str(PEERS_VENV / "bin" / "uvicorn"),
            "tipg.main:app",
            "--host",
            HOST,
            "--port",
            str(PORTS["tipg"]),
            "--workers",
            str(WORKERS),
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        ready_url=url(PORTS["tipg"], "/healthz"),
        env={
            "DATABASE_URL": database_url.replace("postgres://", "postgresql://", 1),
            "TIPG_DB_SCHEMAS": '["public"]',
            "TIPG_DB_TABLES": '["public.layers_geologicalunit"]',
            "TIPG_DB_SPATIAL_EXTENT": "false",
            "TIPG_DB_DATETIME_EXTENT": "false",
            "TIPG_MAX_FEATURES_PER_TILE": "20000",
            "TIPG_DEFAULT_MINZOOM": "0",
            "TIPG_DEFAULT_MAXZOOM": "22",
            # The same pool size per worker as AMDIS's threads, so both hold as many queries.
            "DB_MIN_CONN_SIZE": "1",
            "DB_MAX_CONN_SIZE": str(THREADS),
            "TIPG_CATALOG_TTL": "3600",
        },
        cwd=WORK,
    )


def pygeoapi(config: Path, openapi: Path) -> Server:
    """pygeoapi's Flask app under gunicorn with the same workers and threads as AMDIS."""
    return Server(
        name="pygeoapi",
        argv=[
            str(PEERS_VENV / "bin" / "gunicorn"),
            "pygeoapi.flask_app:APP",
            "--bind",
            f"{HOST}:{PORTS['pygeoapi']}",
            "--workers",
            str(WORKERS),
            "--threads",
            str(THREADS),
            "--timeout",
            "600",
        ],
        ready_url=url(PORTS["pygeoapi"], "/conformance?f=json"),
        env={"PYGEOAPI_CONFIG": str(config), "PYGEOAPI_OPENAPI": str(openapi)},
        cwd=WORK,
    )


def nginx(
    root: Path, *, name: str = "nginx", port: int = PORTS["nginx"], location: str = ""
) -> Server:
    """nginx serving files under `root` (pre-rendered tiles), or `location` (a FastCGI front)."""
    conf_dir = WORK / name
    conf_dir.mkdir(parents=True, exist_ok=True)
    conf = conf_dir / "nginx.conf"
    conf.write_text(
        f"""daemon off;
worker_processes {WORKERS};
pid {conf_dir}/nginx.pid;
error_log {conf_dir}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    sendfile on;
    keepalive_requests 100000;
    gzip off;
    client_body_temp_path {conf_dir}/body;
    proxy_temp_path {conf_dir}/proxy;
    fastcgi_temp_path {conf_dir}/fastcgi;
    uwsgi_temp_path {conf_dir}/uwsgi;
    scgi_temp_path {conf_dir}/scgi;
    types {{ application/vnd.mapbox-vector-tile mvt; }}
    server {{
        listen {HOST}:{port};
        root {root};
        location = /healthz {{ return 200 "ok"; }}
        {location}
    }}
}}
"""
    )
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    return Server(
        name=name,
        argv=[binary, "-c", str(conf), "-p", str(conf_dir)],
        ready_url=url(port, "/healthz"),
    )


@dataclass
class FastCgiChildren(Server):
    """FastCGI processes forked by spawn-fcgi (which exits): tracked and stopped by their pids."""

    children: list[int] = field(default_factory=list)

    def start(self, timeout: float = 60.0) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        out = subprocess.run(
            self.argv,
            env={**os.environ, **self.env},
            cwd=self.cwd,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        self.children = [int(pid) for pid in re.findall(r"PID: (\d+)", out.stdout + out.stderr)]
        if out.returncode != 0 or not self.children:
            raise RuntimeError(f"spawn-fcgi failed: {out.stdout} {out.stderr}")
        # Each child leads its own session, so its pid is also its process group id.
        self._record(self.children)
        log(f"{self.name}: {len(self.children)} FastCGI processes {self.children}")

    def pids(self) -> list[int]:
        return [pid for pid in self.children if os.path.exists(f"/proc/{pid}")]

    def stop(self) -> None:
        self.pid_path.unlink(missing_ok=True)
        for pid in self.pids():
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                continue
        deadline = time.monotonic() + 3
        while self.pids() and time.monotonic() < deadline:
            time.sleep(0.1)
        for pid in self.pids():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                continue
        if self.children:
            log(f"{self.name} stopped")
        self.children = []


MAPFILE = """MAP
  NAME "amdis"
  EXTENT -20037508.34 -20037508.34 20037508.34 20037508.34
  SIZE 256 256
  UNITS METERS
  PROJECTION "init=epsg:3857" END
  OUTPUTFORMAT
    NAME "mvt"
    DRIVER MVT
    FORMATOPTION "EDGE_BUFFER=64"
    FORMATOPTION "EXTENT=4096"
  END
  WEB METADATA "ows_enable_request" "*" END END
  LAYER
    NAME "geological-units"
    TYPE POLYGON
    STATUS ON
    CONNECTIONTYPE POSTGIS
    CONNECTION "{connection}"
    DATA "geom_3857 from (select t.id, t.name, t.lithology, t.age, t.geom_3857 from layers_geologicalunit t where t.dataset_id in (select id from layers_dataset where is_published)) as sub using unique id using srid=3857"
    PROCESSING "CLOSE_CONNECTION=DEFER"
    PROJECTION "init=epsg:3857" END
    METADATA "gml_include_items" "name,lithology,age" "gml_types" "auto" END
    CLASS STYLE COLOR 200 200 200 END END
  END
END
"""


def mapserver(libpq: dict[str, str]) -> tuple[Server, Server]:
    """MapServer's mapserv under spawn-fcgi behind nginx, as MapServer is usually deployed.

    mapserv handles one request per process, so it gets WORKERS × THREADS processes: as many
    requests in flight as AMDIS's workers × threads.
    """
    work = WORK / "mapserver"
    work.mkdir(parents=True, exist_ok=True)
    connection = " ".join(
        f"{key}={libpq[env]}"
        for key, env in (
            ("host", "PGHOST"),
            ("port", "PGPORT"),
            ("dbname", "PGDATABASE"),
            ("user", "PGUSER"),
            ("password", "PGPASSWORD"),
        )
        if libpq.get(env)
    )
    (work / "amdis.map").write_text(MAPFILE.format(connection=connection))
    config = work / "mapserver.conf"
    config.write_text(f'CONFIG\n  MAPS\n    AMDIS "{work / "amdis.map"}"\n  END\nEND\n')
    fcgi_port = PORTS["mapserver"] + 10
    children = FastCgiChildren(
        name="mapserv",
        argv=[
            "spawn-fcgi",
            "-a",
            HOST,
            "-p",
            str(fcgi_port),
            "-F",
            str(WORKERS * THREADS),
            "--",
            shutil.which("mapserv") or "/usr/bin/mapserv",
        ],
        ready_url="",
        env={"MAPSERVER_CONFIG_FILE": str(config)},
        cwd=work,
    )
    front = nginx(
        work,
        name="mapserver",
        port=PORTS["mapserver"],
        location=f"""location / {{
            fastcgi_pass {HOST}:{fcgi_port};
            include /etc/nginx/fastcgi_params;
            fastcgi_keep_conn off;
        }}""",
    )
    return children, front


def mapserver_available() -> bool:
    return bool(shutil.which("mapserv") and shutil.which("spawn-fcgi") and nginx_available())


def nginx_available() -> bool:
    return bool(shutil.which("nginx") or os.path.exists("/usr/sbin/nginx"))


def titiler() -> Server:
    """TiTiler (titiler.core's COG endpoints, bench/peers/titiler_app.py) under uvicorn.

    The same GDAL block cache per process as AMDIS (layers.ingest.gdalenv.CACHE_MB) and no
    directory listing on open, as TiTiler's docs advise; FastAPI runs the (blocking) tile
    endpoint in its thread pool.
    """
    return Server(
        name="titiler",
        argv=[
            str(PEERS_VENV / "bin" / "uvicorn"),
            "titiler_app:app",
            "--app-dir",
            str(ROOT / "bench" / "peers"),
            "--host",
            HOST,
            "--port",
            str(PORTS["titiler"]),
            "--workers",
            str(WORKERS),
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        ready_url=url(PORTS["titiler"], "/healthz"),
        env={"GDAL_CACHEMAX": "256", "GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR"},
        cwd=WORK,
    )
