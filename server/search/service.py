"""Read side: one :class:`SearchService` per published generation, shared by all requests.

The generation never changes, so everything read from it can be cached for its lifetime: the
Whoosh index (one searcher per thread: Whoosh searchers are not meant to be shared across
threads), item metadata, per-item vocabularies and recent hit lists (Universal Viewer fetches
every ``next`` page of a search, which would otherwise recompute the same hits each time).
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path
from typing import Callable, Generic, Hashable, TypeVar

from whoosh import index as windex
from whoosh import query as wq
from whoosh.searching import Searcher

from server.ocr.model import Box
from server.search.analysis import tokens
from server.search.match import hit_ranges
from server.search.model import Hit, HitPart, IndexedItem, ItemSearch
from server.search.query import AllOf, parse, to_whoosh
from server.search.store import StoredPage, Vocabulary, read_page
from server.search.writer import INDEX_DIR, read_meta

CONTEXT_WORDS = 6
AUTOCOMPLETE_LIMIT = 20
HITS_PER_PAGE = 200

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class LRU(Generic[K, V]):
    """A small thread-safe LRU cache."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._data: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K, make: Callable[[], V]) -> V:
        with self._lock:
            if key in self._data:
                self._data.move_to_end(key)
                return self._data[key]
        value = make()
        with self._lock:
            self._data[key] = value
            while len(self._data) > self.size:
                self._data.popitem(last=False)
        return value


PageHit = tuple[int, int, int, int]
"""``(page n, first word, last word, lines)`` of one hit."""


class SearchService:
    """Searches one generation: within an item (Content Search) and site-wide (researchers)."""

    def __init__(self, gen_dir: Path) -> None:
        self.gen_dir = Path(gen_dir)
        meta = read_meta(self.gen_dir)
        self.available = meta is not None
        meta = meta or {}
        self.languages: tuple[str, ...] = tuple(meta.get("languages") or ())  # type: ignore[arg-type]
        raw_items: dict[str, dict[str, object]] = meta.get("items") or {}  # type: ignore[assignment]
        self.items: dict[str, IndexedItem] = {k: IndexedItem.from_json(k, v) for k, v in raw_items.items()}
        self.page_languages: dict[str, list[str]] = {k: list(v.get("page_languages") or [])  # type: ignore[call-overload]
                                                     for k, v in raw_items.items()}
        self.collections: dict[str, dict[str, list[str]]] = meta.get("collections") or {}  # type: ignore[assignment]
        self._index = windex.open_dir(str(self.gen_dir / INDEX_DIR)) if self.available else None
        self._local = threading.local()
        self._vocab: LRU[str, Vocabulary] = LRU(64)
        self._hits: LRU[tuple[str, str], list[PageHit]] = LRU(32)
        self._ranges: dict[str, tuple[int, int, frozenset[int] | None]] = {}

    # -- plumbing ------------------------------------------------------------------------
    def searcher(self) -> Searcher:
        """This thread's searcher (opened once per thread and generation)."""
        s = getattr(self._local, "searcher", None)
        if s is None:
            if self._index is None:
                raise RuntimeError("no search index in this generation")
            s = self._index.searcher()
            self._local.searcher = s
        return s

    def has_item(self, item_id: str) -> bool:
        return item_id in self.items

    def page(self, item_id: str, n: int) -> StoredPage | None:
        return read_page(self.gen_dir, item_id, n)

    # -- within one item -----------------------------------------------------------------
    def item_hits(self, item_id: str, q: str) -> list[PageHit]:
        """Every hit of ``q`` in an item, in page and reading order."""
        return self._hits.get((item_id, q), lambda: self._item_hits(item_id, q))

    def _item_hits(self, item_id: str, q: str) -> list[PageHit]:
        tree = parse(q)
        if tree is None or not self.available or item_id not in self.items:
            return []
        searcher = self.searcher()
        ncol = searcher.reader().column_reader("n")
        query = to_whoosh(tree, self.languages, searcher.reader())
        hits: list[PageHit] = []
        for n in sorted({int(ncol[d]) for d in self._docs_in_item(searcher, query, item_id)}):
            page = self.page(item_id, n)
            if page is not None:
                hits.extend((n, a, b, lines) for a, b, lines in hit_ranges(page, tree))
        return hits

    def _item_docs(self, searcher: Searcher, item_id: str) -> tuple[int, int, frozenset[int] | None]:
        """The item's documents: ingest adds them together, so they are one docnum range
        ``[lo, hi)``; the set is only kept if, against expectation, they are not contiguous."""
        found = self._ranges.get(item_id)
        if found is None:
            ids = sorted(searcher.reader().postings("item", item_id).all_ids()) \
                if searcher.reader().doc_frequency("item", item_id) else []
            if not ids:
                found = (0, 0, None)
            else:
                lo, hi = ids[0], ids[-1] + 1
                found = (lo, hi, None if hi - lo == len(ids) else frozenset(ids))
            self._ranges[item_id] = found
        return found

    def _docs_in_item(self, searcher: Searcher, query: wq.Query, item_id: str) -> list[int]:
        """Matching docnums of one item: skip straight to its range instead of intersecting
        the query with the item's postings (a common word matches most of the index)."""
        lo, hi, members = self._item_docs(searcher, item_id)
        if hi <= lo:
            return []
        matcher = query.matcher(searcher)
        out: list[int] = []
        if matcher.is_active() and matcher.id() < lo:
            matcher.skip_to(lo)
        while matcher.is_active():
            doc = matcher.id()
            if doc >= hi:
                break
            if members is None or doc in members:
                out.append(doc)
            matcher.next()
        return out

    def search_item(self, item_id: str, q: str, page: int = 1, page_size: int = HITS_PER_PAGE) -> ItemSearch:
        """One page (1-based) of an item's hits; ``total_annotations`` counts one per line of each hit."""
        hits = self.item_hits(item_id, q)
        start = (page - 1) * page_size
        chosen = hits[start:start + page_size]
        pages = {n: self.page(item_id, n) for n in {h[0] for h in chosen}}
        return ItemSearch(item_id=item_id, q=q,
                          hits=[build_hit(item_id, pages[n], a, b) for n, a, b, _ in chosen  # type: ignore[arg-type]
                                if pages[n] is not None],
                          total_hits=len(hits), total_annotations=sum(h[3] for h in hits),
                          page=page, page_size=page_size, start_hit=min(start, len(hits)),
                          start_annotation=sum(h[3] for h in hits[:start]))

    def autocomplete(self, item_id: str, q: str, min_count: int = 1,
                     limit: int = AUTOCOMPLETE_LIMIT) -> list[tuple[str, int]]:
        """Words of the item starting with ``q`` (folded), most frequent first: ``(display form, count)``.

        ``q`` is one string to complete, as the spec asks: text that analyses into more than one
        token ("green bir") completes to nothing.
        """
        toks = tokens(q)
        if len(toks) != 1 or item_id not in self.items:
            return []
        vocab = self._vocab.get(item_id, lambda: Vocabulary.load(self.gen_dir, item_id))
        rows = [(display, count) for _, display, count in vocab.with_prefix(toks[0]) if count >= min_count]
        rows.sort(key=lambda r: (-r[1], r[0]))
        return rows[:limit]

    def close(self) -> None:
        if self._index is not None:
            self._index.close()


def build_hit(item_id: str, page: StoredPage, first: int, last: int, context: int = CONTEXT_WORDS) -> Hit:
    """A hit with its text, context and one part per physical line (boxes = union of its pieces)."""
    words = page.words
    before = " ".join(w[0] for w in words[max(0, first - context):first])
    after = " ".join(w[0] for w in words[last + 1:last + 1 + context])
    lines: dict[int, tuple[list[Box], list[str], list[str]]] = {}
    for text, line, flat in words[first:last + 1]:
        for i in range(max(len(flat) // 4, 1)):
            boxes, starts, continues = lines.setdefault(line + i, ([], [], []))
            box = flat[4 * i:4 * i + 4]
            if len(box) == 4 and box[2] > 0 and box[3] > 0:
                boxes.append(tuple(box))  # type: ignore[arg-type]
            (starts if i == 0 else continues).append(text)
    parts = tuple(HitPart(line, union(boxes), " ".join(starts or continues))
                  for line, (boxes, starts, continues) in sorted(lines.items()))
    return Hit(item_id=item_id, n=page.n, canvas_width=page.width, canvas_height=page.height,
               first=first, last=last, match=" ".join(w[0] for w in words[first:last + 1]),
               before=before + " " if before else "", after=" " + after if after else "", parts=parts)


def union(boxes: list[Box]) -> Box | None:
    if not boxes:
        return None
    x0 = min(b[0] for b in boxes)
    y0 = min(b[1] for b in boxes)
    x1 = max(b[0] + b[2] for b in boxes)
    y1 = max(b[1] + b[3] for b in boxes)
    return (x0, y0, x1 - x0, y1 - y0)


_services: OrderedDict[str, SearchService] = OrderedDict()
_services_lock = threading.Lock()
KEEP_SERVICES = 2


def service_for(gen_dir: Path) -> SearchService:
    """The shared service of a generation; the two most recent generations stay open."""
    key = str(Path(gen_dir).resolve())
    with _services_lock:
        service = _services.get(key)
        if service is None:
            service = SearchService(Path(key))
            _services[key] = service
            while len(_services) > KEEP_SERVICES:
                _services.popitem(last=False)  # closed when the last request using it is done (GC)
        else:
            _services.move_to_end(key)
        return service


def is_query(q: str | None) -> bool:
    """True when ``q`` holds something searchable."""
    return isinstance(parse(q), AllOf)
