"""Glue for ingest: holdings metadata and published pages → what the search index needs."""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from server.ocr import OCRError, parse_ocr
from server.search.model import IndexedItem, IndexedPage

if TYPE_CHECKING:
    from server.publication import Publication


def collection_path(collection_id: str, collections: Mapping[str, Any]) -> list[str]:
    """Collection ids from the top collection down to ``collection_id`` (cycles and unknown ids stop the walk)."""
    path: list[str] = []
    current: str | None = collection_id
    while current and current not in path:
        path.append(current)
        parent = getattr(collections.get(current), "parent", None)
        current = parent or None
    return path[::-1]


def indexed_item(item: Any, collections: Mapping[str, Any]) -> IndexedItem:
    """The search view of a holdings :class:`~server.holdings.model.Item`."""
    date = getattr(item, "date", None)
    return IndexedItem(item_id=item.id, label=dict(item.title), collection_path=collection_path(item.collection, collections),
                       type=item.type, date=date.display if date is not None else None,
                       year=date.start.year if date is not None else None, languages=list(item.language))


def collection_labels(collections: Mapping[str, Any]) -> dict[str, dict[str, list[str]]]:
    """Facet labels: each collection's title (a language map)."""
    return {cid: dict(c.title) for cid, c in collections.items()}


def pages_from_publication(pub: Publication, item_id: str) -> list[IndexedPage]:
    """An item's pages with OCR, re-read from a published generation: its catalog's ``pages``
    rows and the OCR copies ingest keeps in ``iiif/3/{item}/ocr/{n}.xml|hocr``.

    For an item ingest did not re-read this time (unchanged, or carried over) when the previous
    generation's index cannot be kept (the first ingest with search, or a new index format).
    Unreadable OCR is skipped: it was reported when the item was published.
    """
    pages: list[IndexedPage] = []
    for r in pub.catalog.pages(item_id):
        if not r.ocr_format:
            continue
        path = Path(pub.root) / "iiif" / "3" / item_id / "ocr" / f"{r.n}.{'xml' if r.ocr_format == 'alto' else 'hocr'}"
        try:
            text = parse_ocr(path, r.width, r.height)
        except (OSError, OCRError):
            continue
        pages.append(IndexedPage(int(r.n), r.label or "", int(r.width), int(r.height), text))
    return pages
