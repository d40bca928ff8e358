"""Server-side cache of public vector tiles, on disk, and the WSGI fast path that serves it.

Only the public rendering is cached: the one every visitor without a role gets. A tile that
depends on who asks (a permission-dependent layer and a viewer who may see unpublished data)
is never read from or written to the cache.

Key: layer / data version / z / x / y + a hash of the other query parameters (sorted). The
version is part of the key, and Django stores a tile only when the URL's `v` is the layer's
current version, so a version change needs no invalidation for correctness; old versions are
deleted when a dataset or boundary changes (`prune_stale`, on commit) and by
`manage.py tilecache_prune`, which also keeps the cache under TILE_CACHE_MAX_MB.

A file is a 53-byte header (magic, ETag, gzip flag, body length) and the body, written to a
temporary file and renamed into place, so a reader sees a whole file or none; a file whose
header or length does not check out is never served. Next to `<y>.mvt` lies `<y>.mvt.gz` (the
gzipped body) when gzip makes the tile smaller, as Django's gzip_page would send it.

`TileCacheApp` wraps the Django WSGI application: a GET of a versioned tile URL without a
session cookie is answered from the file with the headers Django's middleware would add, and
without going through Django at all; anything else (a miss too) goes on to Django.
"""

import contextlib
import gzip
import hashlib
import logging
import os
import random
import re
import shutil
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.core.signals import setting_changed
from django.http import QueryDict

from webgis.lib.tiles import Tile
from webgis.lib.wsgienv import Environ, StartResponse, WsgiApp

logger = logging.getLogger(__name__)

MVT_CONTENT_TYPE = "application/vnd.mapbox-vector-tile"
IMMUTABLE = "public, max-age=31536000, immutable"
MAGIC = b"AMDISMVT1"
HEADER_SIZE = len(MAGIC) + 32 + 1 + 10 + 1  # magic, ETag (hex), gzip flag, body length, \n
GZIP_MIN = 200  # Django's GZipMiddleware leaves shorter responses alone (and adds no Vary).
_LAYER = re.compile(r"[-a-zA-Z0-9_]{1,100}\Z")
_VERSION = re.compile(r"[0-9a-f]{1,64}\Z")
_TILE_PATH = re.compile(
    r"/tiles/([-a-zA-Z0-9_]{1,100})/([0-9]{1,2})/([0-9]{1,8})/([0-9]{1,8})\.mvt\Z"
)
_ACCEPTS_GZIP = re.compile(r"\bgzip\b")
_TRASH = ".trash-"
_TEMP = ".tmp-"


def enabled() -> bool:
    return bool(settings.TILE_CACHE)


def root() -> str:
    """TILE_CACHE_DIR, else `tilecache` under MEDIA_ROOT (read each time: tests move MEDIA_ROOT)."""
    return str(settings.TILE_CACHE_DIR or os.path.join(settings.MEDIA_ROOT, "tilecache"))


def query_suffix(lists: Iterable[tuple[str, list[str]]]) -> str:
    """The filter parameters (all but `v`), sorted by name, as a short hash; "" for none."""
    pairs = [
        (k, v) for k, values in sorted(lists, key=lambda kv: kv[0]) if k != "v" for v in values
    ]
    if not pairs:
        return ""
    return "~" + hashlib.sha256(urlencode(pairs).encode()).hexdigest()[:24]


def etag_of(body: bytes) -> str:
    """The tile view's ETag: the first 32 hex digits of the body's SHA-256."""
    return hashlib.sha256(body).hexdigest()[:32]


def _header(etag: str, flag: bytes, length: int) -> bytes:
    return MAGIC + etag.encode() + flag + b"%010d" % length + b"\n"


@dataclass(frozen=True)
class Entry:
    """One cached tile: where its files are."""

    layer: str
    version: str
    tile: Tile
    suffix: str = ""

    @classmethod
    def for_request(cls, layer: str, version: str, tile: Tile, query: QueryDict) -> "Entry | None":
        if not (_LAYER.match(layer) and _VERSION.match(version)):
            return None
        return cls(layer, version, tile, query_suffix(query.lists()))

    @property
    def path(self) -> str:
        t = self.tile
        return os.path.join(
            root(), self.layer, self.version, str(t.z), str(t.x), f"{t.y}{self.suffix}.mvt"
        )

    def read(self) -> bytes | None:
        """The cached body, or None (missing, partial or corrupt files count as missing)."""
        try:
            with open(self.path, "rb") as f:
                data = f.read()
        except OSError:
            return None
        parsed = _parse(data[:HEADER_SIZE], len(data))
        if parsed is None or parsed[1] == b"z":
            return None
        return data[HEADER_SIZE:]

    def write(self, body: bytes) -> None:
        """Stores the body (and its gzipped form when smaller); never raises on a full disk."""
        path = self.path
        etag = etag_of(body)
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            zipped = gzip.compress(body, compresslevel=6, mtime=0) if len(body) >= GZIP_MIN else b""
            has_gzip = bool(zipped) and len(zipped) < len(body)
            # The gzipped file first: an identity file that says "g" promises it is there.
            if has_gzip:
                _write_atomic(path + ".gz", _header(etag, b"z", len(zipped)) + zipped)
            else:
                _unlink(path + ".gz")
            _write_atomic(path, _header(etag, b"g" if has_gzip else b"-", len(body)) + body)
        except OSError as exc:
            logger.warning("Tile cache: cannot store %s: %s", path, exc)
            return
        _note_written(len(body) + HEADER_SIZE)

    def discard(self) -> None:
        _unlink(self.path)
        _unlink(self.path + ".gz")


def _write_atomic(path: str, data: bytes) -> None:
    directory = os.path.dirname(path)
    fd, temp = tempfile.mkstemp(dir=directory, prefix=_TEMP)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(temp, 0o644)
        os.replace(temp, path)
    except BaseException:
        _unlink(temp)
        raise


def _unlink(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)


def _parse(head: bytes, size: int) -> tuple[str, bytes, int] | None:
    """(ETag hex, flag, body length) of a whole, well-formed file; None otherwise."""
    if len(head) != HEADER_SIZE or not head.startswith(MAGIC) or head[-1:] != b"\n":
        return None
    etag = head[9:41]
    flag = head[41:42]
    digits = head[42:52]
    if not digits.isdigit() or flag not in (b"g", b"-", b"z"):
        return None
    length = int(digits)
    if size != HEADER_SIZE + length:
        return None
    try:
        return etag.decode("ascii"), flag, length
    except UnicodeDecodeError:
        return None


# --- Size cap and pruning ---------------------------------------------------------------------

_written_since_check = 0


def _note_written(n: int) -> None:
    """After a tenth of the cap written by this process, check the cap (walks the cache)."""
    global _written_since_check
    _written_since_check += n
    cap = max_bytes()
    if cap and _written_since_check > cap // 10:
        _written_since_check = 0
        try:
            prune_to_size(cap)
        except OSError as exc:  # another process pruning at the same time
            logger.warning("Tile cache: pruning failed: %s", exc)


def max_bytes() -> int:
    return int(settings.TILE_CACHE_MAX_MB) * 1024 * 1024


def _files(base: str) -> Iterator[tuple[str, os.stat_result]]:
    for directory, dirs, names in os.walk(base):
        dirs[:] = [d for d in dirs if not d.startswith(_TRASH)]
        for name in names:
            path = os.path.join(directory, name)
            try:
                yield path, os.stat(path)
            except FileNotFoundError:
                continue


def cache_size() -> int:
    return sum(st.st_size for _, st in _files(root()))


def prune_to_size(cap: int, *, low_water: float = 0.9) -> tuple[int, int]:
    """Deletes the oldest files until the cache holds at most `cap` bytes (then low_water × cap).

    Left-over temporary files older than an hour go first. Returns (files deleted, bytes left).
    """
    base = root()
    now = time.time()
    entries: list[tuple[float, int, str]] = []
    total = 0
    deleted = 0
    for path, st in _files(base):
        if os.path.basename(path).startswith(_TEMP):
            if now - st.st_mtime > 3600:
                _unlink(path)
                deleted += 1
            continue
        entries.append((st.st_mtime, st.st_size, path))
        total += st.st_size
    if total <= cap:
        return deleted, total
    target = int(cap * low_water)
    entries.sort()
    for _, size, path in entries:
        if total <= target:
            break
        # A .gz without its identity file is useless, and the reverse would be a miss anyway.
        _unlink(path)
        total -= size
        deleted += 1
    return deleted, total


def current_versions() -> dict[str, str | None]:
    """Each cached layer's current public version; None for a layer the public cannot see."""
    from webgis.lib.mvt import get_layer

    base = root()
    found: dict[str, str | None] = {}
    try:
        names = [n for n in os.listdir(base) if not n.startswith(".")]
    except FileNotFoundError:
        return found
    for name in names:
        layer = get_layer(name, None) if _LAYER.match(name) else None
        found[name] = layer.version(None) if layer is not None else None
    return found


def prune_stale() -> int:
    """Deletes every version but the current one of each layer; returns the directories removed.

    Each directory is first renamed (atomic), so no reader finds it half-deleted.
    """
    base = root()
    removed = 0
    for layer, current in current_versions().items():
        layer_dir = os.path.join(base, layer)
        try:
            versions = os.listdir(layer_dir)
        except OSError:
            continue
        for version in versions:
            if version == current:
                continue
            removed += _remove_dir(os.path.join(layer_dir, version), base)
        if current is None:
            removed += _remove_dir(layer_dir, base)
    for name in os.listdir(base) if os.path.isdir(base) else []:
        if name.startswith(_TRASH):  # left by an interrupted prune
            shutil.rmtree(os.path.join(base, name), ignore_errors=True)
    return removed


def _remove_dir(path: str, base: str) -> int:
    trash = os.path.join(base, f"{_TRASH}{os.getpid()}-{random.getrandbits(48):012x}")
    try:
        os.rename(path, trash)
    except OSError:
        return 0
    shutil.rmtree(trash, ignore_errors=True)
    return 1


def on_data_change(**kwargs: Any) -> None:
    """A dataset or boundary changed: once committed, the versions before it are of no use,
    and the new ones are drawn ahead (webgis.lib.tilewarm), once per transaction."""
    from django.db import connection, transaction

    from webgis.lib import tilewarm

    if not enabled():
        return
    transaction.on_commit(_prune_quietly)
    # A publish saves its dataset more than once: one warm-up job is enough.
    if tilewarm.enabled() and all(
        entry[1] is not _warm_queue for entry in connection.run_on_commit
    ):
        transaction.on_commit(_warm_queue, robust=True)


def _warm_queue() -> None:
    from webgis.tasks import tiles_warm_task

    tiles_warm_task.enqueue()


def _prune_quietly() -> None:
    try:
        prune_stale()
    except Exception:  # a failed prune must not fail the publish that triggered it
        logger.exception("Tile cache: pruning stale versions failed")


# --- The WSGI fast path -----------------------------------------------------------------------


@dataclass(frozen=True)
class _Config:
    """What the fast path needs from the settings, read once (again after a settings change)."""

    session_cookie: str
    language_cookie: str
    security_headers: tuple[tuple[str, str], ...]
    hsts: str
    ssl_redirect: bool
    proxy_ssl_header: tuple[str, str] | None
    use_forwarded_host: bool
    allowed_hosts: tuple[str, ...]


_config: _Config | None = None
_hosts: dict[str, bool] = {}
_languages: dict[str, str] = {}


def _load_config() -> _Config:
    from csp.utils import build_policy

    headers: list[tuple[str, str]] = []
    # In the order Django's middleware adds them to a tile response.
    if settings.X_FRAME_OPTIONS:
        headers.append(("X-Frame-Options", str(settings.X_FRAME_OPTIONS).upper()))
    policy = build_policy()
    if policy:
        headers.append(("Content-Security-Policy", policy))
    report_only = build_policy(report_only=True)
    if report_only:
        headers.append(("Content-Security-Policy-Report-Only", report_only))
    security: list[tuple[str, str]] = []
    if settings.SECURE_CONTENT_TYPE_NOSNIFF:
        security.append(("X-Content-Type-Options", "nosniff"))
    if settings.SECURE_REFERRER_POLICY:
        referrer = settings.SECURE_REFERRER_POLICY
        if not isinstance(referrer, str):
            referrer = ",".join(referrer)
        security.append(("Referrer-Policy", referrer))
    if settings.SECURE_CROSS_ORIGIN_OPENER_POLICY:
        security.append(("Cross-Origin-Opener-Policy", settings.SECURE_CROSS_ORIGIN_OPENER_POLICY))
    hsts = ""
    if settings.SECURE_HSTS_SECONDS:
        hsts = f"max-age={settings.SECURE_HSTS_SECONDS}"
        if settings.SECURE_HSTS_INCLUDE_SUBDOMAINS:
            hsts += "; includeSubDomains"
        if settings.SECURE_HSTS_PRELOAD:
            hsts += "; preload"
    allowed = tuple(settings.ALLOWED_HOSTS)
    if settings.DEBUG and not allowed:
        allowed = (".localhost", "127.0.0.1", "[::1]")
    return _Config(
        session_cookie=settings.SESSION_COOKIE_NAME + "=",
        language_cookie=settings.LANGUAGE_COOKIE_NAME + "=",
        security_headers=(*headers, *security),
        hsts=hsts,
        ssl_redirect=bool(settings.SECURE_SSL_REDIRECT),
        proxy_ssl_header=settings.SECURE_PROXY_SSL_HEADER,
        use_forwarded_host=bool(settings.USE_X_FORWARDED_HOST),
        allowed_hosts=allowed,
    )


def _reset_config(**kwargs: Any) -> None:
    global _config
    _config = None
    _hosts.clear()
    _languages.clear()


setting_changed.connect(_reset_config)


def _host_allowed(config: _Config, host: str) -> bool:
    known = _hosts.get(host)
    if known is None:
        from django.http.request import split_domain_port, validate_host

        domain, _ = split_domain_port(host)
        known = bool(domain) and validate_host(domain, list(config.allowed_hosts))
        if len(_hosts) < 256:
            _hosts[host] = known
    return known


class _LanguageRequest:
    """Just enough of a request for Django's own language negotiation."""

    def __init__(self, accept: str) -> None:
        self.COOKIES: dict[str, str] = {}
        self.META = {"HTTP_ACCEPT_LANGUAGE": accept}


def _language(accept: str) -> str:
    """The Content-Language LocaleMiddleware would send for this Accept-Language."""
    language = _languages.get(accept)
    if language is None:
        from django.utils.translation import get_language_from_request

        language = get_language_from_request(_LanguageRequest(accept))  # type: ignore[arg-type]
        if len(_languages) < 256:
            _languages[accept] = language
    return language


def _is_secure(config: _Config, environ: Environ) -> bool:
    if config.proxy_ssl_header:
        header, value = config.proxy_ssl_header
        given = environ.get(header)
        if given is not None:
            return bool(given.split(",", 1)[0].strip() == value)
    return bool(environ.get("wsgi.url_scheme") == "https")


def serve(environ: Environ, start_response: StartResponse) -> Iterable[bytes] | None:
    """The cached answer to a public, versioned tile request; None when Django must answer."""
    if not settings.TILE_CACHE or environ.get("REQUEST_METHOD") != "GET":
        return None
    match = _TILE_PATH.match(environ.get("PATH_INFO", ""))
    if match is None:
        return None
    config = _config or _configure()
    cookies = environ.get("HTTP_COOKIE")
    # A session could be a signed-in user's (whose tiles may differ); a language cookie changes
    # Content-Language. Either way Django answers (still from the cache when the tile is public).
    if cookies and (config.session_cookie in cookies or config.language_cookie in cookies):
        return None
    if "HTTP_AUTHORIZATION" in environ or environ.get("CONTENT_LENGTH", "0") not in ("", "0"):
        return None
    if config.use_forwarded_host:
        return None
    host = environ.get("HTTP_HOST") or environ.get("SERVER_NAME", "")
    if not _host_allowed(config, host):
        return None
    secure = _is_secure(config, environ)
    if config.ssl_redirect and not secure:
        return None
    query = environ.get("QUERY_STRING", "")
    if query.startswith("v=") and "&" not in query and ";" not in query:
        version, suffix = query[2:], ""
    else:
        params = QueryDict(query)
        versions = params.getlist("v")
        if len(versions) != 1:
            return None
        version, suffix = versions[0], query_suffix(params.lists())
    if not _VERSION.match(version):
        return None
    layer, z, x, y = match.groups()
    path = f"{root()}/{layer}/{version}/{z}/{x}/{y}{suffix}.mvt"
    wants_gzip = _ACCEPTS_GZIP.search(environ.get("HTTP_ACCEPT_ENCODING", "")) is not None
    found = _open(path + ".gz") if wants_gzip else None
    if found is None:
        found = _open(path)
        if found is None:
            return None
        if wants_gzip and found[2] == b"g":  # the gzipped file went missing: let Django answer
            _close(found[0])
            return None
    fd, etag, flag, length, body = found
    strong = f'"{etag}"'
    language = _language(environ.get("HTTP_ACCEPT_LANGUAGE", ""))
    if environ.get("HTTP_IF_NONE_MATCH") in (strong, "W/" + strong):
        _close(fd)
        # What the view's 304 becomes after the middleware (an empty HttpResponse).
        headers = [
            ("Content-Type", "text/html; charset=utf-8"),
            ("ETag", strong),
            ("Cache-Control", IMMUTABLE),
            *config.security_headers,
            ("Vary", _VARY_SHORT),
            ("Content-Language", language),
            ("Content-Length", "0"),
        ]
        if secure and config.hsts:
            headers.append(("Strict-Transport-Security", config.hsts))
        start_response("304 Not Modified", headers)
        return []
    headers = [
        ("Content-Type", MVT_CONTENT_TYPE),
        ("Cache-Control", IMMUTABLE),
        ("ETag", "W/" + strong if flag == b"z" else strong),
        *config.security_headers,
        ("Vary", _VARY_LONG if flag == b"z" or length >= GZIP_MIN else _VARY_SHORT),
        ("Content-Language", language),
    ]
    if flag == b"z":
        headers.append(("Content-Encoding", "gzip"))
    if secure and config.hsts:
        headers.append(("Strict-Transport-Security", config.hsts))
    headers.append(("Content-Length", str(length)))
    start_response("200 OK", headers)
    if body is not None:
        return [body]
    if "wsgi.file_wrapper" in environ:
        f = os.fdopen(fd, "rb")
        f.seek(HEADER_SIZE)
        return environ["wsgi.file_wrapper"](f, 65536)
    try:
        return [os.pread(fd, length, HEADER_SIZE)]
    finally:
        os.close(fd)


_VARY_SHORT = "Accept-Language, Cookie"
_VARY_LONG = "Accept-Encoding, Accept-Language, Cookie"
# Files up to this size are read whole (one read); larger ones go out by the server's sendfile.
# A judgement, not a measured optimum (z8 occurrence tiles of the bench average 24 KB).
_SENDFILE_MIN = 64 * 1024


def _configure() -> _Config:
    global _config
    _config = _load_config()
    return _config


def _open(path: str) -> tuple[int, str, bytes, int, bytes | None] | None:
    """A whole, well-formed cache file: (descriptor, ETag, flag, body length, body).

    A small file is read at once (body given, descriptor already closed: -1); a large one is
    left open for the server's sendfile (body None).
    """
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        size = os.fstat(fd).st_size
        if size <= _SENDFILE_MIN + HEADER_SIZE:
            data = os.pread(fd, size, 0)
            os.close(fd)
            fd = -1
            parsed = _parse(data[:HEADER_SIZE], len(data))
            body: bytes | None = data[HEADER_SIZE:]
        else:
            parsed = _parse(os.pread(fd, HEADER_SIZE, 0), size)
            body = None
    except OSError:
        parsed = None
    if parsed is None:
        if fd >= 0:
            os.close(fd)
        return None
    return fd, *parsed, body


def _close(fd: int) -> None:
    if fd >= 0:
        os.close(fd)


class TileCacheApp:
    """WSGI middleware: cached public tiles straight from disk, everything else to `app`."""

    def __init__(self, app: WsgiApp) -> None:
        self.app = app

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO", "").startswith("/tiles/"):
            answer = serve(environ, start_response)
            if answer is not None:
                return answer
        return self.app(environ, start_response)
