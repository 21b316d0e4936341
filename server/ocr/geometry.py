"""Source coordinates → canvas pixels, so every format ends in the same clamped integer boxes."""
from __future__ import annotations

import math
from dataclasses import dataclass

from server.ocr.model import Box


def number(value: str | None) -> float | None:
    """A coordinate attribute as a float; ``None`` when missing, empty, not a number, NaN or infinite.

    OCR files write ``"123"``, ``"123.5"`` and sometimes junk; junk means "no coordinate", not a crash.
    """
    if value is None:
        return None
    try:
        v = float(value)  # accepts surrounding whitespace
    except ValueError:
        return None
    return v if v - v == 0.0 else None  # False for NaN and ±inf, cheaper than math.isfinite


def _round(v: float) -> int:
    """Half-up rounding (Python's ``round`` is banker's, which would make 0.5 edges flip-flop)."""
    return math.floor(v + 0.5)


@dataclass(frozen=True)
class Scale:
    """Affine map from source units to canvas pixels: ``(v - origin) * factor``, per axis.

    Edges are scaled and rounded, then the width is their difference: adjacent boxes stay adjacent
    and a union of rounded boxes is the rounded union.
    """

    sx: float
    sy: float
    canvas_width: int
    canvas_height: int
    ox: float = 0.0
    oy: float = 0.0

    def edges(self, x0: float, y0: float, x1: float, y1: float) -> Box:
        """Box from source edges, clamped to the canvas (a box wholly outside keeps zero area)."""
        if x1 < x0:
            x0, x1 = x1, x0
        if y1 < y0:
            y0, y1 = y1, y0
        W, H = self.canvas_width, self.canvas_height
        px0 = min(max(_round((x0 - self.ox) * self.sx), 0), W)
        px1 = min(max(_round((x1 - self.ox) * self.sx), 0), W)
        py0 = min(max(_round((y0 - self.oy) * self.sy), 0), H)
        py1 = min(max(_round((y1 - self.oy) * self.sy), 0), H)
        return (px0, py0, px1 - px0, py1 - py0)

    def xywh(self, x: float, y: float, w: float, h: float) -> Box:
        """Box from a source ``x, y, width, height`` (ALTO's HPOS, VPOS, WIDTH, HEIGHT)."""
        return self.edges(x, y, x + w, y + h)
