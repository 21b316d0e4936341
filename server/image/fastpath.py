"""A WSGI shortcut for the hottest requests there are: grid tiles whose bytes are already on disk.

Viewers ask for thousands of these; each is one ``pread`` (grid tiles, ``tiles.py``) or one file
read (anything else once rendered, from the render cache), and Flask's dispatch
would be most of its cost. This middleware answers exactly those requests (Image API 3.0,
GET/HEAD, bytes on disk) with the same bytes and headers as the Flask view; everything else —
other versions, misses, errors, anything unusual — goes on to Flask unchanged. ``tests/test_image_fastpath.py`` checks that both paths answer alike.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from email.utils import formatdate, parsedate_to_datetime
from typing import Any

from ..config import Settings
from ..errors import HeritageError
from ..http import base_vary, public_base
from ..publication import ImageRecord, Publication, PublicationStore
from .request import MEDIA_TYPES, ImageRequest, Limits, parse, resolve
from .tilecache import cache_etag, cache_key
from .tiles import stored_tile
from .views import LEVEL_PROFILE, pyramid_mtime, render_cache

PREFIX = "/iiif/3/image/"
PROFILE_LINK = f'<{LEVEL_PROFILE[3]}>;rel="profile"'
EXPOSE = "Link, ETag, Last-Modified, Content-Type"

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
_MEMO_SIZE = 1 << 14  # resolved tile URLs kept per process (about 500 bytes each); then start afresh


@dataclass(frozen=True, slots=True)
class _Resolved:
    """What a tile URL resolves to in one publication: parsing, resolving, hashing and formatting
    cost more than reading the tile, and a viewer asks the same URLs again and again."""

    pub: Publication           # the publication it was resolved in (a new one resolves again)
    record: ImageRecord
    req: ImageRequest
    key: str                   # render cache key
    etag: str
    canonical: str             # identifier/region/size/rotation/quality.format, canonical form
    mtime: float | None
    last_modified: str | None


_date: tuple[int, str] = (0, "")


def _http_date() -> str:
    """The Date header, formatted once per second rather than once per response."""
    global _date
    now = int(time.time())
    if _date[0] != now:
        _date = (now, formatdate(now, usegmt=True))
    return _date[1]


class TileFastPath:
    def __init__(self, app: WSGIApp, settings: Settings, store: PublicationStore) -> None:
        self.app = app
        self.settings = settings
        self.store = store
        self.limits = Limits(settings.max_width, settings.max_height, settings.max_area)
        self.max_age = f"public, max-age={settings.cache_max_age}"
        self.vary = ", ".join(base_vary(settings.base_url))
        self.rendered = render_cache(str(settings.image_cache_dir), settings.render_cache_mb)
        self._memo: dict[tuple[str, ...], _Resolved] = {}

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path: str = environ.get("PATH_INFO", "")
        if path.startswith(PREFIX) and environ.get("REQUEST_METHOD") in ("GET", "HEAD") and path.isascii():
            answer = self._tile(environ, path[len(PREFIX):].split("/"))
            if answer is not None:
                status, headers, body = answer
                start_response(status, headers)
                return [] if environ["REQUEST_METHOD"] == "HEAD" else [body]
        return self.app(environ, start_response)

    def _tile(self, environ: dict[str, Any], parts: list[str]) -> tuple[str, list[tuple[str, str]], bytes] | None:
        pub = self.store.current()
        if pub is None or len(parts) != 5:
            return None
        tail = tuple(parts)
        r = self._memo.get(tail)
        if r is None or r.pub is not pub:
            if r is not None:  # a new publication: let the old one go
                self._memo.clear()
            r = self._resolve(pub, tail)
            if r is None:
                return None
        body = stored_tile(r.record.pyramid, r.req)
        if body is None:
            body = self._rendered(r.key)
            if body is None:
                return None
        etag, mtime = r.etag, r.mtime
        canonical = f"{public_base(environ, self.settings.base_url)}{PREFIX}{r.canonical}"
        headers = [("Link", f'{PROFILE_LINK}, <{canonical}>;rel="canonical"'), ("ETag", etag),
                   ("Cache-Control", self.max_age), ("Date", _http_date()),
                   ("Access-Control-Allow-Origin", "*"), ("Access-Control-Expose-Headers", EXPOSE)]
        if self.vary:  # the canonical Link depends on the request's base
            headers.append(("Vary", self.vary))
        if _not_modified(environ, etag, mtime):
            return "304 NOT MODIFIED", headers, b""
        if r.last_modified is not None:
            headers.insert(2, ("Last-Modified", r.last_modified))
        headers[:0] = [("Content-Type", MEDIA_TYPES[r.req.format]), ("Content-Length", str(len(body)))]
        return "200 OK", headers, body

    def _resolve(self, pub: Publication, tail: tuple[str, ...]) -> _Resolved | None:
        """Parse and resolve a tile URL's five segments in ``pub``, and remember them; None: not ours."""
        identifier, region, size, rotation, quality_format = tail
        record = pub.image(identifier)
        if record is None:
            return None
        try:
            req = resolve(parse(3, region, size, rotation, quality_format), record.pyramid.width,
                          record.pyramid.height, self.limits)
        except HeritageError:
            return None
        key = cache_key(record.key, req)
        mtime = pyramid_mtime(record.pyramid.path)
        resolved = _Resolved(pub, record, req, key, f'"{cache_etag(key)}"', f"{identifier}/{req.canonical(3)}", mtime,
                             None if mtime is None else formatdate(mtime, usegmt=True))
        if len(self._memo) >= _MEMO_SIZE:
            self._memo.clear()
        self._memo[tail] = resolved
        return resolved

    def _rendered(self, key: str) -> bytes | None:
        """A rendering already in the render cache (after its first request), or None."""
        hit = self.rendered.get(key) if self.rendered is not None else None
        if hit is None:
            return None
        try:
            return hit.read_bytes() or None
        except OSError:  # evicted between get() and the read: Flask renders it again
            return None


def _not_modified(environ: dict[str, Any], etag: str, mtime: float | None) -> bool:
    """RFC 9110 §13.2.2: If-None-Match decides when present; else If-Modified-Since."""
    inm = environ.get("HTTP_IF_NONE_MATCH")
    if inm is not None:
        tags = [t.strip().removeprefix("W/") for t in inm.split(",")]
        return "*" in tags or etag in tags
    ims = environ.get("HTTP_IF_MODIFIED_SINCE")
    if ims and mtime is not None:
        try:
            return int(mtime) <= parsedate_to_datetime(ims).timestamp()
        except (TypeError, ValueError, IndexError):
            return False
    return False
