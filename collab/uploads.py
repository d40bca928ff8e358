"""Checks on uploaded files: an allow-list of types, recognised by content, and a size cap.

The type comes from the file's first bytes (and, for Office files, the names inside the zip),
never from the name or the browser's Content-Type alone; the extension must agree with it.
"""

import hashlib
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import IO, Concatenate, ParamSpec

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.text import get_valid_filename
from django.views.decorators.csrf import csrf_exempt, csrf_protect

P = ParamSpec("P")

# Office files are zips; only their central directory is read, never their members' data.
_MAX_ZIP_ENTRIES = 5000
# Room for the other form fields and multipart boundaries around the file itself.
_FORM_OVERHEAD_BYTES = 256 * 1024


class UploadRejected(ValueError):
    """The file is not accepted; the message says why, for the person uploading it."""


@dataclass(frozen=True)
class CheckedFile:
    original_name: str
    extension: str
    content_type: str
    size: int
    sha256: str


def _head(handle: IO[bytes], size: int = 8192) -> bytes:
    handle.seek(0)
    data = handle.read(size)
    handle.seek(0)
    return data


def _zip_names(handle: IO[bytes]) -> list[str]:
    handle.seek(0)
    try:
        with zipfile.ZipFile(handle) as archive:
            infos = archive.infolist()
            if len(infos) > _MAX_ZIP_ENTRIES:
                raise UploadRejected("The file holds too many parts to be an office document.")
            names = [info.filename for info in infos]
    except zipfile.BadZipFile as exc:
        raise UploadRejected("The file is damaged: it is not a readable office document.") from exc
    finally:
        handle.seek(0)
    return names


def _is_ooxml(folder: str) -> Callable[[IO[bytes]], bool]:
    def check(handle: IO[bytes]) -> bool:
        if _head(handle, 4) != b"PK\x03\x04":
            return False
        names = _zip_names(handle)
        return "[Content_Types].xml" in names and any(n.startswith(folder) for n in names)

    return check


def _is_text(handle: IO[bytes]) -> bool:
    sample = _head(handle, 64 * 1024)
    if b"\x00" in sample:
        return False
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the end of the sample is still text.
        if exc.start < len(sample) - 4:
            return False
    return True


def _starts_with(*magic: bytes) -> Callable[[IO[bytes]], bool]:
    return lambda handle: any(_head(handle, 16).startswith(m) for m in magic)


# extension -> (content type served back, content check)
ALLOWED_TYPES: dict[str, tuple[str, Callable[[IO[bytes]], bool]]] = {
    "pdf": ("application/pdf", _starts_with(b"%PDF-")),
    "docx": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        _is_ooxml("word/"),
    ),
    "xlsx": (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        _is_ooxml("xl/"),
    ),
    "pptx": (
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        _is_ooxml("ppt/"),
    ),
    "png": ("image/png", _starts_with(b"\x89PNG\r\n\x1a\n")),
    "jpg": ("image/jpeg", _starts_with(b"\xff\xd8\xff")),
    "jpeg": ("image/jpeg", _starts_with(b"\xff\xd8\xff")),
    "csv": ("text/csv", _is_text),
    "txt": ("text/plain", _is_text),
}

ACCEPT_ATTRIBUTE = ",".join(f".{ext}" for ext in ALLOWED_TYPES)


def upload_check(upload: UploadedFile) -> CheckedFile:
    """Accepts the file or raises UploadRejected with the reason."""
    name = get_valid_filename((upload.name or "").rsplit("/", 1)[-1].rsplit("\\", 1)[-1])[:200]
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if extension not in ALLOWED_TYPES:
        allowed = ", ".join(sorted(ALLOWED_TYPES))
        raise UploadRejected(f"Files of this type are not accepted. Accepted types: {allowed}.")
    limit = settings.COLLAB_MAX_UPLOAD_BYTES
    if upload.size is None or upload.size == 0:
        raise UploadRejected("The file is empty.")
    if upload.size > limit:
        raise UploadRejected(f"The file is larger than the limit of {limit // (1024 * 1024)} MB.")
    content_type, looks_right = ALLOWED_TYPES[extension]
    if upload.file is None or not looks_right(upload.file):
        raise UploadRejected(f"The file's content is not that of a .{extension} file.")
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return CheckedFile(
        original_name=name,
        extension=extension,
        content_type=content_type,
        size=upload.size,
        sha256=digest.hexdigest(),
    )


def storage_name(*, prefix: str, extension: str) -> str:
    """A random path under the private root: no part of it comes from the uploader."""
    return f"{prefix}/{uuid.uuid4().hex}.{extension}"


def upload_limited(
    view: Callable[Concatenate[HttpRequest, P], HttpResponse],
) -> Callable[Concatenate[HttpRequest, P], HttpResponse]:
    """Answers 413 to a request body over the limit before anything reads (or stores) it.

    The CSRF check reads the body, so it runs here after the size check instead of in the
    middleware; it is not skipped.
    """
    protected = csrf_protect(view)

    @csrf_exempt
    @wraps(view)
    def wrapped(request: HttpRequest, *args: P.args, **kwargs: P.kwargs) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > settings.COLLAB_MAX_UPLOAD_BYTES + _FORM_OVERHEAD_BYTES:
            limit_mb = settings.COLLAB_MAX_UPLOAD_BYTES // (1024 * 1024)
            return render(
                request, "collab/upload_too_large.html", {"limit_mb": limit_mb}, status=413
            )
        return protected(request, *args, **kwargs)

    return wrapped
