"""What the public pages read from a publication: collections, items, pages, counts.

Built on the catalog's typed reads (``pub.catalog``, :mod:`server.catalog.reads`), plain dataclasses
out; no Flask, so it can be tested (and reused by a static exporter) without a request. Whole-tree
facts (item counts per subtree, a thumbnail per collection) are computed once per generation and
memoised.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..catalog import ItemRow, PageRow, parse_data
from ..ids import is_safe_id
from ..publication import Publication


@dataclass(frozen=True)
class Page:
    n: int
    image_id: str
    width: int
    height: int
    label: str | None = None
    has_ocr: bool = False


@dataclass(frozen=True)
class ItemSummary:
    id: str
    collection: str
    type: str
    date: str | None
    label: dict[str, list[str]]
    pages: int
    first_page: Page | None


@dataclass(frozen=True)
class CollectionNode:
    id: str
    parent: str | None
    position: int
    label: dict[str, list[str]]
    summary: dict[str, list[str]]
    item_count: int = 0          # items in the whole subtree
    thumbnail: Page | None = None  # first page of the subtree's first item
    children: list[CollectionNode] = field(default_factory=list)


@dataclass(frozen=True)
class Tree:
    """The collection tree of one generation, with subtree counts and thumbnails."""

    nodes: dict[str, CollectionNode]
    roots: list[str]

    def ancestors(self, coll_id: str) -> list[CollectionNode]:
        """From the top down to the parent of ``coll_id`` (cycles, which ingest forbids, stop it)."""
        chain: list[CollectionNode] = []
        seen = {coll_id}
        node = self.nodes.get(coll_id)
        while node is not None and node.parent and node.parent not in seen:
            seen.add(node.parent)
            parent = self.nodes.get(node.parent)
            if parent is None:
                break
            chain.append(parent)
            node = parent
        return list(reversed(chain))

    def walk(self) -> Iterable[tuple[int, CollectionNode]]:
        """Depth-first, in catalog order: ``(depth, node)``."""
        stack = [(0, self.nodes[r]) for r in reversed(self.roots)]
        seen: set[str] = set()
        while stack:
            depth, node = stack.pop()
            if node.id in seen:
                continue
            seen.add(node.id)
            yield depth, node
            stack.extend((depth + 1, child) for child in reversed(node.children))


def _page(row: PageRow) -> Page:
    return Page(row.n, row.image_id, row.width, row.height, row.label or None, bool(row.ocr_format))


_trees: dict[Path, Tree] = {}
KEEP_TREES = 2
_trees_lock = threading.Lock()


def tree(pub: Publication) -> Tree:
    """The memoised collection tree of this generation."""
    cached = _trees.get(pub.root)
    if cached is not None:
        return cached
    with _trees_lock:
        if pub.root not in _trees:
            while len(_trees) >= KEEP_TREES:  # the generation before stays for requests begun on it
                del _trees[next(iter(_trees))]
            _trees[pub.root] = _build_tree(pub)
        return _trees[pub.root]


def _build_tree(pub: Publication) -> Tree:
    rows = pub.catalog.collections()
    direct = pub.catalog.item_counts()
    # first item (by position) of each collection that holds items directly, with its first page:
    # one pass over items, then one primary-key lookup per collection
    firsts: dict[str, Page] = {}
    for coll_id, first_item in pub.catalog.first_items().items():
        first = pub.catalog.first_page(first_item)
        if first is not None:
            firsts[coll_id] = _page(first)
    ids = {r.id for r in rows}
    children_of: dict[str, list[str]] = {}
    roots: list[str] = []
    for r in rows:
        parent = r.parent or None
        if parent and parent in ids and parent != r.id:
            children_of.setdefault(parent, []).append(r.id)
        else:
            roots.append(r.id)
    data = {r.id: (r.parent or None, r.position, r.info) for r in rows}
    nodes: dict[str, CollectionNode] = {}

    def build(coll_id: str, path: frozenset[str]) -> CollectionNode:
        if coll_id in nodes:
            return nodes[coll_id]
        parent, position, d = data[coll_id]
        kids = [build(c, path | {c}) for c in children_of.get(coll_id, []) if c not in path]
        count = direct.get(coll_id, 0) + sum(k.item_count for k in kids)
        thumb = firsts.get(coll_id) or next((k.thumbnail for k in kids if k.thumbnail), None)
        node = CollectionNode(coll_id, parent, position, d.get("label") or {}, d.get("summary") or {},
                              count, thumb, kids)
        nodes[coll_id] = node
        return node

    for root in roots:
        build(root, frozenset({root}))
    for coll_id in ids - set(nodes):  # unreachable (a cycle): still addressable
        build(coll_id, frozenset({coll_id}))
    return Tree(nodes, roots)


# --------------------------------------------------------------------------- items


def _item(row: ItemRow, first: Page | None) -> ItemSummary:
    return ItemSummary(row.id, row.collection, row.type, row.date, row.label, int(row.info.get("pages") or 0), first)


def _with_first_pages(pub: Publication, rows: list[ItemRow]) -> list[ItemSummary]:
    firsts = pub.catalog.first_pages([r.id for r in rows])
    return [_item(r, _page(firsts[r.id]) if r.id in firsts else None) for r in rows]


def item(pub: Publication, item_id: str) -> ItemSummary | None:
    if not is_safe_id(item_id):
        return None
    row = pub.catalog.item(item_id)
    return _with_first_pages(pub, [row])[0] if row is not None else None


def pages(pub: Publication, item_id: str) -> list[Page]:
    return [_page(r) for r in pub.catalog.pages(item_id)]


def items_in(pub: Publication, coll_id: str, offset: int, limit: int,
             year: int | None = None, month: int | None = None) -> tuple[int, list[ItemSummary]]:
    """``(total, one page of items)`` held directly by a collection, optionally of one year/month.

    Serials are listed by date, everything else in catalog order.
    """
    total, rows = pub.catalog.items_in(coll_id, offset, limit, year, month)
    return total, _with_first_pages(pub, rows)


def is_serial(pub: Publication, coll_id: str) -> bool:
    """True when the collection holds newspaper or periodical issues: browsed by year and month."""
    return pub.catalog.is_serial(coll_id)


def years(pub: Publication, coll_id: str) -> list[tuple[int, int]]:
    """``[(year, issues)]`` of a collection's dated items, oldest first."""
    return pub.catalog.years(coll_id)


def months(pub: Publication, coll_id: str, year: int) -> list[tuple[int, int]]:
    """``[(month, issues)]`` of one year (items dated to the year only are left out)."""
    return pub.catalog.months(coll_id, year)


def recent(pub: Publication, limit: int) -> list[ItemSummary]:
    """The items ingest wrote last (the catalog keeps no publication date: insertion order stands in)."""
    return _with_first_pages(pub, pub.catalog.recent(limit))


def all_item_ids(pub: Publication) -> list[str]:
    return pub.catalog.item_ids()


def ocr_engine(pub: Publication, item_id: str) -> str | None:
    """The OCR engine ingest ran on the item's pages ("Tesseract 5.3.0"); None when its OCR was supplied."""
    row = pub.catalog.item(item_id)
    engine = row.info.get("ocr_engine") if row is not None else None
    return engine if isinstance(engine, str) else None


def has_text(pub: Publication, item_id: str) -> bool:
    return pub.iiif_file(f"3/{item_id}/text.txt").is_file()


def manifest(pub: Publication, item_id: str) -> dict[str, Any]:
    """The pre-built manifest JSON of an item (ids as baked at ingest: read labels, not URLs).

    Memoised per generation (the file never changes); callers must not modify the result.
    """
    if not is_safe_id(item_id):
        return {}
    return _manifest(str(pub.iiif_file(f"3/{item_id}/manifest.json")))


MANIFEST_CACHE_BYTES = 8 * 1024 * 1024
"""Parsed manifests kept, counted by their files' size: a 1,000-page manifest is 1.3 MiB of JSON and
several times that parsed, so a count alone would let a worker's memory grow with the items visited."""
_manifests: OrderedDict[str, tuple[int, dict[str, Any]]] = OrderedDict()
_manifest_bytes = 0
_manifests_lock = threading.Lock()


def _manifest(path: str) -> dict[str, Any]:
    global _manifest_bytes
    with _manifests_lock:
        found = _manifests.get(path)
        if found is not None:
            _manifests.move_to_end(path)
            return found[1]
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError:
        return {}
    doc = parse_data(text)
    size = len(text)
    with _manifests_lock:
        if path not in _manifests and size <= MANIFEST_CACHE_BYTES:
            _manifests[path] = (size, doc)
            _manifest_bytes += size
            while _manifest_bytes > MANIFEST_CACHE_BYTES:
                _manifest_bytes -= _manifests.popitem(last=False)[1][0]
    return doc
