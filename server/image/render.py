"""Render a resolved IIIF image request from a pyramidal TIFF with pyvips: the hot path.

Never decode more than needed: open the smallest pyramid level that still has at least the
requested resolution (libvips then reads only the TIFF tiles under the crop), crop, resize to
exactly the requested size, mirror, rotate, change quality, encode.

Geometry. Level k pixel i is the 2x2-box average of level k-1 (libvips' pyramid), so it covers
full-resolution pixels [i * 2**k, (i + 1) * 2**k): full-resolution coordinates map to level k by
dividing by 2**k, not by width / level_width. Level sizes are rounded down, so a level can lack
less than one of its pixels at the right and bottom edges; that column/row is replicated.
When the level already has (within one pixel) the requested resolution, the output is a plain
crop of the level, no resampling: a grid tile is exactly the level's pixels and the tiles of a
grid stitch into the level image without seams. Otherwise the crop (edges rounded, so adjacent
regions share their edges) is resized with separate horizontal and vertical scales.

libvips cache. Each request is a new combination of crop/resize/encode, so libvips' operation
cache only ever pays off for the file openings (the TIFF header and directory walk). We keep it
small (see ``configure_vips``): enough open pyramid pages for the tiles of the images currently
being viewed, and little memory, since gunicorn runs several workers, each with its own cache.
Pyramids are content-addressed and replaced atomically, so a cached open file is never stale.
"""
from __future__ import annotations

import pyvips

from .model import Pyramid
from .request import ImageRequest

# keep metadata out of every derivative (EXIF, XMP, ICC: pyramids are plain sRGB/grey already)
_KEEP: dict = {"keep": pyvips.enums.ForeignKeep.NONE} if hasattr(pyvips.enums, "ForeignKeep") else {"strip": True}
_WHITE = 255.0
_ALPHA_FORMATS = frozenset({"png", "webp", "tif", "gif"})


def configure_vips(max_operations: int = 200, max_mem_mb: int = 64, max_files: int = 64) -> None:
    """Bound libvips' operation cache (per process). Defaults: see the module docstring."""
    pyvips.cache_set_max(max_operations)
    pyvips.cache_set_max_mem(max_mem_mb * 1024 * 1024)
    pyvips.cache_set_max_files(max_files)


configure_vips()


def level_factor(pyramid: Pyramid, k: int) -> float:
    """Full-resolution pixels per level-k pixel: 2**k for libvips pyramids, else the size ratio."""
    lw, lh = pyramid.levels[k]
    f = 1 << k
    if abs(lw * f - pyramid.width) < f and abs(lh * f - pyramid.height) < f:
        return float(f)
    return pyramid.width / lw  # a pyramid built some other way: the best we can do


def choose_level(pyramid: Pyramid, req: ImageRequest) -> int:
    """The smallest level with at least the output's resolution over the region.

    A region that reaches the right (bottom) edge may come up short by less than one level
    pixel: that is the partial pixel the level lacks, and grid edge tiles must come from the same
    level as their neighbours.
    """
    x, y, w, h = req.region
    out_w, out_h = req.size
    edge_x, edge_y = x + w == pyramid.width, y + h == pyramid.height
    for k in range(len(pyramid.levels) - 1, 0, -1):
        f = level_factor(pyramid, k)
        lw, lh = w / f, h / f
        if (lw >= out_w or (edge_x and lw > out_w - 1)) and (lh >= out_h or (edge_y and lh > out_h - 1)):
            return k
    return 0


def _axis(start: int, length: int, out: int, f: float, size: int) -> tuple[int, int, int]:
    """Level-pixel crop (first, count available, count wanted) along one axis."""
    exact = length / f
    first = min(int(start / f + 0.5), size - 1)
    if abs(exact - out) < 1:
        wanted = out  # same resolution: take exactly `out` level pixels, no resampling
    else:
        wanted = max(1, int((start + length) / f + 0.5) - first)
    return first, min(wanted, size - first), wanted


def render(pyramid: Pyramid, req: ImageRequest, jpeg_quality: int = 85) -> bytes:
    """The encoded image for ``req`` (already resolved against this pyramid's size)."""
    k = choose_level(pyramid, req)
    f = level_factor(pyramid, k)
    lw, lh = pyramid.levels[k]
    x, y, w, h = req.region
    out_w, out_h = req.size
    cx, cw, want_w = _axis(x, w, out_w, f, lw)
    cy, ch, want_h = _axis(y, h, out_h, f, lh)

    image = pyvips.Image.new_from_file(pyramid.path, page=k, access="random")
    if (cx, cy, cw, ch) != (0, 0, image.width, image.height):
        image = image.crop(cx, cy, cw, ch)
    if (cw, ch) != (want_w, want_h):  # the level lacks a partial pixel at the edge: replicate it
        image = image.embed(0, 0, want_w, want_h, extend="copy")
    if (want_w, want_h) != (out_w, out_h):
        image = image.resize(out_w / want_w, vscale=out_h / want_h)
        if (image.width, image.height) != (out_w, out_h):  # float rounding inside libvips: pin it
            image = image.embed(0, 0, out_w, out_h, extend="copy")

    if req.quality in ("gray", "bitonal") and image.bands >= 3:
        image = image.colourspace("b-w")  # before rotating: a third of the pixels to move

    if req.mirror:
        image = image.fliphor()
    rotation = req.rotation % 360
    if rotation:
        if rotation % 90 == 0:
            image = image.rot(("d90", "d180", "d270")[int(rotation) // 90 - 1])
        elif req.format in _ALPHA_FORMATS:
            # spec: "return the image with a transparent background" where the format allows
            if not image.hasalpha():
                image = image.bandjoin(255)
            image = image.rotate(rotation, background=[0] * image.bands)
        else:
            image = image.rotate(rotation, background=[_WHITE] * image.bands)

    if req.quality == "bitonal":
        bits = (image[0] if image.bands > 1 else image) >= 128  # relational ops give 0/255 uchar
        image = bits.bandjoin(image[image.bands - 1]) if image.hasalpha() else bits

    return _encode(image, req.format, jpeg_quality)


def _encode(image: pyvips.Image, fmt: str, jpeg_quality: int) -> bytes:
    if fmt == "jpg":
        if image.hasalpha():
            image = image.flatten(background=[_WHITE] * (image.bands - 1))
        return image.jpegsave_buffer(Q=jpeg_quality, **_KEEP)
    if fmt == "png":
        return image.pngsave_buffer(**_KEEP)
    if fmt == "webp":
        return image.webpsave_buffer(Q=jpeg_quality, **_KEEP)
    if fmt == "tif":
        return image.tiffsave_buffer(compression="lzw", **_KEEP)
    if fmt == "gif":
        return image.gifsave_buffer(**_KEEP)
    raise ValueError(f"unsupported format {fmt!r}")  # resolve() never lets one through
