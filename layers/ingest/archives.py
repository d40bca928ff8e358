"""Copying or extracting an upload into its job folder, refusing hostile archives.

A zip is checked as a whole from its central directory before anything is written (names,
entry types, counts, declared sizes, compression ratio), then extracted entry by entry while the
bytes actually produced are counted, so a header that lies about a size is caught in the act.
On any refusal the job's files folder is removed.
"""

import copy
import os
import shutil
import stat
import struct
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from layers.ingest.limits import Limits, MiB
from layers.ingest.rejections import Code, RejectedFile

CHUNK = 1 * MiB
FILES_FOLDER = "files"
MAX_PATH_DEPTH = 16
MAX_NAME_CHARS = 120
# Entries smaller than this are exempt from the ratio check: a mostly blank .dbf of a few hundred
# kilobytes legitimately compresses several hundred times.
RATIO_FLOOR_BYTES = 1 * MiB
# Compression methods Python reads: stored, deflate, bzip2, LZMA.
SUPPORTED_METHODS = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA}
ARCHIVE_SUFFIXES = {
    ".zip",
    ".7z",
    ".rar",
    ".gz",
    ".tgz",
    ".tar",
    ".bz2",
    ".tbz",
    ".tbz2",
    ".xz",
    ".txz",
    ".zst",
    ".lz",
    ".lzma",
    ".cab",
    ".z",
    ".kmz",
    ".jar",
    ".apk",
    ".arj",
    ".iso",
}
# Operating-system clutter that is skipped, not extracted (macOS resource forks, thumbnails).
JUNK_NAMES = {".ds_store", "thumbs.db", "desktop.ini"}
JUNK_FOLDERS = {"__macosx"}
_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
_OTHER_ARCHIVE_MAGICS = {
    b"\x1f\x8b": "gzip",
    b"7z\xbc\xaf\x27\x1c": "7-Zip",
    b"Rar!\x1a\x07": "RAR",
    b"\xfd7zXZ\x00": "xz",
    b"\x28\xb5\x2f\xfd": "Zstandard",
    b"MSCF": "CAB",
    b"LZIP": "lzip",
}
_EOCD = b"PK\x05\x06"
_EOCD64_LOCATOR = b"PK\x06\x07"
_EOCD64 = b"PK\x06\x06"
# Central directory entry: 46 bytes plus the name, extra field and comment; allow generous ones.
_CD_BYTES_PER_ENTRY = 1024


def archive_kind(head: bytes) -> str | None:
    """The archive format a file's first bytes show ("zip", "gzip", ...), or None."""
    if head.startswith(_ZIP_MAGICS):
        return "zip"
    for magic, name in _OTHER_ARCHIVE_MAGICS.items():
        if head.startswith(magic):
            return name
    if len(head) >= 10 and head[:3] == b"BZh" and head[4:10] == b"1AY&SY":
        return "bzip2"
    if len(head) >= 262 and head[257:262] == b"ustar":
        return "tar"
    return None


def safe_component(name: str) -> str:
    """One path component made safe to create: printable, no separators, no leading dot."""
    name = unicodedata.normalize("NFC", name)
    kept = "".join(
        ch if (ch.isalnum() or ch in "._-()+ ") and ch.isprintable() else "_" for ch in name
    ).strip(" .")
    if not kept:
        kept = "_"
    if len(kept) > MAX_NAME_CHARS:
        stem, dot, suffix = kept.rpartition(".")
        if dot and 0 < len(suffix) <= 10:
            kept = f"{stem[: MAX_NAME_CHARS - len(suffix) - 1]}.{suffix}"
        else:
            kept = kept[:MAX_NAME_CHARS]
    return kept


def check_upload_size(size: int | None, limits: Limits) -> None:
    """For the upload view: refuse a declared Content-Length over the limit before reading it."""
    if size is not None and size > limits.max_upload_bytes:
        raise RejectedFile(
            Code.UPLOAD_TOO_LARGE,
            f"The file is {_human(size)}, more than the {_human(limits.max_upload_bytes)} allowed. "
            "Split the data into smaller files (for example one per region) or ask the AMDIS "
            "administrators to raise the limit.",
            {"http_status": 413, "size": size, "limit": limits.max_upload_bytes},
        )


def extract_upload(upload: Path, job_dir: Path, limits: Limits) -> Path:
    """Copy or extract `upload` into job_dir/"files" and return that folder."""
    files_dir = job_dir / FILES_FOLDER
    if files_dir.exists() or files_dir.is_symlink():
        _remove(files_dir)
    try:
        _check_upload_file(upload, limits)
        files_dir.mkdir(mode=0o700, parents=True)
        with upload.open("rb") as handle:
            head = handle.read(4096)
        kind = archive_kind(head)
        if kind == "zip":
            _extract_zip(upload, files_dir, limits)
        elif kind is not None:
            raise RejectedFile(
                Code.UNSUPPORTED_ARCHIVE,
                f"The file is a {kind} archive. Only .zip archives are accepted: put the files in "
                "a .zip (or upload the single file itself) and upload it again.",
                {"archive": kind},
            )
        else:
            name = safe_component(upload.name)
            _copy_stream(upload, files_dir / name, limits)
    except BaseException:
        _remove(files_dir)
        raise
    return files_dir


def _check_upload_file(upload: Path, limits: Limits) -> None:
    info = upload.lstat()
    if not stat.S_ISREG(info.st_mode):
        raise RejectedFile(Code.SPECIAL_FILE, "The upload is not a regular file; upload it again.")
    if info.st_size == 0:
        raise RejectedFile(
            Code.EMPTY_FILE, "The uploaded file is empty (0 bytes); upload it again."
        )
    check_upload_size(info.st_size, limits)


def _copy_stream(source: Path, target: Path, limits: Limits) -> None:
    written = 0
    with source.open("rb") as src, _create(target) as dst:
        while chunk := src.read(CHUNK):
            written += len(chunk)
            if written > limits.max_upload_bytes:
                check_upload_size(written, limits)
            dst.write(chunk)


@dataclass(frozen=True)
class _Entry:
    info: zipfile.ZipInfo
    parts: tuple[str, ...]  # safe path components below the files folder
    is_dir: bool


def _extract_zip(upload: Path, files_dir: Path, limits: Limits) -> None:
    _check_central_directory_size(upload, limits)
    try:
        archive = zipfile.ZipFile(upload)
    except (zipfile.BadZipFile, NotImplementedError, OSError, ValueError) as exc:
        raise RejectedFile(
            Code.BAD_ZIP,
            f"The .zip file cannot be read ({exc}). Create it again with a standard zip tool "
            "(Windows 'Send to > Compressed folder', macOS 'Compress', 7-Zip) and upload it again.",
        ) from exc
    with archive:
        entries = _plan(archive, upload.stat().st_size, limits)
        total = 0
        for entry in entries:
            target = files_dir.joinpath(*entry.parts)
            if entry.is_dir:
                target.mkdir(mode=0o700, parents=True, exist_ok=True)
                continue
            target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            total = _extract_entry(archive, entry, target, total, limits)


def _plan(archive: zipfile.ZipFile, archive_size: int, limits: Limits) -> list[_Entry]:
    """Every check that the central directory alone allows, before anything is written."""
    infos = archive.infolist()
    if len(infos) > limits.max_entries:
        raise _too_many_entries(len(infos), limits)
    entries: list[_Entry] = []
    seen_files: dict[str, str] = {}
    seen_dirs: set[str] = set()
    declared_total = 0
    for info in infos:
        raw_parts = _checked_parts(info.filename)
        if not raw_parts or _is_junk(raw_parts):
            continue
        parts = tuple(safe_component(p) for p in raw_parts)
        name = "/".join(parts)
        is_dir = info.is_dir()
        _check_entry_type(info, name)
        if info.flag_bits & 0x1:
            raise RejectedFile(
                Code.ENCRYPTED_ENTRY,
                f"'{name}' in the .zip is password-protected. Upload a .zip without a password.",
                {"entry": name},
            )
        if is_dir:
            seen_dirs.add(name.casefold())
            entries.append(_Entry(info, parts, True))
            continue
        if info.compress_type not in SUPPORTED_METHODS:
            raise RejectedFile(
                Code.UNSUPPORTED_COMPRESSION,
                f"'{name}' in the .zip uses a compression method AMDIS does not read "
                f"(method {info.compress_type}). Create the .zip again with standard (Deflate) "
                "compression.",
                {"entry": name, "method": info.compress_type},
            )
        if PurePosixPath(parts[-1].lower()).suffix in ARCHIVE_SUFFIXES:
            raise _nested(name)
        key = name.casefold()
        if key in seen_files:
            raise RejectedFile(
                Code.DUPLICATE_ENTRY,
                f"The .zip holds two files named '{name}' (names are compared ignoring case). "
                "Keep one and upload again.",
                {"entry": name},
            )
        seen_files[key] = name
        declared_total += info.file_size
        if (
            info.file_size > limits.max_uncompressed_bytes
            or declared_total > limits.max_uncompressed_bytes
        ):
            raise _too_large(limits, name)
        if (
            info.file_size > RATIO_FLOOR_BYTES
            and info.file_size > limits.max_compression_ratio * max(info.compress_size, 1)
        ):
            raise _ratio(name, info.file_size, info.compress_size, limits)
        entries.append(_Entry(info, parts, False))
    for key, name in seen_files.items():
        if key in seen_dirs or any(d.startswith(key + "/") for d in seen_dirs):
            raise RejectedFile(
                Code.DUPLICATE_ENTRY,
                f"'{name}' in the .zip is both a file and a folder. Rename one and upload again.",
                {"entry": name},
            )
    _check_overlaps([e.info for e in entries if not e.is_dir], archive, archive_size)
    return entries


def _checked_parts(raw: str) -> tuple[str, ...]:
    """Path components of a zip entry name; refuses absolute paths, drive letters and '..'."""
    if "\x00" in raw:
        raise _slip(raw)
    name = raw.replace("\\", "/")
    if name.startswith("/") or (len(name) >= 2 and name[1] == ":" and name[0].isalpha()):
        raise _slip(raw)
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if any(p == ".." for p in parts):
        raise _slip(raw)
    if len(parts) > MAX_PATH_DEPTH:
        raise RejectedFile(
            Code.BAD_ZIP,
            f"'{raw[:200]}' in the .zip is nested {len(parts)} folders deep. Flatten the folders "
            "and upload again.",
        )
    return tuple(parts)


def _is_junk(parts: tuple[str, ...]) -> bool:
    return parts[0].casefold() in JUNK_FOLDERS or parts[-1].casefold() in JUNK_NAMES


def _check_entry_type(info: zipfile.ZipInfo, name: str) -> None:
    # Unix permission bits live in the high 16 bits of external_attr when the zip was made on Unix
    # (create_system 3); a zero file-type field means "no Unix attributes": a plain file.
    mode = info.external_attr >> 16
    file_type = stat.S_IFMT(mode)
    if info.create_system == 3 and stat.S_ISLNK(mode):
        raise RejectedFile(
            Code.SYMLINK,
            f"'{name}' in the .zip is a symbolic link, which AMDIS does not accept. Zip the real "
            "files (not links to them) and upload again.",
            {"entry": name},
        )
    if info.create_system == 3 and file_type not in (0, stat.S_IFREG, stat.S_IFDIR):
        raise RejectedFile(
            Code.SPECIAL_FILE,
            f"'{name}' in the .zip is not a regular file (a device, pipe or socket). Zip only "
            "the data files and upload again.",
            {"entry": name},
        )


def _check_overlaps(infos: list[zipfile.ZipInfo], archive: zipfile.ZipFile, size: int) -> None:
    """Entries whose data overlap each other are the mark of a non-recursive zip bomb."""
    start_dir = getattr(archive, "start_dir", size)
    ordered = sorted(infos, key=lambda i: i.header_offset)
    for current, following in zip(ordered, [*ordered[1:], None], strict=True):
        end = following.header_offset if following is not None else start_dir
        if current.header_offset + 30 + current.compress_size > end:
            raise RejectedFile(
                Code.OVERLAPPING_ENTRIES,
                "The .zip's entries overlap each other, a trick used by zip bombs. Create the .zip "
                "again with a standard zip tool and upload it again.",
                {"entry": current.filename[:200]},
            )


def _extract_entry(
    archive: zipfile.ZipFile, entry: _Entry, target: Path, total: int, limits: Limits
) -> int:
    name = "/".join(entry.parts)
    declared = entry.info.file_size
    # Ask for one byte more than declared, so a header that under-declares its size shows itself
    # instead of being cut short silently; the CRC is then checked here, not by zipfile.
    probe = copy.copy(entry.info)
    probe.file_size = declared + 1
    del probe.CRC
    written = crc = 0
    try:
        with archive.open(probe) as source, _create(target) as sink:
            first = True
            while chunk := source.read(CHUNK):
                if first and archive_kind(chunk) is not None:
                    raise _nested(name)
                first = False
                written += len(chunk)
                total += len(chunk)
                if written > declared:
                    raise RejectedFile(
                        Code.SIZE_MISMATCH,
                        f"'{name}' in the .zip holds more data than its header declares "
                        f"({_human(declared)}): the .zip is damaged or forged. Create it again "
                        "and upload it again.",
                        {"entry": name, "declared": declared},
                    )
                if total > limits.max_uncompressed_bytes:
                    raise _too_large(limits, name)
                crc = zlib.crc32(chunk, crc)
                sink.write(chunk)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
        raise RejectedFile(
            Code.BAD_ZIP,
            f"'{name}' in the .zip is damaged ({exc}). Create the .zip again and upload it again.",
            {"entry": name},
        ) from exc
    if written != declared:
        raise RejectedFile(
            Code.SIZE_MISMATCH,
            f"'{name}' in the .zip is shorter than its header declares: the .zip is damaged. "
            "Create it again and upload it again.",
            {"entry": name, "declared": declared, "found": written},
        )
    if crc != entry.info.CRC:
        raise RejectedFile(
            Code.BAD_ZIP,
            f"'{name}' in the .zip is damaged (its checksum does not match). Create the .zip "
            "again and upload it again.",
            {"entry": name},
        )
    return total


def _create(path: Path) -> BinaryIO:
    """A new file, never following or replacing anything already at that path."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    return os.fdopen(os.open(path, flags, 0o600), "wb")


def _check_central_directory_size(upload: Path, limits: Limits) -> None:
    """Read the end-of-central-directory record so a .zip with a huge directory is refused
    before Python's zipfile loads the whole directory into memory."""
    size = upload.stat().st_size
    with upload.open("rb") as handle:
        tail_size = min(size, 22 + 65535)
        handle.seek(size - tail_size)
        tail = handle.read(tail_size)
        at = tail.rfind(_EOCD)
        if at < 0 or len(tail) - at < 22:
            raise RejectedFile(
                Code.BAD_ZIP,
                "The .zip file is incomplete (its table of contents is missing): the upload may "
                "have been cut short. Upload it again.",
            )
        _sig, _disk, _cd_disk, _n_disk, entries, cd_size, _cd_offset, _comment = struct.unpack(
            "<4s4H2LH", tail[at : at + 22]
        )
        if (entries == 0xFFFF or cd_size == 0xFFFFFFFF) and at >= 20:
            locator = tail[at - 20 : at]
            if locator[:4] == _EOCD64_LOCATOR:
                (offset64,) = struct.unpack("<Q", locator[8:16])
                handle.seek(offset64)
                record = handle.read(56)
                if len(record) == 56 and record[:4] == _EOCD64:
                    entries, cd_size = struct.unpack("<QQ", record[32:48])
    if entries > limits.max_entries:
        raise _too_many_entries(entries, limits)
    if cd_size > limits.max_entries * _CD_BYTES_PER_ENTRY + 65536:
        raise _too_many_entries(cd_size // 46, limits)


def _remove(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink(missing_ok=True)
    elif path.exists():
        shutil.rmtree(path, ignore_errors=True)


def _human(size: int) -> str:
    for unit, factor in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if size >= factor:
            return f"{size / factor:.1f} {unit}"
    return f"{size} bytes"


def _slip(raw: str) -> RejectedFile:
    return RejectedFile(
        Code.ZIP_SLIP,
        f"The .zip contains an entry with an unsafe path ('{raw[:200]}'): absolute paths and '..' "
        "are not allowed. Zip the files from their own folder and upload again.",
        {"entry": raw[:200]},
    )


def _nested(name: str) -> RejectedFile:
    return RejectedFile(
        Code.NESTED_ARCHIVE,
        f"'{name}' inside the .zip is itself an archive. Put the data files directly in one "
        ".zip (no archive inside an archive) and upload again.",
        {"entry": name},
    )


def _too_many_entries(count: int, limits: Limits) -> RejectedFile:
    return RejectedFile(
        Code.TOO_MANY_ENTRIES,
        f"The .zip holds about {count:,} entries; at most {limits.max_entries:,} are allowed. "
        "Put only the files of one dataset in the .zip and upload again.",
        {"entries": count, "limit": limits.max_entries},
    )


def _too_large(limits: Limits, name: str) -> RejectedFile:
    return RejectedFile(
        Code.TOO_LARGE_UNCOMPRESSED,
        f"Unpacked, the .zip would hold more than {_human(limits.max_uncompressed_bytes)} "
        f"(reached at '{name}'). Split the data into smaller uploads.",
        {"entry": name, "limit": limits.max_uncompressed_bytes},
    )


def _ratio(name: str, size: int, compressed: int, limits: Limits) -> RejectedFile:
    return RejectedFile(
        Code.COMPRESSION_RATIO,
        f"'{name}' in the .zip would unpack from {_human(compressed)} to {_human(size)}, a "
        f"compression ratio over {limits.max_compression_ratio}:1, which is how zip bombs look. "
        "If the file is genuine, upload it uncompressed or ask the administrators.",
        {"entry": name, "size": size, "compressed": compressed},
    )
