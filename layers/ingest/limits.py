"""Size, count and pixel limits for uploaded files, read from Django settings."""

import dataclasses
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ImproperlyConfigured

KiB = 1024
MiB = 1024 * KiB
GiB = 1024 * MiB
# Older setting names that mean the same limit.
ALIASES = {"max_upload_bytes": "UPLOAD_MAX_BYTES"}


@dataclass(frozen=True)
class Limits:
    """Every limit is a setting named INGEST_<FIELD> (e.g. INGEST_MAX_ENTRIES); these are defaults."""

    max_upload_bytes: int = 2 * GiB
    max_uncompressed_bytes: int = 4 * GiB
    max_entries: int = 1000
    max_compression_ratio: int = 200
    max_layers: int = 50
    max_features: int = 5_000_000
    max_fields: int = 1000
    max_vertices_per_geometry: int = 1_000_000
    max_geojson_depth: int = 64
    max_geojson_bytes: int = 512 * MiB
    max_raster_pixels: int = 40_000 * 40_000
    max_raster_bands: int = 64
    max_raster_dimension: int = 100_000
    max_raster_bytes: int = 16 * GiB  # width × height × bands × bytes per sample, decompressed
    max_raster_block_bytes: int = 256 * MiB  # one tile or strip, decompressed
    max_csv_field_chars: int = 1 * MiB
    max_seconds: int = (
        300  # wall-clock budget for one structural check (GeoJSON scan, CSV pass, SQLite)
    )

    @classmethod
    def from_settings(cls) -> "Limits":
        from django.conf import settings

        values: dict[str, Any] = {}
        for spec in dataclasses.fields(cls):
            name = f"INGEST_{spec.name.upper()}"
            value = getattr(settings, name, None)
            if value is None and spec.name in ALIASES:
                name = ALIASES[spec.name]
                value = getattr(settings, name, None)
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ImproperlyConfigured(f"{name} must be a positive integer; got {value!r}.")
            values[spec.name] = value
        return cls(**values)
