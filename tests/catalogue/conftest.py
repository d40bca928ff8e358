"""A small world for the OGC API, downloads and catalogue: one dataset of each kind, published,
and one unpublished Philippine dataset that only PHL editors and reviewers may see."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.gis.geos import LineString, MultiLineString, MultiPolygon, Point, Polygon

from deposits.models import MemberState, MineralOccurrence
from layers.models import Dataset, DatasetKind, GeologicalUnit, Structure, VectorFeature

# Names in Vietnamese, Thai and Tagalog: every output must keep them intact.
VIETNAMESE = "Mỏ đồng Sin Quyền"
THAI = "เหมืองทองชาตรี"


@dataclass
class World:
    occurrences: Dataset
    geology: Dataset
    structures: Dataset
    vector: Dataset
    secret: Dataset
    copper: MineralOccurrence
    gold: MineralOccurrence
    hidden: MineralOccurrence


def _square(lon: float, lat: float, size: float = 1.0) -> MultiPolygon:
    return MultiPolygon(
        Polygon(
            (
                (lon, lat),
                (lon + size, lat),
                (lon + size, lat + size),
                (lon, lat + size),
                (lon, lat),
            )
        ),
        srid=4326,
    )


def build_world(
    make_dataset: Callable[..., Dataset], make_occurrence: Callable[..., MineralOccurrence]
) -> World:
    phl = MemberState.objects.get(code="PHL")
    occurrences = make_dataset(
        slug="phl-mines",
        title="Philippine mines and prospects",
        abstract="Copper and gold occurrences of the Philippines, compiled by the survey.",
        organisation="Mines and Geosciences Bureau",
        member_state=phl,
        citation="MGB (2024). Mines and prospects of the Philippines.",
        keywords=["mines", "porphyry"],
    )
    copper = make_occurrence(
        "Tampakan",
        lon=125.05,
        lat=6.48,
        main=("copper",),
        secondary=("gold",),
        dataset=occurrences,
        status="deposit",
        deposit_type="Porphyry copper",
        resource_mt=2940.0,
        province="South Cotabato",
    )
    gold = make_occurrence(
        VIETNAMESE,
        lon=121.1,
        lat=16.9,
        main=("gold",),
        dataset=occurrences,
        status="prospect",
        deposit_type="Epithermal gold",
    )
    make_occurrence(
        THAI, lon=121.6, lat=17.2, main=("silver",), dataset=occurrences, status="occurrence"
    )
    geology = make_dataset(
        slug="idn-geology",
        title="Geological map of Sumatra",
        abstract="Lithology and age of the units of Sumatra at 1:250,000.",
        kind=DatasetKind.GEOLOGY,
        organisation="Geological Agency of Indonesia",
        member_state=MemberState.objects.get(code="IDN"),
        licence="CC BY 4.0",
        scale_denominator=250000,
    )
    GeologicalUnit.objects.create(
        dataset=geology, name="Granite A", lithology="granite", age="Triassic",
        age_min_ma=201.4, age_max_ma=251.9, geom=_square(100, -1),
    )  # fmt: skip
    GeologicalUnit.objects.create(
        dataset=geology, name="Limestone B", lithology="limestone", age="Permian",
        age_min_ma=251.9, age_max_ma=298.9, geom=_square(102, 1),
    )  # fmt: skip
    structures = make_dataset(
        slug="tha-faults", title="Faults of Thailand", kind=DatasetKind.STRUCTURES,
        member_state=MemberState.objects.get(code="THA"),
    )  # fmt: skip
    Structure.objects.create(
        dataset=structures,
        name="Three Pagodas fault",
        structure_type="strike_slip_fault",
        geom=MultiLineString(LineString((98.2, 15.2), (99.5, 14.0)), srid=4326),
    )
    vector = make_dataset(
        slug="mys-samples", title="Stream sediment samples of Malaysia", kind=DatasetKind.VECTOR,
        member_state=MemberState.objects.get(code="MYS"),
    )  # fmt: skip
    for i, (lon, lat) in enumerate([(101.5, 3.1), (102.2, 4.0), (103.0, 5.2)]):
        VectorFeature.objects.create(
            dataset=vector,
            attributes={"sample": f"S-{i}", "cu_ppm": 10.5 * (i + 1), "note": f"{THAI} {i}"},
            geom=Point(lon, lat, srid=4326),
        )
    secret = make_dataset(
        slug="phl-secret",
        title="Unpublished PHL prospects",
        member_state=phl,
        is_published=False,
        keywords=["confidential"],
    )
    hidden = make_occurrence("Hidden prospect", lon=122.0, lat=13.0, dataset=secret)
    return World(occurrences, geology, structures, vector, secret, copper, gold, hidden)


@pytest.fixture
def world(make_dataset: Any, make_occurrence: Any) -> World:
    return build_world(make_dataset, make_occurrence)
