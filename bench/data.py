"""Generated, seeded data in the bench database: 1M occurrence points and geological polygons.

Rows are made inside PostgreSQL (generate_series, hash-based random numbers), so a run needs no
Python loop over rows and the same seed gives the same rows whatever order the server uses.
Indexes are dropped during the load and rebuilt after it, as a bulk load should.
"""

import hashlib
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction

from bench.config import GEOJSON_SIZES, POINTS_SLUG, POLYGONS_SLUG, SEED, geojson_slug
from bench.log import log

GENERATOR_VERSION = "5"  # 5: stored GeoJSON built after generating
CENTRES = 50
CLUSTERED_SHARE = 0.7
REGION = (92.0, -11.0, 142.0, 29.0)  # lon/lat box of the uniform 30 %
WEB_MERCATOR_HALF = 20037508.342789244

# A uniform number in [0, 1) from (row, stream): stable, order-independent, parallel-safe.
_RANDOM_FUNCTION = """
CREATE OR REPLACE FUNCTION bench_u(i bigint, k bigint) RETURNS float8
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT (hashint8extended(i, k) & 2147483647)::float8 / 2147483648.0 $$
"""


def _execute(sql: str, params: list[Any] | None = None) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def _scalar(sql: str, params: list[Any] | None = None) -> Any:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return row[0] if row else None


def _stamp_get(key: str) -> str | None:
    _execute("CREATE TABLE IF NOT EXISTS bench_meta (key text PRIMARY KEY, value text NOT NULL)")
    value = _scalar("SELECT value FROM bench_meta WHERE key = %s", [key])
    return str(value) if value is not None else None


def _stamp_set(key: str, value: str) -> None:
    _execute(
        "INSERT INTO bench_meta (key, value) VALUES (%s, %s)"
        " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [key, value],
    )


@contextmanager
def _indexes_dropped(table: str) -> Iterator[None]:
    """Drops the secondary indexes of `table` and rebuilds them from their own definitions."""
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT i.relname, pg_get_indexdef(x.indexrelid)
               FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
               WHERE x.indrelid = %s::regclass AND NOT x.indisprimary
                 AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)""",
            [table],
        )
        definitions = cursor.fetchall()
        for name, _ in definitions:
            cursor.execute(f'DROP INDEX "{name}"')
    # On an error the surrounding transaction rolls the drops back, so nothing is rebuilt here.
    yield
    with connection.cursor() as cursor:
        cursor.execute("SET maintenance_work_mem = '512MB'")
        for _, definition in definitions:
            cursor.execute(definition)


def _dataset(slug: str, title: str, kind: str) -> int:
    from layers.models import Dataset

    dataset, _ = Dataset.objects.update_or_create(
        slug=slug,
        defaults={
            "title": title,
            "abstract": "Generated benchmark data. Not real data.",
            "kind": kind,
            "organisation": "AMDIS bench",
            "licence": "CC0 1.0",
            "citation": "AMDIS benchmark data (generated).",
            "is_published": True,
            "is_demo": True,
        },
    )
    return int(dataset.pk)


def reference_data_ensure() -> None:
    """Member states with boundaries and the commodity vocabulary, through the app's services."""
    from deposits.management.commands.load_demo import WORLD_ATLAS
    from deposits.models import MemberState
    from deposits.services import boundaries_import, reference_data_load

    reference_data_load()
    if not MemberState.objects.filter(boundary__isnull=False).exists():
        boundaries_import(path=WORLD_ATLAS)


def _centres_create() -> None:
    """~50 cluster centres on the member states' land, with a spread and a member state each."""
    _execute("DROP TABLE IF EXISTS bench_centres")
    _execute(
        """CREATE TABLE bench_centres AS
           WITH land AS (SELECT ST_Union(boundary) AS g FROM deposits_memberstate
                         WHERE boundary IS NOT NULL),
                -- ST_GeneratePoints may return a few points fewer than asked on multipolygons.
                p AS (SELECT geom FROM (
                          SELECT (ST_Dump(ST_GeneratePoints(land.g, %s, %s))).geom AS geom
                          FROM land) d
                      ORDER BY md5(ST_AsText(geom)) LIMIT %s)
           SELECT (row_number() OVER (ORDER BY ST_X(geom), ST_Y(geom)) - 1)::int AS c,
                  ST_X(geom) AS lon, ST_Y(geom) AS lat,
                  0.05 + 0.6 * bench_u(row_number() OVER (ORDER BY ST_X(geom), ST_Y(geom)), 7)
                      AS sigma,
                  (SELECT ms.id FROM deposits_memberstate ms WHERE ms.boundary IS NOT NULL
                   ORDER BY ms.boundary <-> p.geom LIMIT 1) AS member_state_id
           FROM p""",
        [2 * CENTRES, SEED % 100000, CENTRES],
    )


# Columns shared by points and polygons: where a row lies (clustered or uniform).
def _position_sql(i: str, salt: int) -> str:
    """SQL for (lon, lat, member_state_id) of row `i`: 70 % around a centre, 30 % uniform."""
    lon0, lat0, lon1, lat1 = REGION
    return f"""
        SELECT CASE WHEN bench_u({i}, {salt} + 1) < {CLUSTERED_SHARE}
                    THEN c.lon + c.sigma * sqrt(-2 * ln(1 - bench_u({i}, {salt} + 3)))
                                 * cos(2 * pi() * bench_u({i}, {salt} + 4))
                    ELSE {lon0} + {lon1 - lon0} * bench_u({i}, {salt} + 5) END AS lon,
               CASE WHEN bench_u({i}, {salt} + 1) < {CLUSTERED_SHARE}
                    THEN c.lat + c.sigma * sqrt(-2 * ln(1 - bench_u({i}, {salt} + 3)))
                                 * sin(2 * pi() * bench_u({i}, {salt} + 4))
                    ELSE {lat0} + {lat1 - lat0} * bench_u({i}, {salt} + 5) END AS lat,
               CASE WHEN bench_u({i}, {salt} + 1) < {CLUSTERED_SHARE} THEN c.member_state_id
                    ELSE (SELECT id FROM deposits_memberstate
                          ORDER BY id OFFSET floor(bench_u({i}, {salt} + 6) * 11)::int LIMIT 1)
               END AS member_state_id
        FROM bench_centres c
        WHERE c.c = floor(bench_u({i}, {salt} + 2) * {CENTRES})::int"""


_STATUSES = (
    "ARRAY['occurrence','prospect','deposit','operating_mine','closed_mine','past_producer']"
)
_DEPOSIT_TYPES = (
    "ARRAY['Porphyry Cu-Au','Epithermal Au-Ag','Laterite Ni-Co','Greisen Sn-W','Placer Sn',"
    "'Ion-adsorption REE clay','Bauxite','Skarn Fe-Cu','Orogenic Au','Coal seam','VMS Cu-Zn',"
    "'Limestone quarry']"
)
_NAME_HEADS = (
    "ARRAY['Bukit','Gunung','Sungai','Nam','Phu','Ban','Kampung','Mount','Batu','Tanjung']"
)
_NAME_TAILS = "ARRAY['Emas','Merah','Tembaga','Besi','Hijau','Kaeo','Lek','Dong','Timah','Putih']"
_ROCKS = "ARRAY['granite','andesite','limestone','schist','sandstone','basalt','diorite']"


def _dataset_case(i: str, datasets: dict[str, int]) -> str:
    """The first rows go to the GeoJSON datasets (1k, 10k, 100k), the rest to the points set."""
    arms, start = [], 0
    for size in GEOJSON_SIZES:
        start += size
        arms.append(f"WHEN {i} <= {start} THEN {datasets[geojson_slug(size)]}")
    return f"CASE {' '.join(arms)} ELSE {datasets[POINTS_SLUG]} END"


def points_generate(*, count: int) -> None:
    """`count` occurrence points (ids 1..count) with 4–6 attributes and commodity links."""
    from layers.models import DatasetKind

    datasets = {
        geojson_slug(size): _dataset(
            geojson_slug(size),
            f"Bench GeoJSON slice of {size:,} occurrences",
            DatasetKind.OCCURRENCES,
        )
        for size in GEOJSON_SIZES
    }
    datasets[POINTS_SLUG] = _dataset(
        POINTS_SLUG, "Bench occurrences (generated)", DatasetKind.OCCURRENCES
    )
    _execute("TRUNCATE deposits_occurrencecommodity, deposits_mineraloccurrence")
    with (
        _indexes_dropped("deposits_mineraloccurrence"),
        _indexes_dropped("deposits_occurrencecommodity"),
    ):
        started = time.monotonic()
        _execute(
            f"""INSERT INTO deposits_mineraloccurrence (
                    id, name, other_names, member_state_id, province, geom, deposit_type, status,
                    resource_mt, grades, reporting_code, resource_date, location_accuracy,
                    dataset_id, source_id, "references", attributes)
                SELECT g.i,
                       ({_NAME_HEADS})[1 + floor(bench_u(g.i, 11) * 10)::int] || ' '
                         || ({_NAME_TAILS})[1 + floor(bench_u(g.i, 12) * 10)::int] || ' ' || g.i,
                       CASE WHEN bench_u(g.i, 13) < 0.1 THEN ARRAY['Alt ' || g.i]
                            ELSE '{{}}'::varchar[] END,
                       pos.member_state_id,
                       'Province ' || (g.i %% 97),
                       ST_SetSRID(ST_MakePoint(pos.lon, pos.lat), 4326),
                       ({_DEPOSIT_TYPES})[1 + floor(bench_u(g.i, 14) * 12)::int],
                       ({_STATUSES})[1 + floor(bench_u(g.i, 15) * 6)::int],
                       CASE WHEN bench_u(g.i, 16) < 0.4 THEN NULL
                            ELSE round(exp(bench_u(g.i, 17) * 8)::numeric, 1)::float8 END,
                       CASE WHEN bench_u(g.i, 18) < 0.3 THEN jsonb_build_object('copper',
                                 jsonb_build_object('value',
                                   round((bench_u(g.i, 19) * 3)::numeric, 2), 'unit', '%%'))
                            ELSE '{{}}'::jsonb END,
                       CASE WHEN bench_u(g.i, 20) < 0.7 THEN ''
                            WHEN bench_u(g.i, 20) < 0.9 THEN 'jorc' ELSE 'ni43101' END,
                       CASE WHEN bench_u(g.i, 21) < 0.5 THEN NULL
                            ELSE date '2000-01-01' + floor(bench_u(g.i, 22) * 9000)::int END,
                       (ARRAY['exact','approximate','district','unknown'])
                           [1 + floor(bench_u(g.i, 23) * 4)::int],
                       {_dataset_case("g.i", datasets)},
                       'BENCH-' || g.i,
                       '',
                       jsonb_strip_nulls(jsonb_build_object(
                           'SITE_ID', g.i,
                           'ELEV_M', round((bench_u(g.i, 24) * 2500)::numeric, 0),
                           'HOST_ROCK', ({_ROCKS})[1 + floor(bench_u(g.i, 25) * 7)::int],
                           'SURVEY_YEAR', 1950 + floor(bench_u(g.i, 26) * 74)::int,
                           'NOTES', CASE WHEN bench_u(g.i, 27) < 0.5 THEN 'Field check '
                                         || floor(bench_u(g.i, 28) * 1000)::int END,
                           'GEOLOGIST', CASE WHEN bench_u(g.i, 29) < 0.5 THEN 'G-'
                                             || floor(bench_u(g.i, 30) * 90)::int END))
                FROM generate_series(1, %s) g(i)
                CROSS JOIN LATERAL ({_position_sql("g.i", 0)}) pos""",
            [count],
        )
        log(f"  {count:,} points inserted in {time.monotonic() - started:.1f} s")
        started = time.monotonic()
        _execute(
            """WITH vocab AS (SELECT array_agg(id ORDER BY code) AS ids, count(*)::int AS n
                              FROM deposits_commodity)
               INSERT INTO deposits_occurrencecommodity (occurrence_id, commodity_id, rank)
               SELECT g.i, vocab.ids[1 + (floor(bench_u(g.i, 40) * vocab.n)::int + k * 7) %% vocab.n],
                      CASE WHEN k = 0 THEN 'main' ELSE 'secondary' END
               FROM generate_series(1, %s) g(i), vocab,
                    generate_series(0, floor(bench_u(g.i, 41) * 3)::int) k""",
            [count],
        )
        log(f"  commodity links inserted in {time.monotonic() - started:.1f} s")
        started = time.monotonic()
    log(f"  indexes rebuilt in {time.monotonic() - started:.1f} s")
    _execute(
        "SELECT setval(pg_get_serial_sequence('deposits_mineraloccurrence', 'id'), %s)", [count]
    )
    # The triggers that store each occurrence's GeoJSON were off (replica role): build it in
    # one pass per dataset, as a bulk publish does (deposits.occurrence_json).
    started = time.monotonic()
    _execute("TRUNCATE deposits_occurrencejson")
    for dataset in datasets.values():
        _execute("SELECT deposits_occurrencejson_build(%s)", [dataset])
    log(f"  stored GeoJSON built in {time.monotonic() - started:.1f} s")
    _execute("ANALYZE deposits_mineraloccurrence")
    _execute("ANALYZE deposits_occurrencecommodity")
    _execute("ANALYZE deposits_occurrencejson")


_LITHOLOGIES = (
    "ARRAY['granite','andesite','peridotite','limestone','sandstone','schist','alluvium']"
)
_AGES = "ARRAY['Quaternary','Neogene','Paleogene','Cretaceous','Jurassic','Triassic','Permian']"


def polygons_generate(*, count: int) -> None:
    """`count` star-shaped (so always valid) polygons of 32–130 vertices, placed like the points."""
    from layers.models import DatasetKind

    dataset_id = _dataset(POLYGONS_SLUG, "Bench geological units (generated)", DatasetKind.GEOLOGY)
    _execute("DELETE FROM layers_geologicalunit WHERE dataset_id = %s", [dataset_id])
    with _indexes_dropped("layers_geologicalunit"):
        started = time.monotonic()
        _execute(
            f"""INSERT INTO layers_geologicalunit (dataset_id, name, lithology, age, age_min_ma,
                    age_max_ma, description, geom)
                SELECT %s, 'Unit ' || g.i,
                       ({_LITHOLOGIES})[1 + floor(bench_u(g.i, 51) * 7)::int],
                       ({_AGES})[1 + floor(bench_u(g.i, 52) * 7)::int],
                       NULL, NULL, '',
                       ST_Multi(ST_MakePolygon(ST_MakeLine(ring.pts)))
                FROM generate_series(1, %s) g(i)
                CROSS JOIN LATERAL ({_position_sql("g.i", 100)}) pos
                CROSS JOIN LATERAL (SELECT 32 + floor(bench_u(g.i, 53) * 99)::int AS nv,
                                           0.004 * exp(bench_u(g.i, 54) * 3.5) AS r) shape
                CROSS JOIN LATERAL (
                    SELECT array_agg(ST_MakePoint(
                               pos.lon + shape.r * (0.65 + 0.35 * bench_u(g.i * 256 + k %% shape.nv, 55))
                                   * cos(2 * pi() * (k %% shape.nv) / shape.nv),
                               pos.lat + shape.r * (0.65 + 0.35 * bench_u(g.i * 256 + k %% shape.nv, 55))
                                   * sin(2 * pi() * (k %% shape.nv) / shape.nv)) ORDER BY k) AS pts
                    FROM generate_series(0, shape.nv) k
                ) ring""",
            [dataset_id, count],
        )
        log(f"  {count:,} polygons inserted in {time.monotonic() - started:.1f} s")
        started = time.monotonic()
    log(f"  indexes rebuilt in {time.monotonic() - started:.1f} s")
    _execute("ANALYZE layers_geologicalunit")


def _foreign_keys_check() -> None:
    orphans = _scalar(
        """SELECT (SELECT count(*) FROM deposits_occurrencecommodity oc
                   WHERE NOT EXISTS (SELECT 1 FROM deposits_mineraloccurrence o
                                     WHERE o.id = oc.occurrence_id))
                + (SELECT count(*) FROM deposits_mineraloccurrence o
                   WHERE NOT EXISTS (SELECT 1 FROM deposits_memberstate m
                                     WHERE m.id = o.member_state_id))"""
    )
    if orphans:
        raise RuntimeError(f"Generated data has {orphans} rows with a dangling foreign key.")


def _fingerprint(**parts: Any) -> str:
    text = json.dumps({"v": GENERATOR_VERSION, "seed": SEED, **parts}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def data_ensure(*, points: int, polygons: int) -> dict[str, float]:
    """Generates what the stamps say is missing; returns seconds spent per step."""
    timings: dict[str, float] = {}
    _execute(_RANDOM_FUNCTION)
    reference_data_ensure()
    if _stamp_get("centres") != _fingerprint(centres=CENTRES) or not _scalar(
        "SELECT to_regclass('bench_centres') IS NOT NULL"
    ):
        _centres_create()
        _stamp_set("centres", _fingerprint(centres=CENTRES))
        _stamp_set("points", "")
        _stamp_set("polygons", "")
    for key, size, generate in (
        ("points", points, points_generate),
        ("polygons", polygons, polygons_generate),
    ):
        wanted = _fingerprint(**{key: size})
        if size and _stamp_get(key) != wanted:
            log(f"Generating {size:,} {key} in the bench database")
            started = time.monotonic()
            with transaction.atomic():
                # A bulk load of rows consistent by construction: foreign-key triggers off for
                # this transaction (superuser, bench database only), checked once at the end.
                # With them the triggers that delete outdated feature blocks and texts: done here.
                _execute("DELETE FROM catalogue_featureblock")
                _execute("DELETE FROM catalogue_featuretext")
                _execute("SET LOCAL session_replication_role = replica")
                generate(count=size)
                _execute("SET LOCAL session_replication_role = DEFAULT")
                _foreign_keys_check()
                _stamp_set(key, wanted)
            timings[f"generate_{key}_s"] = time.monotonic() - started
    if points:
        timings.update(feature_blocks_ensure())
    return timings


def feature_blocks_ensure() -> dict[str, float]:
    """The OGC API's feature blocks of the datasets the items scenarios read, as a publish
    builds them (its job, after the commit); timed when built (not when current already)."""
    from catalogue.blocks import blocks_build

    timings = {}
    for size in GEOJSON_SIZES:
        dataset_id = _scalar("SELECT id FROM layers_dataset WHERE slug = %s", [geojson_slug(size)])
        started = time.monotonic()
        if dataset_id is not None and blocks_build(dataset_id):
            timings[f"feature_blocks_{size // 1000}k_s"] = round(time.monotonic() - started, 2)
    return timings


@dataclass(frozen=True)
class TileRef:
    z: int
    x: int
    y: int
    rows: int  # features whose point (or centroid) falls in the tile

    @property
    def path(self) -> str:
        return f"{self.z}/{self.x}/{self.y}"


def tiles_with_data(
    *, table: str, point_sql: str, zooms: list[int], dense: int, sampled: int, where: str = "TRUE"
) -> dict[int, list[TileRef]]:
    """Per zoom: the `dense` tiles holding most features, then `sampled` other tiles with data.

    One scan at z14 rolled up to lower zooms; the sample is ordered by a hash of the tile, so the
    lists are fixed for a given data set.
    """
    top = max(zooms)
    width = 2 * WEB_MERCATOR_HALF / (1 << top)
    result: dict[int, list[TileRef]] = {}
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS pg_temp.bench_tile_counts")
        cursor.execute(
            f"""CREATE TEMP TABLE bench_tile_counts AS
                SELECT floor((ST_X(p) + {WEB_MERCATOR_HALF}) / {width})::int AS x,
                       floor(({WEB_MERCATOR_HALF} - ST_Y(p)) / {width})::int AS y, count(*) AS n
                FROM (SELECT {point_sql} AS p FROM {table} t WHERE {where}) s
                GROUP BY 1, 2"""
        )
        for z in zooms:
            shift = top - z
            cursor.execute(
                f"""WITH tiles AS (
                        SELECT x >> {shift} AS x, y >> {shift} AS y, sum(n)::bigint AS n
                        FROM bench_tile_counts
                        WHERE x >= 0 AND y >= 0 AND x < {1 << top} AND y < {1 << top}
                        GROUP BY 1, 2),
                    ranked AS (SELECT x, y, n, row_number() OVER (ORDER BY n DESC, x, y) AS r
                               FROM tiles)
                    (SELECT x, y, n FROM ranked WHERE r <= %s ORDER BY r)
                    UNION ALL
                    (SELECT x, y, n FROM ranked WHERE r > %s
                     ORDER BY md5(%s || ':' || x || ':' || y) LIMIT %s)""",
                [dense, dense, f"{SEED}:{z}", sampled],
            )
            result[z] = [TileRef(z, x, y, n) for x, y, n in cursor.fetchall()]
        cursor.execute("DROP TABLE bench_tile_counts")
    return result
