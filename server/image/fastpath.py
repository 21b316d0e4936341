"""A WSGI shortcut for the hottest requests there are: grid tiles whose bytes are already on disk.

Viewers ask for thousands of these; each is one ``pread`` (grid tiles, ``tiles.py``) or one file
read (anything else once rendered, from the render cache), and Flask's dispatch
would be most of its cost. This middleware answers exactly those requests (Image API 3.0,
GET/HEAD, bytes on disk) with the same bytes and headers as the Flask view; everything else —
other versions, misses, errors, anything unusual — goes on to Flask. Both build their headers from
``headers.py``, and ``tests/test_image_fastpath.py`` checks that they answer alike. A 3.0 request it
resolved but has no bytes for (a rendering not cached yet) goes on with its lookup and parse
attached (``views.HANDED_OVER``), so the view does not repeat them.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from .. import headers
from ..config import Settings
from ..errors import HeritageError
from ..http import public_base
from ..publication import ImageRecord, Publication, PublicationStore
from .request import ImageRequest, Limits, parse, resolve
from .tilecache import cache_etag, cache_key
from .tiles import stored_tile
from .views import HANDED_OVER, Resolved, profile_link, pyramid_mtime, render_cache

PREFIX = "/iiif/3/image/"

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
    tag: str                   # its ETag
    canonical: str             # identifier/region/size/rotation/quality.format, canonical form
    mtime: float | None
    validators: headers.Headers  # ETag and Last-Modified


class TileFastPath:
    def __init__(self, app: WSGIApp, settings: Settings, store: PublicationStore) -> None:
        self.app = app
        self.settings = settings
        self.store = store
        self.limits = Limits.of(settings)
        vary = headers.base_vary(settings.base_url)  # the canonical Link depends on the request's base
        # the same for every tile: the views get them from the same definitions (``http.py``)
        self.fixed: headers.Headers = [("Cache-Control", headers.published(settings.cache_max_age)),
                                       *headers.cors("GET"), *([("Vary", ", ".join(vary))] if vary else [])]
        self.rendered = render_cache(str(settings.image_cache_dir), settings.render_cache_mb)
        self._memo: dict[tuple[str, ...], _Resolved] = {}

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path: str = environ.get("PATH_INFO", "")
        if path.startswith(PREFIX) and environ.get("REQUEST_METHOD") in ("GET", "HEAD") and path.isascii():
            answer = self._tile(environ, path[len(PREFIX):].split("/"))
            if answer is not None:
                status, response_headers, body = answer
                start_response(status, response_headers)
                return [] if environ["REQUEST_METHOD"] == "HEAD" else [body]
        return self.app(environ, start_response)

    def _tile(self, environ: dict[str, Any], parts: list[str]) -> tuple[str, headers.Headers, bytes] | None:
        """The answer to a tile request with bytes on disk; None (Flask answers) otherwise."""
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
        body = stored_tile(r.record.pyramid, r.req) or self._rendered(r.key)
        status = headers.OK if body is None else headers.evaluate(environ, r.tag, r.mtime)
        if body is None or status == headers.PRECONDITION_FAILED:  # the view renders it, or words the 412
            environ[HANDED_OVER] = Resolved(tail, r.record, r.req)  # looked up and parsed once
            return None
        canonical = f"{public_base(environ, self.settings.base_url)}{PREFIX}{r.canonical}"
        common = [("Link", profile_link(3, canonical)), *r.validators, ("Date", headers.http_date()), *self.fixed]
        if status == headers.NOT_MODIFIED:
            return "304 NOT MODIFIED", headers.not_modified(common), b""
        return "200 OK", [("Content-Type", r.req.media_type), ("Content-Length", str(len(body))), *common], body

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
        tag = headers.etag(cache_etag(key))
        resolved = _Resolved(pub, record, req, key, tag, f"{identifier}/{req.canonical(3)}", mtime,
                             headers.validators(tag, mtime))
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

