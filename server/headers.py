"""The response headers of every resource, defined once: CORS, media types, validators and
conditional requests, cache lifetimes, and what responses vary on.

Plain ``(name, value)`` lists in, a WSGI environ for the request: no framework, so that the WSGI
tile shortcut (``image/fastpath.py``) builds its answers from these as they are and the Flask
views reach the same definitions through the small adapter in ``http.py``. Whatever both send
must come from here, or the two drift apart (``tests/test_image_fastpath.py`` compares them).
"""
from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from datetime import UTC
from email.utils import formatdate, parsedate_to_datetime
from functools import lru_cache
from typing import Any

Headers = list[tuple[str, str]]

# --------------------------------------------------------------------------- CORS

EXPOSE = "Link, ETag, Last-Modified, Content-Type"
CORS: tuple[tuple[str, str], ...] = (("Access-Control-Allow-Origin", "*"), ("Access-Control-Expose-Headers", EXPOSE))
"""On every response, errors included: IIIF resources are read by viewers on other sites."""
PREFLIGHT_METHODS = "GET, HEAD, OPTIONS"
PREFLIGHT_HEADERS = "Accept, Range, If-None-Match, If-Modified-Since"  # when the preflight names none
PREFLIGHT_MAX_AGE = "86400"


def cors(method: str, requested_headers: str | None = None) -> Headers:
    """The CORS headers of a response to ``method``; a preflight (OPTIONS) also gets the methods
    and the request headers it asked for (``Access-Control-Request-Headers``)."""
    if method != "OPTIONS":
        return list(CORS)
    return [*CORS, ("Access-Control-Allow-Methods", PREFLIGHT_METHODS),
            ("Access-Control-Allow-Headers", requested_headers or PREFLIGHT_HEADERS),
            ("Access-Control-Max-Age", PREFLIGHT_MAX_AGE)]


# --------------------------------------------------------------------------- media types

IMAGE_MEDIA_TYPES: dict[str, str] = {
    "jpg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
    "tif": "image/tiff",
    "gif": "image/gif",
}
"""Image API formats (the ``.format`` of a request) and what they are sent as."""

IMAGE3_PROFILE = "http://iiif.io/api/image/3/context.json"
IMAGE2_PROFILE = "http://iiif.io/api/image/2/context.json"
PRESENTATION3_PROFILE = "http://iiif.io/api/presentation/3/context.json"
JSON = "application/json"
JSONLD = "application/ld+json"
OCR_MEDIA_TYPES = {"alto": "application/xml", "hocr": "text/vnd.hocr+html"}
TEXT = "text/plain; charset=utf-8"
HTML = "text/html; charset=utf-8"
XML = "application/xml; charset=utf-8"
PDF = "application/pdf"


def json_media_type(accept: str | None, profile: str) -> str:
    """JSON-LD with the API's context as profile when the client's Accept names it (the IIIF
    specs' content negotiation), plain JSON otherwise: what browsers and older viewers expect."""
    if accept and JSONLD in accept:
        return f'{JSONLD};profile="{profile}"'
    return JSON


# --------------------------------------------------------------------------- cache lifetimes


def public(max_age: int) -> str:
    """Shared caches may keep it ``max_age`` seconds (validators do the rest)."""
    return f"public, max-age={max_age}"


CACHE_PAGES = public(300)
"""HTML pages, page texts, sitemap, robots.txt: change with each publication."""
CACHE_SEARCH = public(300)
"""Search results and autocomplete: change with each publication; the ETag does the rest."""
CACHE_FEED_HEAD = public(60)
"""The change feed's collection and last page: grow with every activity."""
CACHE_IMMUTABLE = "public, max-age=31536000, immutable"
"""Never changes at its URL (a full page of the change feed, an activity)."""
CACHE_ERRORS = "no-store"
"""A failure is never reused: the next request may succeed."""
CACHE_PRIVATE = "private, no-cache"
"""A response that sets a cookie (a language choice) is this browser's only."""
# IIIF images and documents: public(HERITAGE_CACHE_MAX_AGE), see ``published``.


def published(max_age: int) -> str:
    """Images, info.json, manifests, collections, PDFs: content-addressed or rewritten only by a new
    publication, so as long as the operator allows (``HERITAGE_CACHE_MAX_AGE``)."""
    return public(max_age)


# --------------------------------------------------------------------------- Vary

BASE_VARY = ("X-Forwarded-Host", "X-Forwarded-Proto", "X-Forwarded-Prefix")
"""What a request-derived base URL is made of besides the Host (which is part of every cache key)."""


def base_vary(configured: str) -> tuple[str, ...]:
    """The request headers a body with absolute URLs depends on (none when the base is configured)."""
    return () if configured else BASE_VARY


# --------------------------------------------------------------------------- validators

OK = 200
NOT_MODIFIED = 304
PRECONDITION_FAILED = 412


def etag(token: str, weak: bool = False) -> str:
    """An entity tag of ``token`` (no quotes in it): strong when the bytes are the same whenever it
    is, weak (``W/``) when only the meaning is."""
    if '"' in token:
        raise ValueError(f"an entity tag cannot hold a double quote: {token!r}")
    return f'W/"{token}"' if weak else f'"{token}"'


def http_date(timestamp: float | None = None) -> str:
    """An IMF-fixdate (RFC 9110 §5.6.7) of ``timestamp``, or of now: whole seconds, so formatted once
    a second (Date) or once a file (Last-Modified) rather than on every tile."""
    return _imf_fixdate(int(time.time() if timestamp is None else timestamp))


@lru_cache(maxsize=4096)
def _imf_fixdate(seconds: int) -> str:
    return formatdate(seconds, usegmt=True)


def validators(tag: str, mtime: float | None) -> Headers:
    """``ETag`` (``tag`` as made by :func:`etag`) and, when the modification time is known, ``Last-Modified``."""
    if mtime is None:
        return [("ETag", tag)]
    return [("ETag", tag), ("Last-Modified", http_date(mtime))]


def _matches(header: str, tag: str, weak: bool) -> bool:
    """Whether an If-Match/If-None-Match list names ``tag``: weak comparison ignores ``W/``, strong
    comparison needs both strong (RFC 9110 §8.8.3.2). Unquoted entries are taken as their tag."""
    own_weak = tag.startswith("W/")
    own = tag[2:] if own_weak else tag
    for entry in header.split(","):
        entry = entry.strip()
        if entry == "*":
            return True
        entry_weak = entry[:2] in ("W/", "w/")
        if entry_weak:
            entry = entry[2:]
        if not entry.startswith('"'):
            entry = f'"{entry}"'
        if entry == own and (weak or not (own_weak or entry_weak)):
            return True
    return False


def evaluate(environ: Mapping[str, Any], tag: str, mtime: float | None) -> int:
    """The status of a GET/HEAD of a resource with validators ``tag`` and ``mtime`` (RFC 9110 §13.2.2):
    412 when If-Match names another tag; else If-None-Match decides when present (304 on a weak
    match), else If-Modified-Since (304 when not modified since); else 200."""
    if_match = environ.get("HTTP_IF_MATCH")
    if if_match and if_match.strip() and not _matches(if_match, tag, weak=False):
        return PRECONDITION_FAILED
    if_none_match = environ.get("HTTP_IF_NONE_MATCH")
    if if_none_match and if_none_match.strip():
        return NOT_MODIFIED if _matches(if_none_match, tag, weak=True) else OK
    since = environ.get("HTTP_IF_MODIFIED_SINCE")
    if since and mtime is not None:
        try:
            date = parsedate_to_datetime(since)
        except (TypeError, ValueError, IndexError):  # not a date: the header is ignored
            return OK
        if date.tzinfo is None:  # "-0000": UTC, not the server's local time
            date = date.replace(tzinfo=UTC)
        return NOT_MODIFIED if int(mtime) <= date.timestamp() else OK
    return OK


BODY_HEADERS = frozenset({"allow", "content-encoding", "content-language", "content-length", "content-md5",
                          "content-range", "content-type", "last-modified"})
"""What a 304 leaves out: the headers about the body it does not send. The same as werkzeug drops
from the views' 304s (its entity headers but Expires and Content-Location; a test checks)."""


def not_modified(headers: Iterable[tuple[str, str]]) -> Headers:
    """A 200's headers as its 304 sends them."""
    return [(name, value) for name, value in headers if name.lower() not in BODY_HEADERS]
