"""Streamed reading of an uploaded vector or CSV file, batch by batch, so memory stays bounded
whatever the file size. The file path is always one the server chose (the job folder)."""

import gc
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pyogrio

BATCH_SIZE = 20_000


@dataclass(frozen=True)
class SourceRow:
    number: int  # 1-based record number in the source
    attributes: dict[str, Any]
    wkb: bytes | None


def _plain(value: Any) -> Any:
    if value is None:
        return None
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and value != value:  # NaN
        return None
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value if isinstance(value, str | int | float | bool) else str(value)


@dataclass(frozen=True)
class ColumnBatch:
    """One batch of a vector file, column by column (no per-row dicts): `columns[i][j]` is the
    value of field `names[i]` in row `first + j`, already plain Python (NaN as None)."""

    first: int  # 1-based record number of the batch's first row
    names: list[str]
    columns: list[list[Any]]
    wkb: list[bytes | None]

    def __len__(self) -> int:
        return len(self.wkb)

    def rows(self) -> list[SourceRow]:
        return (
            [
                SourceRow(self.first + i, dict(zip(self.names, values, strict=True)), self.wkb[i])
                for i, values in enumerate(zip(*self.columns, strict=True))
            ]
            if self.names
            else [SourceRow(self.first + i, {}, w) for i, w in enumerate(self.wkb)]
        )


def _plain_column(values: Any) -> list[Any]:
    """A pyogrio field array as plain Python values: ints, floats (NaN as None), str, bool."""
    kind = getattr(values, "dtype", None)
    if kind is not None and kind.kind in "iub":
        return list(values.tolist())
    if kind is not None and kind.kind == "f":
        return [None if v != v else v for v in values.tolist()]
    if kind is not None and kind.kind == "O":
        plain = values.tolist()
        if all(v is None or type(v) is str for v in plain):
            return list(plain)
        return [_plain(v) for v in plain]
    return [_plain(v) for v in values]


def iter_vector_columns(
    path: str, *, layer: str | None, encoding: str | None, batch_size: int = BATCH_SIZE
) -> Iterator[ColumnBatch]:
    """Batches of `batch_size` features. Each batch re-opens the file at `skip_features`: a
    seek by index for shapefiles and GeoPackages (GDAL's SetNextByIndex)."""
    number = 0
    while True:
        meta, _fids, geometry, field_data = pyogrio.raw.read(
            path, layer=layer, encoding=encoding, skip_features=number, max_features=batch_size
        )
        count = len(geometry)
        if count == 0:
            return
        batch = ColumnBatch(
            number + 1,
            [str(c) for c in meta["fields"]],
            [_plain_column(values) for values in field_data],
            [bytes(w) if w is not None else None for w in geometry.tolist()],
        )
        # pyogrio's reader leaves a reference cycle (a Cython closure scope) holding the batch's
        # arrays. Only the cyclic collector frees it, and staging a batch allocates too few
        # containers to set it off: a million points kept 200-350 MB of read batches alive.
        # The cycle is young; collecting the young generations once a batch costs next to
        # nothing.
        del meta, _fids, geometry, field_data
        gc.collect(1)
        yield batch
        number += count
        if count < batch_size:
            return


def iter_vector(
    path: str, *, layer: str | None, encoding: str | None, batch_size: int = BATCH_SIZE
) -> Iterator[list[SourceRow]]:
    for batch in iter_vector_columns(path, layer=layer, encoding=encoding, batch_size=batch_size):
        yield batch.rows()


def iter_csv(
    records: Iterator[tuple[int, dict[str, str]]], *, batch_size: int = BATCH_SIZE
) -> Iterator[list[SourceRow]]:
    """Batches of CSV records (from safety.csv_records, which knows the encoding and delimiter)."""
    batch: list[SourceRow] = []
    for number, values in records:
        batch.append(SourceRow(number, dict(values), None))
        if len(batch) >= batch_size:
            yield batch
            batch = []
    if batch:
        yield batch
