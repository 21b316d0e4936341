"""Cross-cutting HTTP behaviour of every IIIF response, in one place.

CORS on everything (errors too), JSON-LD media types with the API profile when the client asks
for them, strong validators (ETag, Last-Modified) with 304s, and cache lifetimes.
"""
from __future__ import annotations

import json
from email.utils import formatdate
from typing import Any

from flask import Response, current_app, request

IMAGE3_PROFILE = "http://iiif.io/api/image/3/context.json"
IMAGE2_PROFILE = "http://iiif.io/api/image/2/context.json"
PRESENTATION3_PROFILE = "http://iiif.io/api/presentation/3/context.json"


def add_cors(response: Response) -> Response:
    response.headers["Access-Control-Allow-Origin"] = "*"
    if request.method == "OPTIONS":
        response.headers["Access-Control-Allow-Methods"] = "GET, HEAD, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = request.headers.get(
            "Access-Control-Request-Headers", "Accept, Range, If-None-Match, If-Modified-Since")
        response.headers["Access-Control-Max-Age"] = "86400"
    response.headers.setdefault("Access-Control-Expose-Headers", "Link, ETag, Last-Modified, Content-Type")
    return response


def wants_jsonld() -> bool:
    """True when the Accept header names application/ld+json (the spec's content negotiation)."""
    return "application/ld+json" in request.headers.get("Accept", "")


def json_content_type(profile: str) -> str:
    if wants_jsonld():
        return f'application/ld+json;profile="{profile}"'
    return "application/json"


def base_url() -> str:
    """The public base URL: configured, else from the request (X-Forwarded-* applied by ProxyFix)."""
    configured: str = current_app.config["SETTINGS"].base_url
    if configured:
        return configured
    return request.host_url.rstrip("/") + request.script_root


def cacheable(response: Response, etag: str, mtime: float | None, vary_accept: bool = False) -> Response:
    """Attach validators and cache lifetime; turn the response into a 304 when the client has it."""
    settings = current_app.config["SETTINGS"]
    response.set_etag(etag)
    if mtime is not None:
        response.headers["Last-Modified"] = formatdate(mtime, usegmt=True)
    response.headers["Cache-Control"] = f"public, max-age={settings.cache_max_age}"
    if vary_accept:
        response.vary.add("Accept")
    return response.make_conditional(request)


def json_response(doc: Any, profile: str, etag: str, mtime: float | None, status: int = 200) -> Response:
    body = json.dumps(doc, ensure_ascii=False, indent=2) if not isinstance(doc, (bytes, str)) else doc
    response = Response(body, status=status, content_type=json_content_type(profile))
    return cacheable(response, etag, mtime, vary_accept=True)
