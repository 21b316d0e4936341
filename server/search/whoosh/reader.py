"""Read side of the Whoosh engine: one index per generation, one searcher per thread.

Within an item, matching skips straight to the item's range of document numbers (ingest adds an
item's pages together), so it costs what the item costs. Site-wide, an unscored pass finds every
matching page by set algebra over whole postings lists (:class:`DocSets`), and a scored pass ranks
the best pages. The index keeps no positions (see :mod:`.schema`): phrases other than two words
with a common word are approximate, and are verified on the word store when there are few enough
matches (:data:`VERIFY_LIMIT`); beyond that, site-wide phrase counts may include pages where the
words occur apart (documented; Solr's are exact).
"""
from __future__ import annotations

import bisect
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from whoosh import index as windex
from whoosh import query as wq
from whoosh.filedb.filestore import FileStorage
from whoosh.searching import Searcher

from server.search.engines import Catalog, Expand, SiteRequest, SiteSelection
from server.search.facets import select
from server.search.match import PageMatcher
from server.search.query import Node
from server.search.whoosh.schema import DocSets, approximate, to_whoosh
from server.search.whoosh.writer import INDEX_DIR

VERIFY_LIMIT = 500
BLOCK = 128
"""Postings per block of Whoosh's format: ``skip_to`` reads one block header per ``BLOCK``
documents before the target, so skipping to an item costs what the archive costs."""
BLOCKS_PER_PAGE = 15
"""About what reading and checking one page of the word store costs, in block headers skipped."""
"""Approximate matches (see :func:`approximate`) are checked on the stored tokens up to this many pages."""


class ItemDocs:
    """An item's documents: one docnum range ``[lo, hi)`` (ingest adds an item's pages together);
    ``members`` only if, against expectation, they are not contiguous."""

    __slots__ = ("hi", "lo", "members")

    def __init__(self, lo: int, hi: int, members: frozenset[int] | None) -> None:
        self.lo, self.hi, self.members = lo, hi, members

    def count_in(self, sorted_docs: Sequence[int]) -> int:
        if self.members is not None:
            return sum(1 for d in sorted_docs[bisect.bisect_left(sorted_docs, self.lo):
                                              bisect.bisect_left(sorted_docs, self.hi)] if d in self.members)
        return bisect.bisect_left(sorted_docs, self.hi) - bisect.bisect_left(sorted_docs, self.lo)

    def docs_in(self, sorted_docs: Sequence[int]) -> list[int]:
        found = sorted_docs[bisect.bisect_left(sorted_docs, self.lo):bisect.bisect_left(sorted_docs, self.hi)]
        return list(found) if self.members is None else [d for d in found if d in self.members]


class WhooshEngine:
    """:class:`~server.search.engines.SearchEngine` over ``{gen}/index``; ``words`` is the
    generation's word store (pages, for verifying approximate matches)."""

    def __init__(self, gen_dir: Path, meta: dict[str, Any], words: Any) -> None:
        self.languages: tuple[str, ...] = tuple(meta.get("languages") or ())
        self.words = words
        # no mmap: Whoosh would copy each mapped segment file into a BytesIO for every searcher,
        # i.e. the whole index once per thread and open generation; read through files instead,
        # the index stays in the OS page cache, shared by threads, workers and nodes (bench/README.md)
        self._index = windex.FileIndex(FileStorage(str(Path(gen_dir) / INDEX_DIR), supports_mmap=False, readonly=True))
        self._local = threading.local()
        self._lock = threading.Lock()
        self._item_docs: dict[str, ItemDocs] | None = None

    def searcher(self) -> Searcher:
        """This thread's searcher (opened once per thread and generation)."""
        s = getattr(self._local, "searcher", None)
        if s is None:
            s = self._index.searcher()
            self._local.searcher = s
        return s

    def item_docs(self) -> dict[str, ItemDocs]:
        """Every item's documents, read once from the ``item`` column (live documents only)."""
        if self._item_docs is None:
            with self._lock:
                if self._item_docs is None:
                    self._item_docs = self._read_item_docs()
        return self._item_docs

    def _read_item_docs(self) -> dict[str, ItemDocs]:
        reader = self.searcher().reader()
        column = reader.column_reader("item")
        found: dict[str, list[int]] = {}
        for doc in reader.all_doc_ids():
            value = column[doc]
            found.setdefault(value.decode("utf-8") if isinstance(value, bytes) else value, []).append(doc)
        out = {}
        for item_id, docs in found.items():
            lo, hi = docs[0], docs[-1] + 1
            out[item_id] = ItemDocs(lo, hi, None if hi - lo == len(docs) else frozenset(docs))
        return out

    def item_pages(self, item_id: str, tree: Node, expand: Expand) -> list[int]:
        docs = self.item_docs().get(item_id)
        if docs is None:
            return []
        searcher = self.searcher()
        query = to_whoosh(tree, self.languages, expand, exact_negations=True)
        ncol = searcher.reader().column_reader("n")
        skipped = sum(searcher.doc_frequency(field, text) for field, text in query.all_terms()) / BLOCK
        if skipped > BLOCKS_PER_PAGE * (docs.hi - docs.lo):
            # frequent words in a large archive: every page of the item is a candidate, checked
            # on the word store, so the cost stays the item's, whatever the archive's size
            found: Sequence[int] = range(docs.lo, docs.hi) if docs.members is None else sorted(docs.members)
        else:
            found = docs_matching(searcher, query, docs)
        return sorted(int(ncol[d]) for d in found)

    def site_matches(self, tree: Node | None, expand: Expand, rank_expand: Expand, top: int = 0) -> WhooshMatches:
        return WhooshMatches(self, tree, expand, rank_expand)

    def site_search(self, request: SiteRequest, expand: Expand, rank_expand: Expand,
                    catalog: Catalog) -> SiteSelection:
        return select(self.site_matches(request.tree, expand, rank_expand), request, catalog)

    def close(self) -> None:
        self._index.close()


class WhooshMatches:
    """Every matching document of a site-wide query, as sorted docnums."""

    def __init__(self, engine: WhooshEngine, tree: Node | None, expand: Expand, rank_expand: Expand) -> None:
        self.engine = engine
        self.tree = tree
        self.rank_expand = rank_expand
        reader = engine.searcher().reader()
        self.ncol = reader.column_reader("n")
        self.owners = Owners(engine.item_docs())
        if tree is None:
            docs = sorted(reader.all_doc_ids())
        else:
            docs = sorted(DocSets(reader, engine.languages, expand).of(tree))
        self.verified = False
        if tree is not None and approximate(tree, engine.languages) and len(docs) <= VERIFY_LIMIT:
            docs, self.verified = self._verified(tree, docs), True
        self.docs = docs
        self.counts = self.owners.count(docs)

    def _verified(self, tree: Node, docs: list[int]) -> list[int]:
        """The documents whose stored tokens satisfy the query exactly."""
        out = []
        for doc in docs:
            owner = self.owners.owner(doc)
            page = self.engine.words.page(owner, int(self.ncol[doc])) if owner else None
            if page is not None and PageMatcher.of(page).matches(tree):
                out.append(doc)
        return out

    def ranked(self, items: set[str] | None, limit: int) -> list[tuple[str, int, float]]:
        if self.tree is None:
            return []
        restricted = self.verified or items is not None
        chosen = items if items is not None else set(self.counts)
        allowed = {d for i in chosen if i in self.owners.docs for d in self.owners.docs[i].docs_in(self.docs)} \
            if restricted else None
        searcher = self.engine.searcher()
        ranking = to_whoosh(self.tree, self.engine.languages, self.rank_expand)
        out = []
        for score, doc in searcher.search(ranking, limit=limit, filter=allowed).top_n:
            owner = self.owners.owner(doc)
            if owner is not None:
                out.append((owner, int(self.ncol[doc]), score))
        return out

    def first_pages(self, item_ids: list[str], limit: int) -> dict[str, list[int]]:
        out: dict[str, list[int]] = {}
        for item_id in item_ids:
            docs = self.owners.docs.get(item_id)
            out[item_id] = [] if docs is None else [int(self.ncol[d]) for d in docs.docs_in(self.docs)[:limit]]
        return out


class Owners:
    """Which item a document belongs to, and how many matching documents each item has."""

    def __init__(self, item_docs: dict[str, ItemDocs]) -> None:
        self.docs = item_docs
        ranges = sorted((d.lo, d.hi, i) for i, d in item_docs.items() if d.members is None and d.hi > d.lo)
        self.starts = [r[0] for r in ranges]
        self.ranges = ranges
        self.scattered = {i: d for i, d in item_docs.items() if d.members is not None}

    def owner(self, doc: int) -> str | None:
        k = bisect.bisect_right(self.starts, doc) - 1
        if k >= 0 and doc < self.ranges[k][1]:
            return self.ranges[k][2]
        for item_id, d in self.scattered.items():
            if d.members is not None and doc in d.members:
                return item_id
        return None

    def count(self, sorted_docs: list[int]) -> dict[str, int]:
        """Matching documents per item, jumping from item to item through the sorted docnums."""
        counts: dict[str, int] = {}
        k = 0
        while k < len(sorted_docs):
            r = bisect.bisect_right(self.starts, sorted_docs[k]) - 1
            if r >= 0 and sorted_docs[k] < self.ranges[r][1]:
                end = bisect.bisect_left(sorted_docs, self.ranges[r][1], k)
                counts[self.ranges[r][2]] = end - k
                k = end
            else:
                k += 1
        for item_id, d in self.scattered.items():
            c = d.count_in(sorted_docs)
            if c:
                counts[item_id] = c
        return counts


def docs_matching(searcher: Searcher, query: wq.Query, docs: ItemDocs, scored: bool = False) -> list[int]:
    """Matching docnums within one item: skip straight to its range instead of intersecting the
    query with the item's postings (a common word matches most of the index)."""
    return [d for d, _ in scored_docs(searcher, query, docs, scored)]


def scored_docs(searcher: Searcher, query: wq.Query, docs: ItemDocs, scored: bool = True) -> list[tuple[int, float]]:
    if docs.hi <= docs.lo:
        return []
    matcher = query.matcher(searcher, None if scored else searcher.boolean_context())
    out: list[tuple[int, float]] = []
    if matcher.is_active() and matcher.id() < docs.lo:
        matcher.skip_to(docs.lo)
    while matcher.is_active():
        doc = matcher.id()
        if doc >= docs.hi:
            break
        if docs.members is None or doc in docs.members:
            out.append((doc, matcher.score() if scored else 0.0))
        matcher.next()
    return out
