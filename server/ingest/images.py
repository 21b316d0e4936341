"""Stage: page masters → content-addressed pyramids, in parallel.

Runs in worker processes; each task is one page and either returns its Pyramid or a one-line
error, so that one bad master never stops the batch. Grid tiles are read from the pyramid itself
at request time (``server/image/tiles.py``); only the grid's edge tiles, which the pyramid stores
padded, are rendered here, into one file beside it. The page's OCR file, if any, is parsed in the
same task once the pyramid's size is known: it runs in parallel with the other pages' pyramids,
and publishing needs no second pool of workers.
"""
from __future__ import annotations

import json
import logging
import os
import shutil
import struct
import time
from dataclasses import dataclass
from pathlib import Path

from ..catalog.reads import parse_levels
from ..errors import HeritageError
from ..image.model import Pyramid
from ..image.pyramid import build_pyramid, open_pyramid, pyramid_file, pyramid_path
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


SHARD_STAMPS = "pyramid_shards"
"""The catalog meta key of :meth:`CachedPyramids.stamps`, recorded with each generation."""


class CachedPyramids:
    """Which pyramids the image cache holds with their edge tiles.

    A shard folder (``pyramids/<k[:2]>/``) is listed once, when first asked about, instead of two
    ``stat`` calls a page. And a shard that has not changed since the previous run recorded it (same
    inode, mtime and ctime: any file added, removed or renamed in it changes them) is not listed at
    all: every pyramid the previous publication listed in it was there, with its edge tiles, when
    the stamp was taken, so it still is. A re-ingest then costs a ``stat`` per shard, not a listing
    of every pyramid of the archive. A pyramid removed after the check is found missing when served,
    as one removed after a ``stat`` would be.

    ``stamps``: the previous generation's record (:meth:`stamps` of its run)."""

    RACY_NS = 2_000_000_000
    """A shard folder that changed this recently is not recorded: a change in the same tick of the
    file system's clock, after this run looked, could leave its timestamps as they were."""

    def __init__(self, image_cache: Path, stamps: dict[str, str] | None = None) -> None:
        self.root = Path(image_cache) / "pyramids"
        self._recorded = stamps or {}
        self._shards: dict[str, set[str]] = {}  # listed: shard → the names in its folder
        self._seen: dict[str, str | None] = {}  # shard → its stamp when first asked about, before any listing
        self._trusted: set[str] = set()  # unchanged since recorded: the previous publication's pyramids are there
        self._missed: set[str] = set()  # shards where a pyramid asked about was not found (built, or failed)

    def has(self, key: str, published: bool = False) -> bool:
        """True when the pyramid of ``key`` and its edge tiles are in the cache. ``published``: the
        previous publication lists ``key`` (an unchanged shard then answers without a listing)."""
        shard = key[:2]
        names = self._shards.get(shard)
        if names is None:
            if shard not in self._seen:
                stamp = self._seen[shard] = self._stamp(shard)
                if stamp is not None and stamp == self._recorded.get(shard):
                    self._trusted.add(shard)
            if published and shard in self._trusted:
                return True
            names = self._shards[shard] = self._list(shard)
        tif = key + ".tif"
        if tif in names and tif + EDGES in names:
            return True
        self._missed.add(shard)
        return False

    def stamps(self) -> dict[str, str]:
        """What the next run may trust: the shards asked about whose folders have not changed since
        (a trusted one is still as recorded; a listed one as it was before its listing, so the
        listing holds), where every pyramid asked about was found, and whose last change is older than
        :attr:`RACY_NS`. A shard this run built into (or failed to) is not: the next run lists it."""
        limit = time.time_ns() - self.RACY_NS
        out = {}
        for shard, seen in self._seen.items():
            if (seen is not None and shard not in self._missed and int(seen.rsplit(":", 1)[1]) < limit
                    and self._stamp(shard) == seen):
                out[shard] = seen
        return out

    def _stamp(self, shard: str) -> str | None:
        try:
            st = os.stat(self.root / shard)
        except OSError:
            return None
        return f"{st.st_ino}:{st.st_mtime_ns}:{st.st_ctime_ns}"

    def _list(self, shard: str) -> set[str]:
        """The names in the shard's folder (a set made in C: the pages' lookups cost two probes each)."""
        try:
            return set(os.listdir(self.root / shard))
        except OSError:
            return set()


def read_stamps(text: str | None) -> dict[str, str]:
    """The recorded :meth:`CachedPyramids.stamps` (none when absent or not as written)."""
    try:
        stamps = json.loads(text) if text else {}
    except ValueError:
        return {}
    if not isinstance(stamps, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in stamps.items()):
        return {}
    return stamps


class PageResults(dict[str, PageResult]):
    """Each page's result by pyramid key. A page whose pyramid the previous publication listed and the
    cache still holds is only noted (:meth:`note_cached`): its result is made from the recorded level
    sizes when it is asked for, which a re-ingest does for its changed items, not for the archive's."""

    def __init__(self, image_cache: str, levels: dict[str, str]) -> None:
        super().__init__()
        self.image_cache, self._levels = image_cache, levels
        self._cached: dict[str, object] = {}  # key → its master (a path), for the keys noted

    def note_cached(self, key: str, master: object) -> None:
        self._cached[key] = master

    def known(self, key: str) -> bool:
        """True once a result is in, made or noted."""
        return key in self._cached or dict.__contains__(self, key)

    def readable(self, key: str) -> bool:
        """True when the page has a pyramid (noted ones have)."""
        if key in self._cached:
            return True
        result = dict.get(self, key)
        return result is not None and result.pyramid is not None

    def __missing__(self, key: str) -> PageResult:
        master = self._cached.pop(key)  # KeyError: no result for that key
        path = pyramid_file(self.image_cache, key)
        try:
            levels = parse_levels(self._levels[key])
            pyramid = Pyramid(path, *levels[0], levels)
        except ValueError:  # a malformed record: the pyramid's own headers say
            try:
                pyramid = open_pyramid(Path(path))
            except HeritageError as exc:
                result = PageResult(str(master), key, None, False, str(exc))
                self[key] = result
                return result
        result = PageResult(str(master), key, pyramid, False)
        self[key] = result
        return result

    def get(self, key: str, default: PageResult | None = None) -> PageResult | None:  # type: ignore[override]
        try:
            return self[key]
        except KeyError:
            return default


def cached_result(task: PageTask, levels: str | None = None, cache: CachedPyramids | None = None) -> PageResult | None:
    """The result of a page whose pyramid a previous run already made, read from headers only.

    ``levels``: the pyramid's level sizes as the previous publication recorded them (its catalog's text),
    so that re-ingesting an unchanged archive opens no pyramid: the file and its edge tiles must
    still be there (``cache`` says so when given; else they are looked up). A pyramid the previous
    publication does not list is opened and checked."""
    if task.force:
        return None
    out = pyramid_file(task.image_cache, task.key)  # a string: Path objects cost more than the rest of this
    if cache is not None:
        if not cache.has(task.key):
            return None
    elif not os.path.isfile(out) or not os.path.isfile(out + EDGES):
        return None
    if levels:
        try:
            sizes = parse_levels(levels)
            return PageResult(task.master, task.key, Pyramid(out, *sizes[0], sizes), False)
        except ValueError:
            pass  # a malformed record: read the file instead
    try:
        return PageResult(task.master, task.key, open_pyramid(Path(out)), False)
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
