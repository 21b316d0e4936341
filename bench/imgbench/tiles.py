"""OpenSeadragon-style IIIF tile URLs, and the seeded request mixes replayed against both servers.

The tile arithmetic follows OpenSeadragon's ``IIIFTileSource.getTileUrl`` (read in its source,
not copied): level scale ``1/sf``; the level is ``ceil(W/sf) × ceil(H/sf)``; a tile of ``t``
pixels covers ``round(t·sf)`` full-resolution pixels, cut at the right and bottom edges; its size
is ``min(t, levelWidth − x·t)`` by the same in height; a level smaller than one tile is
requested as ``full``. Image API 3.0 (and OpenSeadragon 4+ on 2.x services) sends the size as
``w,h``; OpenSeadragon before 4 sent ``w,`` to 2.x services. The benchmark sends the 3.0 form
to both servers, which iipsrv 1.1 accepts, so that both serve byte-for-byte the same requests.

Everything here is pure: no I/O, no clock, all randomness from a seeded ``random.Random``.
"""
from __future__ import annotations

import math
import random
from collections import Counter
from dataclasses import dataclass


@dataclass(frozen=True)
class Tile:
    """One tile request: which grid it belongs to, and its region/size path."""

    tile_width: int
    scale_factor: int
    x: int
    y: int
    path: str  # "{region}/{size}/0/default.jpg", relative to the image's base URI


def tile_path(width: int, height: int, tile: int, sf: int, x: int, y: int, version: int = 3) -> str:
    """The ``region/size/rotation/quality.format`` that OpenSeadragon requests for one tile."""
    level_w = math.ceil(width / sf)
    level_h = math.ceil(height / sf)
    if level_w < tile and level_h < tile:
        if version == 3:
            size = "max" if (level_w, level_h) == (width, height) else f"{level_w},{level_h}"
        else:
            size = "full" if level_w == width else f"{level_w},"
        return f"full/{size}/0/default.jpg"
    span = round(tile * sf)
    rx, ry = x * span, y * span
    rw, rh = min(span, width - rx), min(span, height - ry)
    region = "full" if (rx, ry, rw, rh) == (0, 0, width, height) else f"{rx},{ry},{rw},{rh}"
    sw = min(tile, level_w - x * tile)
    sh = min(tile, level_h - y * tile)
    if version == 3:
        size = "max" if (sw, sh) == (width, height) else f"{sw},{sh}"
    else:
        size = f"{sw},{sh}"
    return f"{region}/{size}/0/default.jpg"


def grid(width: int, height: int, tile: int, sf: int) -> tuple[int, int]:
    """Number of tile columns and rows at scale factor ``sf``."""
    level_w, level_h = math.ceil(width / sf), math.ceil(height / sf)
    if level_w < tile and level_h < tile:
        return 1, 1
    return math.ceil(level_w / tile), math.ceil(level_h / tile)


def level_tiles(width: int, height: int, tile: int, sf: int, version: int = 3) -> list[Tile]:
    """Every tile of one level, row by row."""
    cols, rows = grid(width, height, tile, sf)
    return [Tile(tile, sf, x, y, tile_path(width, height, tile, sf, x, y, version))
            for y in range(rows) for x in range(cols)]


def advertised_tiles(info: dict) -> dict[int, list[int]]:
    """``{tile width: sorted scale factors}`` from an info.json (2.x or 3.0)."""
    out: dict[int, set[int]] = {}
    for entry in info.get("tiles", []):
        out.setdefault(int(entry["width"]), set()).update(int(s) for s in entry.get("scaleFactors", [1]))
    return {w: sorted(s) for w, s in sorted(out.items())}


def common_scale_factors(*infos: dict) -> list[int]:
    """Scale factors every server advertises (for any tile width): the levels both serve cheaply."""
    sets = [set().union(*advertised_tiles(info).values()) for info in infos]
    return sorted(set.intersection(*sets)) if sets else []


# --- the viewing-session model --------------------------------------------------------------

VIEWPORT = (1600, 1000)  # screen pixels of the viewer


@dataclass(frozen=True)
class MixSpec:
    """What the tile mix is made of; the defaults are the benchmark's."""

    requests: int = 20_000
    tile_shares: tuple[tuple[int, float], ...] = ((256, 0.8), (512, 0.2))
    seed: int = 20240601


def _visible(width: int, height: int, tile: int, sf: int, cx: float, cy: float) -> list[tuple[int, int]]:
    """Tiles of level ``sf`` that a viewport centred on full-res (cx, cy) shows at that level's 1:1."""
    cols, rows = grid(width, height, tile, sf)
    half_w, half_h = VIEWPORT[0] * sf / 2, VIEWPORT[1] * sf / 2
    span = tile * sf
    x0 = max(0, int((cx - half_w) // span))
    x1 = min(cols - 1, int((cx + half_w) // span))
    y0 = max(0, int((cy - half_h) // span))
    y1 = min(rows - 1, int((cy + half_h) // span))
    return [(x, y) for y in range(y0, y1 + 1) for x in range(x0, x1 + 1)]


def session(width: int, height: int, tile: int, factors: list[int], rng: random.Random,
            steps: int = 20, version: int = 3) -> list[Tile]:
    """One viewer's tile requests: the home view, then zooms and pans, each tile once.

    OpenSeadragon first loads the coarse levels whole (the image fits the viewport), then, as the
    user zooms in at a point or pans, the tiles of the finer levels that the viewport covers. A
    browser does not ask twice for a tile it has, so each tile appears once per session.
    """
    fs = sorted(factors, reverse=True)  # coarse to fine
    fits = [sf for sf in fs if math.ceil(width / sf) <= VIEWPORT[0] and math.ceil(height / sf) <= VIEWPORT[1]]
    home = fits[-1] if fits else fs[0]
    seen: set[tuple[int, int, int]] = set()
    out: list[Tile] = []

    def want(sf: int, cx: float, cy: float) -> None:
        for x, y in _visible(width, height, tile, sf, cx, cy):
            if (sf, x, y) not in seen:
                seen.add((sf, x, y))
                out.append(Tile(tile, sf, x, y, tile_path(width, height, tile, sf, x, y, version)))

    cx, cy = width / 2, height / 2
    for sf in fs:  # home view: every level down to the one that fills the viewport
        if sf < home:
            break
        want(sf, cx, cy)
    level = fs.index(home)
    for _ in range(steps):
        move = rng.random()
        if move < 0.5 and level < len(fs) - 1:  # zoom in at a point of the current view
            span_w, span_h = VIEWPORT[0] * fs[level] / 2, VIEWPORT[1] * fs[level] / 2
            cx = min(max(cx + rng.uniform(-span_w, span_w) / 2, 0), width)
            cy = min(max(cy + rng.uniform(-span_h, span_h) / 2, 0), height)
            level += 1
        elif move < 0.85:  # pan by up to half a viewport
            cx = min(max(cx + rng.uniform(-0.5, 0.5) * VIEWPORT[0] * fs[level], 0), width)
            cy = min(max(cy + rng.uniform(-0.5, 0.5) * VIEWPORT[1] * fs[level], 0), height)
        elif level > 0:  # zoom out
            level -= 1
        # OpenSeadragon also keeps the next coarser level on screen while the finer one loads
        if level > 0:
            want(fs[level - 1], cx, cy)
        want(fs[level], cx, cy)
    return out


def tile_mix(width: int, height: int, factors: list[int], spec: MixSpec = MixSpec(),
             version: int = 3) -> list[Tile]:
    """The seeded tile mix: viewing sessions per tile width in the given shares, interleaved.

    Sessions of each tile width are generated until that width has its share of the requests;
    then the sessions are shuffled and their requests interleaved in bursts, as several viewers
    would send them to one server.
    """
    rng = random.Random(spec.seed)
    sessions: list[list[Tile]] = []
    for tile, share in spec.tile_shares:
        quota = round(spec.requests * share)
        got = 0
        while got < quota:
            s = session(width, height, tile, factors, rng, version=version)
            s = s[: quota - got]
            sessions.append(s)
            got += len(s)
    rng.shuffle(sessions)
    out: list[Tile] = []
    cursors = [0] * len(sessions)
    live = list(range(len(sessions)))
    while live:
        i = rng.choice(live[:4])  # about four viewers active at a time
        burst = rng.randint(4, 16)
        out.extend(sessions[i][cursors[i]: cursors[i] + burst])
        cursors[i] += burst
        if cursors[i] >= len(sessions[i]):
            live.remove(i)
    return out


THUMBNAILS: tuple[tuple[str, float], ...] = (
    ("full/200,/0/default.jpg", 0.30),
    ("full/!400,400/0/default.jpg", 0.20),
    ("full/,150/0/default.jpg", 0.20),
    ("full/!200,200/0/default.jpg", 0.10),
    ("full/100,/0/default.jpg", 0.10),
    ("full/,300/0/default.jpg", 0.05),
    ("full/!600,600/0/default.jpg", 0.05),
)


def thumbnail_mix(requests: int = 2_000, seed: int = 20240601) -> list[str]:
    """The seeded thumbnail mix: sizes that IIIF viewers and collection pages ask for."""
    rng = random.Random(seed + 1)
    paths = [p for p, _ in THUMBNAILS]
    weights = [w for _, w in THUMBNAILS]
    return rng.choices(paths, weights=weights, k=requests)


def describe_tiles(tiles: list[Tile]) -> dict[str, object]:
    """Counts by tile width and scale factor, for the record."""
    kinds = Counter(f"{t.tile_width}px sf{t.scale_factor}" for t in tiles)
    return {"requests": len(tiles), "distinct": len({t.path for t in tiles}),
            "by_kind": dict(sorted(kinds.items(), key=lambda kv: (int(kv[0].split("px")[0]), int(kv[0].split("sf")[1]))))}


def describe_paths(paths: list[str]) -> dict[str, object]:
    """Counts by path, for the thumbnail mix."""
    return {"requests": len(paths), "distinct": len(set(paths)), "by_kind": dict(Counter(paths).most_common())}
