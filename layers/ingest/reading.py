"""Streamed reading of an uploaded vector or CSV file, batch by batch, so memory stays bounded
whatever the file size. The file path is always one the server chose (the job folder)."""

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


def iter_vector(
    path: str, *, layer: str | None, encoding: str | None, batch_size: int = BATCH_SIZE
) -> Iterator[list[SourceRow]]:
    number = 0
    while True:
        meta, _fids, geometry, field_data = pyogrio.raw.read(
            path, layer=layer, encoding=encoding, skip_features=number, max_features=batch_size
        )
        columns = [str(c) for c in meta["fields"]]
        if len(geometry) == 0:
            return
        batch = []
        for i in range(len(geometry)):
            number += 1
            attributes = {
                c: _plain(values[i]) for c, values in zip(columns, field_data, strict=True)
            }
            wkb = geometry[i]
            batch.append(SourceRow(number, attributes, bytes(wkb) if wkb is not None else None))
        yield batch
        if len(geometry) < batch_size:
            return


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
