"""A streaming structural scan of a GeoJSON file, before GDAL reads it.

The scan reads fixed-size chunks and keeps an explicit stack, so neither the file size nor the
nesting depth can exhaust memory or recursion. It refuses: a "crs" member that is anything but a
plain EPSG/CRS84 name (GDAL would fetch a "link" from the network), JSON-FG "coordRefSys",
nesting deeper than the limit, a single geometry with too many vertices, too many features,
non-JSON syntax that GDAL's lenient parser would accept (comments, single quotes), and anything
that is not a GeoJSON object. Per-feature problems (text or NaN coordinates, out-of-range
positions, unclosed rings) are reported with feature numbers.
"""

import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

from pyproj import CRS
from pyproj.exceptions import CRSError

from layers.ingest.crs import epsg_from_geojson_name
from layers.ingest.features import FeatureProblem
from layers.ingest.limits import Limits, MiB
from layers.ingest.rejections import Code, RejectedFile

CHUNK = 1 * MiB
LOOKAHEAD = 64 * 1024  # a token starting this far before the end of the buffer is complete
MAX_TOKEN = 16 * MiB  # the longest single string value accepted
MAX_CRS_BYTES = 4096
MAX_PROBLEMS = 1000
CHECK_CLOCK_EVERY = 100_000
GEOMETRY_TYPES = {
    "Point",
    "MultiPoint",
    "LineString",
    "MultiLineString",
    "Polygon",
    "MultiPolygon",
    "GeometryCollection",
}
TOP_LEVEL_TYPES = GEOMETRY_TYPES | {"Feature", "FeatureCollection"}
_WS = rb"[ \t\r\n]*"
# Commas and colons are skipped like whitespace: the scan follows structure (brackets, keys and
# values alternate), GDAL's parser still rejects a file whose separators are wrong.
_SKIP = rb"[ \t\r\n,:]*"
_NUM = rb"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?"
_TOKEN = re.compile(
    _SKIP
    + rb"(?:(?P<vertex>\["
    + _WS
    + _NUM
    + rb"(?:"
    + _WS
    + rb","
    + _WS
    + _NUM
    + rb")*"
    + _WS
    + rb"\])|(?P<string>\"[^\"\\]*(?:\\.[^\"\\]*)*\")|(?P<open>[{\[])|(?P<close>[}\]])"
    + rb"|(?P<scalar>[^ \t\r\n{}\[\]:,\"]+))"
)
_TRAILING_WS = re.compile(_SKIP)
# A "properties" object with no nested object or array, skipped in one regex step: it holds no
# geometry and no CRS, and the scan's cost is mostly in attributes.
_FLAT_OBJECT = re.compile(rb"\{(?:[^{}\[\]\"]+|\"[^\"\\]*(?:\\.[^\"\\]*)*\")*\}")
_NUMBER = re.compile(_NUM + rb"\Z")
_LENIENT_SCALARS = {b"true", b"false", b"null", b"NaN", b"Infinity", b"-Infinity"}


@dataclass
class GeoJsonInfo:
    top_level_type: str
    feature_count: int
    crs_epsg: int  # from a "crs" name, else 4326 (RFC 7946: WGS 84 longitude/latitude)
    crs_declared: bool
    max_depth: int
    max_vertices: int
    geometry_types: set[str] = field(default_factory=set)
    problems: list[FeatureProblem] = field(default_factory=list)
    problem_count: int = 0


@dataclass
class _Frame:
    is_object: bool
    key: str | None = None  # the member this container is the value of
    expecting_key: bool = True
    current_key: str | None = None
    in_coordinates: bool = False
    in_properties: bool = False
    is_geometry: bool = False
    geometry_type: str | None = None
    # For arrays whose items are positions: count, first and last position.
    positions: int = 0
    first: bytes | None = None  # without whitespace
    last: bytes | None = None
    rings: list[tuple[int, bool]] = field(default_factory=list)


class _Scanner:
    def __init__(self, path: Path, limits: Limits) -> None:
        self.path = path
        self.limits = limits
        self.stack: list[_Frame] = []
        self.top_type: str | None = None
        self.done = False
        self.feature = 0  # current 1-based feature number
        self.features = 0
        self.feature_vertices = 0
        self.max_vertices = 0
        self.max_depth = 0
        self.crs: int | None = None
        self.crs_declared = False
        self.geometry_types: set[str] = set()
        self.problems: list[FeatureProblem] = []
        self.problem_keys: set[tuple[int, str]] = set()
        self.problem_count = 0
        self.range_problems: list[FeatureProblem] = []
        self.capture: bytearray | None = None
        self.capture_depth = 0
        self.capture_from = 0
        self.offset = 0  # absolute offset of the buffer start
        self.tokens = 0
        self.deadline = time.monotonic() + limits.max_seconds

    # -- driving -------------------------------------------------------------------------
    def run(self) -> GeoJsonInfo:
        with self.path.open("rb") as handle:
            buffer = handle.read(3)
            if buffer == b"\xef\xbb\xbf":
                buffer, self.offset = b"", 3
            eof = False
            while True:
                if not eof:
                    chunk = handle.read(CHUNK)
                    eof = not chunk
                    buffer += chunk
                pos = self._consume(buffer, eof)
                if self.capture is not None:
                    self.capture += buffer[self.capture_from : pos]
                    self.capture_from = 0
                    if len(self.capture) > MAX_CRS_BYTES:
                        self._bad_crs("the crs member is too large")
                buffer = buffer[pos:]
                self.offset += pos
                if len(buffer) > MAX_TOKEN + LOOKAHEAD:
                    self._invalid("a single value is longer than 16 MB", 0)
                if eof:
                    break
        if not self.done:
            self._invalid("the JSON ends before the GeoJSON object is closed", 0)
        return self._result()

    def _consume(self, buffer: bytes, eof: bool) -> int:
        """Handle every complete token in buffer; return where the unread part starts."""
        pos = 0
        safe_end = len(buffer) if eof else len(buffer) - LOOKAHEAD
        while pos < len(buffer) and (eof or pos < safe_end):
            if self.done:
                rest = _TRAILING_WS.match(buffer, pos)
                if rest is not None and rest.end() != len(buffer):
                    self._invalid(
                        "there is more data after the end of the GeoJSON object", rest.end()
                    )
                return len(buffer)
            match = _TOKEN.match(buffer, pos)
            if match is None or (not eof and match.end() == len(buffer)):
                if eof:
                    rest = _TRAILING_WS.match(buffer, pos)
                    if rest is not None and rest.end() == len(buffer):
                        return len(buffer)
                    self._invalid("a text value is not closed", pos)
                return pos  # an incomplete token: read more first
            kind = match.lastgroup or "scalar"
            pos = match.end()
            if not self.stack and kind != "open":
                raise self._not_geojson("it does not start with a JSON object ('{')")
            if kind == "vertex":
                self._vertex(match.group(kind))
            elif kind == "string":
                self._string(match.group(kind))
            elif kind == "open":
                is_object = buffer[pos - 1] == 0x7B
                parent = self.stack[-1] if self.stack else None
                if (
                    is_object
                    and parent is not None
                    and parent.is_object
                    and parent.current_key == "properties"
                    and not parent.in_properties
                    and len(self.stack) < self.limits.max_geojson_depth
                ):
                    flat = _FLAT_OBJECT.match(buffer, pos - 1)
                    if flat is not None and (eof or flat.end() < len(buffer)):
                        parent.expecting_key = True
                        pos = flat.end()
                        continue
                self._open(is_object, pos - 1)
            elif kind == "close":
                self._close(buffer[pos - 1] == 0x7D, pos, buffer)
            else:
                self._scalar(match.group(kind), match.start(kind))
            self.tokens += 1
            if self.tokens % CHECK_CLOCK_EVERY == 0 and time.monotonic() > self.deadline:
                raise RejectedFile(
                    Code.TOO_SLOW,
                    f"Checking '{self.path.name}' took longer than {self.limits.max_seconds} s. "
                    "Convert it to a GeoPackage or a zipped shapefile and upload that.",
                    {"limit": self.limits.max_seconds},
                )
        return pos

    # -- tokens --------------------------------------------------------------------------
    def _open(self, is_object: bool, start: int) -> None:
        if not self.stack and not is_object:
            raise self._not_geojson("it is a JSON array, not a GeoJSON object")
        parent = self.stack[-1] if self.stack else None
        key = self._value_key(parent)
        frame = _Frame(is_object=is_object, key=key)
        if parent is not None:
            frame.in_properties = parent.in_properties or key == "properties"
            frame.in_coordinates = parent.in_coordinates or (
                key == "coordinates" and not frame.in_properties
            )
            if parent.in_coordinates and is_object:
                self._problem("bad_coordinates", "the coordinates contain an object")
            if key in ("crs", "coordRefSys") and not frame.in_properties:
                self._start_crs(key, is_object, start)
            if is_object and not frame.in_properties and not frame.in_coordinates:
                if (
                    len(self.stack) == 2
                    and parent.key == "features"
                    and self.top_type in (None, "FeatureCollection")
                ):
                    self._start_feature()
                frame.is_geometry = key in ("geometry", "geometries") or parent.key == "geometries"
        elif is_object:
            frame.is_geometry = True  # a top-level object may be a bare geometry
            self.feature = 1
        self.stack.append(frame)
        depth = len(self.stack)
        self.max_depth = max(self.max_depth, depth)
        if depth > self.limits.max_geojson_depth:
            raise RejectedFile(
                Code.TOO_DEEP,
                f"'{self.path.name}' is nested more than {self.limits.max_geojson_depth} levels "
                f"deep (near feature {self.feature or 1}). Real GeoJSON is never this deep: check "
                "the export, or convert the data to a GeoPackage.",
                {"limit": self.limits.max_geojson_depth, "feature": self.feature},
            )

    def _close(self, is_object: bool, end: int, buffer: bytes) -> None:
        if not self.stack or self.stack[-1].is_object != is_object:
            self._invalid("brackets do not match", end)
        frame = self.stack.pop()
        if frame.in_coordinates and frame.positions:
            last = (frame.last or b"").translate(None, b" \t\r\n")
            ring = (frame.positions, frame.first == last)
            if self.stack and self.stack[-1].in_coordinates:
                self.stack[-1].rings.append(ring)
            else:
                frame.rings.append(ring)
        if frame.in_coordinates and self.stack and frame.rings:
            self.stack[-1].rings.extend(frame.rings)
        if frame.is_object and frame.is_geometry and frame.geometry_type:
            self._end_geometry(frame)
        if self.capture is not None and len(self.stack) < self.capture_depth:
            self._end_crs(buffer, end)
        if self.stack:
            self.stack[-1].expecting_key = True
        else:
            self.done = True

    def _string(self, raw: bytes) -> None:
        frame = self.stack[-1]
        if frame.is_object and frame.expecting_key:
            frame.current_key = _decode_string(raw)
            frame.expecting_key = False
            return
        if frame.in_coordinates:
            self._problem("text_coordinates", "the coordinates are text, not numbers")
        elif frame.is_object and frame.current_key == "type" and not frame.in_properties:
            value = _decode_string(raw)
            if len(self.stack) == 1:
                self.top_type = value
                if value not in TOP_LEVEL_TYPES:
                    raise self._not_geojson(f"its type is '{value[:40]}'")
            if frame.is_geometry and value in GEOMETRY_TYPES:
                frame.geometry_type = value
            elif frame.is_geometry and value not in ("Feature", "FeatureCollection"):
                self._problem("bad_geometry_type", f"unknown geometry type '{value[:40]}'")
        elif (
            frame.is_object
            and frame.current_key in ("crs", "coordRefSys")
            and not frame.in_properties
        ):
            self._bad_crs(f"the {frame.current_key} member is a string, not a CRS name object")
        if frame.is_object:
            frame.expecting_key = True

    def _scalar(self, raw: bytes, start: int) -> None:
        frame = self.stack[-1]
        if raw not in _LENIENT_SCALARS and not _NUMBER.match(raw):
            self._invalid(f"'{raw[:20].decode('latin-1')}' is not JSON", start)
        if frame.in_coordinates:
            if raw in (b"NaN", b"Infinity", b"-Infinity"):
                self._problem("not_finite", f"a coordinate is {raw.decode()}")
            elif raw in (b"true", b"false", b"null"):
                self._problem("bad_coordinates", f"a coordinate is {raw.decode()}")
            # A plain number here sits beside a value that is not one, which is reported.
        elif (
            frame.is_object
            and frame.current_key in ("crs", "coordRefSys")
            and not frame.in_properties
            and raw != b"null"
        ):
            self._bad_crs(f"the {frame.current_key} member is not a CRS name object")
        if frame.is_object:
            frame.expecting_key = True

    def _vertex(self, raw: bytes) -> None:
        frame = self.stack[-1]
        if frame.is_object:
            frame.expecting_key = True
        if not frame.in_coordinates:
            if frame.is_object and frame.current_key == "coordinates" and not frame.in_properties:
                self._position(frame, raw, standalone=True)  # a Point's coordinates
            return
        self._position(frame, raw, standalone=False)

    def _position(self, frame: _Frame, raw: bytes, *, standalone: bool) -> None:
        numbers = raw[1:-1].split(b",", 2)
        if len(numbers) < 2:
            self._problem("bad_coordinates", "a position has fewer than two numbers")
            return
        self.feature_vertices += 1
        if self.feature_vertices > self.limits.max_vertices_per_geometry:
            raise RejectedFile(
                Code.TOO_MANY_VERTICES,
                f"Feature {self.feature or 1} in '{self.path.name}' has more than "
                f"{self.limits.max_vertices_per_geometry:,} vertices. Simplify or split it (QGIS: "
                "Vector > Geometry Tools) and upload again.",
                {"feature": self.feature or 1, "limit": self.limits.max_vertices_per_geometry},
            )
        x, y = float(numbers[0]), float(numbers[1])
        if not (-180 <= x <= 180 and -90 <= y <= 90):
            self._range_problem(x, y)
        if standalone:
            return
        frame.positions += 1
        if frame.first is None:
            frame.first = raw.translate(None, b" \t\r\n")
        frame.last = raw

    # -- features, geometries, CRS -------------------------------------------------------
    def _start_feature(self) -> None:
        self._finish_feature()
        self.features += 1
        self.feature = self.features
        if self.features > self.limits.max_features:
            raise RejectedFile(
                Code.TOO_MANY_FEATURES,
                f"'{self.path.name}' holds more than {self.limits.max_features:,} features. Split "
                "it (for example by region) and upload the parts.",
                {"limit": self.limits.max_features},
            )

    def _finish_feature(self) -> None:
        self.max_vertices = max(self.max_vertices, self.feature_vertices)
        self.feature_vertices = 0

    def _end_geometry(self, frame: _Frame) -> None:
        kind = frame.geometry_type or ""
        self.geometry_types.add(kind)
        if kind in ("Polygon", "MultiPolygon"):
            for count, closed in frame.rings:
                if not closed:
                    self._problem(
                        "unclosed_ring", "a polygon ring is not closed (first point ≠ last)"
                    )
                elif count < 4:
                    self._problem("short_ring", "a polygon ring has fewer than 4 points")
        elif kind in ("LineString", "MultiLineString") and any(c < 2 for c, _ in frame.rings):
            self._problem("short_line", "a line has fewer than 2 points")

    def _start_crs(self, key: str, is_object: bool, start: int) -> None:
        if key == "coordRefSys":
            self._bad_crs("JSON-FG 'coordRefSys' is not accepted")
        if not is_object:
            self._bad_crs("the crs member is not an object")
        self.capture = bytearray()
        self.capture_from = start
        self.capture_depth = len(self.stack) + 1

    def _end_crs(self, buffer: bytes, end: int) -> None:
        assert self.capture is not None
        self.capture += buffer[self.capture_from : end]
        raw = bytes(self.capture)
        self.capture = None
        if len(raw) > MAX_CRS_BYTES:
            self._bad_crs("the crs member is too large")
        try:
            crs = json.loads(raw)
        except ValueError:
            self._bad_crs("the crs member is not valid JSON")
        epsg = _crs_member_epsg(crs)
        if epsg is None:
            kind = crs.get("type") if isinstance(crs, dict) else None
            if kind == "link" or "href" in json.dumps(crs):
                raise RejectedFile(
                    Code.CRS_LINK,
                    f"'{self.path.name}' declares its CRS as a link to another file or web "
                    'address. AMDIS never follows such links. Remove the "crs" member (GeoJSON '
                    "is WGS 84 by definition) or name the CRS, e.g. "
                    '"crs": {"type": "name", "properties": {"name": "EPSG:32647"}}.',
                    {"crs": raw[:200].decode("utf-8", "replace")},
                )
            self._bad_crs("the crs member does not name an EPSG code or CRS84")
        if self.crs is not None and epsg != self.crs:
            self._bad_crs("features declare different CRSs")
        self.crs = epsg
        self.crs_declared = True

    # -- reporting -----------------------------------------------------------------------
    def _value_key(self, parent: _Frame | None) -> str | None:
        if parent is None:
            return None
        if parent.is_object:
            parent.expecting_key = False
            return parent.current_key
        return parent.key

    def _problem(self, code: str, message: str) -> None:
        row = self.feature or 1
        if (row, code) in self.problem_keys:
            return
        self.problem_keys.add((row, code))
        self.problem_count += 1
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(FeatureProblem(row, code, message))

    def _range_problem(self, x: float, y: float) -> None:
        row = self.feature or 1
        if any(p.row == row for p in self.range_problems[-1:]):
            return
        axis = f"longitude {x:g}" if not -180 <= x <= 180 else f"latitude {y:g}"
        self.range_problems.append(
            FeatureProblem(row, "out_of_range", f"{axis} is outside the valid range")
        )

    def _invalid(self, reason: str, pos: int) -> NoReturn:
        raise RejectedFile(
            Code.INVALID_JSON,
            f"'{self.path.name}' is not valid JSON: {reason} (near byte {self.offset + pos:,}). "
            "Export it again from your GIS as GeoJSON.",
            {"reason": reason, "offset": self.offset + pos},
        )

    def _not_geojson(self, reason: str) -> RejectedFile:
        return RejectedFile(
            Code.NOT_GEOJSON,
            f"'{self.path.name}' is not GeoJSON: {reason}. Export the layer as GeoJSON "
            "(RFC 7946) from your GIS, or upload a zipped shapefile or a GeoPackage.",
            {"reason": reason},
        )

    def _bad_crs(self, reason: str) -> NoReturn:
        raise RejectedFile(
            Code.BAD_CRS,
            f"'{self.path.name}' has a CRS declaration AMDIS does not accept: {reason}. Remove "
            'the "crs" member (GeoJSON is WGS 84 by definition) or name an EPSG code, e.g. '
            '"crs": {"type": "name", "properties": {"name": "EPSG:32647"}}.',
            {"reason": reason},
        )

    def _result(self) -> GeoJsonInfo:
        self._finish_feature()
        epsg = self.crs if self.crs is not None else 4326
        if _is_geographic(epsg):
            for problem in self.range_problems:
                if (problem.row, problem.code) not in self.problem_keys:
                    self.problem_keys.add((problem.row, problem.code))
                    self.problem_count += 1
                    if len(self.problems) < MAX_PROBLEMS:
                        self.problems.append(problem)
        self.problems.sort(key=lambda p: p.row)
        top = self.top_type or ""
        if top not in TOP_LEVEL_TYPES:
            raise self._not_geojson('it has no GeoJSON "type" member')
        count = self.features if top == "FeatureCollection" else 1
        return GeoJsonInfo(
            top_level_type=top,
            feature_count=count,
            crs_epsg=epsg,
            crs_declared=self.crs_declared,
            max_depth=self.max_depth,
            max_vertices=self.max_vertices,
            geometry_types=self.geometry_types,
            problems=self.problems,
            problem_count=self.problem_count,
        )


def _decode_string(raw: bytes) -> str:
    if b"\\" not in raw:
        return raw[1:-1].decode("utf-8", "replace")
    try:
        value = json.loads(raw)
    except ValueError:
        return raw[1:-1].decode("utf-8", "replace")
    return value if isinstance(value, str) else ""


def _crs_member_epsg(crs: Any) -> int | None:
    """EPSG code of {"type": "name", "properties": {"name": "EPSG:xxxx"}} (or the 2008
    {"type": "EPSG", "properties": {"code": xxxx}}); None for anything else."""
    if not isinstance(crs, dict) or set(crs) - {"type", "properties"}:
        return None
    properties = crs.get("properties")
    if not isinstance(properties, dict):
        return None
    if (
        crs.get("type") == "name"
        and set(properties) == {"name"}
        and isinstance(properties["name"], str)
    ):
        return epsg_from_geojson_name(properties["name"])
    if crs.get("type") == "EPSG" and set(properties) == {"code"}:
        code = properties["code"]
        return code if isinstance(code, int) and not isinstance(code, bool) and code > 0 else None
    return None


def _is_geographic(epsg: int) -> bool:
    try:
        return bool(CRS.from_epsg(epsg).is_geographic)
    except CRSError:
        return False


def inspect_geojson(path: Path, limits: Limits) -> GeoJsonInfo:
    """Scan a GeoJSON file before GDAL sees it; refuse it or describe it."""
    size = path.stat().st_size
    if size > limits.max_geojson_bytes:
        raise RejectedFile(
            Code.FILE_TOO_LARGE,
            f"'{path.name}' is {size / MiB:,.0f} MB; GeoJSON files are accepted up to "
            f"{limits.max_geojson_bytes / MiB:,.0f} MB because they must be parsed as text. "
            "Convert it to a GeoPackage or a zipped shapefile (smaller and faster) and upload that.",
            {"size": size, "limit": limits.max_geojson_bytes},
        )
    if size == 0:
        raise RejectedFile(Code.EMPTY_FILE, f"'{path.name}' is empty (0 bytes). Export it again.")
    return _Scanner(path, limits).run()
