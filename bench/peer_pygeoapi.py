"""Issue 8: GeoJSON 1k/10k/100k, AMDIS vs pygeoapi (PostgreSQL provider), with the peak memory
of each web server's processes."""

import json
import subprocess

from bench import servers
from bench.config import PEERS_VENV, PORTS, geojson_slug
from bench.context import Bench
from bench.database import app_server
from bench.geojson import amdis_path
from bench.load import http_get, http_load
from bench.log import log
from bench.procs import url

# pygeoapi serves the table's own columns; AMDIS adds joined ones (member state name, dataset
# title, the commodity list), so AMDIS's features are larger. Same rows, compared by id.
PROPERTIES = [
    "name",
    "other_names",
    "province",
    "deposit_type",
    "status",
    "resource_mt",
    "grades",
    "reporting_code",
    "resource_date",
    "location_accuracy",
    "member_state_id",
    "dataset_id",
]


def _config(bench: Bench, max_items: int) -> str:
    server, _ = app_server()
    props = "\n".join(f"              - {p}" for p in PROPERTIES)
    port = PORTS["pygeoapi"]
    return f"""server:
  bind: {{host: 127.0.0.1, port: {port}}}
  url: http://127.0.0.1:{port}
  mimetype: application/json; charset=UTF-8
  encoding: utf-8
  gzip: false
  language: en-US
  cors: false
  pretty_print: false
  limits: {{default_items: 1000, max_items: {max_items}}}
  map: {{url: "http://127.0.0.1/{{z}}/{{x}}/{{y}}.png", attribution: none}}
logging:
  level: ERROR
metadata:
  identification:
    title: AMDIS bench
    description: pygeoapi over the bench database
    keywords: [bench]
    keywords_type: theme
    terms_of_service: none
    url: http://127.0.0.1
  license: {{name: CC0, url: "https://creativecommons.org/publicdomain/zero/1.0/"}}
  provider: {{name: AMDIS bench, url: http://127.0.0.1}}
  contact: {{name: bench, url: http://127.0.0.1, email: bench@example.org}}
resources:
  occurrences:
    type: collection
    title: Mineral occurrences
    description: deposits_mineraloccurrence
    keywords: [occurrences]
    extents:
      spatial: {{bbox: [92, -11, 142, 29], crs: "http://www.opengis.net/def/crs/OGC/1.3/CRS84"}}
    links: []
    providers:
      - type: feature
        name: PostgreSQL
        data:
          host: {server.host}
          port: {server.port}
          dbname: {bench.pg_env["PGDATABASE"]}
          user: {server.user}
          password: "{server.password}"
          search_path: [public]
        id_field: id
        table: deposits_mineraloccurrence
        geom_field: geom
        properties:
{props}
"""


def run(bench: Bench) -> None:
    from layers.models import Dataset

    profile, results = bench.profile, bench.results
    if not (PEERS_VENV / "bin" / "gunicorn").exists():
        results.skip("pygeoapi", "gunicorn is not installed in the peers venv")
        return
    work = bench.work_dir("pygeoapi")
    config, openapi = work / "pygeoapi.yml", work / "openapi.yml"
    config.write_text(_config(bench, max(profile.pygeoapi_sizes)))
    subprocess.run(
        [
            str(PEERS_VENV / "bin" / "pygeoapi"),
            "openapi",
            "generate",
            str(config),
            "--output-file",
            str(openapi),
        ],
        check=True,
        capture_output=True,
        env={"PYGEOAPI_CONFIG": str(config), "PATH": "/usr/bin"},
    )
    bench.start(servers.pygeoapi(config, openapi))
    try:
        for size in profile.pygeoapi_sizes:
            dataset_id = Dataset.objects.get(slug=geojson_slug(size)).pk
            _measure(bench, size, dataset_id)
    finally:
        bench.stop("pygeoapi")


def _measure(bench: Bench, size: int, dataset_id: int) -> None:
    profile, results = bench.profile, bench.results
    scenario = f"pygeoapi-{size // 1000}k"
    peer_path = f"/collections/occurrences/items?f=json&limit={size}&dataset_id={dataset_id}"
    amdis_url, peer_url = url(PORTS["amdis"], amdis_path(size)), url(PORTS["pygeoapi"], peer_path)
    a = json.loads(http_get(amdis_url).body)["features"]
    response = http_get(peer_url)
    p = json.loads(response.body).get("features", [])
    same = sorted(str(f["id"]) for f in a) == sorted(str(f["id"]) for f in p)
    results.check(
        f"{scenario}: AMDIS and pygeoapi return the same features (ids)",
        same,
        f"AMDIS {len(a):,}, pygeoapi {len(p):,} features; pygeoapi has no joined"
        " properties (commodities, names of member state and dataset)",
    )
    log(f"GeoJSON {size:,} features: AMDIS vs pygeoapi")
    c, seconds = profile.geojson_concurrency, profile.geojson_seconds
    http_load(url=peer_url, concurrency=c, seconds=0.1, groups={})
    bench.interleaved(
        scenario,
        [
            (
                scenario,
                "amdis",
                lambda: http_load(
                    url=amdis_url,
                    concurrency=c,
                    seconds=seconds,
                    groups=bench.groups("amdis"),
                    servers=bench.servers["amdis"].pids,
                ),
            ),
            (
                scenario,
                "pygeoapi",
                lambda: http_load(
                    url=peer_url,
                    concurrency=c,
                    seconds=seconds,
                    groups=bench.groups("pygeoapi"),
                    servers=bench.servers["pygeoapi"].pids,
                ),
            ),
        ],
        params={"concurrency": c, "features": size},
        items={"amdis": size, "pygeoapi": size},
    )
    results.ratio(
        f"{scenario}: AMDIS ÷ pygeoapi (features/s)", scenario, "amdis", scenario, "pygeoapi"
    )
