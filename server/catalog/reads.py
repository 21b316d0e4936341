"""Typed reads of one generation's catalog: the only SQL the web, presentation, search and ingest code runs.

A :class:`CatalogReader` wraps a connection on which ``items``, ``pages``, ``images`` (and
``collections``, ``meta``, ``inputs``) show one generation: a reader's (:func:`open_generation`,
through :class:`~server.publication.Publication`) or the generation an ingest is writing
(:class:`~server.catalog.shared.SharedCatalog`). Methods are named after what callers ask and
return small frozen rows; the raw JSON ``data`` of items and collections is kept as stored (ingest
copies it verbatim) and parsed on demand.
"""
from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

SERIAL_TYPES = ("newspaper", "periodical")
# the year (and month) an item is browsed under: the start of its date, whatever its precision
YEAR_SQL = "CAST(substr(date, 1, 4) AS INTEGER)"
MONTH_SQL = "CASE WHEN substr(date, 5, 1) = '-' THEN CAST(substr(date, 6, 2) AS INTEGER) END"

_ITEM = "id, collection, type, date, position, data"
_PAGE = "item_id, n, image_id, width, height, label, ocr_path, ocr_format"


def parse_data(text: str | None) -> dict[str, Any]:
    """A row's JSON ``data`` as a dict; ``{}`` when missing or not an object (never fail a page for it)."""
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


@dataclass(frozen=True)
class ItemRow:
    """One published item: its catalog columns and its JSON ``data`` (label, pages, fingerprint, …)."""

    id: str
    collection: str
    type: str
    date: str | None
    position: int
    data: str

    @cached_property
    def info(self) -> dict[str, Any]:
        return parse_data(self.data)

    @property
    def label(self) -> dict[str, list[str]]:
        return self.info.get("label") or {}


@dataclass(frozen=True)
class ItemVersionRow:
    """An item's catalog columns without its ``data``, with its version (immutable: the same version,
    the same row and pages). Only for a generation of the shared catalog."""

    id: str
    collection: str
    type: str
    date: str | None
    position: int
    version: int


@dataclass(frozen=True)
class PageRow:
    """One page of an item, as ingest published it (``ocr_format``: "alto", "hocr" or None)."""

    item_id: str
    n: int
    image_id: str
    width: int
    height: int
    label: str | None
    ocr_path: str | None
    ocr_format: str | None


@dataclass(frozen=True)
class CollectionRow:
    id: str
    parent: str | None
    position: int
    data: str

    @cached_property
    def info(self) -> dict[str, Any]:
        return parse_data(self.data)


@dataclass(frozen=True)
class ImageRow:
    """The pyramid behind a public image id (``pyramid``: relative to image_cache/)."""

    id: str
    key: str
    pyramid: str
    width: int
    height: int
    levels: str  # JSON [[w, h], ...], level 0 first

    @property
    def level_sizes(self) -> tuple[tuple[int, int], ...]:
        return tuple((w, h) for w, h in json.loads(self.levels))


def parse_levels(text: str) -> tuple[tuple[int, int], ...]:
    """A pyramid's level sizes as the ``images`` table records them (``[[w, h], …]``); ValueError if malformed."""
    try:
        levels = tuple((int(w), int(h)) for w, h in json.loads(text))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"malformed pyramid levels {text[:80]!r}") from exc
    if not levels:
        raise ValueError("no pyramid levels")
    return levels


class CatalogReader:
    """Read one generation through ``connect()`` (called per query: the caller keeps one per thread)."""

    def __init__(self, connect: Callable[[], sqlite3.Connection]) -> None:
        self._connect = connect

    def _rows(self, sql: str, *args: Any) -> list[Any]:
        return self._connect().execute(sql, args).fetchall()

    # ------------------------------------------------------------------ generation

    def meta(self, key: str) -> str | None:
        """A value ingest stored with the generation (``base_url``, ``holdings``, ``generation``)."""
        rows = self._rows("SELECT value FROM meta WHERE key = ?", key)
        return str(rows[0][0]) if rows else None

    def counts(self) -> tuple[int, int]:
        """``(items, pages)`` of the generation."""
        items = self._rows("SELECT COUNT(*) FROM items")[0][0]
        pages = self._rows("SELECT COUNT(*) FROM pages")[0][0]
        return int(items), int(pages)

    def inputs(self) -> dict[str, tuple[int, int, str]]:
        """Ingest's fingerprints of input files: path → (size, mtime_ns, digest)."""
        return {r[0]: (r[1], r[2], r[3]) for r in self._rows("SELECT path, size, mtime_ns, digest FROM inputs")}

    # ------------------------------------------------------------------ collections

    def document_keys(self) -> dict[str, str]:
        """The key of each collection document ingest wrote (none for a generation written before keys)."""
        try:
            return {r[0]: r[1] for r in self._rows("SELECT path, key FROM documents")}
        except sqlite3.OperationalError:
            return {}

    def page_layouts(self, size: int) -> dict[str, list[tuple[int, tuple[str, ...]]]]:
        """Each paged collection's pages in order, as (page number, keys of its first members), made for
        pages of ``size``; none for a generation written before layouts were kept (its pages were slices of
        ``size`` numbered from 1, which is what the next ingest starts from)."""
        layouts: dict[str, list[tuple[int, tuple[str, ...]]]] = {}
        try:
            rows = self._rows("SELECT collection, page, heads FROM page_layouts WHERE size = ? "
                              "ORDER BY collection, ordinal", size)
        except sqlite3.OperationalError:
            return {}
        for coll, page, heads in rows:
            layouts.setdefault(coll, []).append((page, tuple(json.loads(heads))))
        return layouts

    def collections(self) -> list[CollectionRow]:
        return [CollectionRow(*r) for r in self._rows(
            "SELECT id, parent, position, data FROM collections ORDER BY position, id")]

    def item_counts(self) -> dict[str, int]:
        """Items held directly by each collection."""
        return {r[0]: r[1] for r in self._rows("SELECT collection, COUNT(*) FROM items GROUP BY collection")}

    def first_items(self) -> dict[str, str]:
        """The first item (by position, then id) of each collection that holds items directly."""
        return {r[0]: r[1] for r in self._rows(
            "SELECT i.collection, MIN(i.id) AS id FROM items i JOIN (SELECT collection, MIN(position) AS p "
            "FROM items GROUP BY collection) f ON f.collection = i.collection AND f.p = i.position GROUP BY i.collection")}

    def is_serial(self, coll_id: str) -> bool:
        """True when the collection holds newspaper or periodical issues: browsed by year and month."""
        marks = ",".join("?" * len(SERIAL_TYPES))
        return bool(self._rows(f"SELECT 1 FROM items WHERE collection = ? AND type IN ({marks}) LIMIT 1",
                               coll_id, *SERIAL_TYPES))

    def items_in(self, coll_id: str, offset: int, limit: int, year: int | None = None,
                 month: int | None = None) -> tuple[int, list[ItemRow]]:
        """``(total, one page of items)`` held directly by a collection, optionally of one year/month.

        Serials are listed by date, everything else in catalog order."""
        where = "collection = ?"
        args: list[Any] = [coll_id]
        if year is not None:
            where += f" AND {YEAR_SQL} = ?"
            args.append(year)
        if month is not None:
            where += f" AND {MONTH_SQL} = ?"
            args.append(month)
        total = self._rows(f"SELECT COUNT(*) FROM items WHERE {where}", *args)[0][0]
        order = "date IS NULL, date, position, id" if self.is_serial(coll_id) else "position, id"
        rows = self._rows(f"SELECT {_ITEM} FROM items WHERE {where} ORDER BY {order} LIMIT ? OFFSET ?",
                          *args, limit, offset)
        return int(total), [ItemRow(*r) for r in rows]

    def years(self, coll_id: str) -> list[tuple[int, int]]:
        """``[(year, items)]`` of a collection's dated items, oldest first."""
        return [(r[0], r[1]) for r in self._rows(
            f"SELECT {YEAR_SQL} AS y, COUNT(*) AS n FROM items WHERE collection = ? AND date IS NOT NULL "
            "AND date GLOB '[0-9][0-9][0-9][0-9]*' GROUP BY y ORDER BY y", coll_id)]

    def months(self, coll_id: str, year: int) -> list[tuple[int, int]]:
        """``[(month, items)]`` of one year (items dated to the year only are left out)."""
        return [(r[0], r[1]) for r in self._rows(
            f"SELECT {MONTH_SQL} AS m, COUNT(*) AS n FROM items WHERE collection = ? AND {YEAR_SQL} = ? "
            "AND date GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]*' GROUP BY m ORDER BY m", coll_id, year) if r[0]]

    def items_of_year(self, coll_id: str, year: int) -> list[ItemRow]:
        """A collection's items whose date starts with ``year-``, by date (the issue calendar)."""
        return [ItemRow(*r) for r in self._rows(
            f"SELECT {_ITEM} FROM items WHERE collection = ? AND date LIKE ? ORDER BY date, position, id",
            coll_id, f"{year:04d}-%")]

    # ------------------------------------------------------------------ items

    def item(self, item_id: str) -> ItemRow | None:
        rows = self._rows(f"SELECT {_ITEM} FROM items WHERE id = ?", item_id)
        return ItemRow(*rows[0]) if rows else None

    def has_item(self, item_id: str) -> bool:
        return bool(self._rows("SELECT 1 FROM items WHERE id = ?", item_id))

    def items(self) -> list[ItemRow]:
        """Every item, in the catalog's own order (what ingest's collection documents follow)."""
        return [ItemRow(*r) for r in self._rows(f"SELECT {_ITEM} FROM items")]

    def item_versions(self) -> list[ItemVersionRow]:
        """Every item with its version, in the same order as :meth:`items`."""
        return [ItemVersionRow(r[0], r[1], r[2], r[3], r[4], r[6]) for r in self._rows(f"SELECT {_ITEM}, rowid FROM items")]

    def item_ids(self) -> list[str]:
        """Every item id, by collection then position."""
        return [r[0] for r in self._rows("SELECT id FROM items ORDER BY collection, position, id")]

    def recent(self, limit: int) -> list[ItemRow]:
        """The items ingest wrote last (the catalog keeps no publication date: insertion order stands in)."""
        return [ItemRow(*r) for r in self._rows(f"SELECT {_ITEM} FROM items ORDER BY rowid DESC LIMIT ?", limit)]

    def fingerprints(self) -> dict[str, str]:
        """Item id → the input fingerprint it was published from (ingest's change detection)."""
        # SQLite's JSON reader, not Python's: a tenth of the time (6 ms at 2,000 items), and a damaged row is a
        # sqlite3.Error (ingest then republishes everything) rather than an exception of its own
        return {r[0]: r[1] or "" for r in self._rows("SELECT id, json_extract(data, '$.fingerprint') FROM items")}

    # ------------------------------------------------------------------ pages and images

    def pages(self, item_id: str) -> list[PageRow]:
        return [PageRow(*r) for r in self._rows(f"SELECT {_PAGE} FROM pages WHERE item_id = ? ORDER BY n", item_id)]

    def page(self, item_id: str, n: int) -> PageRow | None:
        rows = self._rows(f"SELECT {_PAGE} FROM pages WHERE item_id = ? AND n = ?", item_id, n)
        return PageRow(*rows[0]) if rows else None

    def first_page(self, item_id: str) -> PageRow | None:
        rows = self._rows(f"SELECT {_PAGE} FROM pages WHERE item_id = ? ORDER BY n LIMIT 1", item_id)
        return PageRow(*rows[0]) if rows else None

    def first_pages(self, item_ids: Sequence[str]) -> dict[str, PageRow]:
        """The first page of each of ``item_ids`` that has pages (one query)."""
        if not item_ids:
            return {}
        marks = ",".join("?" * len(item_ids))
        firsts: dict[str, PageRow] = {}
        for r in self._rows(f"SELECT {_PAGE} FROM pages WHERE item_id IN ({marks}) ORDER BY item_id, n", *item_ids):
            firsts.setdefault(r[0], PageRow(*r))
        return firsts

    def page_of_image(self, image_id: str) -> PageRow | None:
        rows = self._rows(f"SELECT {_PAGE} FROM pages WHERE image_id = ?", image_id)
        return PageRow(*rows[0]) if rows else None

    def pyramid_levels(self) -> dict[str, str]:
        """Level sizes of the generation's pyramids by content key, as recorded (JSON text, read by
        :func:`parse_levels` when needed): what ingest would otherwise read again from every cached
        pyramid's headers (about 1.7 ms a 26 MP pyramid through libvips)."""
        return dict(self._rows("SELECT key, levels FROM images"))  # not DISTINCT: its sort costs more than repeats

    def image(self, image_id: str) -> ImageRow | None:
        rows = self._rows("SELECT id, key, pyramid, width, height, levels FROM images WHERE id = ?", image_id)
        return ImageRow(*rows[0]) if rows else None
