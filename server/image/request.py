"""IIIF Image API request parsing and resolution (3.0 level 2 with every optional feature; 2.1 level 2).

Pure functions, no I/O, so that every rule can be tested from the specification's own tables and
fuzzed. Two steps, because the first needs nothing but the URL and the second needs the image:

- ``parse(version, region, size, rotation, quality_format)`` checks syntax only;
- ``resolve(parsed, width, height, limits)`` turns it into pixels: the region clipped to the image,
  the exact output size, checked against ``maxWidth``/``maxHeight``/``maxArea`` *before* anything
  is decoded or allocated.

Every rejection is a ``BadRequest`` naming the offending parameter. Numbers are matched with ASCII
only patterns with capped lengths (no ``nan``, ``inf``, ``1e3``, signs, Unicode digits or
9,999-digit integers ever reach ``int``/``float``); percentages are kept as exact ``Fraction``s so
that rounding is reproducible.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from math import isqrt
from typing import TYPE_CHECKING

from server.errors import BadRequest
from server.headers import IMAGE_MEDIA_TYPES

if TYPE_CHECKING:
    from server.config import Settings

MEDIA_TYPES = IMAGE_MEDIA_TYPES  # the formats there are (sent as ``headers.py`` says)
QUALITIES: frozenset[str] = frozenset({"default", "color", "gray", "bitonal"})
VERSIONS: frozenset[int] = frozenset({2, 3})

# Longest accepted parameter: far above any legitimate value, so the regexes never see megabytes.
_MAX_PARAM = 64
# Integers: up to 9 digits (< 1e9 px). Decimals: 9 + 10 digits (2.1 says "at most 10 decimal digits").
_INT = r"[0-9]{1,9}"
_DEC = r"[0-9]{1,9}(?:\.[0-9]{1,10})?"
_REGION_PX = re.compile(rf"({_INT}),({_INT}),({_INT}),({_INT})")
_REGION_PCT = re.compile(rf"pct:({_DEC}),({_DEC}),({_DEC}),({_DEC})")
_SIZE_WH = re.compile(rf"(\^?)(!?)({_INT})?,({_INT})?")
_SIZE_PCT = re.compile(rf"(\^?)pct:({_DEC})")
_ROTATION = re.compile(r"(!?)([0-9]{1,3}(?:\.[0-9]{1,10})?)")

_HALF = Fraction(1, 2)


@dataclass(frozen=True, slots=True)
class Limits:
    """Server-imposed output limits, advertised in info.json and enforced by ``resolve``."""

    max_width: int
    max_height: int
    max_area: int

    def __post_init__(self) -> None:
        if min(self.max_width, self.max_height, self.max_area) < 1:
            raise ValueError("limits must be positive")

    @classmethod
    def of(cls, settings: Settings) -> Limits:
        """The limits configured in ``settings`` (HERITAGE_MAX_WIDTH, _MAX_HEIGHT, _MAX_AREA)."""
        return cls(settings.max_width, settings.max_height, settings.max_area)


@dataclass(frozen=True, slots=True)
class ParsedRequest:
    """A syntactically valid request, not yet related to any image.

    ``region``: "full" | "square" | "px" | "pct"; ``region_values``: () or four ints (px) or four
    Fractions (pct). ``size``: "full" (2.1) | "max" | "w" | "h" | "wh" | "confined" | "pct";
    ``size_values``: (w, h) with None for the missing side, or (Fraction percent,) for pct.
    ``upscale``: whether the size may exceed the region (3.0: the ``^`` prefix; 2.1: always,
    the ``sizeAboveFull`` feature, except for ``full`` and ``max``).
    """

    version: int
    region: str
    region_values: tuple
    size: str
    size_values: tuple
    upscale: bool
    mirror: bool
    rotation: float
    quality: str
    format: str


@dataclass(frozen=True, slots=True)
class ImageRequest:
    """A request resolved against one image: everything ``render`` needs, in integer pixels.

    ``region`` is (x, y, w, h) in full-resolution pixels, inside the image; ``size`` the output
    (w, h) before rotation, each >= 1 and within ``limits``.
    """

    region: tuple[int, int, int, int]
    size: tuple[int, int]
    mirror: bool
    rotation: float
    quality: str
    format: str
    image_size: tuple[int, int]
    limits: Limits

    @property
    def media_type(self) -> str:
        return MEDIA_TYPES[self.format]

    @property
    def is_full_region(self) -> bool:
        return self.region == (0, 0, self.image_size[0], self.image_size[1])

    def canonical(self, version: int) -> str:
        """``region/size/rotation/quality.format`` in the canonical form of ``version`` (2 or 3).

        Parsing and resolving the result against the same image and limits gives this request back.
        """
        _check_version(version)
        x, y, rw, rh = self.region
        region = "full" if self.is_full_region else f"{x},{y},{rw},{rh}"
        w, h = self.size
        if version == 3:
            if self.size == _max_size(rw, rh, self.limits, upscale=False):
                size = "max"
            elif self.size == _max_size(rw, rh, self.limits, upscale=True):
                size = "^max"
            elif w <= rw and h <= rh:
                size = f"{w},{h}"
            else:
                size = f"^{w},{h}"
        elif self.size == (rw, rh):
            size = "full"
        elif h == _height_for(w, rw, rh):
            size = f"{w},"
        else:
            size = f"{w},{h}"
        rotation = ("!" if self.mirror else "") + format_number(self.rotation)
        return f"{region}/{size}/{rotation}/{self.quality}.{self.format}"


def format_number(value: float) -> str:
    """An integer if possible, else a decimal without trailing zeros (at most 10 decimals)."""
    if value == int(value):
        return str(int(value))
    return f"{value:.10f}".rstrip("0").rstrip(".")


# --------------------------------------------------------------------------------------- parse


def parse(version: int, region: str, size: str, rotation: str, quality_format: str) -> ParsedRequest:
    """Check the syntax of the four path segments; raise ``BadRequest`` naming the first bad one."""
    _check_version(version)
    region_kind, region_values = _parse_region(region)
    size_kind, size_values, upscale = _parse_size(version, size)
    mirror, angle = _parse_rotation(rotation)
    quality, fmt = _parse_quality_format(quality_format)
    return ParsedRequest(version, region_kind, region_values, size_kind, size_values, upscale,
                         mirror, angle, quality, fmt)


def _check_version(version: int) -> None:
    if version not in VERSIONS:
        raise ValueError(f"unsupported Image API version {version!r}")


def _too_long(value: str, parameter: str) -> None:
    if len(value) > _MAX_PARAM:
        raise BadRequest("value is too long", parameter=parameter)


def _parse_region(region: str) -> tuple[str, tuple]:
    _too_long(region, "region")
    if region == "full" or region == "square":
        return region, ()
    m = _REGION_PX.fullmatch(region)
    if m:
        x, y, w, h = (int(g) for g in m.groups())
        if w == 0 or h == 0:
            raise BadRequest("region width and height must be greater than zero", parameter="region")
        return "px", (x, y, w, h)
    m = _REGION_PCT.fullmatch(region)
    if m:
        px, py, pw, ph = (Fraction(g) for g in m.groups())
        if pw == 0 or ph == 0:
            raise BadRequest("region width and height must be greater than zero", parameter="region")
        return "pct", (px, py, pw, ph)
    raise BadRequest("expected full, square, x,y,w,h (integers) or pct:x,y,w,h", parameter="region")


def _parse_size(version: int, size: str) -> tuple[str, tuple, bool]:
    _too_long(size, "size")
    if version == 2:
        if size.startswith("^"):
            raise BadRequest("the ^ (upscaling) prefix is Image API 3.0 syntax", parameter="size")
        if size == "full":
            return "full", (), False
        if size == "max":
            return "max", (), False
    else:
        if size == "max" or size == "^max":
            return "max", (), size == "^max"
        if size == "full":
            raise BadRequest("size full is not Image API 3.0: use max", parameter="size")
    m = _SIZE_PCT.fullmatch(size)
    if m:
        caret, n = m.group(1) == "^", Fraction(m.group(2))
        if n == 0:
            raise BadRequest("pct:n must be greater than zero", parameter="size")
        if version == 3 and n > 100 and not caret:
            raise BadRequest("pct:n above 100 upscales: use ^pct:n", parameter="size")
        return "pct", (n,), caret or version == 2
    m = _SIZE_WH.fullmatch(size)
    if m:
        caret, bang, w_text, h_text = m.groups()
        w = int(w_text) if w_text is not None else None
        h = int(h_text) if h_text is not None else None
        if w is None and h is None:
            raise BadRequest("w,h needs a width, a height or both", parameter="size")
        if w == 0 or h == 0:
            raise BadRequest("width and height must be greater than zero", parameter="size")
        upscale = caret == "^" or version == 2
        if bang:
            if w is None or h is None:
                raise BadRequest("!w,h needs both a width and a height", parameter="size")
            return "confined", (w, h), upscale
        kind = "wh" if w is not None and h is not None else ("w" if w is not None else "h")
        return kind, (w, h), upscale
    forms = "full, max, w,, ,h, pct:n, w,h or !w,h" if version == 2 else \
        "max, w,, ,h, pct:n, w,h or !w,h, each optionally prefixed with ^"
    raise BadRequest(f"expected {forms}", parameter="size")


def _parse_rotation(rotation: str) -> tuple[bool, float]:
    _too_long(rotation, "rotation")
    m = _ROTATION.fullmatch(rotation)
    if not m:
        raise BadRequest("expected n or !n, n a number of degrees from 0 to 360", parameter="rotation")
    value = Fraction(m.group(2))
    if value > 360:
        raise BadRequest("rotation must be between 0 and 360 degrees", parameter="rotation")
    return m.group(1) == "!", float(value)


def _parse_quality_format(quality_format: str) -> tuple[str, str]:
    _too_long(quality_format, "quality")
    quality, dot, fmt = quality_format.rpartition(".")
    if not dot:
        raise BadRequest("missing format: expected quality.format, e.g. default.jpg", parameter="format")
    if quality not in QUALITIES:
        raise BadRequest("expected default, color, gray or bitonal", parameter="quality")
    if fmt not in MEDIA_TYPES:
        raise BadRequest("unsupported format: expected jpg, png, webp, tif or gif", parameter="format")
    return quality, fmt


# ------------------------------------------------------------------------------------- resolve


def resolve(parsed: ParsedRequest, width: int, height: int, limits: Limits) -> ImageRequest:
    """Relate a parsed request to an image of ``width`` x ``height`` pixels and the server limits."""
    if width < 1 or height < 1:
        raise ValueError("image dimensions must be positive")
    region = _resolve_region(parsed, width, height)
    size = _resolve_size(parsed, region[2], region[3], limits)
    return ImageRequest(region, size, parsed.mirror, parsed.rotation, parsed.quality, parsed.format,
                        (width, height), limits)


def _round(value: Fraction) -> int:
    """Round half up (Python's ``round`` is half-to-even, which would make tiles jitter)."""
    return int((value + _HALF).__floor__())


def _resolve_region(parsed: ParsedRequest, width: int, height: int) -> tuple[int, int, int, int]:
    kind = parsed.region
    if kind == "full":
        return 0, 0, width, height
    if kind == "square":
        side = min(width, height)
        return (width - side) // 2, (height - side) // 2, side, side
    if kind == "px":
        x, y, w, h = parsed.region_values
        if x >= width or y >= height:
            raise BadRequest("region is entirely outside the image", parameter="region")
        return x, y, min(w, width - x), min(h, height - y)
    # pct: round the edges, not the widths, so that adjacent percentage regions share their edges
    px, py, pw, ph = parsed.region_values
    if px >= 100 or py >= 100:
        raise BadRequest("region is entirely outside the image", parameter="region")
    x0 = min(_round(px * width / 100), width - 1)
    y0 = min(_round(py * height / 100), height - 1)
    x1 = min(_round((px + pw) * width / 100), width)
    y1 = min(_round((py + ph) * height / 100), height)
    # a non-zero percentage smaller than one pixel still selects that pixel
    return x0, y0, max(1, x1 - x0), max(1, y1 - y0)


def _height_for(w: int, rw: int, rh: int) -> int:
    """The height that keeps the region's aspect ratio at width ``w`` (the ``w,`` rule)."""
    return (2 * w * rh + rw) // (2 * rw)


def _width_for(h: int, rw: int, rh: int) -> int:
    return (2 * h * rw + rh) // (2 * rh)


def _fit(rw: int, rh: int, box_w: int, box_h: int, max_area: int) -> tuple[int, int]:
    """The largest size with the region's aspect ratio inside box_w x box_h and max_area.

    Each side is at least 1, so a region far thinner than the box can come out a pixel wider than
    its exact proportion; callers check the limits afterwards anyway.
    """
    def height(w: int) -> int:
        return min(box_h, max(1, _height_for(w, rw, rh)))

    def width(h: int) -> int:
        return min(box_w, max(1, _width_for(h, rw, rh)))

    if box_w * rh <= box_h * rw:  # the width binds
        w, h = box_w, height(box_w)
    else:
        w, h = width(box_h), box_h
    if w * h <= max_area:
        return w, h
    # shrink to the area: the largest longer side whose size fits (the area grows with that side,
    # so bisect; stepping down one pixel at a time can take thousands of steps on a thin strip)
    if rw >= rh:
        side = _largest(1, min(w, isqrt(max_area * rw // rh) + 1), lambda s: s * height(s) <= max_area)
        return side, height(side)
    side = _largest(1, min(h, isqrt(max_area * rh // rw) + 1), lambda s: width(s) * s <= max_area)
    return width(side), side


def _largest(low: int, high: int, fits: Callable[[int], bool]) -> int:
    """The largest n in [low, high] with fits(n), for a monotone ``fits``; ``low`` if none."""
    while low < high:
        mid = (low + high + 1) // 2
        if fits(mid):
            low = mid
        else:
            high = mid - 1
    return low


def _max_size(rw: int, rh: int, limits: Limits, upscale: bool) -> tuple[int, int]:
    """``max`` (never larger than the region) or ``^max`` (as large as the limits allow)."""
    if not upscale and rw <= limits.max_width and rh <= limits.max_height and rw * rh <= limits.max_area:
        return rw, rh
    box_w, box_h = limits.max_width, limits.max_height
    if not upscale:
        box_w, box_h = min(box_w, rw), min(box_h, rh)
    return _fit(rw, rh, box_w, box_h, limits.max_area)


def _resolve_size(parsed: ParsedRequest, rw: int, rh: int, limits: Limits) -> tuple[int, int]:
    kind, values = parsed.size, parsed.size_values
    if kind == "max":
        return _max_size(rw, rh, limits, parsed.upscale)
    if kind == "confined":
        # the best fit in the box and the server limits (these cap the size, never fail it); in
        # 3.0 without ^, a fit larger than the region is an error, as the IIIF validator's
        # size_noup test expects (e.g. !2000,3000 on a 1000x1000 image), not a silent cap
        w, h = _fit(rw, rh, min(values[0], limits.max_width), min(values[1], limits.max_height),
                    limits.max_area)
        if not parsed.upscale and (w > rw or h > rh):
            raise BadRequest("the box is larger than the region: use ^!w,h to upscale", parameter="size")
        return w, h
    if kind == "full":
        w, h = rw, rh
    elif kind == "w":
        w = values[0]
        h = _height_for(w, rw, rh)
    elif kind == "h":
        h = values[1]
        w = _width_for(h, rw, rh)
    elif kind == "wh":
        w, h = values
    else:  # pct
        n = values[0]
        w, h = _round(rw * n / 100), _round(rh * n / 100)
    if w < 1 or h < 1:
        raise BadRequest("the scaled region would be smaller than one pixel", parameter="size")
    if not parsed.upscale and (w > rw or h > rh):
        raise BadRequest("size is larger than the region: use the ^ prefix to upscale", parameter="size")
    if w > limits.max_width or h > limits.max_height or w * h > limits.max_area:
        raise BadRequest(f"size {w}x{h} exceeds the server limits (maxWidth {limits.max_width}, "
                         f"maxHeight {limits.max_height}, maxArea {limits.max_area})", parameter="size")
    return w, h
