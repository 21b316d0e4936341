"""Image API 3.0 level 0: the image information and the list of image files viewers will ask for.

A level 0 service answers only what it advertises, as plain files: the ``sizes`` (``full/w,h``),
``full/max`` and every tile of the ``tiles`` grid. Viewers compute tile URLs themselves, and not
all alike at the right and bottom edges, so each edge tile is written under every spelling they
use (the same bytes under several names):

- OpenSeadragon (in Mirador and the Universal Viewer too), Image API 3: ``x,y,w,h/sw,sh`` with
  ``sw = ceil(w / scale)``; a tile that covers the whole image is region ``full``, and size
  ``max`` when it is the full size; a level smaller than one tile is ``full/sw,sh``;
- older OpenSeadragon and Mirador 2: ``sw,`` and the floor size ``floor(w / scale)``;
- the Universal Viewer's thumbnails: ``full/90,`` of every image (``VIEWER_THUMBNAILS``).

The document is the application's own info.json (so it follows the grid and sizes the server
advertises), reduced to what a set of files can honour.
"""
from __future__ import annotations

from collections.abc import Iterator
from math import ceil
from typing import Any

VIEWER_THUMBNAILS = ("90,",)
"""Sizes viewers ask of any image service whatever it advertises: the Universal Viewer 4's
thumbnail strip requests ``full/90,/0/default.jpg`` of every canvas. Written too, unadvertised."""
LEVEL0_DROP = ("maxWidth", "maxHeight", "maxArea", "extraFormats", "extraQualities", "extraFeatures",
               "preferredFormats")


def level0_info(info: dict[str, Any]) -> dict[str, Any]:
    """The level 0 version of a level 1/2 ``ImageService3`` document (same id, sizes and tiles)."""
    doc = {k: v for k, v in info.items() if k not in LEVEL0_DROP}
    doc["profile"] = "level0"
    return doc


def image_paths(info: dict[str, Any]) -> Iterator[str]:
    """``region/size/0/default.jpg`` of every file a level 0 service must hold, each once."""
    width, height = int(info["width"]), int(info["height"])
    seen: set[str] = set()

    def once(region: str, size: str) -> Iterator[str]:
        path = f"{region}/{size}/0/default.jpg"
        if path not in seen:
            seen.add(path)
            yield path

    yield from once("full", "max")
    for size in VIEWER_THUMBNAILS:
        if int(size.rstrip(",")) <= width:
            yield from once("full", size)
    for s in info.get("sizes") or []:
        yield from once("full", f"{int(s['width'])},{int(s['height'])}")
    for tile in info.get("tiles") or []:
        tw = int(tile["width"])
        th = int(tile.get("height") or tw)
        for factor in tile.get("scaleFactors") or [1]:
            for region, sizes in tile_spellings(width, height, tw, th, int(factor)):
                for size in sizes:
                    yield from once(region, size)


def tile_spellings(width: int, height: int, tw: int, th: int, factor: int) -> Iterator[tuple[str, list[str]]]:
    """(region, [size spellings]) of every tile at ``factor``."""
    level_w, level_h = ceil(width / factor), ceil(height / factor)
    if level_w <= tw and level_h <= th:  # the whole level is one tile
        sizes = ["max"] if factor == 1 else []
        sizes += _sizes(width, height, factor)
        yield "full", sizes
        yield f"0,0,{width},{height}", sizes
        return
    step_x, step_y = tw * factor, th * factor
    for y in range(0, height, step_y):
        rh = min(step_y, height - y)
        for x in range(0, width, step_x):
            rw = min(step_x, width - x)
            yield f"{x},{y},{rw},{rh}", _sizes(rw, rh, factor)


def _sizes(rw: int, rh: int, factor: int) -> list[str]:
    widths = sorted({ceil(rw / factor), max(1, rw // factor)})
    heights = sorted({ceil(rh / factor), max(1, rh // factor)})
    return [f"{w},{h}" for w in widths for h in heights] + [f"{w}," for w in widths]
