"""Grid tiles straight from the pyramid's bytes: no decode, no encode, no tile files.

A tiled, JPEG-compressed TIFF stores every tile of every level as an abbreviated JPEG stream
(``TileOffsets``/``TileByteCounts``) whose quantisation and Huffman tables sit once per level in
the ``JPEGTables`` tag (347). SOI + the tables (without their SOI/EOI) + the tile stream (without
its SOI) is a complete baseline JPEG, pixel-identical to what libvips decodes for that tile.

So a grid tile of ``info.json`` whose request lines up with one TIFF tile is one ``os.pread`` on a
kept file descriptor, with the offsets read once per pyramid (the IFDs are parsed here with
``struct``: classic and BigTIFF, either byte order). A request lines up when its scale factor
``2**k`` names level ``k``, that level has libvips' size (``floor(width / 2**k)``), and the tile
is whole: TIFF edge tiles are padded to the full tile size while IIIF edge tiles are exact, and
libvips rounds odd level sizes down where the Image API rounds up, so edge tiles are left to the
renderer (and its cache). ``tests/test_image_tiles.py`` checks every tile of the grid.

Those edge tiles of the advertised grid are rendered once, at ingest, into a file beside the
pyramid (``<pyramid>.edges``: the renderer's very bytes, indexed by region and size), so a viewer's
first visit costs one ``pread`` per tile there too instead of a decode, crop and encode each.
"""
from __future__ import annotations

import os
import struct
import threading
from array import array
from collections import OrderedDict
from dataclasses import dataclass

from .grid import grid, scale_factors
from .model import Pyramid
from .request import ImageRequest, Limits, parse, resolve

_SOI, _EOI = b"\xff\xd8", b"\xff\xd9"
_JPEG = 7                      # Compression: JPEG ("new style", technote 2)
_TAGS = {256, 257, 259, 277, 284, 322, 323, 324, 325, 347}
# TIFF field type -> (struct code, size); the integer and byte types are all we need
_TYPES = {1: ("B", 1), 3: ("H", 2), 4: ("I", 4), 7: ("B", 1), 16: ("Q", 8), 13: ("I", 4), 18: ("Q", 8)}
_MAX_PAGES = 64                # a pyramid of a 2**64-pixel image has fewer levels than this
_MAX_TILES = 1 << 24           # per level: refuse nonsense counts before allocating
_MAX_TILE_BYTES = 1 << 24      # a 512-px JPEG tile is tens of KB; a larger count is a damaged file
EDGES = ".edges"               # suffix of the file of rendered edge tiles beside a pyramid
_EDGE_HEAD = struct.Struct("<8sIII")        # magic, image width, height, number of tiles
_EDGE_ENTRY = struct.Struct("<IIIIIIQI")    # region x, y, w, h, size w, h, offset, length
_EDGE_MAGIC = b"HLEDGES1"


class NotTiled(ValueError):
    """The file is not a tiled JPEG TIFF we can serve tiles from (the renderer still can)."""


@dataclass(frozen=True, slots=True)
class Level:
    """One page of the pyramid: its size, its tile grid and where each tile's bytes are."""

    width: int
    height: int
    across: int                # tiles per row
    offsets: array
    counts: array
    tables: bytes              # JPEGTables without SOI/EOI ("" when each tile is self-contained)


class TileIndex:
    """The tile offsets of one pyramid and a descriptor kept open to read them.

    The descriptor is closed when the index is garbage-collected, never while a reader holds
    the index, so a concurrent eviction from ``index_for`` cannot make a read hit another file.
    The index and the descriptor describe the same inode: a pyramid replaced on disk later
    (a forced rebuild) does not mix old offsets with new bytes.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        try:
            self.tile, self.levels = _parse(fd)
        except BaseException:
            os.close(fd)
            raise
        self.fd = fd  # only now: __del__ closes what a complete index owns
        self.edges: dict[tuple[int, ...], tuple[int, int]] = {}
        self.edge_fd: int | None = None
        self._open_edges(path + EDGES)

    def __del__(self) -> None:
        for name in ("fd", "edge_fd"):
            fd = getattr(self, name, None)
            if fd is not None:
                os.close(fd)

    def _open_edges(self, path: str) -> None:
        """Index the edge tiles rendered at ingest, if their file is there and is this image's."""
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        except OSError:
            return  # none (an ingest before edge files, or a disk that was full): they are rendered
        try:
            head = os.pread(fd, _EDGE_HEAD.size, 0)
            magic, width, height, count = _EDGE_HEAD.unpack(head) if len(head) == _EDGE_HEAD.size else (b"", 0, 0, 0)
            raw = os.pread(fd, count * _EDGE_ENTRY.size, _EDGE_HEAD.size) if count <= _MAX_TILES else b""
            if magic != _EDGE_MAGIC or (width, height) != (self.levels[0].width, self.levels[0].height) \
                    or len(raw) != count * _EDGE_ENTRY.size:
                os.close(fd)
                return
        except OSError:
            os.close(fd)
            return
        for entry in _EDGE_ENTRY.iter_unpack(raw):
            self.edges[entry[:6]] = (entry[6], entry[7])
        self.edge_fd = fd

    def edge(self, req: ImageRequest) -> bytes | None:
        """The edge tile rendered at ingest for ``req`` (region and size of the grid), or None."""
        if self.edge_fd is None or req.quality != "default" or req.mirror or req.rotation:
            return None
        where = self.edges.get((*req.region, *req.size))
        if where is None or not 0 < where[1] <= _MAX_TILE_BYTES:
            return None
        data = os.pread(self.edge_fd, where[1], where[0])
        return data if len(data) == where[1] and data.startswith(_SOI) else None

    def read(self, level: int, col: int, row: int) -> bytes | None:
        """The complete JPEG of tile (col, row) of ``level``, or None if the file disagrees."""
        lv = self.levels[level]
        i = row * lv.across + col
        if not 0 <= col < lv.across or not 0 <= i < len(lv.offsets):
            return None
        size = lv.counts[i]
        if not 4 <= size <= _MAX_TILE_BYTES:
            return None
        data = os.pread(self.fd, size, lv.offsets[i])
        if len(data) != size or not data.startswith(_SOI):
            return None
        return _SOI + lv.tables + data[2:] if lv.tables else data


def grid_tile(index: TileIndex, pyramid: Pyramid, req: ImageRequest) -> bytes | None:
    """The stored JPEG for ``req`` when it is a whole tile of the pyramid's grid, else None."""
    if req.format != "jpg" or req.quality != "default" or req.mirror or req.rotation:
        return None
    t = index.tile
    x, y, w, h = req.region
    if req.size != (t, t) or w != h or w % t:
        return None
    factor = w // t
    k = factor.bit_length() - 1
    if factor != 1 << k or x % w or y % h or k >= len(index.levels) or k >= len(pyramid.levels):
        return None
    lv = index.levels[k]
    # the level must be libvips' halving of this very image (level k pixel i = pixels [i*2**k, (i+1)*2**k))
    if (lv.width, lv.height) != (pyramid.width >> k, pyramid.height >> k) or (lv.width, lv.height) != pyramid.levels[k]:
        return None
    col, row = x // w, y // h
    if (col + 1) * t > lv.width or (row + 1) * t > lv.height:
        return None  # a padded edge tile
    return index.read(k, col, row)


def stored_tile(pyramid: Pyramid, req: ImageRequest) -> bytes | None:
    """The bytes of a whole grid tile read from the pyramid file, or None (render it instead)."""
    if req.format != "jpg":  # the cheapest refusal first: no index needed
        return None
    index = index_for(pyramid.path)
    if index is None:
        return None
    try:
        body = grid_tile(index, pyramid, req)
        return body if body is not None else index.edge(req)
    except OSError:  # an I/O error on the pyramid: let the renderer try (and report) it
        return None


def write_edges(pyramid: Pyramid, jpeg_quality: int) -> int:
    """Render every edge tile of the advertised grid (what ``grid_tile`` cannot read from the pyramid)
    into ``<pyramid>.edges``, atomically; the number of tiles. Raises OSError (the disk) or NotTiled."""
    from .render import render  # libvips: only ingest writes these
    index = TileIndex(pyramid.path)
    limits = Limits(pyramid.width, pyramid.height, pyramid.width * pyramid.height)
    entries: list[tuple[int, ...]] = []
    blobs: list[bytes] = []
    for factor in scale_factors(pyramid.width, pyramid.height, index.tile):
        for (x, y, w, h), (sw, sh) in grid(pyramid.width, pyramid.height, index.tile, factor):
            req = resolve(parse(3, f"{x},{y},{w},{h}", f"{sw},{sh}", "0", "default.jpg"),
                          pyramid.width, pyramid.height, limits)
            if grid_tile(index, pyramid, req) is None:
                entries.append((*req.region, *req.size))
                blobs.append(render(pyramid, req, jpeg_quality))
    offset = _EDGE_HEAD.size + len(entries) * _EDGE_ENTRY.size
    parts = [_EDGE_HEAD.pack(_EDGE_MAGIC, pyramid.width, pyramid.height, len(entries))]
    for entry, blob in zip(entries, blobs, strict=True):
        parts.append(_EDGE_ENTRY.pack(*entry, offset, len(blob)))
        offset += len(blob)
    target = pyramid.path + EDGES
    tmp = f"{target}.{os.getpid()}.tmp"
    try:
        with open(tmp, "wb") as f:
            f.write(b"".join(parts + blobs))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return len(entries)


def tile_size(pyramid: Pyramid, default: int) -> int:
    """The pyramid's own tile size (what info.json must advertise), ``default`` if unreadable."""
    index = index_for(pyramid.path)
    return index.tile if index is not None else default


_cache: OrderedDict[str, TileIndex | None] = OrderedDict()
_cache_lock = threading.Lock()
_CACHE_SIZE = 256              # open pyramids per process (each holds one descriptor)


def index_for(path: str) -> TileIndex | None:
    """The index of the pyramid at ``path`` (parsed once per process, LRU), None if unusable."""
    with _cache_lock:
        if path in _cache:
            _cache.move_to_end(path)
            return _cache[path]
    try:
        index: TileIndex | None = TileIndex(path)
    except (OSError, NotTiled, struct.error):
        index = None
    with _cache_lock:
        _cache[path] = index
        _cache.move_to_end(path)
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return index


def clear_cache() -> None:
    """Forget every index (tests; a process that rebuilt pyramids in place)."""
    with _cache_lock:
        _cache.clear()


# --- TIFF ----------------------------------------------------------------------------------------

def _parse(fd: int) -> tuple[int, tuple[Level, ...]]:
    head = os.pread(fd, 16, 0)
    if head[:2] == b"II":
        bo = "<"
    elif head[:2] == b"MM":
        bo = ">"
    else:
        raise NotTiled("not a TIFF")
    magic = struct.unpack(bo + "H", head[2:4])[0]
    if magic == 42:
        big, offset = False, struct.unpack(bo + "I", head[4:8])[0]
    elif magic == 43:
        big, offset = True, struct.unpack(bo + "Q", head[8:16])[0]
    else:
        raise NotTiled("not a TIFF")
    levels: list[Level] = []
    tile = 0
    seen: set[int] = set()
    while offset and len(levels) < _MAX_PAGES:
        if offset in seen:
            raise NotTiled("IFD loop")
        seen.add(offset)
        tags, offset = _ifd(fd, bo, big, offset)
        level, tw = _level(fd, bo, tags)
        if tile and tw != tile:
            raise NotTiled("levels with different tile sizes")
        tile = tw
        levels.append(level)
    if not levels:
        raise NotTiled("no pages")
    return tile, tuple(levels)


def _ifd(fd: int, bo: str, big: bool, offset: int) -> tuple[dict[int, tuple[int, int, bytes]], int]:
    """The entries we care about as tag -> (type, count, value-or-offset field), and the next IFD."""
    count_fmt, entry_fmt, entry_size, field = ("Q", "HHQ", 20, 8) if big else ("H", "HHI", 12, 4)
    csize = struct.calcsize(count_fmt)
    n = struct.unpack(bo + count_fmt, os.pread(fd, csize, offset))[0]
    if n > 4096:
        raise NotTiled("implausible IFD")
    raw = os.pread(fd, n * entry_size + field, offset + csize)
    if len(raw) != n * entry_size + field:
        raise NotTiled("truncated IFD")
    tags = {}
    for i in range(n):
        entry = raw[i * entry_size:(i + 1) * entry_size]
        tag, typ, cnt = struct.unpack(bo + entry_fmt, entry[:entry_size - field])
        if tag in _TAGS:
            tags[tag] = (typ, cnt, entry[entry_size - field:])
    nxt = struct.unpack(bo + ("Q" if big else "I"), raw[n * entry_size:])[0]
    return tags, nxt


def _values(fd: int, bo: str, entry: tuple[int, int, bytes]) -> tuple[int, ...] | bytes:
    typ, cnt, field = entry
    if typ not in _TYPES:
        raise NotTiled(f"unexpected TIFF field type {typ}")
    code, size = _TYPES[typ]
    if cnt > _MAX_TILES:
        raise NotTiled("implausible count")
    nbytes = cnt * size
    if nbytes <= len(field):
        data = field[:nbytes]
    else:
        where = struct.unpack(bo + ("Q" if len(field) == 8 else "I"), field)[0]
        data = os.pread(fd, nbytes, where)
        if len(data) != nbytes:
            raise NotTiled("truncated TIFF")
    if typ in (1, 7):
        return data
    return struct.unpack(f"{bo}{cnt}{code}", data)


def _int(fd: int, bo: str, tags: dict[int, tuple[int, int, bytes]], tag: int, default: int | None = None) -> int:
    if tag not in tags:
        if default is None:
            raise NotTiled(f"no tag {tag}")
        return default
    values = _values(fd, bo, tags[tag])
    return int(values[0])


def _level(fd: int, bo: str, tags: dict[int, tuple[int, int, bytes]]) -> tuple[Level, int]:
    if 322 not in tags or _int(fd, bo, tags, 259, 1) != _JPEG or _int(fd, bo, tags, 284, 1) != 1:
        raise NotTiled("not a tiled, JPEG-compressed, contiguous TIFF")
    width, height = _int(fd, bo, tags, 256), _int(fd, bo, tags, 257)
    tw, th = _int(fd, bo, tags, 322), _int(fd, bo, tags, 323)
    if tw != th or tw < 16 or width < 1 or height < 1:
        raise NotTiled("not square tiles")
    across, down = -(-width // tw), -(-height // th)
    offsets, counts = _values(fd, bo, tags[324]), _values(fd, bo, tags[325])
    if isinstance(offsets, bytes) or isinstance(counts, bytes) or not len(offsets) == len(counts) == across * down:
        raise NotTiled("tile offsets do not match the grid")
    tables = b""
    if 347 in tags:
        raw = _values(fd, bo, tags[347])
        if not isinstance(raw, bytes) or not raw.startswith(_SOI) or not raw.endswith(_EOI):
            raise NotTiled("unexpected JPEGTables")
        tables = raw[2:-2]
    return Level(width, height, across, array("Q", offsets), array("Q", counts), tables), tw
