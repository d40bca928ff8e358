from collections.abc import Callable
from pathlib import Path

import pytest

from layers.models import Dataset, DatasetKind, RasterLayer
from tests.rasters.factories import GEOID, raster_layer_from_file


@pytest.fixture
def geoid(make_dataset: Callable[..., Dataset], shared_data: Path) -> RasterLayer:
    """The real EGM96 geoid of South-East Asia as a published raster layer."""
    dataset = make_dataset(slug="geoid", title="EGM96 geoid height", kind=DatasetKind.RASTER)
    return raster_layer_from_file(dataset, shared_data / GEOID, units="m")
