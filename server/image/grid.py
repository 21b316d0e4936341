"""The tile grid a viewer requests, computed as the Image API's implementation notes describe.

info.json advertises it, ``tiles.py`` serves it from the pyramid, and the tests and the benchmark
replay it: one definition.
"""
from __future__ import annotations

from collections.abc import Iterator
from math import ceil


def scale_factors(width: int, height: int, tile: int) -> list[int]:
    """Powers of two from 1 up to the first factor at which the whole image fits in one tile."""
    factors = [1]
    while ceil(max(width, height) / factors[-1]) > tile:
        factors.append(factors[-1] * 2)
    return factors


def grid(width: int, height: int, tile: int, factor: int) -> Iterator[tuple[tuple[int, int, int, int], tuple[int, int]]]:
    """Yield ((x, y, w, h) full-resolution region, (w, h) output size) for every tile at ``factor``."""
    step = tile * factor
    for y in range(0, height, step):
        rh = min(step, height - y)
        for x in range(0, width, step):
            rw = min(step, width - x)
            yield (x, y, rw, rh), (ceil(rw / factor), ceil(rh / factor))

