"""The pyramid contract shared by the pyramid builder (ingest) and the renderer.

A pyramid is one tiled TIFF written by ``pyvips.Image.tiffsave(path, tile=True, tile_width=T,
tile_height=T, pyramid=True, compression="jpeg", Q=85, subifd=False, keep=ForeignKeep.NONE)``:
page k (``new_from_file(path, page=k)``) is level k, 8-bit sRGB (3 bands) or grey (1 band), no
alpha; T is 256 or 512 (``HERITAGE_TILE_SIZE``). libvips halves each level with a 2x2 box
filter and rounds sizes down, so level k pixel i covers full-resolution pixels
[i * 2**k, (i + 1) * 2**k); the renderer and the tile reader (``tiles.py``) rely on that mapping.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Pyramid:
    """Where a pyramid lives and the size of each level, read once at ingest (no I/O per request).

    ``levels[0] == (width, height)``; level k is about level 0 / 2**k.
    """

    path: str
    width: int
    height: int
    levels: tuple[tuple[int, int], ...]

    def __post_init__(self) -> None:
        if not self.levels or self.levels[0] != (self.width, self.height):
            raise ValueError("levels[0] must be (width, height)")
