"""Reading CSV (or tab/semicolon/pipe-separated text) with Python's csv module, never GDAL:
encoding and BOM, delimiter, header, record count and ragged rows, in one streamed pass."""

import codecs
import csv
import io
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from layers.ingest.discovery import CSV, FoundDataset, check_content
from layers.ingest.encodings import UTF8, EncodingGuess, detect_text_encoding
from layers.ingest.limits import Limits, MiB
from layers.ingest.rejections import Code, RejectedFile

DELIMITERS = (",", ";", "\t", "|")
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
SAMPLE_BYTES = 1 * MiB
SNIFF_RECORDS = 50
MAX_RAGGED_REPORTED = 100
_LON = re.compile(
    r"^(lon|long|longitude|lng|x|easting|longitudedecimal|long_dd|lon_dd|xcoord|x_coord)$", re.I
)
_LAT = re.compile(r"^(lat|latitude|y|northing|latitudedecimal|lat_dd|ycoord|y_coord)$", re.I)
_WKT = re.compile(r"^(wkt|geometry|geom|the_geom|shape)$", re.I)


@dataclass
class CsvInfo:
    path: Path
    encoding: str  # Python codec to open the file with ("utf-8-sig" when there is a BOM)
    encoding_guess: EncodingGuess
    has_bom: bool
    delimiter: str
    columns: list[str]  # header names, stripped; blank or repeated names made unique
    row_count: int  # data records (the header excluded)
    ragged_rows: list[int] = field(default_factory=list)  # records with another field count
    ragged_count: int = 0
    multiline_rows: int = 0  # records with a quoted field that spans lines
    renamed_columns: dict[int, str] = field(default_factory=dict)
    lon_column: str | None = None
    lat_column: str | None = None
    wkt_column: str | None = None

    @property
    def delimiter_name(self) -> str:
        return DELIMITER_NAMES[self.delimiter]


def inspect_csv(found: FoundDataset, limits: Limits, *, encoding: str | None = None) -> CsvInfo:
    """Describe a CSV upload; `encoding` overrides the guess (the editor's confirmed choice)."""
    if found.kind != CSV:
        raise ValueError(f"Not a CSV dataset: {found.kind}")
    check_content(found)
    path = found.path
    with path.open("rb") as handle:
        sample = handle.read(SAMPLE_BYTES)
    at_end = len(sample) < SAMPLE_BYTES
    codec, guess, has_bom = _encoding(sample, encoding)
    text = _decode_sample(sample, codec, at_end)
    delimiter = _delimiter(text, at_end, path)
    header, count, ragged, ragged_count, multiline = _full_pass(path, codec, delimiter, limits)
    columns, renamed = _unique_columns(header)
    return CsvInfo(
        path=path,
        encoding=codec,
        encoding_guess=guess,
        has_bom=has_bom,
        delimiter=delimiter,
        columns=columns,
        row_count=count,
        ragged_rows=ragged,
        ragged_count=ragged_count,
        multiline_rows=multiline,
        renamed_columns=renamed,
        lon_column=next((c for c in columns if _LON.match(c.strip())), None),
        lat_column=next((c for c in columns if _LAT.match(c.strip())), None),
        wkt_column=next((c for c in columns if _WKT.match(c.strip())), None),
    )


def csv_records(info: CsvInfo) -> Iterator[tuple[int, dict[str, str]]]:
    """(record number, {column: text}) for every data record, streamed."""
    with info.path.open(encoding=info.encoding, newline="") as handle:
        reader = csv.reader(handle, delimiter=info.delimiter)
        next(reader, None)
        for number, values in enumerate(reader, start=1):
            if values:
                yield number, dict(zip(info.columns, values, strict=False))


def _encoding(sample: bytes, chosen: str | None) -> tuple[str, EncodingGuess, bool]:
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        # "Unicode text" as Excel saves it: UTF-16 with a BOM (usually tab-separated).
        guess = EncodingGuess(encoding="utf-16", confidence=1.0, has_bom=True)
        return "utf-16", guess, True
    guess = detect_text_encoding(sample, chosen)
    codec = chosen or guess.encoding
    try:
        codecs.lookup(codec)
    except LookupError as exc:
        raise RejectedFile(Code.ENCODING, f"Unknown text encoding '{codec[:40]}'.") from exc
    if codec.replace("_", "-").lower() in (UTF8, "utf8") and guess.has_bom:
        codec = "utf-8-sig"
    return codec, guess, guess.has_bom


def _decode_sample(sample: bytes, codec: str, at_end: bool) -> str:
    decoder = codecs.getincrementaldecoder(codec)("replace")
    return decoder.decode(sample, final=at_end)


def _delimiter(text: str, at_end: bool, path: Path) -> str:
    """The delimiter that splits the first records into the same number (> 1) of fields."""
    if not at_end and "\n" in text:
        text = text[: text.rindex("\n") + 1]  # the sample may end inside a record
    best, best_score = ",", -1.0
    for delimiter in DELIMITERS:
        records = []
        try:
            for record in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
                if record:
                    records.append(record)
                if len(records) >= SNIFF_RECORDS:
                    break
        except csv.Error:
            continue
        if not records or len(records[0]) < 2:
            continue
        if not at_end and len(records) > 1 and len(records) < SNIFF_RECORDS:
            records = records[:-1]  # possibly cut short
        width = len(records[0])
        consistent = sum(1 for r in records if len(r) == width) / len(records)
        score = consistent + min(width, 50) / 1000
        if score > best_score:
            best, best_score = delimiter, score
    if best_score < 0:
        raise RejectedFile(
            Code.BAD_CSV,
            f"No column delimiter was found in the first line of '{path.name}'. Separate the "
            "columns with commas, semicolons, tabs or pipes and upload again.",
            {"file": path.name},
        )
    return best


def _full_pass(
    path: Path, codec: str, delimiter: str, limits: Limits
) -> tuple[list[str], int, list[int], int, int]:
    deadline = time.monotonic() + limits.max_seconds
    ragged: list[int] = []
    ragged_count = multiline = count = 0
    header: list[str] = []
    try:
        with path.open(encoding=codec, newline="", errors="strict") as handle:
            reader = csv.reader(handle, delimiter=delimiter)
            header = next(reader, [])
            width = len(header)
            line = reader.line_num
            for values in reader:
                if reader.line_num - line > 1 and values:
                    multiline += 1
                line = reader.line_num
                if not values:
                    continue
                count += 1
                if len(values) != width:
                    ragged_count += 1
                    if len(ragged) < MAX_RAGGED_REPORTED:
                        ragged.append(count)
                if any(len(v) > limits.max_csv_field_chars for v in values):
                    raise RejectedFile(
                        Code.BAD_CSV,
                        f"Record {count:,} of '{path.name}' has a value longer than "
                        f"{limits.max_csv_field_chars:,} characters (often an unclosed quote). "
                        "Check the quotes and upload again.",
                        {"record": count},
                    )
                if count > limits.max_features:
                    raise RejectedFile(
                        Code.TOO_MANY_FEATURES,
                        f"'{path.name}' holds more than {limits.max_features:,} records. Split it "
                        "and upload the parts.",
                        {"limit": limits.max_features},
                    )
                if count % 100_000 == 0 and time.monotonic() > deadline:
                    raise RejectedFile(
                        Code.TOO_SLOW,
                        f"Reading '{path.name}' took longer than {limits.max_seconds} s. Split it "
                        "and upload the parts.",
                    )
    except UnicodeDecodeError as exc:
        raise RejectedFile(
            Code.ENCODING,
            f"'{path.name}' is not entirely {codec} text (a byte does not decode after record "
            f"{count:,}). Choose the file's encoding, or save it as UTF-8 and upload again.",
            {"encoding": codec, "record": count},
        ) from exc
    except csv.Error as exc:
        raise RejectedFile(
            Code.BAD_CSV,
            f"'{path.name}' cannot be read as CSV after record {count:,} ({exc}). Check the "
            "quotes in that record and upload again.",
            {"record": count, "reason": str(exc)},
        ) from exc
    if not header or not any(h.strip() for h in header):
        raise RejectedFile(
            Code.BAD_CSV,
            f"'{path.name}' has no header row. Put the column names in the first line and upload again.",
        )
    return header, count, ragged, ragged_count, multiline


def _unique_columns(header: list[str]) -> tuple[list[str], dict[int, str]]:
    columns: list[str] = []
    renamed: dict[int, str] = {}
    seen: set[str] = set()
    for i, raw in enumerate(header):
        name = raw.strip().lstrip("\ufeff") or f"column_{i + 1}"
        base, n = name, 2
        while name.casefold() in seen:
            name, n = f"{base}_{n}", n + 1
        seen.add(name.casefold())
        if name != raw:
            renamed[i] = name
        columns.append(name)
    return columns, renamed
