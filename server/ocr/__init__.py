"""OCR files (ALTO v2–v4, hOCR) → one word model with boxes in canvas pixels.

``parse_ocr`` is the only entry point the rest of the server needs; it decides the format from the
content (not the file name), parses safely (see :mod:`server.ocr.safexml`) and raises
:class:`OCRError` for anything it cannot or will not read.
"""
from __future__ import annotations

from pathlib import Path

from lxml import etree

from server.ocr.alto import local, parse_alto
from server.ocr.hocr import is_hocr, parse_hocr
from server.ocr.model import Box, OCRError, PageText, Word
from server.ocr.safexml import MAX_BYTES, parse_document, read_bytes
from server.texts import N_

__all__ = ["Box", "OCRError", "PageText", "Word", "parse_ocr", "parse_ocr_bytes"]


def parse_ocr(path: Path, canvas_width: int, canvas_height: int, *, dpi: float = 300.0,
              max_bytes: int = MAX_BYTES) -> PageText:
    """Words of one page with boxes in the canvas's pixels (``canvas_width`` × ``canvas_height``).

    ``dpi`` only matters for ALTO in ``mm10``/``inch1200`` whose Page has no WIDTH/HEIGHT.
    """
    path = Path(path)
    return parse_ocr_bytes(read_bytes(path, max_bytes), path, canvas_width, canvas_height, dpi=dpi)


def parse_ocr_bytes(data: bytes, path: Path, canvas_width: int, canvas_height: int, *,
                    dpi: float = 300.0) -> PageText:
    """As :func:`parse_ocr`, for bytes already in memory; ``path`` only names them in errors."""
    if canvas_width <= 0 or canvas_height <= 0:
        raise ValueError(f"canvas size must be positive, got {canvas_width}x{canvas_height}")
    if not data.strip():
        raise OCRError(path, N_("empty file"))
    root = parse_document(path, data)
    try:
        if local(root.tag) == "alto":
            return parse_alto(path, root, canvas_width, canvas_height, dpi)
        if is_hocr(root):
            return parse_hocr(path, root, canvas_width, canvas_height)
    except OCRError:
        raise
    except (ValueError, TypeError, LookupError, ArithmeticError, RecursionError,
            etree.LxmlError) as exc:  # the contract: a bad file never escapes as anything else
        raise OCRError(path, N_("unreadable OCR (%(error)s)", error=" ".join(f"{type(exc).__name__}: {exc}".split()))) from exc
    raise OCRError(path, N_("neither ALTO nor hOCR (root element <%(tag)s>)", tag=local(root.tag) or root.tag),
                   root.sourceline)  # type: ignore[arg-type]  # an int (or None); lxml-stubs says "..."
