"""The large source image, built deterministically from real scans, and iipsrv's pyramid.

No package that this machine can install ships a real photograph or scan of at least
10,000 × 7,500 px (see bench/README.md), so the benchmark mosaics the real colour scans of the
sample holdings: the six BnF manuscript pages and the two Kant pages, each centre-cropped to the
smallest page size (1223 × 1812) and laid out in a 9 × 5 grid (11,007 × 9,060 px, sRGB).
Every pixel comes from a scan; only their arrangement is made here.
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import pyvips

REPO = Path(__file__).resolve().parent.parent.parent
SAMPLE_DIR = Path(os.environ.get("HERITAGE_SAMPLE", REPO / "tests" / "fixtures" / "holdings-sample"))

# colour page scans of the sample holdings, in the order they are cycled through the grid
SOURCE_PAGES: tuple[str, ...] = (
    "items/document-ita-bnf-it-912/btv1b52501692k_f9.jpg",
    "items/document-ita-bnf-it-912/btv1b52501692k_f10.jpg",
    "items/periodical-deu-berlinische-monatsschrift-1784-12/INPUT_0017.tif",
    "items/document-ita-bnf-it-912/btv1b52501692k_f11.jpg",
    "items/document-ita-bnf-it-912/btv1b52501692k_f12.jpg",
    "items/periodical-deu-berlinische-monatsschrift-1784-12/INPUT_0020.tif",
    "items/document-ita-bnf-it-912/btv1b52501692k_f13.jpg",
    "items/document-ita-bnf-it-912/btv1b52501692k_f14.jpg",
)
CELL_W, CELL_H = 1223, 1812  # the smallest width and height among SOURCE_PAGES
COLUMNS, ROWS = 9, 5  # 11,007 × 9,060 px

# iipsrv's pyramid: tiled, JPEG Q85, pyramid, stripped, like Heritage Lab's; its tile size is Heritage
# Lab's too (``prepare``), so that both serve the tiles of the mix from storage
PYRAMID_OPTIONS: dict[str, object] = {
    "tile": True,
    "compression": "jpeg",
    "Q": 85,
    "pyramid": True,
    "keep": "none",
}


@dataclass(frozen=True)
class SourceImage:
    """The master (holdings input) and the pyramid iipsrv serves, with the master's size."""

    master: Path
    pyramid: Path
    width: int
    height: int
    sha256: str


def _cell(path: Path) -> pyvips.Image:
    """One page, centre-cropped to the common cell size, as 8-bit sRGB without alpha."""
    image = pyvips.Image.new_from_file(str(path))
    image = image.colourspace("srgb") if image.interpretation != "srgb" else image
    if image.hasalpha():
        image = image.flatten(background=[255, 255, 255])
    if image.bands > 3:
        image = image.extract_band(0, n=3)
    left = (image.width - CELL_W) // 2
    top = (image.height - CELL_H) // 2
    return image.crop(left, top, CELL_W, CELL_H).cast("uchar")


def build_mosaic(target: Path, sample_dir: Path = SAMPLE_DIR) -> Path:
    """Write the mosaic master as an uncompressed, striped TIFF (as scanners deliver), once."""
    if target.exists():
        return target
    pages = [_cell(sample_dir / rel) for rel in SOURCE_PAGES]
    cells = [pages[i % len(pages)] for i in range(COLUMNS * ROWS)]
    mosaic = pyvips.Image.arrayjoin(cells, across=COLUMNS)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial.tif")
    mosaic.tiffsave(str(partial), compression="none", keep="none")
    partial.replace(target)
    return target


def build_pyramid(master: Path, target: Path, tile_size: int) -> Path:
    """Write the tiled, JPEG-compressed, metadata-free pyramidal TIFF that iipsrv serves."""
    if target.exists() and target.stat().st_mtime >= master.stat().st_mtime:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.stem + ".partial.tif")
    pyvips.Image.new_from_file(str(master)).tiffsave(str(partial), tile_width=tile_size, tile_height=tile_size,
                                                         **PYRAMID_OPTIONS)
    partial.replace(target)
    return target


def _digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def prepare(work: Path, tile_size: int, name: str = "bench-large") -> SourceImage:
    """Build (or reuse) the master and iipsrv's pyramid of ``tile_size`` tiles under ``work``."""
    master = build_mosaic(work / "source" / f"{name}.tif")
    pyramid = build_pyramid(master, work / "iipsrv" / f"{tile_size}px" / f"{name}.tif", tile_size)
    head = pyvips.Image.new_from_file(str(master))
    return SourceImage(master, pyramid, head.width, head.height, _digest(master))
