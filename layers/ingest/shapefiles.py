"""Structural checks of a shapefile's .shp, .shx and .dbf headers, before GDAL reads them.

Every check reads a fixed number of bytes or one vectorised pass over the .shx index, so a header
that lies (a record count, an offset, a field width) is caught in constant or linear time instead
of making a reader run past the end of a file or loop for ever.
"""

import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from layers.ingest.discovery import FoundDataset, describe_content
from layers.ingest.encodings import EncodingGuess, detect_text_encoding, normalise_encoding
from layers.ingest.limits import Limits, MiB
from layers.ingest.rejections import Code, RejectedFile

SHP_VERSION = 1000
HEADER_BYTES = 100
# Shape types and the bytes one vertex takes in each (2D, with M, with Z and M).
POINT_BYTES = {
    0: 0,
    1: 16,
    3: 16,
    5: 16,
    8: 16,
    11: 32,
    13: 32,
    15: 32,
    18: 32,
    21: 24,
    23: 24,
    25: 24,
    28: 24,
    31: 32,
}
POINT_TYPES = {1, 11, 21}
MULTIPOINT_TYPES = {8, 18, 28}
SHAPE_TYPE_NAMES = {
    0: "null",
    1: "Point",
    3: "LineString",
    5: "Polygon",
    8: "MultiPoint",
    11: "PointZ",
    13: "LineStringZ",
    15: "PolygonZ",
    18: "MultiPointZ",
    21: "PointM",
    23: "LineStringM",
    25: "PolygonM",
    28: "MultiPointM",
    31: "MultiPatch",
}
DBF_VERSIONS = {
    0x02,
    0x03,
    0x04,
    0x05,
    0x30,
    0x31,
    0x32,
    0x43,
    0x63,
    0x83,
    0x8B,
    0x8E,
    0xCB,
    0xE5,
    0xF5,
    0xFB,
}
DBF_TYPES = set(b"CNFLDMBGIYT@O+0VP")
DBF_MAX_FIELDS = 2046
# Language driver ids (DBF byte 29) that name a code page, used when there is no .cpg.
LDID_CODE_PAGES = {
    0x01: "cp437",
    0x02: "cp850",
    0x03: "cp1252",
    0x57: "cp1252",
    0x58: "cp1252",
    0x59: "cp1252",
    0x64: "cp852",
    0x65: "cp866",
    0x7C: "cp874",
    0x4D: "cp936",
    0x4E: "cp949",
    0x4F: "cp950",
    0x13: "cp932",
    0xC8: "cp1250",
    0xC9: "cp1251",
    0xCA: "cp1254",
    0xCB: "cp1253",
    0xCC: "cp1257",
}
SPOT_CHECKS = 64
SAMPLE_BYTES = 1 * MiB
SAMPLE_RECORDS = 4000


@dataclass(frozen=True)
class DbfField:
    name: str
    type: str
    width: int
    decimals: int


@dataclass
class ShapefileFacts:
    shape_type: str
    record_count: int
    max_vertices: int
    dbf_fields: list[DbfField]
    declared_encoding: str | None  # from .cpg, else from the DBF language driver id
    declared_by: str | None  # "cpg", "ldid" or None
    encoding: EncodingGuess
    bbox: tuple[float, float, float, float] | None
    notes: list[str] = field(default_factory=list)


def check_shapefile(found: FoundDataset, limits: Limits) -> ShapefileFacts:
    shp, shx, dbf = found.path, found.sidecars[".shx"], found.sidecars[".dbf"]
    shape_type, shp_size, bbox = _check_shp_header(shp)
    count, max_vertices = _check_shx(shx, shp, shape_type, shp_size, limits)
    fields, dbf_count, record_len, header_len, ldid = _check_dbf(dbf, limits)
    if dbf_count != count:
        raise RejectedFile(
            Code.RECORD_COUNT_MISMATCH,
            f"The shapefile's parts disagree: the .shx indexes {count:,} shapes but the .dbf "
            f"holds {dbf_count:,} records. The files may come from different exports; export the "
            "layer again and upload all its files together.",
            {"shx_records": count, "dbf_records": dbf_count},
        )
    declared, declared_by = _declared_encoding(found, ldid)
    sample = _dbf_text_sample(dbf, fields, dbf_count, record_len, header_len)
    guess = detect_text_encoding(sample, declared)
    return ShapefileFacts(
        shape_type=SHAPE_TYPE_NAMES.get(shape_type, str(shape_type)),
        record_count=count,
        max_vertices=max_vertices,
        dbf_fields=fields,
        declared_encoding=declared,
        declared_by=declared_by,
        encoding=guess,
        bbox=bbox,
    )


def _check_shp_header(shp: Path) -> tuple[int, int, tuple[float, float, float, float] | None]:
    size = shp.stat().st_size
    with shp.open("rb") as handle:
        header = handle.read(HEADER_BYTES)
    if size == 0:
        raise RejectedFile(
            Code.EMPTY_FILE,
            f"'{shp.name}' is empty (0 bytes). Export the layer again and upload all its files.",
            {"file": shp.name},
        )
    if len(header) < HEADER_BYTES or header[:4] != b"\x00\x00\x27\x0a":
        raise RejectedFile(
            Code.NOT_A_SHAPEFILE,
            f"'{shp.name}' is not a shapefile (its content is {describe_content(header)}). Export "
            "the layer again as an ESRI Shapefile.",
            {"file": shp.name},
        )
    (length_words,) = struct.unpack(">i", header[24:28])
    version, shape_type = struct.unpack("<ii", header[28:36])
    if version != SHP_VERSION or shape_type not in POINT_BYTES:
        raise RejectedFile(
            Code.NOT_A_SHAPEFILE,
            f"'{shp.name}' has an unknown shapefile version or shape type ({version}, "
            f"{shape_type}). Export the layer again as an ESRI Shapefile.",
            {"file": shp.name, "version": version, "shape_type": shape_type},
        )
    if length_words * 2 > size or length_words * 2 < HEADER_BYTES:
        raise RejectedFile(
            Code.NOT_A_SHAPEFILE,
            f"'{shp.name}' is cut short: its header says {length_words * 2:,} bytes but the file "
            f"has {size:,}. The upload or the export was interrupted; export and upload again.",
            {"file": shp.name, "declared": length_words * 2, "size": size},
        )
    xmin, ymin, xmax, ymax = struct.unpack("<4d", header[36:68])
    finite = all(np.isfinite((xmin, ymin, xmax, ymax)))
    return shape_type, size, (xmin, ymin, xmax, ymax) if finite else None


def _check_shx(
    shx: Path, shp: Path, shape_type: int, shp_size: int, limits: Limits
) -> tuple[int, int]:
    size = shx.stat().st_size
    if size < HEADER_BYTES or (size - HEADER_BYTES) % 8:
        raise RejectedFile(
            Code.BAD_SHX,
            f"'{shx.name}' (the shapefile index) is damaged: its size ({size:,} bytes) is not a "
            "whole number of records. Export the layer again.",
            {"file": shx.name},
        )
    count = (size - HEADER_BYTES) // 8
    if count > limits.max_features:
        raise _too_many_features(count, limits)
    with shx.open("rb") as handle:
        header = handle.read(HEADER_BYTES)
        (shx_type,) = struct.unpack("<i", header[32:36])
        index = np.fromfile(handle, dtype=">i4", count=count * 2).astype(np.int64).reshape(-1, 2)
    if shx_type != shape_type:
        raise RejectedFile(
            Code.BAD_SHX,
            f"'{shx.name}' belongs to a different shapefile (shape type {shx_type}, the .shp has "
            f"{shape_type}). Upload the .shp, .shx and .dbf of the same export.",
            {"file": shx.name},
        )
    if count == 0:
        return 0, 0
    offsets = index[:, 0] * 2
    lengths = index[:, 1] * 2
    bad = (offsets < HEADER_BYTES) | (lengths < 0) | (offsets + 8 + lengths > shp_size)
    if bad.any():
        record = int(np.argmax(bad))
        raise RejectedFile(
            Code.BAD_SHX,
            f"The shapefile index '{shx.name}' points outside '{shp.name}' (record {record + 1:,} "
            f"at byte {int(offsets[record]):,}, the .shp has {shp_size:,} bytes). The files are "
            "damaged or from different exports; export the layer again.",
            {"file": shx.name, "record": record + 1, "offset": int(offsets[record])},
        )
    _spot_check_records(shp, offsets, lengths)
    max_vertices = _max_vertices(shape_type, lengths)
    if max_vertices > limits.max_vertices_per_geometry:
        record = int(np.argmax(lengths))
        raise RejectedFile(
            Code.TOO_MANY_VERTICES,
            f"Shape {record + 1:,} in '{shp.name}' has about {max_vertices:,} vertices; at most "
            f"{limits.max_vertices_per_geometry:,} are allowed in one geometry. Simplify or split "
            "it (QGIS: Vector > Geometry Tools > Simplify or Split) and upload again.",
            {"record": record + 1, "vertices": max_vertices},
        )
    return count, max_vertices


def _spot_check_records(shp: Path, offsets: np.ndarray, lengths: np.ndarray) -> None:
    """The record headers at a few indexed offsets must repeat the indexed content length."""
    picks = np.unique(
        np.linspace(0, len(offsets) - 1, num=min(SPOT_CHECKS, len(offsets))).astype(int)
    )
    with shp.open("rb") as handle:
        for i in picks:
            handle.seek(int(offsets[i]))
            head = handle.read(8)
            (content_words,) = struct.unpack(">i", head[4:8])
            if content_words * 2 != lengths[i]:
                raise RejectedFile(
                    Code.BAD_SHX,
                    f"The shapefile index does not match '{shp.name}' at record {int(i) + 1:,}. "
                    "The files are damaged or from different exports; export the layer again.",
                    {"record": int(i) + 1},
                )


def _max_vertices(shape_type: int, lengths: np.ndarray) -> int:
    point_bytes = POINT_BYTES[shape_type]
    if point_bytes == 0:
        return 0
    if shape_type in POINT_TYPES:
        return 1
    longest = int(lengths.max())
    header = 40 if shape_type in MULTIPOINT_TYPES else 44
    return max(0, (longest - header) // point_bytes)


def _check_dbf(dbf: Path, limits: Limits) -> tuple[list[DbfField], int, int, int, int]:
    size = dbf.stat().st_size
    with dbf.open("rb") as handle:
        head = handle.read(32)
        if len(head) < 32 or head[0] not in DBF_VERSIONS:
            raise RejectedFile(
                Code.BAD_DBF,
                f"'{dbf.name}' is not a dBase attribute table (its content is "
                f"{describe_content(head)}). Export the layer again.",
                {"file": dbf.name},
            )
        count, header_len, record_len = struct.unpack("<IHH", head[4:12])
        ldid = head[29]
        if header_len < 33 or header_len > size:
            raise _bad_dbf(dbf, f"its header length ({header_len}) is impossible")
        raw = handle.read(header_len - 32)
    fields: list[DbfField] = []
    for start in range(0, len(raw) - 31, 32):
        if raw[start] == 0x0D:
            break
        descriptor = raw[start : start + 32]
        name = descriptor[:11].split(b"\x00", 1)[0].decode("latin-1").strip()
        kind, width, decimals = descriptor[11], descriptor[16], descriptor[17]
        if kind not in DBF_TYPES:
            raise _bad_dbf(dbf, f"field {len(fields) + 1} has an unknown type ({kind:#x})")
        fields.append(DbfField(name=name, type=chr(kind), width=width, decimals=decimals))
        if len(fields) > min(limits.max_fields, DBF_MAX_FIELDS):
            raise RejectedFile(
                Code.TOO_MANY_FIELDS,
                f"'{dbf.name}' has more than {min(limits.max_fields, DBF_MAX_FIELDS):,} "
                "columns. Remove the columns you do not need and upload again.",
                {"file": dbf.name},
            )
    widths = sum(f.width for f in fields)
    if widths + 1 > record_len:
        raise _bad_dbf(
            dbf,
            f"its columns are {widths + 1:,} bytes wide in total but each record is only "
            f"{record_len:,} bytes",
        )
    if count > limits.max_features:
        raise _too_many_features(count, limits)
    available = (size - header_len) // record_len if record_len else 0
    if count > available:
        raise _bad_dbf(
            dbf,
            f"its header claims {count:,} records but the file holds only {available:,}",
        )
    return fields, count, record_len, header_len, ldid


def _declared_encoding(found: FoundDataset, ldid: int) -> tuple[str | None, str | None]:
    cpg = found.sidecars.get(".cpg")
    if cpg is not None and cpg.stat().st_size <= 256:
        text = cpg.read_bytes().decode("latin-1").strip()
        if text:
            return normalise_encoding(text) or text, "cpg"
    if ldid in LDID_CODE_PAGES:
        return LDID_CODE_PAGES[ldid], "ldid"
    return None, None


def _dbf_text_sample(
    dbf: Path, fields: list[DbfField], count: int, record_len: int, header_len: int
) -> bytes:
    """Text-field values (non-ASCII ones first) from records spread over the whole table."""
    text_fields: list[tuple[int, int]] = []
    offset = 1  # the deletion flag
    for f in fields:
        if f.type == "C":
            text_fields.append((offset, f.width))
        offset += f.width
    if not text_fields or count == 0:
        return b""
    if count <= SAMPLE_RECORDS:
        picks = range(count)
    else:
        picks = np.unique(np.linspace(0, count - 1, num=SAMPLE_RECORDS).astype(int)).tolist()
    non_ascii: list[bytes] = []
    plain: list[bytes] = []
    size = 0
    with dbf.open("rb") as handle:
        for i in picks:
            handle.seek(header_len + int(i) * record_len)
            record = handle.read(record_len)
            for start, width in text_fields:
                value = record[start : start + width].rstrip(b" \x00")
                if not value:
                    continue
                (non_ascii if any(b >= 0x80 for b in value) else plain).append(value)
                size += len(value)
            if size > SAMPLE_BYTES:
                break
    return b"\n".join(non_ascii or plain[:200])


def _bad_dbf(dbf: Path, reason: str) -> RejectedFile:
    return RejectedFile(
        Code.BAD_DBF,
        f"The attribute table '{dbf.name}' is damaged: {reason}. Export the layer again and "
        "upload all its files together.",
        {"file": dbf.name, "reason": reason},
    )


def _too_many_features(count: int, limits: Limits) -> RejectedFile:
    return RejectedFile(
        Code.TOO_MANY_FEATURES,
        f"The file holds {count:,} features; at most {limits.max_features:,} are allowed in one "
        "upload. Split it (for example by region) and upload the parts.",
        {"features": count, "limit": limits.max_features},
    )
