"""Builders for hostile and broken upload files, made in a test's tmp_path (no binary samples
are committed). Each returns the path of the file it wrote."""

import io
import json
import sqlite3
import stat
import struct
import zipfile
import zlib
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pyogrio.raw
import shapely

WGS84_PRJ = (
    'GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137.0,298.257223563]],'
    'PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]]'
)


# -- zip archives ---------------------------------------------------------------------------
def zip_of(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def zip_with_symlink(path: Path, target: str = "/etc/passwd") -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        link = zipfile.ZipInfo("countries.shp")
        link.create_system = 3
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(link, target)
    return path


def _local_header(name: bytes, crc: int, csize: int, usize: int, method: int) -> bytes:
    return (
        struct.pack(
            "<4s5H3L2H", b"PK\x03\x04", 20, 0, method, 0, 0, crc, csize, usize, len(name), 0
        )
        + name
    )


def _central_entry(
    name: bytes, crc: int, csize: int, usize: int, method: int, offset: int, extra: bytes = b""
) -> bytes:
    return (
        struct.pack(
            "<4s6H3L5H2L",
            b"PK\x01\x02",
            20,
            20,
            0,
            method,
            0,
            0,
            crc,
            csize,
            usize,
            len(name),
            len(extra),
            0,
            0,
            0,
            0,
            offset,
        )
        + name
        + extra
    )


def _end_record(entries: int, cd_size: int, cd_offset: int) -> bytes:
    return struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, entries, entries, cd_size, cd_offset, 0)


def zip_deflated_entry(
    path: Path, name: str, data_chunks: Iterable[bytes], *, declared_size: int | None = None
) -> Path:
    """One deflated entry; `declared_size` (when given) replaces the true size in both headers."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    crc, size, parts = 0, 0, []
    for chunk in data_chunks:
        crc = zlib.crc32(chunk, crc)
        size += len(chunk)
        parts.append(compressor.compress(chunk))
    parts.append(compressor.flush())
    payload = b"".join(parts)
    usize = size if declared_size is None else declared_size
    raw = name.encode()
    local = _local_header(raw, crc, len(payload), usize, 8)
    central = _central_entry(raw, crc, len(payload), usize, 8, 0)
    body = local + payload
    path.write_bytes(body + central + _end_record(1, len(central), len(body)))
    return path


def zip_declaring_huge_entry(path: Path, declared: int = 10 * 1024**3) -> Path:
    """A tiny stored entry whose zip64 header declares `declared` bytes uncompressed."""
    raw, data = b"big.geojson", b"{}"
    crc = zlib.crc32(data)
    local = _local_header(raw, crc, len(data), len(data), 0)
    extra = struct.pack("<HHQQ", 0x0001, 16, declared, len(data))
    central = _central_entry(raw, crc, 0xFFFFFFFF, 0xFFFFFFFF, 0, 0, extra)
    body = local + data
    path.write_bytes(body + central + _end_record(1, len(central), len(body)))
    return path


def zip_with_many_entries(path: Path, count: int, *, claimed: int | None = None) -> Path:
    """`count` central-directory entries, all pointing at one small stored file (a few MB for
    100,000). `claimed` (when given) is the entry count the end record states."""
    data = b"x"
    crc = zlib.crc32(data)
    local = _local_header(b"0", crc, 1, 1, 0) + data
    central = b"".join(_central_entry(str(i).encode(), crc, 1, 1, 0, 0) for i in range(count))
    stated = count if claimed is None else claimed
    path.write_bytes(local + central + _end_record(min(stated, 0xFFFF), len(central), len(local)))
    return path


# -- shapefiles -----------------------------------------------------------------------------
def dbf_bytes(
    fields: Sequence[tuple[str, int]], records: Sequence[Sequence[bytes]], *, ldid: int = 0
) -> bytes:
    """A dBase III table of character fields [(name, width)] holding raw byte values."""
    record_len = 1 + sum(width for _, width in fields)
    header_len = 32 + 32 * len(fields) + 1
    out = io.BytesIO()
    out.write(struct.pack("<B3BIHH20x", 0x03, 126, 1, 1, len(records), header_len, record_len))
    head = bytearray(out.getvalue())
    head[29] = ldid
    out = io.BytesIO(bytes(head))
    out.seek(0, 2)
    for name, width in fields:
        out.write(struct.pack("<11sc4xBB14x", name.encode()[:10], b"C", width, 0))
    out.write(b"\x0d")
    for values in records:
        out.write(b" ")
        for (_, width), value in zip(fields, values, strict=True):
            out.write(value[:width].ljust(width, b" "))
    out.write(b"\x1a")
    return out.getvalue()


def point_shapefile_parts(
    points: Sequence[tuple[float, float]],
    *,
    fields: Sequence[tuple[str, int]] = (("NAME", 40),),
    records: Sequence[Sequence[bytes]] | None = None,
    ldid: int = 0,
) -> dict[str, bytes]:
    """.shp, .shx and .dbf bytes of a 2D point shapefile."""
    records = records or [[f"point {i}".encode()] for i in range(len(points))]
    shp_records, shx_entries, offset = [], [], 50
    for i, (x, y) in enumerate(points, start=1):
        content = struct.pack("<i2d", 1, x, y)
        shp_records.append(struct.pack(">2i", i, len(content) // 2) + content)
        shx_entries.append(struct.pack(">2i", offset, len(content) // 2))
        offset += (8 + len(content)) // 2
    xs, ys = [p[0] for p in points] or [0.0], [p[1] for p in points] or [0.0]
    bbox = (min(xs), min(ys), max(xs), max(ys))

    def header(length_bytes: int) -> bytes:
        return (
            struct.pack(">7i", 9994, 0, 0, 0, 0, 0, length_bytes // 2)
            + struct.pack("<2i", 1000, 1)
            + struct.pack("<8d", *bbox, 0, 0, 0, 0)
        )

    shp_body = b"".join(shp_records)
    shx_body = b"".join(shx_entries)
    return {
        ".shp": header(100 + len(shp_body)) + shp_body,
        ".shx": header(100 + len(shx_body)) + shx_body,
        ".dbf": dbf_bytes(fields, records, ldid=ldid),
    }


def polygon_shapefile_parts(vertices: int) -> dict[str, bytes]:
    """One polygon with `vertices` points (a closed circle)."""
    angles = np.linspace(0, 2 * np.pi, vertices - 1, endpoint=False)
    ring = np.column_stack([100 + np.cos(angles), 10 + np.sin(angles)])
    ring = np.vstack([ring, ring[:1]])
    content = (
        struct.pack(
            "<i4d2i",
            5,
            ring[:, 0].min(),
            ring[:, 1].min(),
            ring[:, 0].max(),
            ring[:, 1].max(),
            1,
            len(ring),
        )
        + struct.pack("<i", 0)
        + ring.astype("<f8").tobytes()
    )
    record = struct.pack(">2i", 1, len(content) // 2) + content

    def header(length_bytes: int) -> bytes:
        return (
            struct.pack(">7i", 9994, 0, 0, 0, 0, 0, length_bytes // 2)
            + struct.pack("<2i", 1000, 5)
            + struct.pack("<8d", 99, 9, 101, 11, 0, 0, 0, 0)
        )

    return {
        ".shp": header(100 + len(record)) + record,
        ".shx": header(108) + struct.pack(">2i", 50, len(content) // 2),
        ".dbf": dbf_bytes([("NAME", 10)], [[b"big"]]),
    }


def write_shapefile(
    folder: Path,
    name: str,
    parts: dict[str, bytes],
    *,
    prj: str | None = WGS84_PRJ,
    cpg: str | None = None,
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for suffix, data in parts.items():
        (folder / f"{name}{suffix}").write_bytes(data)
    if prj is not None:
        (folder / f"{name}.prj").write_text(prj)
    if cpg is not None:
        (folder / f"{name}.cpg").write_text(cpg)
    return folder / f"{name}.shp"


def zip_folder(folder: Path, path: Path, *, prefix: str = "") -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in sorted(folder.rglob("*")):
            if file.is_file():
                archive.write(file, prefix + file.relative_to(folder).as_posix())
    return path


# -- GeoPackage -----------------------------------------------------------------------------
def geopackage_with_layers(path: Path, names: Sequence[str]) -> Path:
    """A real GeoPackage (written by GDAL) with one point layer per name."""
    geometry = np.array([shapely.to_wkb(shapely.Point(100.5, 13.7))], dtype=object)
    for name in names:
        pyogrio.raw.write(
            path,
            geometry,
            [np.array(["Bangkok"], dtype=object)],
            fields=["name"],
            geometry_type="Point",
            crs="EPSG:4326",
            driver="GPKG",
            layer=name,
        )
    return path


def geopackage_with_many_tables(path: Path, count: int) -> Path:
    """The GeoPackage catalogue tables listing `count` feature layers (fast to build)."""
    db = sqlite3.connect(path)
    db.executescript(
        "PRAGMA application_id = 1196444487;"
        "CREATE TABLE gpkg_spatial_ref_sys (srs_name TEXT, srs_id INTEGER PRIMARY KEY, "
        "organization TEXT, organization_coordsys_id INTEGER, definition TEXT, description TEXT);"
        "INSERT INTO gpkg_spatial_ref_sys VALUES ('WGS 84', 4326, 'EPSG', 4326, 'undefined', '');"
        "CREATE TABLE gpkg_contents (table_name TEXT PRIMARY KEY, data_type TEXT, identifier TEXT, "
        "description TEXT, last_change TEXT, min_x REAL, min_y REAL, max_x REAL, max_y REAL, srs_id INTEGER);"
        "CREATE TABLE gpkg_geometry_columns (table_name TEXT, column_name TEXT, "
        "geometry_type_name TEXT, srs_id INTEGER, z TINYINT, m TINYINT);"
    )
    for i in range(count):
        name = f"layer_{i:03d}"
        db.execute(f'CREATE TABLE "{name}" (fid INTEGER PRIMARY KEY, geom BLOB)')
        db.execute(
            "INSERT INTO gpkg_contents VALUES (?, 'features', ?, '', '', 0, 0, 0, 0, 4326)",
            (name, name),
        )
        db.execute(
            "INSERT INTO gpkg_geometry_columns VALUES (?, 'geom', 'POINT', 4326, 0, 0)", (name,)
        )
    db.commit()
    db.close()
    return path


def plain_sqlite(path: Path) -> Path:
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE t (x INTEGER)")
    db.commit()
    db.close()
    return path


# -- GeoTIFF --------------------------------------------------------------------------------
def tiff_bytes(
    width: int,
    height: int,
    *,
    samples: int = 1,
    bits: int = 8,
    compression: int = 1,
    rows_per_strip: int | None = None,
    strip: bytes = b"\x00",
) -> bytes:
    """A little-endian TIFF whose single strip holds `strip` (no matter what it declares)."""
    bits_values = [bits] * samples
    entries: list[tuple[int, int, int, bytes]] = []
    data_offset = 8
    extra = b""
    extra_offset = data_offset + len(strip)
    if samples > 2:
        bits_blob = struct.pack(f"<{samples}H", *bits_values)
        extra, bits_field = bits_blob, struct.pack("<I", extra_offset)
    else:
        bits_field = struct.pack(f"<{samples}H", *bits_values).ljust(4, b"\x00")
    tags = [
        (256, 4, 1, struct.pack("<I", width)),
        (257, 4, 1, struct.pack("<I", height)),
        (258, 3, samples, bits_field),
        (259, 3, 1, struct.pack("<H", compression).ljust(4, b"\x00")),
        (262, 3, 1, struct.pack("<H", 1).ljust(4, b"\x00")),
        (273, 4, 1, struct.pack("<I", data_offset)),
        (277, 3, 1, struct.pack("<H", samples).ljust(4, b"\x00")),
        (278, 4, 1, struct.pack("<I", rows_per_strip or height)),
        (279, 4, 1, struct.pack("<I", len(strip))),
        (284, 3, 1, struct.pack("<H", 1).ljust(4, b"\x00")),
    ]
    entries = tags
    ifd_offset = extra_offset + len(extra)
    ifd_offset += ifd_offset % 2
    ifd = (
        struct.pack("<H", len(entries))
        + b"".join(
            struct.pack("<HHI", tag, kind, count) + value for tag, kind, count, value in entries
        )
        + struct.pack("<I", 0)
    )
    body = struct.pack("<2sHI", b"II", 42, ifd_offset) + strip + extra
    body = body.ljust(ifd_offset, b"\x00")
    return body + ifd


def deflate_bomb_tiff(width: int, height: int) -> bytes:
    """One strip of width × height zero bytes, deflated to a few kilobytes."""
    compressor = zlib.compressobj(9)
    row = bytes(width)
    parts = [compressor.compress(row) for _ in range(min(height, 64))]
    parts.append(compressor.flush())
    return tiff_bytes(width, height, compression=8, strip=b"".join(parts))


def vrt_pointing_at(target: str) -> bytes:
    return (
        '<VRTDataset rasterXSize="10" rasterYSize="10"><VRTRasterBand dataType="Byte" band="1">'
        f'<SimpleSource><SourceFilename relativeToVRT="0">{target}</SourceFilename>'
        "<SourceBand>1</SourceBand></SimpleSource></VRTRasterBand></VRTDataset>"
    ).encode()


# -- GeoJSON --------------------------------------------------------------------------------
def feature_collection(features: list[dict[str, object]], **members: object) -> bytes:
    return json.dumps({"type": "FeatureCollection", **members, "features": features}).encode()


def feature(geometry: object, **properties: object) -> dict[str, object]:
    return {"type": "Feature", "properties": properties, "geometry": geometry}


def nested_geometry_collection(depth: int) -> bytes:
    """A GeometryCollection nested `depth` levels deep, built without recursion."""
    opening = b'{"type":"GeometryCollection","geometries":[' * depth
    point = b'{"type":"Point","coordinates":[1,2]}'
    return b'{"type":"Feature","properties":{},"geometry":' + opening + point + b"]}" * depth + b"}"


def polygon_text(vertices: int) -> bytes:
    """A Feature with one polygon of `vertices` points, written as a stream of bytes."""
    points = b",".join(b"[%d.5,%d.5]" % (i % 180, i % 80) for i in range(vertices - 1))
    return (
        b'{"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":[['
        + points
        + b",[0.5,0.5]]]}}"
    )
