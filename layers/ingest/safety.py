"""The hostile-file gate of the ingest pipeline: everything an uploaded file goes through before
and while it is read. The pipeline imports from here only.

    limits = Limits.from_settings()
    files = extract_upload(upload_path, job_dir, limits)   # zip checks, job_dir/"files"
    found = find_dataset(files)                             # exactly one dataset, by content
    info = inspect_vector(found, limits, layer=...)         # or inspect_csv / inspect_raster
    with gdal_safe_env(limits):
        pyogrio.read(info.open_path, layer=info.layer, encoding=info.read_encoding, ...)

Every refusal is a RejectedFile with a stable `code` and a `message` for the survey editor.
"""

from layers.ingest.archives import check_upload_size, extract_upload, safe_component
from layers.ingest.crs import CrsFact
from layers.ingest.csvfiles import CsvInfo, csv_records, inspect_csv
from layers.ingest.discovery import (
    CSV,
    GEOJSON,
    GEOPACKAGE,
    GEOTIFF,
    SHAPEFILE,
    FoundDataset,
    find_dataset,
)
from layers.ingest.encodings import EncodingGuess, detect_text_encoding, normalise_encoding
from layers.ingest.features import FeatureProblem, check_geometries, check_points
from layers.ingest.gdalenv import gdal_options, gdal_safe_env
from layers.ingest.geojson_scan import GeoJsonInfo, inspect_geojson
from layers.ingest.limits import Limits
from layers.ingest.rejections import Code, RejectedFile
from layers.ingest.tiffs import RasterInfo, inspect_raster
from layers.ingest.vectors import VectorInfo, inspect_vector

__all__ = [
    "CSV",
    "GEOJSON",
    "GEOPACKAGE",
    "GEOTIFF",
    "SHAPEFILE",
    "Code",
    "CrsFact",
    "CsvInfo",
    "EncodingGuess",
    "FeatureProblem",
    "FoundDataset",
    "GeoJsonInfo",
    "Limits",
    "RasterInfo",
    "RejectedFile",
    "VectorInfo",
    "check_geometries",
    "check_points",
    "check_upload_size",
    "csv_records",
    "detect_text_encoding",
    "extract_upload",
    "find_dataset",
    "gdal_options",
    "gdal_safe_env",
    "inspect_csv",
    "inspect_geojson",
    "inspect_raster",
    "inspect_vector",
    "normalise_encoding",
    "safe_component",
]
