"""What ingest hands to the search index, and the hit model both Content Search versions are built from."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from server.ocr.model import Box, PageText


@dataclass(frozen=True)
class IndexedItem:
    """An item as search sees it: enough metadata for facets, filters, sorting and result labels.

    ``label`` is a IIIF language map; ``collection_path`` lists collection ids from the top
    collection down to the item's own; ``date`` is for display, ``year`` for sorting, facets and
    the date-range filter; ``languages`` are ISO 639 codes from the item's metadata (they also
    choose the stemmer of pages whose OCR names no language).
    """

    item_id: str
    label: dict[str, list[str]]
    collection_path: list[str]
    type: str
    date: str | None = None
    year: int | None = None
    languages: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        return {"label": self.label, "collection_path": list(self.collection_path), "type": self.type,
                "date": self.date, "year": self.year, "languages": list(self.languages)}

    @classmethod
    def from_json(cls, item_id: str, data: dict[str, Any]) -> IndexedItem:
        year = data.get("year")
        return cls(item_id, dict(data.get("label") or {}), list(data.get("collection_path") or []),
                   str(data.get("type") or ""), data.get("date") or None,
                   int(year) if isinstance(year, int) else None, list(data.get("languages") or []))


@dataclass(frozen=True)
class IndexedPage:
    """One canvas with its OCR, already parsed into canvas pixels (``n`` is 1-based)."""

    n: int
    label: str
    canvas_width: int
    canvas_height: int
    page: PageText


@dataclass(frozen=True)
class HitPart:
    """The piece of a hit on one physical line: one annotation in both Content Search versions.

    ``box`` is the union of the hit's word pieces on that line, in canvas pixels, or None when the
    OCR gave those words no usable coordinates (the annotation then targets the whole canvas).
    """

    line: int
    box: Box | None
    text: str


@dataclass(frozen=True)
class Hit:
    """One match of the query on one page: consecutive words ``first``..``last`` (word indices)."""

    item_id: str
    n: int
    canvas_width: int
    canvas_height: int
    first: int
    last: int
    match: str
    before: str
    after: str
    parts: tuple[HitPart, ...]

    @property
    def key(self) -> str:
        """Stable within a generation: names the hit's annotations."""
        return f"{self.n}-{self.first}-{self.last}"


@dataclass(frozen=True)
class ItemSearch:
    """One page of within-item results, plus what paging needs."""

    item_id: str
    q: str
    hits: list[Hit]
    total_hits: int
    total_annotations: int
    page: int
    page_size: int
    start_hit: int
    start_annotation: int

    @property
    def last_page(self) -> int:
        return max(1, -(-self.total_hits // self.page_size))
