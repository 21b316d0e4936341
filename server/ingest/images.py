"""Stage: page masters → content-addressed pyramids (+ the pre-rendered tile grid), in parallel.

Runs in worker processes; each task is one page and either returns its Pyramid or a one-line
error, so that one bad master never stops the batch.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import HeritageError
from ..image.grid import grid, scale_factors
from ..image.model import Pyramid
from ..image.pyramid import build_pyramid, open_pyramid, pyramid_path
from ..image.render import render
from ..image.request import ImageRequest, Limits, parse, resolve
from ..image.tilecache import DiskCache, cache_key


@dataclass(frozen=True)
class PageTask:
    master: str
    key: str
    image_cache: str
    tile_sizes: tuple[int, ...]
    pretile: bool
    jpeg_quality: int
    limits: Limits
    force: bool


@dataclass(frozen=True)
class PageResult:
    master: str
    key: str
    pyramid: Pyramid | None
    built: bool
    error: str | None = None


def process_page(task: PageTask) -> PageResult:
    """Build (or reuse) the pyramid of one master and pre-render its grid tiles."""
    cache = Path(task.image_cache)
    out = pyramid_path(cache, task.key)
    built = False
    try:
        if task.force or not out.is_file():
            out.parent.mkdir(parents=True, exist_ok=True)
            pyramid = build_pyramid(Path(task.master), out, task.jpeg_quality)
            built = True
        else:
            pyramid = open_pyramid(out)
        if task.pretile:
            pretile(pyramid, task.key, cache / "tiles", task.tile_sizes, task.jpeg_quality, task.limits, task.force)
    except HeritageError as exc:
        return PageResult(task.master, task.key, None, built, str(exc))
    except Exception as exc:  # a codec failure must not stop the batch; report it as this page's error
        return PageResult(task.master, task.key, None, built, f"cannot process image: {exc.__class__.__name__}: "
                          f"{str(exc).splitlines()[0] if str(exc) else ''}")
    return PageResult(task.master, task.key, pyramid, built)


def cached_result(task: PageTask) -> PageResult | None:
    """The result of a page whose pyramid (and tiles) a previous run already made, read from headers only."""
    out = pyramid_path(Path(task.image_cache), task.key)
    if task.force or not out.is_file():
        return None
    if task.pretile and not _marker(Path(task.image_cache) / "tiles", task.key, task.tile_sizes,
                                     task.jpeg_quality).exists():
        return None
    try:
        return PageResult(task.master, task.key, open_pyramid(out), False)
    except HeritageError:
        return None


def _marker(tiles_dir: Path, key: str, tile_sizes: tuple[int, ...], jpeg_quality: int) -> Path:
    return tiles_dir / ".complete" / f"{key}-{'-'.join(map(str, tile_sizes))}-q{jpeg_quality}-e2"


def pretile(pyramid: Pyramid, key: str, tiles_dir: Path, tile_sizes: tuple[int, ...], jpeg_quality: int,
            limits: Limits, force: bool = False) -> int:
    """Render every tile of the advertised grid once, so viewers' tile requests decode nothing."""
    marker = _marker(tiles_dir, key, tile_sizes, jpeg_quality)
    if marker.exists() and not force:
        return 0
    cache = DiskCache(tiles_dir, max_bytes=None)
    w, h = pyramid.width, pyramid.height
    count = 0
    for size in tile_sizes:
        for factor in scale_factors(w, h, size):
            for (x, y, rw, rh), _ in grid(w, h, size, factor):
                for req in _tile_requests(x, y, rw, rh, factor, w, h, limits):
                    tile_key = cache_key(key, req)
                    if force:
                        cache.put(tile_key, render(pyramid, req, jpeg_quality))
                        count += 1
                    elif cache.get(tile_key) is None:
                        cache.get_or_render(tile_key, lambda req=req: render(pyramid, req, jpeg_quality))
                        count += 1
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.touch()
    return count


def _tile_requests(x: int, y: int, rw: int, rh: int, factor: int, width: int, height: int,
                   limits: Limits) -> list[ImageRequest]:
    """A grid tile as viewers spell it: the spec's ceil size, and at the right and bottom edges the
    floor size and the ``w,`` form that OpenSeadragon versions and Mirador also send (distinct ones only)."""
    region = f"{x},{y},{rw},{rh}"
    widths = sorted({-(-rw // factor), max(1, rw // factor)})
    heights = sorted({-(-rh // factor), max(1, rh // factor)})
    spellings = [f"{sw},{sh}" for sw in widths for sh in heights] + [f"{sw}," for sw in widths]
    requests: dict[str, ImageRequest] = {}
    for spelling in spellings:
        try:
            req = resolve(parse(3, region, spelling, "0", "default.jpg"), width, height, limits)
        except HeritageError:
            continue  # e.g. a floor size that would need upscaling: no viewer can ask for it either
        requests.setdefault(req.canonical(3), req)
    return list(requests.values())
