"""The Flask side of the HTTP edge, and the public base URL.

The headers themselves (CORS, media types, validators and 304s, cache lifetimes, Vary) are defined
once in ``headers.py``, which the WSGI tile shortcut (``image/fastpath.py``) uses directly; this is
the small adapter the Flask views use, plus the public base URL: configured, or derived from the
request, where ``X-Forwarded-*`` counts only when a trusted proxy sent it (anyone else could
otherwise plant their host in ids that caches then share).
"""
from __future__ import annotations

import ipaddress
import json
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import Any

from flask import Flask, Response, current_app, request
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.wsgi import get_host

from . import headers
from .errors import HeritageError


def add_cors(response: Response) -> Response:
    """CORS on every response (``after_request``: errors too), a preflight's answer included."""
    response.headers.update(headers.cors(request.method, request.headers.get("Access-Control-Request-Headers")))
    return response


def json_content_type(profile: str) -> str:
    return headers.json_media_type(request.headers.get("Accept"), profile)


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def proxy_networks(addresses: Iterable[str]) -> tuple[Network, ...]:
    """``HERITAGE_TRUSTED_PROXIES`` entries (addresses or CIDR networks); a bad one fails at start."""
    networks = []
    for entry in addresses:
        if entry.strip().lower() == "none":  # HERITAGE_TRUSTED_PROXIES=none: trust no peer
            continue
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            raise ValueError(f"HERITAGE_TRUSTED_PROXIES: {entry!r} is not an IP address or network") from None
    return tuple(networks)


@lru_cache(maxsize=1024)  # asked on every request, and the peers repeat (a proxy; a client's connections)
def is_trusted(remote_addr: str | None, networks: tuple[Network, ...]) -> bool:
    if not remote_addr or not networks:
        return False
    try:
        address = ipaddress.ip_address(remote_addr.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in network for network in networks)


class ForwardedHeaders:
    """WSGI middleware: one trusted proxy's X-Forwarded-For/Proto/Host/Prefix applied (ProxyFix);
    from any other peer those headers are dropped, so nothing after this sees them."""

    def __init__(self, app: Callable[..., Iterable[bytes]], trusted: Iterable[str]) -> None:
        self.app = app
        self.networks = proxy_networks(trusted)
        self.fix = ProxyFix(self._next, x_for=1, x_proto=1, x_host=1, x_prefix=1)

    def _next(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        return self.app(environ, start_response)  # looked up per call: tests may re-wire ``app``

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if is_trusted(environ.get("REMOTE_ADDR"), self.networks):
            return self.fix(environ, start_response)
        for key in [k for k in environ if k.startswith("HTTP_X_FORWARDED_") or k == "HTTP_FORWARDED"]:
            del environ[key]
        return self.app(environ, start_response)


def public_base(environ: dict[str, Any], configured: str) -> str:
    """The public base URL: ``configured``, else scheme, host and prefix of the (proxy-fixed) request."""
    if configured:
        return configured
    return f"{environ['wsgi.url_scheme']}://{get_host(environ)}{environ.get('SCRIPT_NAME', '')}".rstrip("/")


def base_url() -> str:
    """The public base URL of the current Flask request."""
    return public_base(request.environ, current_app.config["SETTINGS"].base_url)


def _vary_on_base(response: Response) -> Response:
    """Publicly cacheable responses carry absolute URLs built from the base: say what they vary on."""
    extra = headers.base_vary(current_app.config["SETTINGS"].base_url)
    if extra and "public" in response.headers.get("Cache-Control", ""):
        response.vary.update(extra)
    return response


def init_app(app: Flask) -> None:
    """Trust forwarded headers only from ``HERITAGE_TRUSTED_PROXIES``; Vary on them when they count."""
    app.wsgi_app = ForwardedHeaders(app.wsgi_app, app.config["SETTINGS"].trusted_proxies)  # type: ignore[method-assign]
    app.after_request(_vary_on_base)


def cacheable(response: Response, tag: str, mtime: float | None, vary_accept: bool = False,
              cache_control: str | None = None) -> Response:
    """Attach validators (``tag``: the entity tag's opaque part) and a cache lifetime (IIIF content's
    unless ``cache_control`` says otherwise); answer 304 when the client has it, 412 when its
    If-Match names another version."""
    value = headers.etag(tag)
    response.headers.extend(headers.validators(value, mtime))
    response.headers["Cache-Control"] = cache_control or headers.published(current_app.config["SETTINGS"].cache_max_age)
    if vary_accept:
        response.vary.add("Accept")
    if request.method in ("GET", "HEAD"):
        response.headers.setdefault("Date", headers.http_date())
        status = headers.evaluate(request.environ, value, mtime)
        if status == headers.PRECONDITION_FAILED:
            raise HeritageError("the resource is not the version If-Match names", status)
        if status == headers.NOT_MODIFIED and response.status_code == headers.OK:
            response.status_code = status  # werkzeug leaves out the body and its headers
    return response


def json_response(doc: Any, profile: str, tag: str, mtime: float | None, status: int = 200,
                  cache_control: str | None = None) -> Response:
    body = json.dumps(doc, ensure_ascii=False, indent=2) if not isinstance(doc, (bytes, str)) else doc
    response = Response(body, status=status, content_type=json_content_type(profile))
    return cacheable(response, tag, mtime, vary_accept=True, cache_control=cache_control)
