"""GDAL configuration for every open of an uploaded file, set in one place.

rasterio and pyogrio each bundle their own GDAL, so each gets the same options: rasterio through
`rasterio.Env` (thread-local), pyogrio through its process-wide config (saved and restored).
"""

from collections.abc import Iterator
from contextlib import contextmanager

import pyogrio
import pyproj.network
import rasterio

from layers.ingest.limits import Limits, MiB

# Why each option:
# - no directory listing: GDAL reads no sibling file it was not pointed at (.aux.xml, .ovr,
#   .vrt, .tfw, .msk), so an upload cannot redirect a read through a sidecar;
# - no PAM: .aux.xml files are neither read nor written next to the upload;
# - no network: /vsicurl/ accepts no file name, and GDAL's HTTP client (used, for example, by a
#   GeoJSON "crs" link) goes to a closed local port and fails at once; the GeoJSON scan refuses
#   such links before GDAL sees the file, this is the second line;
# - no VRT tricks: no Python pixel functions, no raw raster bands reading arbitrary files;
# - SHAPE_RESTORE_SHX=NO: a missing .shx is reported, never silently rebuilt;
# - memory: block cache (MB) and GeoJSON object size (MB) are bounded.
CACHE_MB = 256
BASE_OPTIONS: dict[str, str] = {
    "GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR",
    "GDAL_PAM_ENABLED": "NO",
    "GDAL_GEOREF_SOURCES": "INTERNAL",
    "CPL_VSIL_CURL_ALLOWED_EXTENSIONS": ".amdis-no-remote-files",
    "CPL_VSIL_CURL_ALLOWED_FILENAME": "/amdis-no-remote-files",
    "GDAL_HTTP_PROXY": "127.0.0.1:9",
    "GDAL_HTTP_TIMEOUT": "1",
    "GDAL_HTTP_CONNECTTIMEOUT": "1",
    "GDAL_HTTP_MAX_RETRY": "0",
    "PROJ_NETWORK": "OFF",
    "CPL_ALLOW_VSISTDIN": "NO",
    "GDAL_ALLOW_REMOTE_RESOURCE_TO_ACCESS_LOCAL_FILE": "NO",
    "GDAL_VRT_ENABLE_PYTHON": "NO",
    "GDAL_VRT_ENABLE_RAWRASTERBAND": "NO",
    "OGR_SQLITE_ALLOW_EXTERNAL_ACCESS": "NO",
    "SHAPE_RESTORE_SHX": "NO",
    "GDAL_ALLOW_LARGE_LIBJPEG_MEM_ALLOC": "NO",
    "GDAL_NUM_THREADS": "1",
}


def gdal_options(limits: Limits | None = None) -> dict[str, str]:
    limits = limits or Limits()
    options = dict(BASE_OPTIONS)
    options["GDAL_MAX_BAND_COUNT"] = str(limits.max_raster_bands)
    options["OGR_GEOJSON_MAX_OBJ_SIZE"] = str(max(1, min(limits.max_geojson_bytes // MiB, 200)))
    options["GDAL_CACHEMAX"] = str(CACHE_MB)
    return options


@contextmanager
def gdal_safe_env(limits: Limits | None = None) -> Iterator[None]:
    """Use around every GDAL open (rasterio or pyogrio) of an uploaded file."""
    options = gdal_options(limits)
    saved = {name: pyogrio.get_gdal_config_option(name) for name in options}
    network_was_enabled = pyproj.network.is_network_enabled()
    pyproj.network.set_network_enabled(False)
    pyogrio.set_gdal_config_options(dict(options))
    # rasterio wants the cache size as an integer number of bytes.
    raster_options: dict[str, str | int] = {**options, "GDAL_CACHEMAX": CACHE_MB * MiB}
    try:
        with rasterio.Env(**raster_options):
            yield
    finally:
        pyogrio.set_gdal_config_options(saved)
        pyproj.network.set_network_enabled(network_was_enabled)
