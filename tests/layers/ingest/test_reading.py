"""layers.ingest.reading: a vector file is read a batch at a time, and a batch's memory goes
once the next is read (the worker's memory stays bounded whatever the file size)."""

import gc
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyogrio
import pytest
import shapely

from layers.ingest.reading import iter_vector_columns


def _pyogrio_scopes() -> int:
    """pyogrio's reader closures still alive: each holds a read batch's arrays."""
    return sum(
        1 for o in gc.get_objects() if "pyogrio" in type(o).__name__ and "scope" in type(o).__name__
    )


@pytest.fixture
def collector_off() -> Iterator[None]:
    """Only explicit collections run, as when staging allocates too little to set one off."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def test_each_batch_is_freed_when_the_next_is_read(tmp_path: Path, collector_off: None) -> None:
    path = tmp_path / "points.shp"
    xy = np.column_stack([np.linspace(100, 110, 50), np.linspace(0, 10, 50)])
    pyogrio.raw.write(
        path,
        geometry=shapely.to_wkb(shapely.points(xy)),
        field_data=[np.array([f"Site {i}" for i in range(50)], dtype=object)],
        fields=["name"],
        driver="ESRI Shapefile",
        crs="EPSG:4326",
        geometry_type="Point",
    )
    before = _pyogrio_scopes()
    batches = list(iter_vector_columns(str(path), layer=None, encoding=None, batch_size=10))
    assert [b.first for b in batches] == [1, 11, 21, 31, 41]
    assert batches[4].columns[0][-1] == "Site 49"
    # Six reads (the last finds nothing): at most that last one's cycle is left, not six.
    assert _pyogrio_scopes() - before <= 1
