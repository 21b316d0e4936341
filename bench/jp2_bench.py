"""JPEG 2000 masters: which decoder at hand is fastest, and what a pyramid costs from each kind.

    python bench/jp2_bench.py             # one 26 MP page, three encodings, best of --repeats
    python bench/jp2_bench.py --repeats 3

The master is the ingest benchmark's first page (a 2 × 2 mosaic of the sample's real Nordstern
scans, 4,292 × 6,076 grey), saved by Pillow (OpenJPEG) as JPEG 2000 three ways: lossless
(reversible 5/3) in one tile, lossless in 512-px tiles, and lossy (irreversible 9/7, 20:1) in
one tile; plus the sample's real Internet Archive JP2. For each: CPU seconds (user + system, all
threads and child processes) to decode with Pillow, which ingest uses (``server/image/pyramid.py``),
to decode with the system's ``vips`` command (Debian's libvips with OpenJPEG and its threads;
pyvips-binary, which the server loads, has no JPEG 2000 loader) into a ``.v`` file, and for the
whole ``build_pyramid``. CPU time is the figure to compare on a shared machine; wall time is shown
too. Work files go to ``bench/work/jp2/``, the JSON record to ``bench/results/``.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.ingest_bench import large_pages
from server.image.pyramid import build_pyramid

WORK = ROOT / "bench" / "work" / "jp2"
RESULTS = ROOT / "bench" / "results"
SAMPLE_JP2 = min((ROOT / "tests" / "fixtures" / "holdings-sample" / "items").glob("*/*.jp2"))
ENCODINGS = {  # name -> Pillow save options
    "lossless, one tile": {"irreversible": False},
    "lossless, 512-px tiles": {"irreversible": False, "tile_size": (512, 512)},
    "lossy 20:1, one tile": {"irreversible": True, "quality_mode": "rates", "quality_layers": [20]},
}


def cpu() -> float:
    """User + system seconds of this process (all its threads) and of its waited-for children."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def best(run: Callable[[], object], repeats: int) -> dict[str, float]:
    """The run of least CPU time among ``repeats``: (cpu, wall) seconds."""
    runs = []
    for _ in range(repeats):
        c, t = cpu(), time.monotonic()
        run()
        runs.append((cpu() - c, time.monotonic() - t))
    c, w = min(runs)
    return {"cpu_s": round(c, 2), "wall_s": round(w, 2)}


def pillow_decode(path: Path) -> None:
    from PIL import Image
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        with Image.open(path) as image:
            image.load()


def system_vips() -> str | None:
    """The ``vips`` command, if there is one whose libvips loads JPEG 2000."""
    vips = shutil.which("vips")
    if vips is None:
        return None
    listing = subprocess.run([vips, "-l", "foreign"], capture_output=True, text=True, check=False).stdout
    return vips if "jp2kload" in listing else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    from PIL import Image, features
    shutil.rmtree(WORK, ignore_errors=True)
    large_pages(WORK / "holdings", 1)
    jpeg = WORK / "holdings" / "items" / "large" / "0001.jpg"
    masters = {"Internet Archive sample (lossy)": SAMPLE_JP2}
    with Image.open(jpeg) as page:
        page.load()
        for n, (name, options) in enumerate(ENCODINGS.items()):
            masters[name] = WORK / f"page-{n}.jp2"
            page.save(masters[name], **options)
    vips = system_vips()
    version = subprocess.run([vips, "--version"], capture_output=True, text=True, check=False).stdout.strip() if vips else None
    record: dict[str, object] = {"started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                                 "openjpeg_pillow": features.version("jpg_2000"), "system_vips": version,
                                 "jpeg_master_pyramid": best(lambda: build_pyramid(jpeg, WORK / "out.tif"), args.repeats)}
    print(f"JPEG master, build_pyramid: {record['jpeg_master_pyramid']}", flush=True)
    rows = {}
    for name, path in masters.items():
        row = {"bytes": path.stat().st_size, "pillow_decode": best(lambda p=path: pillow_decode(p), args.repeats)}
        if vips:
            row["vips_decode"] = best(lambda p=path: subprocess.run([vips, "copy", str(p), str(WORK / "out.v")],
                                                               check=True), args.repeats)
        row["build_pyramid"] = best(lambda p=path: build_pyramid(p, WORK / "out.tif"), args.repeats)
        rows[name] = row
        print(f"{name} ({row['bytes'] / 1e6:.1f} MB): " + "; ".join(
            f"{k} {v['cpu_s']} CPU s ({v['wall_s']} s wall)" for k, v in row.items() if isinstance(v, dict)), flush=True)
    record["masters"] = rows
    (WORK / "out.v").unlink(missing_ok=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"jp2-{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}.json"
    out.write_text(json.dumps(record, indent=1))
    print(f"record: {out} (OpenJPEG in Pillow {record['openjpeg_pillow']}, system {version or 'vips: none with jp2kload'}; "
          f"{os.cpu_count()} cpus)")


if __name__ == "__main__":
    main()
