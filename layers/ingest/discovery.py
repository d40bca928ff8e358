"""Finding the one dataset in an extracted upload, by content (magic bytes) as well as by name."""

import os
from dataclasses import dataclass, field
from pathlib import Path

from layers.ingest.rejections import Code, RejectedFile

SHAPEFILE = "shapefile"
GEOPACKAGE = "geopackage"
GEOJSON = "geojson"
CSV = "csv"
GEOTIFF = "geotiff"

TIFF_MAGICS = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")
SQLITE_MAGIC = b"SQLite format 3\x00"
SHAPE_FILE_CODE = b"\x00\x00\x27\x0a"  # 9994, big-endian
UTF8_BOM = b"\xef\xbb\xbf"
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")

PRIMARY_SUFFIXES = {
    ".shp": SHAPEFILE,
    ".gpkg": GEOPACKAGE,
    ".geojson": GEOJSON,
    ".json": GEOJSON,
    ".csv": CSV,
    ".tsv": CSV,
    ".txt": CSV,
    ".tif": GEOTIFF,
    ".tiff": GEOTIFF,
}
SHAPEFILE_PARTS = (
    ".shx",
    ".dbf",
    ".prj",
    ".cpg",
    ".sbn",
    ".sbx",
    ".qix",
    ".fbn",
    ".fbx",
    ".ain",
    ".aih",
    ".atx",
)
REQUIRED_SHAPEFILE_PARTS = {".shx": "the index (.shx)", ".dbf": "the attribute table (.dbf)"}
# Formats that are recognised but not accepted, with what to do instead.
UNSUPPORTED = {
    ".kml": "KML",
    ".kmz": "KMZ",
    ".gml": "GML",
    ".tab": "MapInfo TAB",
    ".mif": "MapInfo MIF",
    ".dxf": "DXF",
    ".dwg": "DWG",
    ".fgb": "FlatGeobuf",
    ".sqlite": "SQLite/SpatiaLite",
    ".mbtiles": "MBTiles",
    ".xlsx": "Excel",
    ".xls": "Excel",
    ".ods": "OpenDocument spreadsheet",
    ".ecw": "ECW",
    ".jp2": "JPEG 2000",
    ".img": "Erdas Imagine",
    ".asc": "ASCII grid",
    ".nc": "NetCDF",
    ".gdb": "File geodatabase",
    ".gdbtable": "File geodatabase",
    ".topojson": "TopoJSON",
    ".gpx": "GPX",
}
# Never accepted in any upload: a VRT is a recipe that can read other files on the server.
FORBIDDEN = {".vrt": "a GDAL VRT file", ".ovf": "an OGR VRT file", ".gdalg": "a GDAL pipeline"}
# Text files that come with data and are not data (README.txt, VERSION.txt, LICENSE.txt ...).
DOCUMENT_STEMS = ("readme", "version", "license", "licence", "metadata", "changelog", "notes")
SNIFF_BYTES = 65536

ACCEPTED = (
    "Accepted: a zipped ESRI Shapefile (.shp with its .shx, .dbf and .prj), a GeoPackage (.gpkg), "
    "GeoJSON (.geojson), CSV or text with coordinate columns (.csv, .tsv, .txt) or a GeoTIFF (.tif)."
)


@dataclass
class FoundDataset:
    """The single dataset of an upload: its kind, main file and (for shapefiles) side files."""

    kind: str
    path: Path
    sidecars: dict[str, Path] = field(default_factory=dict)  # ".shx" → path, ...
    files_dir: Path | None = None
    ignored: list[str] = field(default_factory=list)  # other files, relative to files_dir

    @property
    def name(self) -> str:
        return self.path.name


def describe_content(head: bytes) -> str:
    """What the first bytes of a file say it really is, in words for an editor."""
    if not head:
        return "empty"
    if head.startswith(b"MZ"):
        return "a Windows program"
    if head.startswith(b"\x7fELF"):
        return "a Linux program"
    if head[:4] in (b"\xcf\xfa\xed\xfe", b"\xce\xfa\xed\xfe", b"\xca\xfe\xba\xbe"):
        return "a macOS program"
    if head.startswith(b"#!"):
        return "a script"
    if head.startswith(b"PK"):
        return "a zip archive (or an Office document)"
    if head.startswith(b"%PDF"):
        return "a PDF document"
    if head.startswith(SQLITE_MAGIC):
        return "an SQLite database"
    if head.startswith(TIFF_MAGICS):
        return "a TIFF image"
    if head.startswith(SHAPE_FILE_CODE):
        return "a shapefile part (.shp or .shx)"
    text = head.lstrip(UTF8_BOM).lstrip()
    if text.startswith(b"<"):
        if b"<VRTDataset" in head or b"<OGRVRTDataSource" in head:
            return "a GDAL VRT file (XML that points at other files)"
        return "an XML or HTML document"
    if text.startswith((b"{", b"[")):
        return "JSON text"
    if b"\x00" not in head[:4096]:
        return "plain text"
    return "binary data of an unknown kind"


def find_dataset(files_dir: Path) -> FoundDataset:
    """Exactly one dataset in files_dir (sub-folders included), its kind decided by content."""
    files = _list_files(files_dir)
    candidates: list[tuple[str, Path]] = []
    unsupported: list[str] = []
    ignored: list[str] = []
    texts: list[Path] = []
    for path in files:
        rel = path.relative_to(files_dir).as_posix()
        suffix = path.suffix.lower()
        if suffix in FORBIDDEN:
            raise RejectedFile(
                Code.WRONG_CONTENT,
                f"'{rel}' is {FORBIDDEN[suffix]}, which can make GDAL read other files; it is "
                "never accepted. Upload the data file itself.",
                {"file": rel},
            )
        kind = PRIMARY_SUFFIXES.get(suffix)
        if kind == CSV and suffix == ".txt":
            texts.append(path)
        elif kind == GEOJSON and suffix == ".json" and not _looks_like_geojson(path):
            ignored.append(rel)
        elif kind is not None:
            candidates.append((kind, path))
        elif suffix in UNSUPPORTED:
            unsupported.append(f"{rel} ({UNSUPPORTED[suffix]} is not accepted)")
        else:
            ignored.append(rel)
    if not candidates:
        data_texts = [t for t in texts if not t.stem.lower().startswith(DOCUMENT_STEMS)]
        candidates.extend((CSV, t) for t in data_texts)
        ignored.extend(t.relative_to(files_dir).as_posix() for t in texts if t not in data_texts)
    else:
        ignored.extend(t.relative_to(files_dir).as_posix() for t in texts)
    if not candidates:
        found = ", ".join(unsupported + ignored[:10]) or "no files"
        raise RejectedFile(
            Code.NO_DATASET,
            f"No dataset was found in the upload (found: {found}). Upload exactly one dataset. "
            + ACCEPTED,
            {"found": unsupported + ignored[:50]},
        )
    if len(candidates) > 1:
        names = ", ".join(p.relative_to(files_dir).as_posix() for _, p in candidates[:10])
        raise RejectedFile(
            Code.SEVERAL_DATASETS,
            f"The upload holds {len(candidates)} datasets ({names}); upload exactly one dataset "
            "per upload, as a separate .zip or file for each.",
            {"datasets": [p.relative_to(files_dir).as_posix() for _, p in candidates[:50]]},
        )
    kind, path = candidates[0]
    found_dataset = FoundDataset(kind=kind, path=path, files_dir=files_dir)
    check_content(found_dataset)
    if kind == SHAPEFILE:
        found_dataset.sidecars = _shapefile_parts(path, files)
    own = {found_dataset.path, *found_dataset.sidecars.values()}
    found_dataset.ignored = [p.relative_to(files_dir).as_posix() for p in files if p not in own]
    return found_dataset


def check_content(found: FoundDataset) -> None:
    """The main file's first bytes must match its kind: a renamed program, a VRT renamed .tif or
    a text file named .gpkg is refused here, before any parser sees it."""
    path = found.path
    with path.open("rb") as handle:
        head = handle.read(SNIFF_BYTES)
    if not head:
        raise RejectedFile(
            Code.EMPTY_FILE,
            f"'{path.name}' is empty (0 bytes). Export the data again and upload it again.",
            {"file": path.name},
        )
    expected = {
        SHAPEFILE: ("an ESRI Shapefile", lambda h: h.startswith(SHAPE_FILE_CODE)),
        GEOPACKAGE: ("a GeoPackage", lambda h: h.startswith(SQLITE_MAGIC)),
        GEOTIFF: ("a GeoTIFF", lambda h: h.startswith(TIFF_MAGICS)),
        GEOJSON: ("GeoJSON", lambda h: h.lstrip(UTF8_BOM).lstrip(b" \t\r\n").startswith(b"{")),
        CSV: ("text", lambda h: h.startswith(UTF16_BOMS) or b"\x00" not in h),
    }
    label, ok = expected[found.kind]
    if not ok(head):
        what = describe_content(head)
        raise RejectedFile(
            Code.WRONG_CONTENT,
            f"'{path.name}' is named like {label} but its content is {what}. Export the data "
            f"again as {label} and upload it again.",
            {"file": path.name, "kind": found.kind, "content": what},
        )


def _list_files(files_dir: Path) -> list[Path]:
    found: list[Path] = []
    for root, dirs, names in os.walk(files_dir, followlinks=False):
        for name in [*dirs, *names]:
            if (Path(root) / name).is_symlink():
                raise RejectedFile(Code.SYMLINK, f"'{name}' is a symbolic link; upload real files.")
        found.extend(Path(root) / name for name in names)
    return sorted(found)


def _looks_like_geojson(path: Path) -> bool:
    with path.open("rb") as handle:
        head = handle.read(SNIFF_BYTES)
    return head.lstrip(UTF8_BOM).lstrip().startswith(b"{") and b'"type"' in head


def _shapefile_parts(shp: Path, files: list[Path]) -> dict[str, Path]:
    """The side files of a shapefile: same folder, same name (ignoring case)."""
    stem = shp.stem.casefold()
    parts: dict[str, Path] = {}
    for path in files:
        if path.parent == shp.parent and path.stem.casefold() == stem:
            suffix = path.suffix.lower()
            if suffix in SHAPEFILE_PARTS:
                parts[suffix] = path
        elif path.parent == shp.parent and path.name.casefold() == f"{shp.name.casefold()}.xml":
            parts[".shp.xml"] = path
    missing = [label for suffix, label in REQUIRED_SHAPEFILE_PARTS.items() if suffix not in parts]
    if missing:
        raise RejectedFile(
            Code.MISSING_SIDECAR,
            f"The shapefile '{shp.name}' is incomplete: {' and '.join(missing)} "
            f"{'is' if len(missing) == 1 else 'are'} missing. A shapefile is several files with "
            "the same name (.shp, .shx, .dbf, .prj, often .cpg): zip them all together and "
            "upload the .zip.",
            {"file": shp.name, "missing": [s for s in REQUIRED_SHAPEFILE_PARTS if s not in parts]},
        )
    with parts[".shx"].open("rb") as handle:
        head = handle.read(100)
    if not head.startswith(SHAPE_FILE_CODE):
        raise RejectedFile(
            Code.WRONG_CONTENT,
            f"'{parts['.shx'].name}' is not a shapefile index: its content is "
            f"{describe_content(head)}. Export the shapefile again and upload all its files.",
            {"file": parts[".shx"].name},
        )
    return parts
