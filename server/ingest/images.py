"""Stage: page masters → content-addressed pyramids, in parallel.

Runs in worker processes; each task is one page and either returns its Pyramid or a one-line
error, so that one bad master never stops the batch. Grid tiles are read from the pyramid itself
at request time (``server/image/tiles.py``); only the grid's edge tiles, which the pyramid stores
padded, are rendered here, into one file beside it. The page's OCR file, if any, is parsed in the
same task once the pyramid's size is known: it runs in parallel with the other pages' pyramids,
and publishing needs no second pool of workers.
"""
from __future__ import annotations

import logging
import shutil
import struct
from dataclasses import dataclass
from pathlib import Path

from ..errors import HeritageError
from ..image.model import Pyramid
from ..image.pyramid import build_pyramid, open_pyramid, pyramid_path
from ..image.tiles import EDGES, NotTiled, write_edges
from .ocrparse import OCRResult, OCRTask, parse_one

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PageTask:
    master: str
    key: str
    image_cache: str
    tile_size: int
    jpeg_quality: int
    force: bool
    ocr: str | None = None  # the page's OCR file, parsed at the pyramid's size


@dataclass(frozen=True)
class PageResult:
    master: str
    key: str
    pyramid: Pyramid | None
    built: bool
    error: str | None = None
    text: tuple[OCRTask, OCRResult] | None = None  # the parsed ``PageTask.ocr``


def process_page(task: PageTask) -> PageResult:
    """Build (or reuse) the pyramid of one master."""
    cache = Path(task.image_cache)
    out = pyramid_path(cache, task.key)
    built = False
    try:
        if task.force or not out.is_file():
            out.parent.mkdir(parents=True, exist_ok=True)
            pyramid = build_pyramid(Path(task.master), out, task.jpeg_quality, task.tile_size)
            built = True
        else:
            pyramid = open_pyramid(out)
        if built or not Path(pyramid.path + EDGES).is_file():
            _write_edges(pyramid, task.jpeg_quality)
    except HeritageError as exc:
        return PageResult(task.master, task.key, None, built, str(exc))
    except Exception as exc:  # noqa: BLE001 - a codec failure must not stop the batch; report it as this page's error
        return PageResult(task.master, task.key, None, built, f"cannot process image: {exc.__class__.__name__}: "
                          f"{str(exc).splitlines()[0] if str(exc) else ''}")
    text = None
    if task.ocr is not None:
        ocr = OCRTask(task.ocr, pyramid.width, pyramid.height)
        text = (ocr, parse_one(ocr))
    return PageResult(task.master, task.key, pyramid, built, text=text)


def cached_result(task: PageTask, levels: tuple[tuple[int, int], ...] | None = None) -> PageResult | None:
    """The result of a page whose pyramid a previous run already made, read from headers only.

    ``levels``: the pyramid's level sizes as the previous publication recorded them (its catalog),
    so that re-ingesting an unchanged archive opens no pyramid: the file and its edge tiles must
    still be there. A pyramid the previous publication does not list is opened and checked."""
    out = pyramid_path(Path(task.image_cache), task.key)
    if task.force or not out.is_file() or not Path(f"{out}{EDGES}").is_file():
        return None
    if levels:
        try:
            return PageResult(task.master, task.key, Pyramid(str(out), *levels[0], levels), False)
        except ValueError:
            pass  # a malformed record: read the file instead
    try:
        return PageResult(task.master, task.key, open_pyramid(out), False)
    except HeritageError:
        return None


def _write_edges(pyramid: Pyramid, jpeg_quality: int) -> None:
    """The pyramid's edge tiles, rendered once; without them the server renders them on demand."""
    import pyvips
    try:
        write_edges(pyramid, jpeg_quality)
    except (OSError, NotTiled, struct.error, pyvips.Error) as exc:
        log.warning("%s: edge tiles not pre-rendered (%s); they will be rendered when asked for", pyramid.path, exc)


def remove_pretiled(image_cache: Path) -> bool:
    """Delete the tile tree earlier versions pre-rendered (``image_cache/tiles/``); True if there was one.

    Grid tiles now come from the pyramids, so the tree is dead weight; removing it is the whole
    migration (pyramid keys and paths are unchanged)."""
    tiles = Path(image_cache) / "tiles"
    if not tiles.is_dir() or tiles.is_symlink():
        return False
    shutil.rmtree(tiles, ignore_errors=True)
    return True
