#!/usr/bin/env python3
"""Tile-read microbenchmark: a grid tile read from the pyramid's bytes against the alternatives.

    python bench/tile_read_bench.py            # a sample page, 256- and 512-px pyramids
    python bench/tile_read_bench.py --master PATH --reps 2000

For every whole tile of every level of the pyramid (and, apart, for the edge tiles, which are
rendered) it times, in one process, without HTTP:

* ``pread``: ``tiles.stored_tile`` with a warm index (one ``os.pread`` + JPEG assembly);
* ``file``: reading the same tile from its own file, as the pre-rendered tile tree did;
* ``render``: ``render.render`` of the same request (pyvips decode, crop, JPEG encode);
* ``index``: building a pyramid's tile index (parsing its IFDs), once per pyramid and process.

With ``--sessions N`` it also replays N simulated viewing sessions per tile size (the image
benchmark's own, ``imgbench.tiles.session``: home view, then zooms and pans on a 1,600 × 1,000
viewport) and reports the median requests and bytes a session costs: how the tile size was chosen.

It prints a Markdown table of medians (µs per tile) over ``--rounds`` rounds. Work files go to
bench/work/tileread/ (git-ignored).
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from imgbench import tiles as osd

from server.image import tiles
from server.image.grid import scale_factors
from server.image.model import Pyramid
from server.image.pyramid import build_pyramid
from server.image.render import render
from server.image.request import ImageRequest, Limits, parse, resolve

SAMPLE = HERE.parent / "tests/fixtures/holdings-sample/items/periodical-deu-berlinische-monatsschrift-1784-12/INPUT_0017.tif"
LIMITS = Limits(10_000, 10_000, 40_000_000)


def grid_requests(pyr: Pyramid, tile: int) -> tuple[list[ImageRequest], list[ImageRequest]]:
    """(whole tiles, edge tiles) of the advertised grid, as 3.0 requests."""
    whole: list[ImageRequest] = []
    edge: list[ImageRequest] = []
    factor = 1
    while True:
        span = tile * factor
        for y in range(0, pyr.height, span):
            for x in range(0, pyr.width, span):
                rw, rh = min(span, pyr.width - x), min(span, pyr.height - y)
                size = f"{-(-rw // factor)},{-(-rh // factor)}"
                req = resolve(parse(3, f"{x},{y},{rw},{rh}", size, "0", "default.jpg"), pyr.width, pyr.height, LIMITS)
                (whole if tiles.stored_tile(pyr, req) is not None else edge).append(req)
        if -(-max(pyr.width, pyr.height) // factor) <= tile:
            return whole, edge
        factor *= 2


def per_item(fn, items: list, reps: int) -> float:  # type: ignore[no-untyped-def]
    """Microseconds per call of ``fn(item)``, cycling through ``items`` for ``reps`` calls."""
    n = len(items)
    start = time.perf_counter()
    for i in range(reps):
        fn(items[i % n])
    return (time.perf_counter() - start) / reps * 1e6


def measure(pyr: Pyramid, whole: list[ImageRequest], edge: list[ImageRequest], files: list[Path],
            args: argparse.Namespace) -> dict[str, float]:
    """Median microseconds per tile of each way of getting it, over ``args.rounds`` rounds."""
    results: dict[str, list[float]] = {k: [] for k in ("pread", "file", "render", "edge", "index")}
    for _ in range(args.rounds):
        tiles.clear_cache()
        results["index"].append(per_item(tiles.TileIndex, [pyr.path], 200))
        tiles.index_for(pyr.path)
        results["pread"].append(per_item(lambda req: tiles.stored_tile(pyr, req), whole, args.reps))
        results["file"].append(per_item(Path.read_bytes, files, args.reps))
        results["render"].append(per_item(lambda req: render(pyr, req), whole, args.render_reps))
        results["edge"].append(per_item(lambda req: render(pyr, req), edge, args.render_reps))
    return {k: statistics.median(v) for k, v in results.items()}


def session_costs(pyr: Pyramid, tile: int, count: int, seed: int) -> tuple[float, float]:
    """Median (requests, bytes) of ``count`` seeded viewing sessions on ``pyr`` with ``tile``-px tiles."""
    factors = scale_factors(pyr.width, pyr.height, tile)  # what info.json advertises
    rng = random.Random(seed)
    requests, sizes = [], []
    for _ in range(count):
        session = osd.session(pyr.width, pyr.height, tile, factors, rng)
        total = 0
        for t in session:
            region, size, rotation, qf = t.path.split("/")
            req = resolve(parse(3, region, size, rotation, qf), pyr.width, pyr.height, LIMITS)
            total += len(tiles.stored_tile(pyr, req) or render(pyr, req))
        requests.append(len(session))
        sizes.append(total)
    return statistics.median(requests), statistics.median(sizes)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--master", type=Path, default=SAMPLE, help="page master (default: a sample Kant page)")
    p.add_argument("--reps", type=int, default=3000, help="reads per round for pread/file (default 3000)")
    p.add_argument("--render-reps", type=int, default=150, help="renders per round (default 150)")
    p.add_argument("--rounds", type=int, default=5, help="rounds; the median is reported (default 5)")
    p.add_argument("--sessions", type=int, default=0, help="also replay this many viewing sessions per tile size")
    p.add_argument("--seed", type=int, default=20240601, help="seed of the sessions")
    p.add_argument("--work", type=Path, default=HERE / "work" / "tileread")
    args = p.parse_args(argv)

    print("| tile | whole / edge tiles | pread µs | file µs | render µs (whole) | render µs (edge) | index µs |")
    print("|---|---|---|---|---|---|---|")
    pyramids = {}
    for tile in (256, 512):
        folder = args.work / str(tile)
        folder.mkdir(parents=True, exist_ok=True)
        pyr = build_pyramid(args.master, folder / "p.tif", tile=tile)
        whole, edge = grid_requests(pyr, tile)
        files = []
        for i, req in enumerate(whole):  # the old layout: one file per tile
            path = folder / f"tile-{i}.jpg"
            path.write_bytes(render(pyr, req))
            files.append(path)
        pyramids[tile] = pyr
        med = measure(pyr, whole, edge, files, args)
        print(f"| {tile} | {len(whole)} / {len(edge)} | {med['pread']:.1f} | {med['file']:.1f} | "
              f"{med['render']:.0f} | {med['edge']:.0f} | {med['index']:.0f} |")
    if args.sessions:
        print(f"\n| tile | requests per session | MB per session | ({args.sessions} sessions, medians) |")
        print("|---|---|---|---|")
        for tile, pyr in pyramids.items():
            n, size = session_costs(pyr, tile, args.sessions, args.seed)
            print(f"| {tile} | {n:.0f} | {size / 1e6:.2f} | |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
