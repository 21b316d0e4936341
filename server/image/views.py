"""Thin HTTP layer of the Image API: 3.0 under /iiif/3/image/, 2.1 under /iiif/2/image/.

Both versions share the parser, renderer and caches; only the info.json, canonical URI and
headers differ. Whole grid tiles are read from the pyramid's bytes without decoding anything
(``tiles.py``); other requests render once (single-flight) into a size-capped disk cache.
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from flask import Blueprint, Response, current_app, redirect, request
from werkzeug.wrappers import Response as BaseResponse

from ..config import Settings
from ..errors import NotFound
from ..headers import IMAGE2_PROFILE, IMAGE3_PROFILE
from ..http import base_url, cacheable, json_response
from ..publication import ImageRecord, current_publication
from . import info as info_mod
from .render import render
from .request import ImageRequest, Limits, parse, resolve
from .tilecache import DiskCache, cache_etag, cache_key
from .tiles import stored_tile, tile_size

image_v3 = Blueprint("image_v3", __name__, url_prefix="/iiif/3/image")
image_v2 = Blueprint("image_v2", __name__, url_prefix="/iiif/2/image")

LEVEL_PROFILE = {3: "http://iiif.io/api/image/3/level2.json", 2: "http://iiif.io/api/image/2/level2.json"}
CONTEXT = {3: IMAGE3_PROFILE, 2: IMAGE2_PROFILE}
PREFIX = {3: "/iiif/3/image", 2: "/iiif/2/image"}
HANDED_OVER = "heritage.image_request"
"""WSGI environ key of a :class:`Resolved` request the tile shortcut could not answer itself."""


@dataclass(frozen=True, slots=True)
class Resolved:
    """A 3.0 image request the WSGI shortcut already looked up, parsed and resolved, handed to the view
    on a miss (bytes not on disk yet) so that it is not done twice."""

    segments: tuple[str, ...]  # identifier, region, size, rotation, quality.format: what was parsed
    record: ImageRecord
    request: ImageRequest


def profile_link(version: int, canonical: str | None = None) -> str:
    """The ``Link`` header of an image response (canonical URI included) or of an info.json (without)."""
    link = f'<{LEVEL_PROFILE[version]}>;rel="profile"'
    return link if canonical is None else f'{link}, <{canonical}>;rel="canonical"'


@lru_cache(maxsize=8)
def render_cache(image_cache: str, render_cap_mb: int) -> DiskCache | None:
    """The on-demand render cache (one instance per process, shared with the WSGI shortcut)."""
    if render_cap_mb <= 0:
        return None
    return DiskCache(Path(image_cache) / "render", max_bytes=render_cap_mb * 1024 * 1024)


def _limits() -> Limits:
    s = current_app.config["SETTINGS"]
    return Limits.of(s)


def _lookup(identifier: str) -> ImageRecord:
    pub = current_publication()
    record = pub.image(identifier) if pub is not None else None
    if record is None:
        raise NotFound(f"no image with identifier {identifier!r}", parameter="identifier")
    return record


def _service_id(version: int, identifier: str) -> str:
    return f"{base_url()}{PREFIX[version]}/{identifier}"


def _base_redirect(version: int, identifier: str) -> BaseResponse:
    _lookup(identifier)
    response = redirect(f"{_service_id(version, identifier)}/info.json", code=303)
    return response


def _info(version: int, identifier: str) -> Response:
    record = _lookup(identifier)
    settings = current_app.config["SETTINGS"]
    service_id = _service_id(version, identifier)
    tile = tile_size(record.pyramid, settings.tile_size)
    if version == 3:
        doc = info_mod.info_json_v3(service_id, record.pyramid, _limits(), tile)
    else:
        doc = info_mod.info_json_v2(service_id, record.pyramid, _limits(), tile)
    etag = hashlib.sha1(f"{record.key}|{service_id}|{tile}|{_limits()}".encode()).hexdigest()
    response = json_response(doc, CONTEXT[version], etag, pyramid_mtime(record.pyramid.path))
    response.headers["Link"] = profile_link(version)
    return response


@lru_cache(maxsize=4096)
def pyramid_mtime(path: str) -> float | None:
    """Modification time of a pyramid, for Last-Modified. Cached: pyramids are content-addressed,
    so a path's content never changes (a forced rebuild writes the same pixels again)."""
    try:
        return os.stat(path).st_mtime
    except OSError:
        return None


def _image(version: int, identifier: str, region: str, size: str, rotation: str, quality_format: str) -> Response:
    handed = request.environ.pop(HANDED_OVER, None)
    if isinstance(handed, Resolved) and version == 3 and \
            handed.segments == (identifier, region, size, rotation, quality_format):
        record, req = handed.record, handed.request
    else:
        record = _lookup(identifier)
        parsed = parse(version, region, size, rotation, quality_format)
        req = resolve(parsed, record.pyramid.width, record.pyramid.height, _limits())
    key, body = rendering(record, req, current_app.config["SETTINGS"])
    response = Response(body, content_type=req.media_type)
    response.headers["Link"] = profile_link(version, f"{_service_id(version, identifier)}/{req.canonical(version)}")
    return cacheable(response, cache_etag(key), pyramid_mtime(record.pyramid.path))


def rendering(record: ImageRecord, req: ImageRequest, settings: Settings) -> tuple[str, bytes]:
    """A rendering's cache key and bytes: a whole grid tile read from the pyramid, the render cache, or
    rendered now (and kept in the render cache)."""
    key = cache_key(record.key, req)
    body = stored_tile(record.pyramid, req)
    if body is not None:
        return key, body
    rendered = render_cache(str(settings.image_cache_dir), settings.render_cache_mb)
    if rendered is not None:
        return key, rendered.get_or_render(key, lambda: render(record.pyramid, req, settings.jpeg_quality))
    return key, render(record.pyramid, req, settings.jpeg_quality)


def _register(bp: Blueprint, version: int) -> None:
    bp.add_url_rule("/<identifier>", "base", lambda identifier: _base_redirect(version, identifier))
    bp.add_url_rule("/<identifier>/info.json", "info", lambda identifier: _info(version, identifier),
                    methods=["GET", "HEAD", "OPTIONS"])
    bp.add_url_rule("/<identifier>/<region>/<size>/<rotation>/<quality_format>", "image",
                    lambda **kw: _image(version, **kw), methods=["GET", "HEAD", "OPTIONS"])


_register(image_v3, 3)
_register(image_v2, 2)
