"""Page images read as ingest would, without decoding pixels: size from the header, and small previews.

``heritage check`` must take seconds for thousands of pages, so it opens each master lazily
(libvips and Pillow read only the header) and never builds a pyramid. A master whose header is
fine but whose pixels are cut off is found by ingest, not here.
"""
from __future__ import annotations

import base64
import warnings
from pathlib import Path

import pyvips

from ..errors import HeritageError
from ..image.pyramid import _LOADERS, is_jp2

THUMBNAIL_SIZE = 240


def image_size(master: Path) -> tuple[int, int]:
    """(width, height) of page 0 of ``master``; HeritageError saying why when ingest could not use it."""
    name = master.name
    if is_jp2(master):
        return _jp2_size(master)
    try:
        image = pyvips.Image.new_from_file(str(master), access="sequential", revalidate=True)
        loader = image.get("vips-loader") if image.get_typeof("vips-loader") else "?"
        if loader not in _LOADERS:
            raise HeritageError(f"{name}: unsupported image format ({loader})")
        if image.format not in ("uchar", "ushort", "uint"):
            raise HeritageError(f"{name}: unsupported sample format {image.format} (expected 8 or 16 bits)")
        orientation = image.get("orientation") if image.get_typeof("orientation") else 1
        width, height = image.width, image.height
    except pyvips.Error as exc:
        first = str(exc).strip().splitlines()
        raise HeritageError(f"{name}: not a readable image ({first[-1] if first else 'unreadable'})") from None
    return (height, width) if orientation in (5, 6, 7, 8) else (width, height)


def _jp2_size(master: Path) -> tuple[int, int]:
    from PIL import Image
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(master) as pil:
                return pil.size
    except (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError) as exc:
        raise HeritageError(f"{master.name}: unreadable JPEG 2000 ({exc})") from None


def thumbnail_data_uri(master: Path, size: int = THUMBNAIL_SIZE) -> str | None:
    """A small JPEG of the page as a ``data:`` URI (the report is one self-contained file), or None."""
    try:
        if is_jp2(master):
            data = _jp2_thumbnail(master, size)
        else:
            image = pyvips.Image.thumbnail(str(master), size, height=size, fail_on="none")
            if image.bands > 3:
                image = image.flatten(background=[255]) if image.bands == 2 else image.extract_band(0, n=3)
            data = image.jpegsave_buffer(Q=70, keep=pyvips.enums.ForeignKeep.NONE)
    except (HeritageError, OSError, pyvips.Error, ValueError, SyntaxError, EOFError):
        return None
    return "data:image/jpeg;base64," + base64.b64encode(data).decode("ascii")


def _jp2_thumbnail(master: Path, size: int) -> bytes:
    from io import BytesIO

    from PIL import Image
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        with Image.open(master) as pil:
            pil.draft("RGB", (size, size))
            pil.thumbnail((size, size))
            out = BytesIO()
            pil.convert("RGB").save(out, "JPEG", quality=70)
            return out.getvalue()
