"""Download files: every download is a zip holding the data and LICENCE-AND-CITATION.txt.

GeoJSON and CSV are written while they stream (zip entries with data descriptors, rows from a
server-side cursor): memory stays bounded whatever the size. GeoPackage and Shapefile are
written by GDAL (through pyogrio) into a folder, one batch of rows at a time, then zipped.
Nothing from the request reaches GDAL: paths are ours, columns are declared, values are data.
"""

import csv
import io
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from django.utils import timezone

from catalogue.collections import DATE, NUMBER, Collection
from catalogue.selectors import Clip, DownloadColumn, download_columns, download_rows, json_dumps
from layers.models import Dataset
from webgis.lib.mvt import Where

README_NAME = "LICENCE-AND-CITATION.txt"
SHAPEFILE_TEXT_BYTES = 254
Progress = Callable[[int], None]


@dataclass(frozen=True)
class Format:
    code: str
    title: str
    extension: str
    streams: bool  # written while it is sent; otherwise built in a folder (or as a job)


FORMATS = {
    f.code: f
    for f in (
        Format("geojson", "GeoJSON (RFC 7946)", "geojson", True),
        Format("csv", "CSV (UTF-8, WKT or lon/lat columns)", "csv", True),
        Format("gpkg", "GeoPackage", "gpkg", False),
        Format("shp", "ESRI Shapefile (zipped, .prj and UTF-8 .cpg)", "shp", False),
    )
}


@dataclass(frozen=True)
class DownloadSpec:
    """What to write: validated parameters only (the selectors turn them into SQL)."""

    collection: Collection
    user: Any
    where: Where
    clip: Clip | None
    format: str
    csv_geometry: str = "wkt"  # wkt or lonlat
    request_url: str = ""


def readme_text(spec: DownloadSpec, datasets: list[Dataset], count: int | None) -> str:
    lines = [
        f"{spec.collection.title}",
        "",
        "Downloaded from AMDIS, the ASEAN Minerals Database and Information System,",
        f"on {timezone.now():%Y-%m-%d %H:%M} UTC.",
    ]
    if spec.request_url:
        lines.append(f"Request: {spec.request_url}")
    if count is not None:
        lines.append(f"Features: {count}")
    lines += [
        "Coordinate reference system: WGS 84 (EPSG:4326), longitude/latitude.",
        "",
        "Use of these data is governed by the licence of each dataset below; cite each",
        "dataset you use as given.",
    ]
    for dataset in datasets:
        lines += [
            "",
            f"Dataset: {dataset.title} ({dataset.slug}, version {dataset.version})",
            f"Publisher: {dataset.organisation or 'not stated'}",
            f"Licence: {dataset.licence or 'not stated'}",
            f"Citation: {dataset.citation or dataset.title}",
        ]
        if dataset.source_url:
            lines.append(f"Source: {dataset.source_url}")
        if dataset.is_demo:
            lines.append("Note: demonstration data, made up to show how AMDIS works.")
    if not datasets or count == 0:
        lines += ["", "No feature matched the request."]
    if spec.format == "shp":
        columns = download_columns(spec.collection)
        lines += [
            "",
            f"Shapefile fields (names cut to 10 characters; text cut to {SHAPEFILE_TEXT_BYTES} bytes):",
            *(f"  {c.short:<10} {c.name}" for c in columns),
        ]
    return "\n".join(lines) + "\n"


class _Sink(io.RawIOBase):
    """An unseekable file that hands over what was written to it (a streamed zip's bytes)."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self.chunks.append(bytes(data))
        return len(data)

    def drain(self) -> bytes:
        data = b"".join(self.chunks)
        self.chunks.clear()
        return data


def _geojson_chunks(spec: DownloadSpec) -> Iterator[bytes]:
    names = [c.name for c in download_columns(spec.collection)][1:]
    head = '{"type":"FeatureCollection","name":' + _json_text(spec.collection.id) + ',"features":['
    yield head.encode()
    first = True
    for rows in download_rows(
        collection=spec.collection, user=spec.user, where=spec.where, clip=spec.clip
    ):
        parts = []
        for row in rows:
            props = ",".join(
                f"{_json_text(name)}:{_json_value(value)}"
                for name, value in zip(names, row[1:-1], strict=True)
            )
            parts.append(
                f'{"" if first else ","}{{"type":"Feature","id":{row[0]},'
                f'"geometry":{row[-1]},"properties":{{{props}}}}}'
            )
            first = False
        yield "".join(parts).encode()
    yield b"]}\n"


def _csv_chunks(spec: DownloadSpec) -> Iterator[bytes]:
    names = [c.name for c in download_columns(spec.collection)]
    geometry = "lonlat" if spec.csv_geometry == "lonlat" else "wkt"
    header = [*names, *(["lon", "lat"] if geometry == "lonlat" else ["wkt"])]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    yield ("\ufeff" + buffer.getvalue()).encode()
    for rows in download_rows(
        collection=spec.collection, user=spec.user, where=spec.where, clip=spec.clip,
        geometry=geometry,
    ):  # fmt: skip
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerows(rows)
        yield buffer.getvalue().encode()


def streamed_zip(spec: DownloadSpec, datasets: list[Dataset]) -> Iterator[bytes]:
    """The zip's bytes as they are made: at most one batch of rows is held at a time."""
    sink = _Sink()
    name = f"{spec.collection.id}.{FORMATS[spec.format].extension}"
    chunks = _geojson_chunks(spec) if spec.format == "geojson" else _csv_chunks(spec)
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(README_NAME, readme_text(spec, datasets, None))
        yield sink.drain()
        with archive.open(name, "w", force_zip64=True) as entry:
            for chunk in chunks:
                entry.write(chunk)
                data = sink.drain()
                if data:
                    yield data
    yield sink.drain()


def _json_text(value: str) -> str:
    return json_dumps(value)


def _json_value(value: Any) -> str:
    if isinstance(value, float) and not np.isfinite(value):
        return "null"
    return json_dumps(value)


# GeoPackage and Shapefile through GDAL (pyogrio): a layer per geometry family for Shapefiles.
_FAMILIES = {
    0: ("points", "MultiPoint"),
    1: ("lines", "MultiLineString"),
    2: ("polygons", "MultiPolygon"),
}
_SOURCE_GEOMETRY = {"point": "Point", "line": "MultiLineString", "polygon": "MultiPolygon"}


def _shapefile_text(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    data = value.encode()
    if len(data) <= SHAPEFILE_TEXT_BYTES:
        return value
    return data[:SHAPEFILE_TEXT_BYTES].decode(errors="ignore")


def _field_arrays(
    columns: list[DownloadColumn], rows: list[tuple[Any, ...]], *, shapefile: bool
) -> list[np.ndarray]:
    arrays = []
    for i, column in enumerate(columns):
        values = [row[i] for row in rows]
        if column.type == "integer":
            arrays.append(np.array(values, dtype="int64"))
        elif column.type == NUMBER:
            arrays.append(np.array([np.nan if v is None else v for v in values], dtype="float64"))
        elif column.type == DATE:
            arrays.append(np.array(values, dtype="datetime64[D]"))
        else:
            if shapefile:
                values = [_shapefile_text(v) for v in values]
            arrays.append(np.array(values, dtype=object))
    return arrays


def write_gdal(spec: DownloadSpec, folder: Path, progress: Progress | None = None) -> list[Path]:
    """Writes the GeoPackage or the Shapefile(s) into `folder`; returns the files made."""
    from pyogrio.raw import write

    shapefile = spec.format == "shp"
    columns = download_columns(spec.collection)
    fields = [c.short if shapefile else c.name for c in columns]
    name = spec.collection.id
    source_type = spec.collection.source.geometry_type
    written: dict[str, bool] = {}

    def put(path: Path, layer: str, geometry_type: str, rows: list[tuple[Any, ...]]) -> None:
        options: dict[str, Any] = {}
        if shapefile:
            options["encoding"] = "UTF-8"
        else:
            options["dataset_options"] = {"VERSION": "1.2"}
            options["layer_options"] = {"IDENTIFIER": spec.collection.title[:100]}
        append = written.get(str(path) + layer, False)
        if append:
            options.pop("dataset_options", None)
            options.pop("layer_options", None)
        write(
            str(path),
            np.array([row[-1] for row in rows], dtype=object),
            _field_arrays(columns, rows, shapefile=shapefile),
            fields,
            layer=layer,
            driver="ESRI Shapefile" if shapefile else "GPKG",
            geometry_type=geometry_type,
            crs="EPSG:4326",
            append=append,
            **options,
        )
        written[str(path) + layer] = True

    def target(family: int) -> tuple[Path, str, str]:
        if source_type != "geometry":
            geometry_type = _SOURCE_GEOMETRY[source_type]
            return folder / f"{name}.{'shp' if shapefile else 'gpkg'}", name, geometry_type
        label, geometry_type = _FAMILIES[family]
        if shapefile:
            return folder / f"{name}_{label}.shp", f"{name}_{label}", geometry_type
        return folder / f"{name}.gpkg", name, "Unknown"

    done = 0
    for rows in download_rows(
        collection=spec.collection, user=spec.user, where=spec.where, clip=spec.clip,
        geometry="wkb",
    ):  # fmt: skip
        by_target: dict[tuple[Path, str, str], list[tuple[Any, ...]]] = {}
        for row in rows:
            # Rows end with (dimension, wkb); the writer wants the columns then the geometry.
            by_target.setdefault(target(row[-2]), []).append((*row[:-2], bytes(row[-1])))
        for (path, layer, geometry_type), part in by_target.items():
            put(path, layer, geometry_type, part)
        done += len(rows)
        if progress:
            progress(done)
    if not written:
        families = [0] if source_type == "point" else [1] if source_type == "line" else [2]
        path, layer, geometry_type = target(families[0])
        put(path, layer, geometry_type if source_type != "geometry" else "Unknown", [])
    return sorted(p for p in folder.iterdir() if p.is_file())


def zip_files(
    files: Iterable[Path],
    destination: Path,
    spec: DownloadSpec,
    datasets: list[Dataset],
    count: int,
) -> Path:
    with zipfile.ZipFile(destination, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(README_NAME, readme_text(spec, datasets, count))
        for path in files:
            archive.write(path, arcname=path.name)
    return destination


def download_filename(spec: DownloadSpec) -> str:
    return f"{spec.collection.id}-{spec.format}.zip"
