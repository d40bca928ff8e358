"""Issue 8: GeoJSON 1k/10k/100k, AMDIS's OGC API items vs pygeoapi's (PostgreSQL provider) vs
the SQL floor (the same page straight from the database with pgbench), with the peak memory of
each web server's processes; then the peak memory of a fresh AMDIS worker serving the largest
page and the same features as a GeoJSON download.

Both servers answer the same request: one page of `size` features (`limit=size`), every
feature of one dataset, as GeoJSON, numberMatched counted."""

import json
import subprocess
from dataclasses import dataclass
from typing import Any

from django.db import connection

from bench import servers
from bench.config import PEERS_VENV, PORTS, geojson_slug
from bench.context import Bench
from bench.database import app_server
from bench.geojson import floor_sql
from bench.load import http_get, http_load
from bench.log import log
from bench.procs import peak_rss_mb, peak_rss_reset, url
from bench.profiling import explain, py_spy_under_load

RSS_LIMIT_MB = 300.0
PYGEOAPI_TARGET = 10.0
FLOOR_TARGET = 0.5


def amdis_items_path(size: int) -> str:
    """The dataset's OGC API collection, one page of every feature."""
    return f"/ogc/collections/{geojson_slug(size)}/items?f=json&limit={size}"


# The bbox query: a 6° square over one of the generated clusters (130°E-136°E, 5°S-1°N), in the
# 100,000-feature dataset: 1,389 of its features, 13,781 of the table's; pages of 1,000.
BBOX = (130.0, -5.0, 136.0, 1.0)
BBOX_LIMIT = 1_000
BBOX_DATASET_SIZE = 100_000


@dataclass(frozen=True)
class ItemsCase:
    """One items request both servers answer: a page of `limit` features of one dataset,
    optionally within a bbox (then read from the dataset's feature texts, in spatial order)."""

    scenario: str
    size: int  # the dataset's: the bench-geojson-<size> dataset
    limit: int
    bbox: tuple[float, ...] | None = None

    @property
    def query(self) -> str:
        bbox = f"&bbox={','.join(str(v) for v in self.bbox)}" if self.bbox else ""
        return f"limit={self.limit}{bbox}"

    @property
    def amdis_path(self) -> str:
        return f"/ogc/collections/{geojson_slug(self.size)}/items?f=json&{self.query}"

    def peer_path(self, dataset_id: int) -> str:
        return f"/collections/occurrences/items?f=json&{self.query}&dataset_id={dataset_id}"


def items_cases(sizes: tuple[int, ...]) -> list[ItemsCase]:
    cases = [ItemsCase(f"pygeoapi-{size // 1000}k", size, size) for size in sizes]
    if BBOX_DATASET_SIZE in sizes:
        cases.append(ItemsCase("pygeoapi-bbox", BBOX_DATASET_SIZE, BBOX_LIMIT, BBOX))
    return cases


def _floor_script(bench: Bench, case: ItemsCase) -> tuple[Any, list[str]]:
    """The SQL of AMDIS's items page for this case (collection, visibility, page), as pgbench
    runs it: the count and the page's features aggregated into one value."""
    from django.contrib.auth.models import AnonymousUser
    from django.http import QueryDict

    from catalogue.api import STREAM_ABOVE
    from catalogue.collections import collection_get
    from catalogue.filters import features_where
    from catalogue.selectors import features_stream

    if case.bbox is not None:  # as an anonymous client gets it: from the feature texts
        return _texts_floor_script(bench, case)
    user = AnonymousUser()
    collection = collection_get(collection_id=geojson_slug(case.size), user=user)
    if collection is None:
        raise RuntimeError(f"no collection {geojson_slug(case.size)}")
    where = features_where(QueryDict(case.query), collection=collection, user=user)
    stream = features_stream(
        collection=collection,
        user=user,
        where=where,
        limit=case.limit,
        offset=0,
        unfiltered=case.bbox is None,
    )
    statements = floor_sql(stream, whole=case.limit <= STREAM_ABOVE)
    script = bench.work_dir("pgbench") / f"{case.scenario}-floor.sql"
    script.write_text("".join(s.rstrip().rstrip(";") + ";\n" for s in statements))
    return script, statements


def _texts_floor_script(bench: Bench, case: ItemsCase) -> tuple[Any, list[str]]:
    """The bbox page's statement (catalogue.selectors.public_texts_statement), aggregated."""
    from django.db import connection

    from catalogue.selectors import public_texts_statement

    assert case.bbox is not None and len(case.bbox) == 4
    bbox = (case.bbox[0], case.bbox[1], case.bbox[2], case.bbox[3])
    sql, params = public_texts_statement(
        slug=geojson_slug(case.size), bbox=bbox, limit=case.limit, offset=0
    )
    with connection.cursor() as cursor:
        page = cursor.mogrify(sql, params).decode()
    statements = [
        "SET max_parallel_workers_per_gather = 0",
        f"SELECT count(*), string_agg(page.feature, ','), max(page.matched) FROM ({page}) page",
    ]
    script = bench.work_dir("pgbench") / f"{case.scenario}-floor.sql"
    script.write_text("".join(s.rstrip().rstrip(";") + ";\n" for s in statements))
    return script, statements


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
        for case in items_cases(profile.pygeoapi_sizes):
            dataset_id = Dataset.objects.get(slug=geojson_slug(case.size)).pk
            _measure(bench, case, dataset_id)
    finally:
        bench.stop("pygeoapi")
    _download_memory(bench, max(profile.pygeoapi_sizes))


def _download_memory(bench: Bench, size: int) -> None:
    """A fresh AMDIS (earlier scenarios leave big workers behind: glibc keeps freed memory):
    the peak resident memory (VmHWM) of its largest process, from start-up through one
    `size`-feature items page and one `size`-feature GeoJSON download."""
    results = bench.results
    bench.stop("amdis")
    server = bench.start(servers.amdis(bench.database_url))
    pids = server.pids
    start_mb = peak_rss_mb(pids())
    peak_rss_reset(pids())
    seen = []
    for path in (amdis_items_path(size), f"/downloads/{geojson_slug(size)}/geojson"):
        response = http_get(url(PORTS["amdis"], path))
        seen.append(f"{path}: {response.status}, {len(response.body) / 1e6:.1f} MB")
        ok = response.status == 200
        if path.startswith("/ogc/"):
            ok = ok and len(json.loads(response.body)["features"]) == size
        if not ok:
            results.check(f"{size:,}-feature download", False, "; ".join(seen))
            return
    peak = peak_rss_mb(pids())
    results.extra.setdefault("limits", []).append(
        {
            "name": f"{size:,}-feature items page + GeoJSON download: web process peak RSS",
            "value": round(peak, 1),
            "unit": "MB",
            "limit": RSS_LIMIT_MB,
            "met": peak < RSS_LIMIT_MB,
            "detail": f"VmHWM of the largest web server process; {start_mb:.0f} MB after start-up."
            f" {'; '.join(seen)}",
        }
    )
    results.notes.append(
        f"{size:,}-feature items page and GeoJSON download on a fresh AMDIS: peak RSS"
        f" {peak:.0f} MB (limit {RSS_LIMIT_MB:.0f} MB), {start_mb:.0f} MB after start-up."
    )
    log(f"{size:,}-feature download: peak RSS {peak:.0f} MB (after start-up {start_mb:.0f} MB)")


def _measure(bench: Bench, case: ItemsCase, dataset_id: int) -> None:
    from catalogue.api import STREAM_ABOVE

    profile, results = bench.profile, bench.results
    scenario, size = case.scenario, case.limit
    amdis_url = url(PORTS["amdis"], case.amdis_path)
    peer_url = url(PORTS["pygeoapi"], case.peer_path(dataset_id))
    body = http_get(amdis_url).body
    doc = json.loads(body)
    a = doc["features"]
    response = http_get(peer_url)
    peer_doc = json.loads(response.body)
    p = peer_doc.get("features", [])
    # Both order a page by id: the same ids, and the same count of matches.
    same = [str(f["id"]) for f in a] == [str(f["id"]) for f in p]
    matched = doc["numberMatched"]
    results.check(
        f"{scenario}: AMDIS and pygeoapi return the same features (ids)",
        same and matched == peer_doc.get("numberMatched") and len(a) == min(size, matched) > 0,
        f"AMDIS {len(a):,} (numberMatched {matched}), pygeoapi {len(p):,}"
        f" (numberMatched {peer_doc.get('numberMatched')}) features; AMDIS also has joined"
        " properties (commodities, names of member state and dataset)",
    )
    results.extra.setdefault("pygeoapi_bytes", {})[scenario] = {
        "amdis": len(body),
        "pygeoapi": len(response.body),
    }
    script, statements = _floor_script(bench, case)
    with connection.cursor() as cursor:
        cursor.execute(statements[-1])
        (returned, *_) = cursor.fetchone() or (0, "")
    results.check(
        f"{scenario}: the floor SQL returns the same page",
        returned == len(a),
        f"{returned} features",
    )
    size = len(a)  # features a response: the measure's items
    log(f"{scenario}, {size:,} features a page: AMDIS OGC API items vs pygeoapi vs SQL floor")
    c, seconds = profile.geojson_concurrency, profile.geojson_seconds
    repeats, protocol = None, "simple"
    if case.limit <= STREAM_ABOVE:
        # AMDIS reads a page it sends whole by a prepared statement (webgis.db.prepared), so
        # the floor runs it prepared too. At this size each server's figure depends on how its
        # two workers share the two connections, which is settled at connect, once a round:
        # pygeoapi's halves when both land on one worker (12 against 20-30 pages/s), AMDIS's
        # drops a tenth. More, shorter rounds (the same time in all) steady the medians.
        repeats, protocol = 5, "prepared"
        seconds = seconds * profile.repeats / repeats
    http_load(url=peer_url, concurrency=c, seconds=0.1, groups={})
    http_load(url=amdis_url, concurrency=c, seconds=0.1, groups={})
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
            bench.floor(scenario, script, c, seconds, protocol),
        ],
        params={"concurrency": c, "features": size, "floor_protocol": protocol},
        items={"amdis": size, "pygeoapi": size, "floor-sql": size},
        repeats=repeats,
    )
    peer_ratio = results.ratio(
        f"{scenario}: AMDIS ÷ pygeoapi (features/s)",
        scenario,
        "amdis",
        scenario,
        "pygeoapi",
        target=PYGEOAPI_TARGET,
    )
    floor_ratio = results.ratio(
        f"{scenario}: AMDIS ÷ SQL floor (features/s)",
        scenario,
        "amdis",
        scenario,
        "floor-sql",
        target=FLOOR_TARGET,
    )
    if any(r is not None and r.met is False for r in (peer_ratio, floor_ratio)):
        profile_seconds = max(5.0, seconds)
        py_spy_under_load(
            bench,
            server="amdis",
            seconds=profile_seconds,
            title=f"AMDIS OGC API items {scenario} (py-spy)",
            load=lambda: http_load(
                url=amdis_url, concurrency=c, seconds=profile_seconds, groups={}
            ),
        )
        explain(bench, title=f"The SQL of the items page {scenario}", statements=statements)
