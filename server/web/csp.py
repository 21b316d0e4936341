"""The Content-Security-Policy of every HTML page.

Scripts run only from the site itself and from the viewer's folder on its origin (the configured
``HERITAGE_VIEWER_URL``, else the pinned CDN version: a folder, not the whole CDN, which serves
every npm package); no inline script runs at all: the viewer's options
travel in a ``<script type="application/json">`` block, which is data and never executed. Images
come from the site and its IIIF base (plus ``data:``/``blob:``, which Mirador's and UV's canvases
and icons use), and the viewers fetch manifests, ``info.json`` and search results from the same
places (``connect-src``). Styles allow ``'unsafe-inline'``: Mirador's Material UI (emotion) and UV
write ``<style>`` elements at run time, and a style cannot run code. Pages cannot be framed by
other sites (``frame-ancestors 'none'``) except ``/embed/…``, which exists to be put in an iframe.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from .viewer import ViewerAssets


def origin(url: str, keep_path: bool = False) -> str | None:
    """``scheme://host[:port]`` (and the path, with ``keep_path``) of a URL on another site; None
    for a URL on the site itself (``'self'`` covers it)."""
    parts = urlsplit(url)
    if not parts.netloc:
        return None
    source = f"{parts.scheme}://{parts.netloc}" if parts.scheme in ("http", "https") else parts.netloc
    return source + parts.path if keep_path else source


def policy(viewer: ViewerAssets, base_url: str, embeddable: bool) -> str:
    """The policy for a page that may load ``viewer``; ``base_url`` is the configured IIIF base (or "")."""
    scripts = _unique(origin(viewer.folder, keep_path=True))
    css_folder = viewer.stylesheet.rsplit("/", 1)[0] + "/" if viewer.stylesheet else ""
    viewers = _unique(*scripts, origin(css_folder, keep_path=True))  # and what the stylesheet names
    iiif = _unique(origin(base_url))
    directives: dict[str, list[str]] = {
        "default-src": ["'self'"],
        "script-src": ["'self'", *scripts],
        "style-src": ["'self'", "'unsafe-inline'", *viewers],
        "img-src": ["'self'", "data:", "blob:", *_unique(*iiif, *viewers)],
        "font-src": ["'self'", "data:", *viewers],
        "connect-src": ["'self'", *_unique(*iiif, *viewers)],
        "worker-src": ["'self'", "blob:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
    }
    if not embeddable:
        directives["frame-ancestors"] = ["'none'"]
    return "; ".join(f"{name} {' '.join(values)}" for name, values in directives.items())


def _unique(*values: str | None) -> list[str]:
    return list(dict.fromkeys(v for v in values if v))
