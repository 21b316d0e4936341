"""The embedded IIIF viewer: which bundle to load and the options that open it where the visitor asked.

Mirador 4 by default, Universal Viewer 4 on request (``HERITAGE_VIEWER=uv``). Both load from a
configurable URL, by default a pinned version on a public CDN; the bundle is never committed. The
pinned CDN files carry Subresource Integrity hashes (sha384 of the npm package's file, which
jsDelivr serves byte for byte; ``tests/test_csp.py`` checks them against the npm files of the same
versions), so a compromised CDN cannot run other code in our pages.
The options go to the page as JSON and ``static/viewer.js`` hands them to the viewer:

- Mirador: ``windows[0].canvasId`` opens the canvas; the term goes beside the options, as
  ``search``: ``viewer.js`` runs that search within the item itself (through the manifest's
  Content Search 1.0 service), turns the sidebar to the search panel (open unless embedded) and
  highlights the hits on the canvas.
  Not Mirador's ``defaultSearchQuery``: in 4.0.0 it sends the term unencoded, and its results
  panel throws when the search panel repeats the search (see ``viewer.js``). The window keeps the
  requested canvas (``switchCanvasOnSearch`` off) instead of jumping to the item's first hit.
- UV: ``canvasIndex`` (0-based) and ``highlight`` (UV searches the term and marks the hits).

A region (from a IIIF Content State, ``contentstate.py``) zooms the viewer there: UV reads it as
its ``xywh`` option; Mirador 4 has no such option (its window's ``initialViewerConfig`` is reset
when the canvas is set), so it goes beside the options as ``region`` and ``viewer.js`` moves
Mirador's viewport there once the canvas is on screen.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MIRADOR_VERSION = "4.0.0"
UV_VERSION = "4.4.0"
DEFAULT_URLS = {
    "mirador": f"https://cdn.jsdelivr.net/npm/mirador@{MIRADOR_VERSION}/dist/mirador.min.js",
    "uv": f"https://cdn.jsdelivr.net/npm/universalviewer@{UV_VERSION}/dist/umd/UV.js",
}
# sha384 of the files above (and of UV's dist/uv.css): `openssl dgst -sha384 -binary FILE | base64`
INTEGRITY = {
    DEFAULT_URLS["mirador"]: "sha384-htgTGGN+3plNExQGon3yKdiqYPAXLS8yj/jfexxUSNWOcMvTgoodTZ6jt6eQFLz9",
    DEFAULT_URLS["uv"]: "sha384-JC4M7/O4dk89QiKxr5+6Umwr6N3pWTdvQmlqJF3xyLED7gn4C7W717u+JSym6+qa",
    f"https://cdn.jsdelivr.net/npm/universalviewer@{UV_VERSION}/dist/uv.css":
        "sha384-5GQXfl2nadnjPcd2pnxqJJOISwPgR47sCn/TaS6znEXz3UXy80uQH89pEu3/eiTt",
}
VIEWERS = tuple(DEFAULT_URLS)
# Mirador's own UI languages that we offer too; others fall back to English in Mirador
MIRADOR_LANGUAGES = ("ar", "bg", "de", "en", "et", "fa", "fr", "hr", "hu", "it", "ja", "kr", "lt", "nb-NO", "nl",
                     "pl", "pt-BR", "sr", "sv", "vi", "zh-CN", "zh-TW")


@dataclass(frozen=True)
class ViewerAssets:
    kind: str                 # "mirador" | "uv"
    script: str
    stylesheet: str | None

    @property
    def folder(self) -> str:
        """The bundle's distribution folder (``…/dist/``, above UV's ``umd/``), where it loads its
        chunks, styles, images and fonts from; ends with ``/``."""
        return _dist_folder(self.script) + "/"

    @property
    def script_integrity(self) -> str | None:
        """The SRI hash of a pinned CDN bundle; None for a URL the installation chose."""
        return INTEGRITY.get(self.script)

    @property
    def stylesheet_integrity(self) -> str | None:
        return INTEGRITY.get(self.stylesheet or "")


def _absolute(url: str, script_root: str) -> str:
    """A path starting with one ``/`` is relative to the application (mounted under a prefix or not)."""
    if url.startswith("/") and not url.startswith("//"):
        return script_root.rstrip("/") + url
    return url


def assets(kind: str, url: str, css_url: str, script_root: str = "") -> ViewerAssets:
    kind = kind.strip().lower()
    if kind not in DEFAULT_URLS:
        raise ValueError(f"HERITAGE_VIEWER must be one of {', '.join(VIEWERS)}, not {kind!r}")
    script = _absolute(url or DEFAULT_URLS[kind], script_root)
    stylesheet = None
    if kind == "uv":
        if css_url:
            stylesheet = _absolute(css_url, script_root)
        else:  # UV's umd/UV.js sits in dist/, beside dist/uv.css
            stylesheet = _dist_folder(script) + "/uv.css"
    return ViewerAssets(kind, script, stylesheet)


def _dist_folder(script: str) -> str:
    base = script.rsplit("/", 1)[0]
    return base.removesuffix("/umd")


def options(kind: str, manifest_url: str, canvas_url: str | None, canvas_index: int, query: str,
            language: str, embedded: bool = False,
            region: tuple[int, int, int, int] | None = None, paged: bool = False) -> dict[str, Any]:
    """The viewer's start-up options, as JSON-able data."""
    if kind == "uv":
        uv: dict[str, Any] = {"manifest": manifest_url, "canvasIndex": max(0, canvas_index), "embedded": True}
        if query:
            uv["highlight"] = query
        # UV measures xywh on the spread it shows: exact only on a spread's left (or only) page
        if region and (not paged or canvas_index == 0 or canvas_index % 2 == 1):
            uv["xywh"] = ",".join(map(str, region))
        return {"kind": "uv", "options": uv}
    window: dict[str, Any] = {"manifestId": manifest_url}
    if canvas_url:
        window["canvasId"] = canvas_url
    if query:
        window["switchCanvasOnSearch"] = False
    config: dict[str, Any] = {
        "id": "viewer",
        "windows": [window],
        "window": {
            "allowClose": False,
            "allowMaximize": False,
            "allowTopMenuButton": True,
            # the search tab exists once the manifest (its search service) is in: viewer.js turns
            # to it then; opening on "search" before makes MUI log an error (no such tab yet)
            "defaultSideBarPanel": "info",
            "sideBarOpenByDefault": bool(query) and not embedded,
            "panels": {"info": True, "attribution": True, "canvas": True, "search": True, "layers": False},
        },
        "workspace": {"showZoomControls": True, "allowNewWindows": False, "type": "mosaic"},
        "workspaceControlPanel": {"enabled": False},
        "language": language if language in MIRADOR_LANGUAGES else "en",
    }
    result: dict[str, Any] = {"kind": "mirador", "options": config}
    if query:
        result["search"] = query
    if region:
        result["region"] = list(region)
    return result
