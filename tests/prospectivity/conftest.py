"""A small world to model: copper occurrences in a granite near a fault, in a 2° x 2° area."""

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.gis.geos import LineString, MultiLineString, MultiPolygon, Polygon

from deposits.models import MineralOccurrence
from layers.models import Dataset, DatasetKind, GeologicalUnit, Structure

AREA = [121.0, 12.0, 123.0, 14.0]


def square(west: float, south: float, east: float, north: float) -> MultiPolygon:
    return MultiPolygon(Polygon.from_bbox((west, south, east, north)), srid=4326)


@pytest.fixture
def world(
    make_dataset: Callable[..., Dataset], make_occurrence: Callable[..., MineralOccurrence]
) -> dict[str, Any]:
    geology = make_dataset(slug="geology", kind=DatasetKind.GEOLOGY)
    GeologicalUnit.objects.create(
        dataset=geology,
        name="Granite",
        lithology="granite",
        age="Triassic",
        geom=square(121.0, 12.0, 122.0, 14.0),
    )
    GeologicalUnit.objects.create(
        dataset=geology,
        name="Basin",
        lithology="sandstone",
        age="Neogene",
        geom=square(122.0, 12.0, 123.0, 14.0),
    )
    faults = make_dataset(slug="faults", kind=DatasetKind.STRUCTURES)
    Structure.objects.create(
        dataset=faults,
        structure_type="fault",
        geom=MultiLineString(LineString((121.5, 12.0), (121.5, 14.0)), srid=4326),
    )
    occurrences = make_dataset(slug="occurrences")
    copper = [
        make_occurrence(
            f"Cu {i}", lon=121.45 + 0.01 * (i % 3), lat=12.1 + 0.17 * i, dataset=occurrences
        )
        for i in range(10)
    ]
    copper.append(make_occurrence("Cu basin", lon=122.6, lat=13.0, dataset=occurrences))
    make_occurrence("Gold", lon=122.5, lat=12.5, main=("gold",), dataset=occurrences)
    return {"copper": copper}  # fmt: skip


def recipe(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "method": "wofe",
        "commodity": "copper",
        "area": {"bbox": AREA},
        "cell_size": 2000,
        "evidence": [
            {"type": "geology", "attribute": "lithology"},
            {"type": "structures", "buffers": [2000, 5000, 10000]},
        ],
        "validation": {"holdout": 0.2, "seed": 1},
    }
    base.update(changes)
    return base
