"""The one error the file gate raises: a file refused for a reason the survey editor can act on."""

from enum import StrEnum
from typing import Any


class Code(StrEnum):
    """Short, stable slugs for every reason a file is refused (used in reports, JSON and tests)."""

    UPLOAD_TOO_LARGE = "upload_too_large"
    EMPTY_FILE = "empty_file"
    UNSUPPORTED_ARCHIVE = "unsupported_archive"
    BAD_ZIP = "bad_zip"
    ZIP_SLIP = "zip_slip"
    SYMLINK = "symlink"
    SPECIAL_FILE = "special_file"
    NESTED_ARCHIVE = "nested_archive"
    ENCRYPTED_ENTRY = "encrypted_entry"
    UNSUPPORTED_COMPRESSION = "unsupported_compression"
    DUPLICATE_ENTRY = "duplicate_entry"
    TOO_MANY_ENTRIES = "too_many_entries"
    TOO_LARGE_UNCOMPRESSED = "too_large_uncompressed"
    COMPRESSION_RATIO = "compression_ratio"
    SIZE_MISMATCH = "size_mismatch"
    OVERLAPPING_ENTRIES = "overlapping_entries"
    NO_DATASET = "no_dataset"
    SEVERAL_DATASETS = "several_datasets"
    MISSING_SIDECAR = "missing_sidecar"
    WRONG_CONTENT = "wrong_content"
    NOT_A_SHAPEFILE = "not_a_shapefile"
    BAD_SHX = "bad_shx"
    BAD_DBF = "bad_dbf"
    RECORD_COUNT_MISMATCH = "record_count_mismatch"
    NOT_A_GEOPACKAGE = "not_a_geopackage"
    TOO_MANY_LAYERS = "too_many_layers"
    NO_LAYER = "no_layer"
    UNKNOWN_LAYER = "unknown_layer"
    TOO_MANY_FEATURES = "too_many_features"
    TOO_MANY_FIELDS = "too_many_fields"
    TOO_MANY_VERTICES = "too_many_vertices"
    BAD_CRS = "bad_crs"
    UNKNOWN_CRS = "unknown_crs"
    CRS_LINK = "crs_link"
    NOT_GEOJSON = "not_geojson"
    INVALID_JSON = "invalid_json"
    TOO_DEEP = "too_deep"
    FILE_TOO_LARGE = "file_too_large"
    NOT_A_TIFF = "not_a_tiff"
    BAD_TIFF = "bad_tiff"
    RASTER_TOO_LARGE = "raster_too_large"
    TOO_MANY_BANDS = "too_many_bands"
    RASTER_BLOCK_TOO_LARGE = "raster_block_too_large"
    BAD_CSV = "bad_csv"
    ENCODING = "encoding"
    UNREADABLE = "unreadable"
    TOO_SLOW = "too_slow"


class RejectedFile(Exception):
    """An uploaded file is refused. `message` says what is wrong and what to do next."""

    def __init__(self, code: str, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = str(code)
        self.message = message
        self.details: dict[str, Any] = dict(details or {})

    def __repr__(self) -> str:
        return f"RejectedFile({self.code!r}, {self.message!r})"

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "details": self.details}
