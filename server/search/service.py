"""Read side: one :class:`SearchService` per published generation, shared by all requests.

Engine-independent: the index is a :class:`~server.search.engines.SearchEngine` (Whoosh or Solr,
whichever wrote the generation); this holds the word store and what is read from it.
The generation never changes, so everything read from it can be cached for its lifetime: item
metadata, the lexicon, per-item vocabularies and recent hit lists (Universal Viewer fetches every
``next`` page of a search, which would otherwise recompute the same hits each time).

Within an item, the engine proposes candidate pages and the stored tokens decide: every page is
verified against the whole query, so the hits and totals of Content Search are exact on both engines.
"""
from __future__ import annotations

import gc
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable
from operator import itemgetter
from pathlib import Path
from typing import Generic, TypeVar

from server.ocr.model import Box
from server.search.analysis import tokens
from server.search.engines import EngineSettings, SearchEngine, open_engine
from server.search.lexicon import EXPANSIONS, Vocabulary
from server.search.lexicon_files import load_lexicon
from server.search.match import hit_ranges
from server.search.meta import INDEX_DIR, read_meta
from server.search.model import Hit, HitPart, IndexedItem, ItemSearch
from server.search.query import Fuzzy, Node, Prefix, parse
from server.search.store import StoredPage, item_dir, page_numbers, read_page

CONTEXT_WORDS = 6
AUTOCOMPLETE_LIMIT = 20
HITS_PER_PAGE = 200
SCAN_PAGES = 16
"""Items of at most this many pages are searched on the word store alone: reading and checking
their pages costs less than asking the engine (a Solr round trip), with the same hits — and they
still answer when Solr is unreachable (larger items and site-wide search answer 503 then)."""

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

_third = itemgetter(2)


class ItemHits:
    """An item's hits for one query: per page with hits, ``(n, [(first word, last word, lines)],
    lines of the page's hits)``, in page order, and the totals."""

    __slots__ = ("pages", "total_annotations", "total_hits")

    def __init__(self) -> None:
        self.pages: list[tuple[int, list[tuple[int, int, int]], int]] = []
        self.total_hits = 0
        self.total_annotations = 0


class SearchService:
    """Searches one generation: within an item (Content Search) and site-wide (researchers)."""

    def __init__(self, gen_dir: Path, settings: EngineSettings | None = None) -> None:
        self.gen_dir = Path(gen_dir)
        meta = read_meta(self.gen_dir)
        self.available = meta is not None
        meta = meta or {}
        self.languages: tuple[str, ...] = tuple(meta.get("languages") or ())
        raw_items: dict[str, dict[str, object]] = meta.get("items") or {}
        self.items: dict[str, IndexedItem] = {k: IndexedItem.from_json(k, v) for k, v in raw_items.items()}
        self.page_languages: dict[str, list[str]] = {k: list(v.get("page_languages") or [])  # type: ignore[call-overload]
                                                     for k, v in raw_items.items()}
        self.collections: dict[str, dict[str, list[str]]] = meta.get("collections") or {}
        self.engine_name = str(meta.get("engine") or "whoosh")
        self.engine: SearchEngine | None = open_engine(self.gen_dir, meta, weakref.proxy(self), settings) if self.available else None
        self._vocab: LRU[str, Vocabulary] = LRU(64)
        self._pages: LRU[str, list[int]] = LRU(4096)
        self._hits: LRU[tuple[str, str], ItemHits] = LRU(32)
        self._lexicon: Vocabulary | None = None

    # -- plumbing ------------------------------------------------------------------------
    def has_item(self, item_id: str) -> bool:
        return item_id in self.items

    def page(self, item_id: str, n: int) -> StoredPage | None:
        """A page of the word store, read each time: keeping parsed pages (hundreds of thousands of
        small objects) made the garbage collector cost more than the reads it saved."""
        return read_page(self.gen_dir, item_id, n)

    def page_numbers(self, item_id: str) -> list[int]:
        """The item's pages in the word store, in order."""
        return self._pages.get(item_id, lambda: page_numbers(item_dir(self.gen_dir, item_id)))

    def vocabulary(self, item_id: str) -> Vocabulary:
        return self._vocab.get(item_id, lambda: Vocabulary.load(item_dir(self.gen_dir, item_id) / "vocab.tsv"))

    @property
    def lexicon(self) -> Vocabulary:
        if self._lexicon is None:
            self._lexicon = load_lexicon(self.gen_dir / INDEX_DIR)
        return self._lexicon

    def expander(self, vocabulary: Vocabulary | Callable[[], Vocabulary], complete: bool = False,
                 limit: int = EXPANSIONS) -> Callable[[Node], list[str] | None]:
        """Expansions of prefix and fuzzy leaves over a vocabulary (an item's, or the lexicon).

        ``vocabulary`` may be a function that loads it: it is called only if a leaf needs expanding
        (an item's word list is tens of thousands of lines for a book; a plain word or phrase
        query does not read it).
        ``complete``: every expansion or None (match all pages, to be verified) — within an item,
        where hits must be exact; site-wide the most frequent expansions stand for the rest.
        """
        load = vocabulary if callable(vocabulary) else (lambda: vocabulary)

        def expand(leaf: Node) -> list[str] | None:
            if isinstance(leaf, Prefix):
                words = load()
                if complete and words.count_prefix(leaf.prefix) > limit:
                    return None
                return words.prefix_terms(leaf.prefix, limit)
            if isinstance(leaf, Fuzzy):
                found = load().fuzzy_terms(leaf.text, leaf.distance, limit=limit + 1)
                return None if complete and len(found) > limit else found[:limit]
            return []
        return expand

    # -- within one item -----------------------------------------------------------------
    def item_hits(self, item_id: str, q: str) -> list[PageHit]:
        """Every hit of ``q`` in an item, in page and reading order."""
        return [(n, a, b, lines) for n, hits, _ in self.hits_by_page(item_id, q).pages for a, b, lines in hits]

    def hits_by_page(self, item_id: str, q: str, keep: dict[int, StoredPage] | None = None,
                   keep_hits: int = 0) -> ItemHits:
        """The hits of ``q`` in an item, page by page (cached: a viewer fetches every page of them).

        ``keep``: when the hits are computed here, the pages read for them that hold one of the
        first ``keep_hits`` hits are put there, so the hits shown need not read them again."""
        return self._hits.get((item_id, q), lambda: self._hits_by_page(item_id, q, keep, keep_hits))

    def _hits_by_page(self, item_id: str, q: str, keep: dict[int, StoredPage] | None, keep_hits: int) -> ItemHits:
        tree = parse(q)
        found = ItemHits()
        if tree is None or self.engine is None or item_id not in self.items:
            return found
        pages = self.page_numbers(item_id)
        if len(pages) > SCAN_PAGES:
            pages = self.engine.item_pages(item_id, tree, self.expander(lambda: self.vocabulary(item_id), complete=True))
        total_hits = total_annotations = 0
        for n in pages:
            page = self.page(item_id, n)
            if page is None:
                continue
            hits = hit_ranges(page, tree, verify=True)
            if hits:
                lines = sum(map(_third, hits))
                found.pages.append((n, hits, lines))
                if keep is not None and total_hits < keep_hits:
                    keep[n] = page
                total_hits += len(hits)
                total_annotations += lines
        found.total_hits, found.total_annotations = total_hits, total_annotations
        return found

    def search_item(self, item_id: str, q: str, page: int = 1, page_size: int = HITS_PER_PAGE) -> ItemSearch:
        """One page (1-based) of an item's hits; ``total_annotations`` counts one per line of each hit.

        Totals come from each page's counts: only the pages holding the hits shown are walked hit
        by hit, and their hits alone are built (boxes, text, context)."""
        start = (page - 1) * page_size
        kept: dict[int, StoredPage] = {}
        found = self.hits_by_page(item_id, q, kept, start + page_size)
        chosen: list[tuple[int, int, int]] = []
        if start < 0 or page_size <= 0:  # not asked by the views: the plain slices' answer
            flat = self.item_hits(item_id, q)
            chosen = [(n, a, b) for n, a, b, _ in flat[start:start + page_size]]
            start_annotation = sum(h[3] for h in flat[:start])
        else:
            seen = start_annotation = 0
            for n, hits, lines in found.pages:
                if seen + len(hits) <= start:
                    seen += len(hits)
                    start_annotation += lines
                    continue
                skip = max(start - seen, 0)
                if skip:
                    start_annotation += sum(map(_third, hits[:skip]))
                chosen.extend((n, a, b) for a, b, _ in hits[skip:skip + page_size - len(chosen)])
                seen += len(hits)
                if len(chosen) >= page_size:
                    break
        pages = {n: kept[n] if n in kept else self.page(item_id, n) for n in {h[0] for h in chosen}}
        return ItemSearch(item_id=item_id, q=q,
                          hits=[build_hit(item_id, p, a, b) for n, a, b in chosen if (p := pages[n]) is not None],
                          total_hits=found.total_hits, total_annotations=found.total_annotations,
                          page=page, page_size=page_size, start_hit=min(start, found.total_hits),
                          start_annotation=start_annotation)

    def autocomplete(self, item_id: str, q: str, min_count: int = 1,
                     limit: int = AUTOCOMPLETE_LIMIT) -> list[tuple[str, int]]:
        """Words of the item starting with ``q`` (folded), most frequent first: ``(display form, count)``.

        ``q`` is one string to complete, as the spec asks: text that analyses into more than one
        token ("green bir") completes to nothing.
        """
        toks = tokens(q)
        if len(toks) != 1 or item_id not in self.items:
            return []
        rows = [(display, count) for _, display, count in self.vocabulary(item_id).with_prefix(toks[0])
                if count >= min_count]
        rows.sort(key=lambda r: (-r[1], r[0]))
        return rows[:limit]

    def close(self) -> None:
        if self.engine is not None:
            self.engine.close()


def build_hit(item_id: str, page: StoredPage, first: int, last: int, context: int = CONTEXT_WORDS) -> Hit:
    """A hit with its text, context and one part per physical line (boxes = union of its pieces)."""
    lo = max(0, first - context)
    shown = page.texts_of(lo, last + 1 + context)  # the hit's words and their context, decoded alone
    texts = shown[first - lo:last + 1 - lo]
    before = " ".join(shown[:first - lo])
    after = " ".join(shown[last + 1 - lo:])
    lines: dict[int, tuple[list[Box], list[str], list[str]]] = {}
    for word in range(first, last + 1):
        start, boxes = page.line(word), page.boxes(word)
        for i in range(max(len(boxes), 1)):
            found, starts, continues = lines.setdefault(start + i, ([], [], []))
            if i < len(boxes) and boxes[i][2] > 0 and boxes[i][3] > 0:
                found.append(boxes[i])
            (starts if i == 0 else continues).append(texts[word - first])
    parts = tuple(HitPart(line, union(found), " ".join(starts or continues))
                  for line, (found, starts, continues) in sorted(lines.items()))
    return Hit(item_id=item_id, n=page.n, canvas_width=page.width, canvas_height=page.height,
               first=first, last=last, match=" ".join(texts),
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
_last_used: dict[str, float] = {}
_services_lock = threading.Lock()
KEEP_SERVICES = 2
RELEASE_AFTER_S = 2.0
"""An older generation's service is dropped once another has been asked for and it has not, this long."""


def service_for(gen_dir: Path) -> SearchService:
    """The shared service of a generation.

    Right after a switch both generations stay open (requests begun before it finish on the old
    one); the older is released once it has gone unasked for :data:`RELEASE_AFTER_S`, so a worker
    holds one generation's searchers and caches (per thread), not two, in its steady state."""
    key = str(Path(gen_dir).resolve())
    now = time.monotonic()
    released = False
    with _services_lock:
        service = _services.get(key)
        if service is None:
            service = SearchService(Path(key))
            _services[key] = service
        else:
            _services.move_to_end(key)
        _last_used[key] = now
        for old in list(_services):
            if len(_services) > KEEP_SERVICES or (old != key and now - _last_used.get(old, now) > RELEASE_AFTER_S):
                _services.pop(old)
                _last_used.pop(old, None)
                released = True
            else:
                break
    if released:
        gc.collect()  # Whoosh's searchers refer to their parents: only the collector frees them
    return service
