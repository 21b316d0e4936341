"""IIIF Content State API 1.0: read a ``iiif-content`` value into a view of this site, and write one.

A content state says "open this canvas of this manifest, at this region". It travels as the
``iiif-content`` query parameter (spec §3.1), in one of four forms (§2.2):

- a full Annotation with ``motivation: contentState`` whose ``target`` is the view;
- the URI of such an Annotation (we resolve only our own, :meth:`Site.annotation_uri`: never fetched);
- the target alone (a Canvas with ``partOf`` its Manifest, a SpecificResource with a selector, a Manifest);
- the target's URI (``…/canvas/3#xywh=10,20,300,40``).

JSON goes encoded as ``base64url(encodeURIComponent(json))`` without ``=`` padding (§6). We also
accept padding, base64url of the bare JSON, and the bare JSON, since real links carry all of those.

Pure code: no Flask. The caller says which items and canvases exist (:class:`Site`); anything
else, or anything malformed, is a :class:`ContentStateError` whose message says why (a 400).
"""
from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote

MAX_LENGTH = 8192
"""The longest ``iiif-content`` value read (a view is a few hundred characters)."""
MAX_DEPTH = 6
"""Nesting walked when looking for the target (Annotation → SpecificResource → Canvas is 3)."""
CONTEXT = "http://iiif.io/api/presentation/3/context.json"
MOTIVATION = "contentState"
_B64URL = re.compile(r"^[A-Za-z0-9_-]+={0,2}$")
_XYWH = re.compile(r"^xywh=(?:(pixel|percent):)?(\d+(?:\.\d+)?),(\d+(?:\.\d+)?),(\d+(?:\.\d+)?),(\d+(?:\.\d+)?)$")
_JS_SAFE = "-_.!~*'()"
"""What JavaScript's ``encodeURIComponent`` leaves as it is."""

Region = tuple[int, int, int, int]
PageSizes = Mapping[int, tuple[int, int]]


class ContentStateError(ValueError):
    """A ``iiif-content`` value this site cannot open; the message is the reason shown."""


@dataclass(frozen=True)
class View:
    """Where a content state opens: an item, one of its canvases, and a region of it (canvas pixels)."""

    item_id: str
    canvas: int
    region: Region | None = None


@dataclass(frozen=True)
class Site:
    """What the decoder may point at: ``base`` (the public base URL) and ``pages(item_id)``,
    the canvas sizes of a published item by number (None when the item is not published)."""

    base: str
    pages: Callable[[str], PageSizes | None]

    def canvas_uri(self, item_id: str, n: int) -> str:
        return f"{self.base}/iiif/3/{quote(item_id, safe='-_.~')}/canvas/{n}"

    def manifest_uri(self, item_id: str) -> str:
        return f"{self.base}/iiif/3/{quote(item_id, safe='-_.~')}/manifest"

    def annotation_uri(self, item_id: str, n: int, region: Region | None = None) -> str:
        """Where :func:`annotation` of this view is served (``web.content_state_annotation``)."""
        tail = f"/{','.join(map(str, region))}" if region else ""
        return f"{self.base}/iiif/content-state/{quote(item_id, safe='-_.~')}/{n}{tail}"


# --------------------------------------------------------------------------- writing


def encode(doc: Any) -> str:
    """``base64url(encodeURIComponent(JSON))`` without padding: the spec's §6 encoding."""
    text = json.dumps(doc, separators=(",", ":"), ensure_ascii=False)
    return base64.urlsafe_b64encode(quote(text, safe=_JS_SAFE).encode("ascii")).decode("ascii").rstrip("=")


def annotation(site: Site, view: View, with_id: bool = True) -> dict[str, Any]:
    """The full content-state Annotation of ``view``: its target is the canvas (with ``#xywh=``
    for a region) ``partOf`` the item's manifest."""
    target_id = site.canvas_uri(view.item_id, view.canvas)
    if view.region:
        target_id += "#xywh=" + ",".join(map(str, view.region))
    doc: dict[str, Any] = {"@context": CONTEXT}
    if with_id:
        doc["id"] = site.annotation_uri(view.item_id, view.canvas, view.region)
    doc.update({
        "type": "Annotation", "motivation": [MOTIVATION],
        "target": {"id": target_id, "type": "Canvas",
                   "partOf": [{"id": site.manifest_uri(view.item_id), "type": "Manifest"}]},
    })
    return doc


def encoded(site: Site, view: View) -> str:
    """The ``iiif-content`` value of ``view``, as links carry it."""
    return encode(annotation(site, view, with_id=False))


# --------------------------------------------------------------------------- reading


def decode(value: str) -> Any:
    """The JSON a ``iiif-content`` value carries, or the URI it is; never fetches anything."""
    value = (value or "").strip()
    if not value:
        raise ContentStateError("the iiif-content parameter is empty")
    if len(value) > MAX_LENGTH:
        raise ContentStateError(f"the iiif-content parameter is longer than {MAX_LENGTH} characters")
    if value.startswith(("http://", "https://")):
        return value
    if value.startswith("{"):
        return _json(value)
    if not _B64URL.match(value):
        raise ContentStateError("iiif-content is neither a URI nor base64url-encoded JSON")
    try:
        raw = base64.urlsafe_b64decode(value.rstrip("=") + "=" * (-len(value.rstrip("=")) % 4))
        text = raw.decode("utf-8")
    except (binascii.Error, ValueError):
        raise ContentStateError("iiif-content is not valid base64url of UTF-8 text") from None
    if not text.lstrip().startswith(("{", "[")):  # encodeURIComponent first, as §6 asks
        try:
            text = unquote(text, errors="strict")
        except UnicodeDecodeError:
            raise ContentStateError("iiif-content is not valid URI-encoded UTF-8") from None
    text = text.strip()
    if text.startswith(("http://", "https://")):
        return text
    return _json(text)


def _json(text: str) -> Any:
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError):
        raise ContentStateError("iiif-content does not decode to JSON") from None
    if not isinstance(doc, (dict, list)):
        raise ContentStateError("iiif-content JSON is not an object")
    return doc


def read(value: str, site: Site) -> View:
    """The view a ``iiif-content`` value opens on this site; :class:`ContentStateError` otherwise."""
    return _view(decode(value), site, MAX_DEPTH)


def _view(node: Any, site: Site, depth: int, part_of: str | None = None) -> View:
    if depth <= 0:
        raise ContentStateError("the content state is nested too deeply")
    if isinstance(node, str):
        return _uri(node, site, part_of)
    if isinstance(node, list):  # several targets (to compare): we show the first
        if not node:
            raise ContentStateError("the content state has an empty target")
        return _view(node[0], site, depth - 1, part_of)
    if not isinstance(node, dict):
        raise ContentStateError("the content state target is neither a URI nor an object")
    kind = node.get("type")
    if kind == "Annotation":
        motivation = node.get("motivation")
        motivations = motivation if isinstance(motivation, list) else [motivation]
        if MOTIVATION not in motivations:
            raise ContentStateError("the Annotation's motivation is not contentState")
        if "target" not in node:
            raise ContentStateError("the Annotation has no target")
        return _view(node["target"], site, depth - 1)
    part_of = _part_of(node, site) or part_of
    if kind == "Canvas":
        return _uri(_id(node), site, part_of)
    if kind == "Manifest":
        return _uri(_id(node), site, part_of)
    if kind == "SpecificResource":
        source = node.get("source")
        source_id = _id(source) if isinstance(source, dict) else source
        if not isinstance(source_id, str):
            raise ContentStateError("the SpecificResource has no source")
        if isinstance(source, dict):
            part_of = _part_of(source, site) or part_of
        view = _uri(source_id, site, part_of)
        fragment = _selector_fragment(node.get("selector"))
        if fragment is None:
            return view
        return View(view.item_id, view.canvas, _region(fragment, site, view))
    raise ContentStateError(f"a content state cannot open a resource of type {kind!r}")


def _id(node: dict[str, Any]) -> str:
    value = node.get("id")
    if not isinstance(value, str) or not value:
        raise ContentStateError(f"the {node.get('type')} has no id")
    return value


def _part_of(node: dict[str, Any], site: Site) -> str | None:
    """The item whose manifest ``partOf`` names (checked against the canvas later)."""
    part = node.get("partOf")
    if part is None:
        return None
    for entry in part if isinstance(part, list) else [part]:
        uri = entry.get("id") if isinstance(entry, dict) else entry
        if isinstance(uri, str):
            path = _local_path(uri, site)
            m = re.fullmatch(r"/iiif/3/([^/]+)/manifest(?:\.json)?", path)
            if not m:
                raise ContentStateError("partOf names a manifest this site does not publish")
            return unquote(m[1])
    return None


def _selector_fragment(selector: Any) -> str | None:
    """``xywh=…`` from a FragmentSelector (or a list of selectors); PointSelector → a 1×1 region."""
    for s in selector if isinstance(selector, list) else [selector]:
        if not isinstance(s, dict):
            continue
        if s.get("type") == "FragmentSelector" and isinstance(s.get("value"), str):
            return str(s["value"])
        if s.get("type") == "PointSelector" and all(isinstance(s.get(k), (int, float)) for k in ("x", "y")):
            return f"xywh={int(s['x'])},{int(s['y'])},1,1"
    return None


def _local_path(uri: str, site: Site) -> str:
    """The path of a URI under this site's base; an error for any other site."""
    if not uri.startswith(site.base + "/"):
        raise ContentStateError("the content state points at another site; only this site's resources open here")
    return uri[len(site.base):]


_CANVAS = re.compile(r"/iiif/3/([^/#?]+)/canvas/(\d{1,9})")
_MANIFEST = re.compile(r"/iiif/3/([^/#?]+)/manifest(?:\.json)?")
_ANNOTATION = re.compile(r"/iiif/content-state/([^/#?]+)/(\d{1,9})(?:/(\d{1,7}),(\d{1,7}),(\d{1,7}),(\d{1,7}))?")


def _uri(uri: str, site: Site, part_of: str | None = None) -> View:
    """A canvas (with an optional ``#xywh=``), a manifest (its first canvas) or one of our
    content-state Annotation URIs."""
    path, _, fragment = _local_path(uri, site).partition("#")
    if m := _CANVAS.fullmatch(path):
        item_id, n = unquote(m[1]), int(m[2])
        view = _known(site, item_id, n)
        if part_of is not None and part_of != item_id:
            raise ContentStateError("the canvas is not part of the manifest partOf names")
        if fragment:
            return View(item_id, n, _region(fragment, site, view))
        return view
    if (m := _MANIFEST.fullmatch(path)) and not fragment:
        item_id = unquote(m[1])
        sizes = site.pages(item_id)
        if not sizes:
            raise ContentStateError(f"this site publishes no item {item_id!r}")
        return View(item_id, min(sizes))
    if (m := _ANNOTATION.fullmatch(path)) and not fragment:
        view = _known(site, unquote(m[1]), int(m[2]))
        if m[3] is None:
            return view
        return View(view.item_id, view.canvas, _region(f"xywh={m[3]},{m[4]},{m[5]},{m[6]}", site, view))
    raise ContentStateError("the content state names nothing this site publishes as a canvas, manifest or content state")


def _known(site: Site, item_id: str, n: int) -> View:
    sizes = site.pages(item_id)
    if sizes is None:
        raise ContentStateError(f"this site publishes no item {item_id!r}")
    if n not in sizes:
        raise ContentStateError(f"item {item_id!r} has no canvas {n}")
    return View(item_id, n)


def _region(fragment: str, site: Site, view: View) -> Region:
    """``xywh=[pixel:|percent:]x,y,w,h`` on the canvas, clipped to it; an error when empty or outside."""
    m = _XYWH.fullmatch(fragment.strip())
    if not m:
        raise ContentStateError("the region is not xywh=x,y,w,h")
    width, height = (site.pages(view.item_id) or {})[view.canvas]
    x, y, w, h = (float(v) for v in m.group(2, 3, 4, 5))
    if m[1] == "percent":
        x, y, w, h = x * width / 100, y * height / 100, w * width / 100, h * height / 100
    if w <= 0 or h <= 0:
        raise ContentStateError("the region has no area")
    x0, y0 = max(0, int(x)), max(0, int(y))
    x1, y1 = min(width, round(x + w)), min(height, round(y + h))
    if x1 <= x0 or y1 <= y0:
        raise ContentStateError("the region lies outside the canvas")
    return (x0, y0, x1 - x0, y1 - y0)
