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
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from server.errors import HeritageError
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

    def close(self) -> None:
        ...


class EngineWriter(Protocol):
    """Write side: the documents of one new generation, next to the word store."""

    def keep(self, item_id: str, entry: dict[str, Any]) -> None:
        """The previous generation's documents of an item are reused (``entry``: its meta)."""
        ...

    def add(self, item_id: str, entry: dict[str, Any], pages: list[PageDoc]) -> None:
        """Index an item's pages; ``entry`` (its meta, facets included) may be given fields to record."""
        ...

    def forget(self, item_id: str) -> None:
        """Drop the previous generation's documents of an item (changed or removed)."""
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
