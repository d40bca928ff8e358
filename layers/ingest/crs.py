"""CRS definitions found in uploaded files, parsed by pyproj (never handed to GDAL as text)."""

import re
from dataclasses import dataclass

from pyproj import CRS
from pyproj.exceptions import CRSError

from layers.ingest.rejections import Code, RejectedFile

MAX_PRJ_BYTES = 64 * 1024
MIN_EPSG_CONFIDENCE = 70
# WKT1 (including ESRI's dialect) and WKT2 root keywords; anything else is not a definition we
# parse (PROJ strings, URLs, file names, JSON).
_WKT_START = re.compile(
    r"^\s*(PROJCS|GEOGCS|GEOCCS|COMPD_CS|VERT_CS|PROJCRS|GEOGCRS|GEODCRS|GEODETICCRS|"
    r"GEOGRAPHICCRS|PROJECTEDCRS|COMPOUNDCRS|BOUNDCRS|VERTCRS)\s*[\[(]",
    re.IGNORECASE,
)
# GeoJSON "crs" names that are plain identifiers (RFC 7946 legacy and OGC URNs).
_EPSG_NAME = re.compile(r"^(?:EPSG:|urn:ogc:def:crs:EPSG:[0-9.]*:)(\d{1,6})$", re.IGNORECASE)
_CRS84_NAME = re.compile(r"^(?:urn:ogc:def:crs:OGC:[0-9.]*:CRS84|OGC:CRS84|CRS84)$", re.IGNORECASE)


@dataclass(frozen=True)
class CrsFact:
    epsg: int
    name: str


def crs_from_wkt(text: str, *, source: str) -> CrsFact:
    """An EPSG code for a WKT definition, or a refusal that says why."""
    if not _WKT_START.match(text):
        start = text.strip()[:40]
        raise RejectedFile(
            Code.BAD_CRS,
            f"The projection in {source} is not a WKT definition (it starts with '{start}'). "
            "Export the data again from your GIS so it writes a standard .prj, or remove the .prj "
            "and choose the CRS in the next step.",
            {"source": source},
        )
    try:
        crs = CRS.from_wkt(text)
    except CRSError as exc:
        reason = str(exc).split(":", 1)[-1].strip()[:200]
        raise RejectedFile(
            Code.BAD_CRS,
            f"The projection in {source} cannot be read ({reason}). Export the data again from "
            "your GIS, or remove the .prj and choose the CRS in the next step.",
            {"source": source, "reason": reason},
        ) from exc
    epsg = crs.to_epsg(min_confidence=MIN_EPSG_CONFIDENCE)
    if epsg is None:
        raise RejectedFile(
            Code.UNKNOWN_CRS,
            f"The projection in {source} ('{crs.name}') matches no EPSG code, so AMDIS cannot "
            "reproject it reliably. Reproject the data to a standard CRS (for example WGS 84, "
            "EPSG:4326, or your national UTM zone) and upload it again.",
            {"source": source, "name": crs.name},
        )
    return CrsFact(epsg=int(epsg), name=str(crs.name))


def crs_from_prj_bytes(raw: bytes, *, source: str) -> CrsFact:
    if len(raw) > MAX_PRJ_BYTES:
        raise RejectedFile(
            Code.BAD_CRS,
            f"{source} is {len(raw):,} bytes, far too large for a projection file. Export the "
            "data again from your GIS.",
            {"source": source},
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    if "\x00" in text or not text.strip():
        raise RejectedFile(
            Code.BAD_CRS,
            f"{source} is empty or not text. Remove it and choose the CRS in the next step, or "
            "export the data again.",
            {"source": source},
        )
    return crs_from_wkt(text.strip(), source=source)


def crs_from_epsg(code: int, *, source: str) -> CrsFact:
    try:
        crs = CRS.from_epsg(code)
    except CRSError as exc:
        raise RejectedFile(
            Code.UNKNOWN_CRS,
            f"{source} names EPSG:{code}, which is not in the EPSG registry. Use a valid code.",
            {"source": source, "epsg": code},
        ) from exc
    return CrsFact(epsg=code, name=str(crs.name))


def epsg_from_geojson_name(name: str) -> int | None:
    """EPSG code of a GeoJSON "crs" name (4326 for CRS84), or None when it is not a plain name."""
    name = name.strip()
    if _CRS84_NAME.match(name):
        return 4326
    match = _EPSG_NAME.match(name)
    return int(match.group(1)) if match else None
