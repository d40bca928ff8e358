"""Issue 2a: GeoJSON features per second of `/api/occurrences/` against djangorestframework-gis
and against the floor (AMDIS's own SQL run straight against the database with pgbench)."""

import json
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.http import QueryDict

from bench.config import PORTS, geojson_slug
from bench.context import Bench
from bench.load import http_get, http_load
from bench.log import log
from bench.procs import url
from bench.profiling import explain, py_spy_under_load
from bench.report import efficiency_ratio

GEOJSON_TARGET = 20.0


def amdis_path(size: int) -> str:
    return f"/api/occurrences/?dataset={geojson_slug(size)}&limit={size}"


def drf_path(size: int) -> str:
    return f"/bench/drf/occurrences/?dataset={geojson_slug(size)}&page_size={size}"


def floor_sql(stream: Any, *, whole: bool) -> list[str]:
    """A page's statements with literal parameters, as the app runs them, the features
    aggregated into one value (`count`, the features as text). `whole`: the page in one
    statement with its count (FeatureStream.whole); otherwise the count, then the page
    (FeatureStream.chunks, for pages sent as they are read)."""
    from catalogue.blocks import BlockStream
    from deposits.selectors import NO_PARALLEL

    if isinstance(stream, BlockStream):
        # The blocks' statement as the app runs it; a middle block (no `ends` read) is full.
        with connection.cursor() as cursor:
            page = cursor.mogrify(stream.page_sql, stream.params).decode()
        return [
            f"SELECT sum(coalesce(cardinality(page.ends), {stream.size})),"
            f" string_agg(page.features, ','), max(page.matched) FROM ({page}) page"
        ]
    with connection.cursor() as cursor:
        count = cursor.mogrify(stream.count_sql, stream.count_params).decode()
        page = cursor.mogrify(stream.sql, stream.params).decode()
    # As the app runs them: without parallel workers.
    no_parallel = NO_PARALLEL.strip().removesuffix(";").replace("SET LOCAL", "SET")
    if whole:
        return [
            no_parallel,
            f"SELECT count(*), string_agg(feature, ','), max(matched) FROM (SELECT page.feature,"
            f" ({count}) AS matched FROM ({page}) page ORDER BY page.id) p",
        ]
    return [no_parallel, count, f"SELECT count(*), string_agg(feature, ',') FROM ({page}) page"]


def floor_statements(size: int) -> list[str]:
    """The SQL statements `/api/occurrences/` runs for this page, with literal parameters."""
    from deposits.selectors import occurrence_filters_parse, occurrences_geojson_stream

    filters = occurrence_filters_parse(QueryDict(f"dataset={geojson_slug(size)}"))
    stream = occurrences_geojson_stream(filters=filters, user=AnonymousUser(), limit=size, offset=0)
    return floor_sql(stream, whole=True)


def _features(body: bytes) -> list[dict[str, Any]]:
    return list(json.loads(body)["features"])


def compare_collections(
    name_a: str, a: list[dict[str, Any]], name_b: str, b: list[dict[str, Any]]
) -> tuple[bool, str]:
    """Same ids, same property names, same values for the shared properties and coordinates."""
    ids_a = [str(f.get("id")) for f in a]
    ids_b = [str(f.get("id")) for f in b]
    if sorted(ids_a) != sorted(ids_b):
        return False, f"{name_a} has {len(a)} features, {name_b} {len(b)}; ids differ"
    by_id = {str(f.get("id")): f for f in b}
    keys_a = set(a[0]["properties"]) if a else set()
    keys_b = set(b[0]["properties"]) - {"id"} if b else set()
    if keys_a != keys_b:
        return False, f"property names differ: {sorted(keys_a ^ keys_b)}"
    mismatches = 0
    for feature in a[:: max(1, len(a) // 200)]:
        other = by_id[str(feature.get("id"))]
        pa, pb = feature["properties"], other["properties"]
        for key in ("name", "status", "member_state", "deposit_type", "dataset"):
            if pa.get(key) != pb.get(key):
                mismatches += 1
        if [c["code"] for c in pa["commodities"]] != [c["code"] for c in pb["commodities"]]:
            mismatches += 1
        ca, cb = feature["geometry"]["coordinates"], other["geometry"]["coordinates"]
        if any(abs(x - y) > 1e-6 for x, y in zip(ca, cb, strict=True)):
            mismatches += 1
    if mismatches:
        return False, f"{mismatches} property or coordinate mismatches in a sample"
    return True, f"{len(a)} features, same ids, properties and coordinates (sampled)"


def run(bench: Bench, sizes: tuple[int, ...]) -> None:
    for size in sizes:
        _measure(bench, size)


def _measure(bench: Bench, size: int) -> None:
    profile, results = bench.profile, bench.results
    port = PORTS["amdis"]
    scenario = f"geojson-{size // 1000}k"
    log(f"GeoJSON {size:,} features: AMDIS vs djangorestframework-gis vs SQL floor")
    amdis_body = http_get(url(port, amdis_path(size))).body
    drf_response = http_get(url(port, drf_path(size)))
    if drf_response.status != 200:
        raise RuntimeError(f"DRF baseline answered {drf_response.status}")
    amdis_features, drf_features = _features(amdis_body), _features(drf_response.body)
    same, detail = compare_collections("AMDIS", amdis_features, "DRF", drf_features)
    results.check(f"{scenario}: AMDIS and DRF return the same features", same, detail)
    if len(amdis_features) != size:
        results.check(f"{scenario}: page size", False, f"{len(amdis_features)} != {size}")
    results.extra.setdefault("geojson_bytes", {})[scenario] = {
        "amdis": len(amdis_body),
        "drf-gis": len(drf_response.body),
    }
    statements = floor_statements(size)
    script = bench.work_dir("pgbench") / f"geojson-{size}.sql"
    script.write_text("".join(s.rstrip().rstrip(";") + ";\n" for s in statements))
    with connection.cursor() as cursor:
        cursor.execute(statements[-1])
        (returned, *_) = cursor.fetchone() or (0, "")
    results.check(
        f"{scenario}: the floor SQL returns the same page",
        returned == size,
        f"{returned} features from {len(statements)} statements",
    )
    c = profile.geojson_concurrency
    seconds = profile.geojson_seconds
    groups = bench.groups("amdis")
    servers = bench.servers["amdis"].pids
    # Every worker once, warm (the check above already warmed one; a 100k DRF page takes minutes).
    for path in (amdis_path(size), drf_path(size)) if size <= 10_000 else ():
        http_load(url=url(port, path), concurrency=c, seconds=0.1, groups=groups)
    bench.interleaved(
        scenario,
        [
            (
                scenario,
                "amdis",
                lambda: http_load(
                    url=url(port, amdis_path(size)),
                    concurrency=c,
                    seconds=seconds,
                    groups=groups,
                    servers=servers,
                ),
            ),
            (
                scenario,
                "drf-gis",
                lambda: http_load(
                    url=url(port, drf_path(size)),
                    concurrency=c,
                    seconds=seconds,
                    groups=groups,
                    servers=servers,
                ),
            ),
            bench.floor(scenario, script, c, seconds),
        ],
        params={"concurrency": c, "features": size},
        items={"amdis": size, "drf-gis": size, "floor-sql": size},
    )
    target = GEOJSON_TARGET if size == 10_000 else None
    ratio = results.ratio(
        f"{scenario}: AMDIS ÷ DRF-gis (features/s)",
        scenario,
        "amdis",
        scenario,
        "drf-gis",
        target=target,
    )
    results.ratio(
        f"{scenario}: AMDIS ÷ SQL floor (features/s)", scenario, "amdis", scenario, "floor-sql"
    )
    efficiency = efficiency_ratio(
        {"measurements": [m.summary() for m in results.measurements]},
        {"numerator": f"{scenario}/amdis", "denominator": f"{scenario}/drf-gis"},
    )
    missed = ratio is not None and ratio.met is False
    if target and efficiency is not None and efficiency < target:
        missed = True
        results.notes.append(
            f"{scenario}: per CPU-second of server + database, AMDIS ÷ DRF-gis is"
            f" {efficiency:.1f}×, under the {target:.0f}× target (profile below)."
        )
    if missed:
        profile_seconds = max(5.0, seconds)
        py_spy_under_load(
            bench,
            server="amdis",
            seconds=profile_seconds,
            title=f"AMDIS /api/occurrences/ {scenario} (py-spy)",
            load=lambda: http_load(
                url=url(port, amdis_path(size)),
                concurrency=c,
                seconds=profile_seconds,
                groups={},
            ),
        )
        explain(bench, title=f"The SQL of /api/occurrences/ {scenario}", statements=statements)
