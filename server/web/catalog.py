"""What the public pages read from a publication: collections, items, pages, counts.

Only SQL over the immutable catalog of one generation, and plain dataclasses out; no Flask, so
it can be tested (and reused by a static exporter) without a request. Whole-tree facts (item
counts per subtree, a thumbnail per collection) are computed once per generation and memoised.
"""
from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..holdings.model import SAFE_ID
from ..publication import Publication

SERIAL_TYPES = ("newspaper", "periodical")
# the year (and month) an item is browsed under: the start of its date, whatever its precision
YEAR_SQL = "CAST(substr(date, 1, 4) AS INTEGER)"
MONTH_SQL = "CASE WHEN substr(date, 5, 1) = '-' THEN CAST(substr(date, 6, 2) AS INTEGER) END"


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


def _json(text: str | None) -> dict[str, Any]:
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _page(row: Any) -> Page:
    return Page(row["n"], row["image_id"], row["width"], row["height"], row["label"] or None,
                bool(row["ocr_format"]))


_trees: dict[Path, Tree] = {}
_trees_lock = threading.Lock()


def tree(pub: Publication) -> Tree:
    """The memoised collection tree of this generation."""
    cached = _trees.get(pub.root)
    if cached is not None:
        return cached
    with _trees_lock:
        if pub.root not in _trees:
            if len(_trees) > 8:
                _trees.clear()
            _trees[pub.root] = _build_tree(pub)
        return _trees[pub.root]


def _build_tree(pub: Publication) -> Tree:
    rows = pub.query("SELECT id, parent, position, data FROM collections ORDER BY position, id")
    direct = {r["collection"]: r["n"] for r in pub.query("SELECT collection, COUNT(*) AS n FROM items GROUP BY collection")}
    # first item (by position) of each collection that holds items directly, with its first page:
    # one pass over items, then one primary-key lookup per collection
    firsts: dict[str, Page] = {}
    for r in pub.query(
        "SELECT i.collection, MIN(i.id) AS id FROM items i JOIN (SELECT collection, MIN(position) AS p "
        "FROM items GROUP BY collection) f ON f.collection = i.collection AND f.p = i.position GROUP BY i.collection"
    ):
        pages = pub.query("SELECT n, image_id, width, height, label, ocr_format FROM pages WHERE item_id = ? "
                          "ORDER BY n LIMIT 1", r["id"])
        if pages:
            firsts[r["collection"]] = _page(pages[0])
    ids = {r["id"] for r in rows}
    children_of: dict[str, list[str]] = {}
    roots: list[str] = []
    for r in rows:
        parent = r["parent"] or None
        if parent and parent in ids and parent != r["id"]:
            children_of.setdefault(parent, []).append(r["id"])
        else:
            roots.append(r["id"])
    data = {r["id"]: (r["parent"] or None, r["position"], _json(r["data"])) for r in rows}
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


def _item(row: Any, first: Page | None) -> ItemSummary:
    d = _json(row["data"])
    return ItemSummary(row["id"], row["collection"], row["type"], row["date"], d.get("label") or {},
                       int(d.get("pages") or 0), first)


def _with_first_pages(pub: Publication, rows: list[Any]) -> list[ItemSummary]:
    if not rows:
        return []
    marks = ",".join("?" * len(rows))
    firsts: dict[str, Page] = {}
    for r in pub.query(
        f"SELECT item_id, n, image_id, width, height, label, ocr_format FROM pages WHERE item_id IN ({marks}) "
        "ORDER BY item_id, n", *[r["id"] for r in rows]
    ):
        firsts.setdefault(r["item_id"], _page(r))
    return [_item(r, firsts.get(r["id"])) for r in rows]


def item(pub: Publication, item_id: str) -> ItemSummary | None:
    if not SAFE_ID.match(item_id):
        return None
    rows = pub.query("SELECT id, collection, type, date, data FROM items WHERE id = ?", item_id)
    return _with_first_pages(pub, rows)[0] if rows else None


def pages(pub: Publication, item_id: str) -> list[Page]:
    return [_page(r) for r in pub.query(
        "SELECT n, image_id, width, height, label, ocr_format FROM pages WHERE item_id = ? ORDER BY n", item_id)]


def _filter(coll_id: str, year: int | None, month: int | None) -> tuple[str, list[Any]]:
    where = "collection = ?"
    args: list[Any] = [coll_id]
    if year is not None:
        where += f" AND {YEAR_SQL} = ?"
        args.append(year)
    if month is not None:
        where += f" AND {MONTH_SQL} = ?"
        args.append(month)
    return where, args


def items_in(pub: Publication, coll_id: str, offset: int, limit: int,
             year: int | None = None, month: int | None = None) -> tuple[int, list[ItemSummary]]:
    """``(total, one page of items)`` held directly by a collection, optionally of one year/month.

    Serials are listed by date, everything else in catalog order.
    """
    where, args = _filter(coll_id, year, month)
    total = pub.query(f"SELECT COUNT(*) AS n FROM items WHERE {where}", *args)[0]["n"]
    order = "date IS NULL, date, position, id" if is_serial(pub, coll_id) else "position, id"
    rows = pub.query(f"SELECT id, collection, type, date, data FROM items WHERE {where} ORDER BY {order} "
                     "LIMIT ? OFFSET ?", *args, limit, offset)
    return int(total), _with_first_pages(pub, rows)


def is_serial(pub: Publication, coll_id: str) -> bool:
    """True when the collection holds newspaper or periodical issues: browsed by year and month."""
    marks = ",".join("?" * len(SERIAL_TYPES))
    return bool(pub.query(f"SELECT 1 FROM items WHERE collection = ? AND type IN ({marks}) LIMIT 1",
                          coll_id, *SERIAL_TYPES))


def years(pub: Publication, coll_id: str) -> list[tuple[int, int]]:
    """``[(year, issues)]`` of a collection's dated items, oldest first."""
    return [(r["y"], r["n"]) for r in pub.query(
        f"SELECT {YEAR_SQL} AS y, COUNT(*) AS n FROM items WHERE collection = ? AND date IS NOT NULL "
        "AND date GLOB '[0-9][0-9][0-9][0-9]*' GROUP BY y ORDER BY y", coll_id)]


def months(pub: Publication, coll_id: str, year: int) -> list[tuple[int, int]]:
    """``[(month, issues)]`` of one year (items dated to the year only are left out)."""
    return [(r["m"], r["n"]) for r in pub.query(
        f"SELECT {MONTH_SQL} AS m, COUNT(*) AS n FROM items WHERE collection = ? AND {YEAR_SQL} = ? "
        "AND date GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]*' GROUP BY m ORDER BY m", coll_id, year) if r["m"]]


def recent(pub: Publication, limit: int) -> list[ItemSummary]:
    """The items ingest wrote last (the catalog keeps no publication date: insertion order stands in)."""
    rows = pub.query("SELECT id, collection, type, date, data FROM items ORDER BY rowid DESC LIMIT ?", limit)
    return _with_first_pages(pub, rows)


def all_item_ids(pub: Publication) -> list[str]:
    return [r["id"] for r in pub.query("SELECT id FROM items ORDER BY collection, position, id")]


def ocr_engine(pub: Publication, item_id: str) -> str | None:
    """The OCR engine ingest ran on the item's pages ("Tesseract 5.3.0"); None when its OCR was supplied."""
    rows = pub.query("SELECT data FROM items WHERE id = ?", item_id)
    engine = _json(rows[0]["data"]).get("ocr_engine") if rows else None
    return engine if isinstance(engine, str) else None


def has_text(pub: Publication, item_id: str) -> bool:
    return pub.iiif_file(f"3/{item_id}/text.txt").is_file()


def manifest(pub: Publication, item_id: str) -> dict[str, Any]:
    """The pre-built manifest JSON of an item (ids as baked at ingest: read labels, not URLs).

    Memoised per generation (the file never changes); callers must not modify the result.
    """
    if not SAFE_ID.match(item_id):
        return {}
    return _manifest(str(pub.iiif_file(f"3/{item_id}/manifest.json")))


@lru_cache(maxsize=64)
def _manifest(path: str) -> dict[str, Any]:
    try:
        return _json(Path(path).read_text(encoding="utf-8"))
    except OSError:
        return {}
