"""The search engine interface: what Content Search, ``search.json``, the ``/search`` page and the
word store need from an index, and nothing about which index answers.

Two engines implement it: Whoosh (:mod:`server.search.whoosh`, embedded, the default: files in
the generation folder) and Solr (:mod:`server.search.solr`, a SolrCloud collection shared by
generations). Everything above — query parsing, hits located on the word store, facets,
snippets — is engine-independent, so both answer the same queries with the same hits.

``HERITAGE_SEARCH=whoosh|solr`` chooses the engine of new generations; a generation records its
engine, so the read side opens what ingest wrote. ``HERITAGE_SOLR_URL`` (``http://host:8983/solr``)
and ``HERITAGE_SOLR_COLLECTION`` (default ``heritage``) locate Solr.
"""
from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from server.errors import HeritageError
from server.search.model import IndexedItem
from server.search.query import Node

ENGINES = ("whoosh", "solr")
DEFAULT_COLLECTION = "heritage"

Expand = Callable[[Node], "list[str] | None"]
"""Folded words a Prefix or Fuzzy leaf stands for; None when there are too many to list."""


class SearchUnavailable(HeritageError):
    """The engine cannot answer now (Solr unreachable): search answers 503, the rest of the site works."""

    status = 503


@dataclass(frozen=True)
class EngineSettings:
    """Which engine, and where Solr is."""

    engine: str = "whoosh"
    solr_url: str | None = None
    collection: str = DEFAULT_COLLECTION

    @classmethod
    def from_env(cls, environ: Any = None) -> EngineSettings:
        env = os.environ if environ is None else environ
        engine = (env.get("HERITAGE_SEARCH") or "whoosh").strip().lower()
        if engine not in ENGINES:
            raise ValueError(f"HERITAGE_SEARCH must be one of {', '.join(ENGINES)}, not {engine!r}")
        url = (env.get("HERITAGE_SOLR_URL") or "").strip().rstrip("/") or None
        if engine == "solr" and not url:
            raise ValueError("HERITAGE_SEARCH=solr needs HERITAGE_SOLR_URL (e.g. http://127.0.0.1:8983/solr)")
        return cls(engine, url, (env.get("HERITAGE_SOLR_COLLECTION") or DEFAULT_COLLECTION).strip())

    def with_engine(self, engine: str) -> EngineSettings:
        return EngineSettings(engine, self.solr_url, self.collection)


@dataclass(frozen=True)
class PageDoc:
    """One page as an engine indexes it: folded tokens and their stems, position = token index in
    the word store (so a hit maps back to word boxes)."""

    n: int
    language: str | None
    tokens: list[str]
    stems: list[str]


class SiteMatches(Protocol):
    """The pages matching one site-wide query (exactly: an engine verifies what it over-matches)."""

    counts: dict[str, int]
    """Matching pages per item."""

    def ranked(self, items: set[str] | None, limit: int) -> list[tuple[str, int, float]]:
        """The best ``limit`` pages ``(item, n, score)``, best first, only of ``items`` when given."""
        ...

    def first_pages(self, item_ids: list[str], limit: int) -> dict[str, list[int]]:
        """Each item's first ``limit`` matching page numbers, in page order (one request for a
        result page's items)."""
        ...


@dataclass(frozen=True)
class SiteRequest:
    """What one page of site-wide results needs from the engine.

    Items are ordered by relevance (``by_date`` 0, with a query: items with a page among the best
    ``top`` ranked pages first, by their best page; then the others by their number of matching
    pages, then by id) or by date (``by_date`` 1 oldest first, -1 newest first: see
    :func:`server.search.facets.date_key`). ``filters`` maps a facet name to the chosen values
    (alternatives within a facet, every facet must match); ``date_from``/``date_to`` keep the items
    whose year is within them (inclusive)."""

    tree: Node | None
    filters: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    date_from: int | None = None
    date_to: int | None = None
    by_date: int = 0
    start: int = 0
    size: int = 20
    pages_per_item: int = 3
    top: int = 200

    @property
    def narrowed(self) -> bool:
        return any(self.filters.values()) or self.date_from is not None or self.date_to is not None

    @property
    def year_range(self) -> tuple[int, int]:
        """The years kept, inclusive (every year an item may have when neither bound is given)."""
        return (self.date_from if self.date_from is not None else -10_000,
                self.date_to if self.date_to is not None else 10_000)


@dataclass(frozen=True)
class SiteItem:
    """One item of a results page."""

    item_id: str
    matching: int
    """Its matching pages."""
    top: list[tuple[float, int]]
    """Its pages among the best ranked ones, ``(score, n)``, best first."""
    first: list[int]
    """Its first matching pages in page order (up to twice ``pages_per_item``), when ``top`` has
    fewer than ``pages_per_item`` pages; may be empty otherwise."""


@dataclass(frozen=True)
class SiteSelection:
    """One page of site-wide results, before snippets: what the engine answers."""

    total: int
    """Matching items (after the filters)."""
    total_pages: int
    """Matching pages in those items."""
    facets: dict[str, dict[str, int]]
    """Per facet, the number of matching items of each value (the other facets' filters applied)."""
    items: list[SiteItem]


class Catalog(Protocol):
    """The generation's items, for engines that order or count them in the server."""

    @property
    def items(self) -> Mapping[str, IndexedItem]:
        ...

    def facet_rows(self) -> Mapping[str, tuple[tuple[str, ...], ...]]:
        """Every item's facet values, in :data:`server.search.facets.FACETS` order."""
        ...


class SearchEngine(Protocol):
    """Read side of one generation's index."""

    def item_pages(self, item_id: str, tree: Node, expand: Expand) -> list[int]:
        """Candidate page numbers of an item (a superset of the matches, sorted): hits are located
        and verified on the word store. Costs what the item costs, not what the archive costs."""
        ...

    def site_matches(self, tree: Node | None, expand: Expand, rank_expand: Expand, top: int = 0) -> SiteMatches:
        """Every matching page of the generation (``tree`` None: every page, to browse by facets).

        ``top``: the caller will ask for ``ranked(None, top)``; an engine may fetch those pages
        with the matches (Solr: one request instead of two)."""
        ...

    def site_search(self, request: SiteRequest, expand: Expand, rank_expand: Expand,
                    catalog: Catalog) -> SiteSelection:
        """One page of site-wide results: totals, facet counts and the page's items in order
        (:func:`server.search.facets.select` computes it from :meth:`site_matches` and the
        catalog; an engine may compute it itself, with the same answer)."""
        ...

    def close(self) -> None:
        ...


class EngineWriter(Protocol):
    """Write side: the documents of one new generation, next to the word store."""

    def holds(self, previous_meta: dict[str, Any]) -> bool:
        """Whether the previous generation's documents are where this writer indexes, so that
        :meth:`keep` may reuse them; False: every item is indexed again."""
        ...

    def keep(self, item_id: str, entry: dict[str, Any]) -> None:
        """The previous generation's documents of an item are reused (``entry``: its meta)."""
        ...

    def add(self, item_id: str, entry: dict[str, Any], pages: list[PageDoc]) -> None:
        """Index an item's pages; ``entry`` (its meta, facets included) may be given fields to record."""
        ...

    def forget(self, item_id: str) -> None:
        """Drop the previous generation's documents of an item (changed or removed)."""
        ...

    def flush(self) -> None:
        """Finish sending what was added so far (not durable before :meth:`commit`)."""
        ...

    def commit(self, meta: dict[str, Any]) -> None:
        """Make the documents durable; ``meta`` (written after) may be given fields to record."""
        ...

    def abort(self) -> None:
        ...


def open_engine(gen_dir: Path, meta: dict[str, Any], words: Any,
                settings: EngineSettings | None = None) -> SearchEngine:
    """The engine a generation was written with (``meta["engine"]``); a Solr generation without
    a usable Solr setting cannot be searched (503), like an unreachable Solr."""
    if meta.get("engine", "whoosh") == "solr":
        try:
            settings = settings or EngineSettings.from_env()
        except ValueError as exc:
            raise SearchUnavailable(f"search is unavailable: {exc}") from None
        if not settings.solr_url:
            raise SearchUnavailable("search is unavailable: this publication is indexed in Solr; "
                                    "set HERITAGE_SOLR_URL")
        from server.search.solr.reader import SolrEngine
        return SolrEngine(settings, meta)
    from server.search.whoosh.reader import WhooshEngine
    return WhooshEngine(gen_dir, meta, words)


def engine_writer(gen_dir: Path, previous: Path | None, previous_meta: dict[str, Any] | None,
                  settings: EngineSettings) -> EngineWriter:
    if settings.engine == "solr":
        from server.search.solr.writer import SolrWriter
        return SolrWriter(settings, gen_dir, previous_meta)
    from server.search.whoosh.writer import WhooshWriter
    return WhooshWriter(gen_dir, previous, previous_meta)
