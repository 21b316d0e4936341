"""``/iiif/3/{item}/item.pdf``: the item's PDF, cached by content; built at ingest or on first request.

The pages are the canvases' own images (``full/max/0/default.jpg``, the same bytes and cache as
the Image API) and the words come from the OCR copies of the generation. The cache key hashes
everything the PDF depends on (each page's content key and rendering, each OCR file's bytes, the
builder's version), so an unchanged item keeps its PDF across generations, a changed one gets a
new one, and concurrent builds of one PDF happen once (``DiskCache`` single-flight). Ingest builds
the PDFs of a new generation when ``HERITAGE_PREBUILD_PDF`` is on, so that a large item's first
request does not wait for hundreds of page renderings; off by default, since the PDFs hold
full-size page images (about the pyramids' size again).
"""
from __future__ import annotations

import hashlib
import logging
from pathlib import Path

import img2pdf
import pikepdf
import pyvips
from flask import Response, current_app

from ..catalog import PageRow
from ..config import Settings
from ..errors import HeritageError, NotFound
from ..headers import PDF
from ..http import cacheable
from ..image.request import ImageRequest, Limits, parse, resolve
from ..image.tilecache import DiskCache
from ..image.views import rendering
from ..ocr import OCRError, parse_ocr
from ..ocr.model import Word
from ..publication import ImageRecord, Publication
from .pdf import VERSION, PdfPage, build_pdf

OCR_SUFFIX = {"alto": "xml", "hocr": "hocr"}
log = logging.getLogger(__name__)


def _cache(settings: Settings) -> DiskCache:
    return DiskCache(settings.image_cache_dir / "pdf", max_bytes=None)


def _full_request(width: int, height: int, settings: Settings) -> ImageRequest:
    return resolve(parse(3, "full", "max", "0", "default.jpg"), width, height, Limits.of(settings))


class ItemPdf:
    """What one item's PDF is made of, and its cache key (computed without rendering anything)."""

    def __init__(self, pub: Publication, item_id: str, settings: Settings) -> None:
        rows = pub.catalog.pages(item_id)
        if not rows:
            raise NotFound(f"no item {item_id!r}")
        self.item_id = item_id
        self.settings = settings
        self.title = _title(pub, item_id, settings.default_language)
        self.plan: list[tuple[ImageRecord, ImageRequest, PageRow, Path | None]] = []
        digest = hashlib.sha256(f"pdf|{VERSION}|{settings.jpeg_quality}|{self.title}".encode())
        for row in rows:
            record = pub.image(row.image_id)
            if record is None:
                raise NotFound(f"no image for page {row.n} of item {item_id!r}")
            req = _full_request(record.pyramid.width, record.pyramid.height, settings)
            ocr = (pub.iiif_file(f"3/{item_id}/ocr/{row.n}.{OCR_SUFFIX[row.ocr_format]}")
                   if row.ocr_format else None)
            digest.update(f"|{record.key}/{req.canonical(3)}|".encode())
            if ocr is not None:
                digest.update(hashlib.sha256(ocr.read_bytes()).digest())
            self.plan.append((record, req, row, ocr))
        self.key = digest.hexdigest()
        self.cache_key = f"{self.key[:2]}/{self.key}"  # image_cache/pdf/ab/abcd…

    def build(self) -> bytes:
        pages = [PdfPage(rendering(record, req, self.settings)[1], row.width, row.height, _words(ocr, row))
                 for record, req, row, ocr in self.plan]
        return build_pdf(pages, title=self.title)

    def cached(self) -> bool:
        return _cache(self.settings).get(self.cache_key) is not None

    def bytes(self) -> bytes:
        return _cache(self.settings).get_or_render(self.cache_key, self.build)


def send_item_pdf(pub: Publication, item_id: str) -> Response:
    pdf = ItemPdf(pub, item_id, current_app.config["SETTINGS"])
    response = Response(pdf.bytes(), content_type=PDF)
    response.headers["Content-Disposition"] = f'inline; filename="{item_id}.pdf"'
    return cacheable(response, pdf.key, None)


def prebuild(pub: Publication, settings: Settings) -> int:
    """Build the PDFs of every item of ``pub`` not cached yet (ingest, after the switch); returns how many."""
    built = 0
    for item_id in pub.catalog.item_ids():
        try:
            pdf = ItemPdf(pub, item_id, settings)
            if not pdf.cached():
                pdf.bytes()
                built += 1
        except (HeritageError, OSError, ValueError, pyvips.Error, pikepdf.PdfError, img2pdf.ImageOpenError) as exc:
            # a PDF is a convenience: never fail an ingest that is already live
            log.warning("PDF of item %s not built at ingest (it will be on first request): %s", item_id, exc)
    return built


def _title(pub: Publication, item_id: str, language: str) -> str:
    """The item's title in the default language (else any), for the PDF's document information."""
    row = pub.catalog.item(item_id)
    label = row.label if row is not None else {}
    values = label.get(language) or next(iter(label.values()), None) if isinstance(label, dict) else None
    return str(values[0]) if values else item_id


def _words(ocr: Path | None, row: PageRow) -> list[Word]:
    if ocr is None:
        return []
    try:
        return parse_ocr(ocr, row.width, row.height).words
    except OCRError:
        return []  # ingest published this page's OCR, so it parsed then; never fail the PDF for it
