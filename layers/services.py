"""Writes for datasets and geological layers."""

from django.db import connection, transaction

from layers.models import Dataset, DatasetKind

DEMO_GEOLOGY_SLUG = "amdis-demo-geology"
DEMO_STRUCTURES_SLUG = "amdis-demo-structures"
# (unit name, lithology, age, age_min_ma, age_max_ma) assigned to generated demo polygons.
DEMO_UNITS = [
    ("Demo granite suite", "granite", "Triassic", 201.4, 251.9),
    ("Demo volcanic arc sequence", "andesite", "Miocene", 5.3, 23.0),
    ("Demo ophiolite complex", "peridotite", "Cretaceous", 66.0, 145.0),
    ("Demo carbonate platform", "limestone", "Permian", 251.9, 298.9),
    ("Demo clastic basin fill", "sandstone", "Neogene", 2.6, 23.0),
    ("Demo metamorphic basement", "schist", "Palaeozoic", 251.9, 538.8),
    ("Demo alluvium", "sand and gravel", "Quaternary", 0.0, 2.6),
    ("Demo tin-granite belt", "granite", "Late Triassic", 201.4, 237.0),
]


def _demo_dataset(slug: str, title: str, kind: str) -> Dataset:
    dataset, _ = Dataset.objects.update_or_create(
        slug=slug,
        defaults={
            "title": title,
            "abstract": "Made-up map features that show how AMDIS works. Not real geology.",
            "kind": kind,
            "organisation": "AMDIS",
            "licence": "CC0 1.0",
            "citation": "AMDIS demonstration data (generated).",
            "keywords": ["demo"],
            "is_published": True,
            "is_demo": True,
        },
    )
    return dataset


@transaction.atomic
def demo_geology_create(*, seed: float = 0.42) -> tuple[int, int]:
    """Voronoi 'units' and straight 'faults' inside each member state, reproducible, marked demo."""
    units = _demo_dataset(DEMO_GEOLOGY_SLUG, "AMDIS demonstration geology", DatasetKind.GEOLOGY)
    faults = _demo_dataset(
        DEMO_STRUCTURES_SLUG, "AMDIS demonstration structures", DatasetKind.STRUCTURES
    )
    names = [u[0] for u in DEMO_UNITS]
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM layers_geologicalunit WHERE dataset_id = %s", [units.pk])
        cursor.execute("DELETE FROM layers_structure WHERE dataset_id = %s", [faults.pk])
        cursor.execute("SELECT setseed(%s)", [seed])
        cursor.execute(
            """WITH cells AS (
                   SELECT ms.code, ms.boundary,
                          (ST_Dump(ST_VoronoiPolygons(ST_GeneratePoints(ms.boundary,
                              GREATEST(4, (sqrt(ST_Area(ms.boundary)) * 8)::int), 7)))).geom AS cell
                   FROM deposits_memberstate ms WHERE ms.boundary IS NOT NULL
               ), clipped AS (
                   SELECT code, ST_Multi(ST_CollectionExtract(ST_Intersection(boundary, cell), 3)) AS geom,
                          row_number() OVER (ORDER BY code, ST_X(ST_Centroid(cell)), ST_Y(ST_Centroid(cell))) AS n
                   FROM cells
               )
               INSERT INTO layers_geologicalunit (dataset_id, name, lithology, age, age_min_ma, age_max_ma,
                                                  description, geom)
               SELECT %s, u.name || ' (' || c.code || ')', u.lithology, u.age, u.min_ma, u.max_ma,
                      'Generated demonstration unit.', c.geom
               FROM clipped c
               JOIN (SELECT * FROM unnest(%s::text[], %s::text[], %s::text[], %s::float8[], %s::float8[])
                     WITH ORDINALITY AS t(name, lithology, age, min_ma, max_ma, k)) u
                 ON u.k = 1 + (c.n * 7 + 3) %% %s
               WHERE NOT ST_IsEmpty(c.geom)""",
            [
                units.pk,
                names,
                [u[1] for u in DEMO_UNITS],
                [u[2] for u in DEMO_UNITS],
                [u[3] for u in DEMO_UNITS],
                [u[4] for u in DEMO_UNITS],
                len(DEMO_UNITS),
            ],
        )
        unit_count = cursor.rowcount
        cursor.execute(
            """WITH seeds AS (
                   SELECT ms.code, ms.boundary, (ST_Dump(ST_GeneratePoints(ms.boundary,
                          GREATEST(2, (sqrt(ST_Area(ms.boundary)) * 2)::int), 11))).geom AS p
                   FROM deposits_memberstate ms WHERE ms.boundary IS NOT NULL
               ), lines AS (
                   SELECT code, boundary, row_number() OVER (ORDER BY code, ST_X(p), ST_Y(p)) AS n,
                          ST_MakeLine(ST_Translate(p, -0.6 * cos(ST_X(p)), -0.9 * sin(ST_Y(p))),
                                      ST_Translate(p, 0.6 * cos(ST_X(p)), 0.9 * sin(ST_Y(p)))) AS line
                   FROM seeds
               )
               INSERT INTO layers_structure (dataset_id, name, structure_type, description, attributes, geom)
               SELECT %s, 'Demo fault ' || code || '-' || n,
                      (ARRAY['strike_slip_fault','thrust_fault','normal_fault','fault'])[1 + n %% 4],
                      'Generated demonstration structure.', '{}',
                      ST_Multi(ST_CollectionExtract(ST_Intersection(boundary, line), 2))
               FROM lines WHERE ST_Intersects(boundary, line)""",
            [faults.pk],
        )
        structure_count = cursor.rowcount
    return unit_count, structure_count
