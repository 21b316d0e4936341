"""``/iiif/3/{item}/item.pdf``: the item's PDF, built on first request and cached by content.

The pages are the canvases' own images (``full/max/0/default.jpg``, the same bytes and cache as
the Image API) and the words come from the OCR copies of the current generation. The cache key
hashes everything the PDF depends on (each page's content key and rendering, each OCR file's
bytes, the builder's version), so an unchanged item keeps its PDF across generations, a changed
one gets a new one, and concurrent first requests build it once (``DiskCache`` single-flight).
"""
from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

from flask import Response, current_app

from ..errors import NotFound
from ..http import cacheable
from ..image.request import ImageRequest, Limits, parse, resolve
from ..image.tilecache import DiskCache
from ..image.views import rendering
from ..ocr import OCRError, parse_ocr
from ..ocr.model import Word
from ..publication import Publication
from .pdf import VERSION, PdfPage, build_pdf

OCR_SUFFIX = {"alto": "xml", "hocr": "hocr"}


def _cache() -> DiskCache:
    return DiskCache(current_app.config["SETTINGS"].image_cache_dir / "pdf", max_bytes=None)


def _full_request(width: int, height: int) -> ImageRequest:
    settings = current_app.config["SETTINGS"]
    limits = Limits(settings.max_width, settings.max_height, settings.max_area)
    return resolve(parse(3, "full", "max", "0", "default.jpg"), width, height, limits)


def send_item_pdf(pub: Publication, item_id: str) -> Response:
    rows = pub.query("SELECT n, image_id, width, height, ocr_format FROM pages WHERE item_id = ? ORDER BY n", item_id)
    if not rows:
        raise NotFound(f"no item {item_id!r}")
    plan = []
    digest = hashlib.sha256(f"pdf|{VERSION}|{current_app.config['SETTINGS'].jpeg_quality}".encode())
    for row in rows:
        record = pub.image(row["image_id"])
        if record is None:
            raise NotFound(f"no image for page {row['n']} of item {item_id!r}")
        req = _full_request(record.pyramid.width, record.pyramid.height)
        ocr = pub.iiif_file(f"3/{item_id}/ocr/{row['n']}.{OCR_SUFFIX[row['ocr_format']]}") if row["ocr_format"] else None
        digest.update(f"|{record.key}/{req.canonical(3)}|".encode())
        if ocr is not None:
            digest.update(hashlib.sha256(ocr.read_bytes()).digest())
        plan.append((record, req, row, ocr))
    key = digest.hexdigest()

    def build() -> bytes:
        pages = []
        for record, req, row, ocr in plan:
            pages.append(PdfPage(rendering(record, req)[1], row["width"], row["height"], _words(ocr, row)))
        return build_pdf(pages, title=item_id)

    body = _cache().get_or_render(f"pdf/{key}", build)
    response = Response(body, content_type="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="{item_id}.pdf"'
    return cacheable(response, key, None)


def _words(ocr: Path | None, row: sqlite3.Row) -> list[Word]:
    if ocr is None:
        return []
    try:
        return parse_ocr(ocr, row["width"], row["height"]).words
    except OCRError:
        return []  # ingest published this page's OCR, so it parsed then; never fail the PDF for it
