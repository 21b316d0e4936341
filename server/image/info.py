"""info.json for Image API 3.0 (level 2 and every optional feature we implement) and 2.1 (level 2).

Built from the pyramid's stored level sizes and the configured limits only: no image is opened.
``sizes`` lists the pyramid levels (each is a plain crop of one level, the cheapest response) and
``tiles`` the pyramid's own tile grid, once (one tile size, every scale factor of
``grid.scale_factors``: §5.4 lists each scale factor once), whose whole tiles are read straight
from the pyramid (``tiles.py``), so that what is advertised is what is fast. Both stay within
the limits, as the specification requires.
"""
from __future__ import annotations

from typing import Any

from .grid import scale_factors
from .model import Pyramid
from .request import Limits

CONTEXT_V3 = "http://iiif.io/api/image/3/context.json"
CONTEXT_V2 = "http://iiif.io/api/image/2/context.json"
PROTOCOL = "http://iiif.io/api/image"
PROFILE_V2 = "http://iiif.io/api/image/2/level2.json"

# 3.0: level 2 already requires jpg and png, default (and color/gray "if applicable")
EXTRA_FORMATS_V3 = ["webp", "tif", "gif"]
EXTRA_QUALITIES_V3 = ["color", "gray", "bitonal"]
EXTRA_FEATURES_V3 = [
    "baseUriRedirect", "canonicalLinkHeader", "cors", "jsonldMediaType", "mirroring",
    "profileLinkHeader", "regionByPct", "regionByPx", "regionSquare", "rotationArbitrary",
    "rotationBy90s", "sizeByConfinedWh", "sizeByH", "sizeByPct", "sizeByW", "sizeByWh",
    "sizeUpscaling",
]
# 2.1: the profile object lists the full sets (the spec calls them "the set ... available").
# sizeAboveFull: 2.1 has no ^ prefix, so w,  ,h  w,h  !w,h  pct:n may upscale (up to the limits).
FORMATS_V2 = ["jpg", "png", "webp", "tif", "gif"]
QUALITIES_V2 = ["default", "color", "gray", "bitonal"]
SUPPORTS_V2 = [
    "baseUriRedirect", "canonicalLinkHeader", "cors", "jsonldMediaType", "mirroring",
    "profileLinkHeader", "regionByPct", "regionByPx", "regionSquare", "rotationArbitrary",
    "rotationBy90s", "sizeAboveFull", "sizeByConfinedWh", "sizeByDistortedWh", "sizeByH",
    "sizeByPct", "sizeByW", "sizeByWh",
]


def _within(w: int, h: int, limits: Limits) -> bool:
    return w <= limits.max_width and h <= limits.max_height and w * h <= limits.max_area


def _sizes(pyramid: Pyramid, limits: Limits) -> list[dict[str, int]]:
    """The level sizes within the limits, smallest first."""
    seen: set[tuple[int, int]] = set()
    sizes = []
    for w, h in reversed(pyramid.levels):
        if w >= 1 and h >= 1 and (w, h) not in seen and _within(w, h, limits):
            seen.add((w, h))
            sizes.append({"width": w, "height": h})
    return sizes


def _tiles(pyramid: Pyramid, limits: Limits, tile_size: int) -> list[dict[str, Any]]:
    if tile_size < 1 or not _within(tile_size, tile_size, limits):
        return []
    return [{"width": tile_size, "height": tile_size,
             "scaleFactors": scale_factors(pyramid.width, pyramid.height, tile_size)}]


def info_json_v3(base_id: str, pyramid: Pyramid, limits: Limits, tile_size: int) -> dict:
    """The Image API 3.0 image information document; ``base_id`` has no trailing slash."""
    doc: dict[str, Any] = {
        "@context": CONTEXT_V3,
        "id": base_id,
        "type": "ImageService3",
        "protocol": PROTOCOL,
        "profile": "level2",
        "width": pyramid.width,
        "height": pyramid.height,
        "maxWidth": limits.max_width,
        "maxHeight": limits.max_height,
        "maxArea": limits.max_area,
    }
    sizes = _sizes(pyramid, limits)
    if sizes:
        doc["sizes"] = sizes
    tiles = _tiles(pyramid, limits, tile_size)
    if tiles:
        doc["tiles"] = tiles
    doc["extraFormats"] = list(EXTRA_FORMATS_V3)
    doc["extraQualities"] = list(EXTRA_QUALITIES_V3)
    doc["extraFeatures"] = list(EXTRA_FEATURES_V3)
    return doc


def info_json_v2(base_id: str, pyramid: Pyramid, limits: Limits, tile_size: int) -> dict:
    """The Image API 2.1 image information document; ``base_id`` has no trailing slash."""
    doc: dict[str, Any] = {
        "@context": CONTEXT_V2,
        "@id": base_id,
        "protocol": PROTOCOL,
        "width": pyramid.width,
        "height": pyramid.height,
    }
    sizes = _sizes(pyramid, limits)
    if sizes:
        doc["sizes"] = sizes
    tiles = _tiles(pyramid, limits, tile_size)
    if tiles:
        doc["tiles"] = tiles
    doc["profile"] = [PROFILE_V2, {
        "formats": list(FORMATS_V2),
        "qualities": list(QUALITIES_V2),
        "supports": list(SUPPORTS_V2),
        "maxWidth": limits.max_width,
        "maxHeight": limits.max_height,
        "maxArea": limits.max_area,
    }]
    return doc
