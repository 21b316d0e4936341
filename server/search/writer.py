"""Builds a generation's search index and word store, starting from the previous generation's.

Engine-independent: the word store, the lexicon and the index's description
(``{gen}/index/heritage-search.json``) are written here; the engine's documents by an
:class:`~server.search.engines.EngineWriter` (Whoosh: segments in ``{gen}/index``; Solr: documents
tagged with an item version that only generations listing it search, see :mod:`server.search.solr`).

The previous generation is still being served while ingest runs, so it is never written to:
its unchanged items' word folders are hard-linked into the new generation, then changed items are
replaced. A crash before ``commit`` leaves only a half-built folder in the new, unpublished
generation, and documents no published generation searches.

Usage by ingest::

    writer = SearchIndexWriter(gen_dir, previous_gen_dir)   # previous may be None
    for item in published_items:
        if unchanged(item) and writer.keep_item(indexed_item):
            continue                                         # words and documents reused
        writer.add_item(indexed_item, indexed_pages)         # pages may be []: no OCR
    writer.commit()                                          # items neither kept nor added are dropped
"""
from __future__ import annotations

import os
from collections import Counter
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from server.search.analysis import ANALYSIS_VERSION, language_key
from server.search.encoding import NONE, EncodedItem, Encoder
from server.search.engines import EngineSettings, engine_writer
from server.search.lexicon import Vocabulary, counts_of
from server.search.lexicon_files import write_lexicon
from server.search.meta import FORMAT_VERSION, INDEX_DIR, PARTS, read_meta, write_meta
from server.search.model import IndexedItem, IndexedPage
from server.search.store import (
    WORDS_DIR,
    check_item_id,
    drop,
    entries,
    item_dir,
    keep_item_folder,
    marked,
    new_item_folder,
    page_columns,
    relink,
    same_entries,
    same_folder,
)


def page_language(page: IndexedPage, item: IndexedItem) -> str | None:
    """The stemmer for a page: its OCR's language, else the item's first language that has one."""
    key = language_key(page.page.language)
    if key:
        return key
    for code in item.languages:
        key = language_key(code)
        if key:
            return key
    return None


class SearchIndexWriter:
    """Incremental builder of ``{gen_dir}/index`` and ``{gen_dir}/words``; see the module docstring."""

    def __init__(self, gen_dir: Path, previous_gen_dir: Path | None = None, *,
                 settings: EngineSettings | None = None, recycled: bool = False, workers: int = 0) -> None:
        """``recycled``: ``gen_dir`` holds a donor generation's word entries (``server/ingest/recycle.py``):
        those that are the previous generation's own are kept as they are, the others replaced.
        ``workers`` > 1: encode pages in that many processes (:mod:`server.search.encoding`); worth
        it from a few thousand pages (a worker takes ~0.3 s to start)."""
        self.gen_dir = Path(gen_dir)
        self.index_dir = self.gen_dir / INDEX_DIR
        self.words_dir = self.gen_dir / WORDS_DIR
        if self.index_dir.exists() or (not recycled and self.words_dir.exists()):
            raise FileExistsError(f"{self.gen_dir} already has a search index")
        self._existing: set[str] = entries(self.words_dir) if recycled else set()
        self.settings = settings or EngineSettings.from_env()
        self.previous = Path(previous_gen_dir) if previous_gen_dir else None
        meta = read_meta(self.previous) if self.previous else None
        if meta is not None and meta.get("engine", "whoosh") != self.settings.engine:
            meta = None  # another engine's documents: index everything again
        self.words_dir.mkdir(parents=True, exist_ok=recycled)
        self.index_dir.mkdir(parents=True)
        self._engine = engine_writer(self.gen_dir, self.previous, meta, self.settings)
        if meta is not None and not self._engine.holds(meta):
            meta = None  # its documents are not where this generation's go: index everything again
        self._previous_items: dict[str, dict[str, Any]] = dict(meta["items"]) if meta else {}
        self._previous_parts: int | None = meta[PARTS] if meta and isinstance(meta.get(PARTS), int) else None
        self._changed: set[str] = set()  # items whose entry is not the previous generation's (parts rewritten)
        self._collections: dict[str, Any] = dict(meta.get("collections") or {}) if meta else {}
        self._languages: set[str] = set(meta.get("languages") or []) if meta else set()
        # the lexicon is the previous one plus what items added and minus what they took away, written
        # as a delta beside the previous files (server/search/lexicon_files.py: it holds every word)
        self._lexicon_base = self.previous / INDEX_DIR if meta and self.previous is not None else None
        self._lexicon: Counter[str] = Counter()  # the change to it
        self._items: dict[str, dict[str, Any]] = {}
        self._done = False
        # the previous generation's word folder, and whether its links can be copied as they are
        # (a generation of the same manifests folder: links relative to it name the same object)
        self._previous_words = str(self.previous / WORDS_DIR) if self.previous is not None else ""
        self._same_parent = self.previous is not None and same_folder(self.previous.parent, self.gen_dir.parent)
        self._marked = self._same_parent and marked(self.previous)
        self._same = (same_entries(self.words_dir, self.previous / WORDS_DIR)
                      if self._existing and self._same_parent and self.previous is not None else set())
        self.pages_added = 0
        self._encoder = Encoder(workers)

    # -- what ingest calls ---------------------------------------------------------------
    def can_keep(self, item_id: str) -> bool:
        """True when the previous generation indexed this item (with the same index format)."""
        return (item_id in self._previous_items and self.previous is not None
                and os.path.isdir(f"{self._previous_words}/{check_item_id(item_id)}"))

    def keep_item(self, item: IndexedItem | str) -> bool:
        """Reuse the previous generation's documents and words for an item whose OCR did not change.

        Given an :class:`IndexedItem`, its (possibly changed) metadata replaces the old one: facets
        and labels come from metadata, not from the indexed documents. Returns False when there is
        nothing to keep (a new item, or an index of another format): call :meth:`add_item` then.
        """
        item_id = item if isinstance(item, str) else item.item_id
        self._check_new(item_id)
        if item_id not in self._previous_items or self.previous is None:
            return False
        # the previous generation's link, shared as it is (its word folder is there: that generation
        # is kept, with the objects it links); otherwise its folder, if it has one. A donor's entry
        # of an item unchanged since is that link already.
        if item_id not in self._same:
            self._drop(item_id)  # a donor's entry naming another version
            if not (self._same_parent
                    and relink(self._previous_words, str(self.words_dir), item_id, 2, self._marked)):
                if not self.can_keep(item_id):
                    return False
                keep_item_folder(self.previous / WORDS_DIR / item_id, item_dir(self.gen_dir, item_id))
        before = self._previous_items[item_id]
        data = dict(before)
        if not isinstance(item, str):
            data.update(item.to_json())
        self._engine.keep(item_id, data)
        self._items[item_id] = data
        if data != before:
            self._changed.add(item_id)
        return True

    def add_item(self, item: IndexedItem, pages: list[IndexedPage]) -> None:
        """Index an item's pages, replacing whatever the previous generation had for it.

        With ``workers`` (see the constructor) the pages are encoded in worker processes and the
        item reaches the engine later, by :meth:`commit` at the latest."""
        item_id = check_item_id(item.item_id)
        self._check_new(item_id)
        self._forget_previous(item_id)
        self._drop(item_id)
        folder = new_item_folder(self.gen_dir, item_id)
        columns = [page_columns(int(page.n), page_language(page, item), page.label, page.canvas_width,
                                page.canvas_height, page.page.words)
                   for page in sorted(pages, key=lambda p: p.n)]
        data = item.to_json()
        self._items[item_id] = data
        self._changed.add(item_id)
        self._encoder.add(str(folder), columns, lambda encoded: self._encoded(item_id, data, encoded))

    def flush(self) -> None:
        """Wait until every item given so far is encoded and handed to the engine (the benchmark
        times indexing apart from making the pages this way)."""
        self._encoder.finish()
        self._engine.flush()

    def _encoded(self, item_id: str, data: dict[str, Any], encoded: EncodedItem) -> None:
        for folded, count in encoded.counts.items():
            self._lexicon[folded] += count
        self._languages |= encoded.languages
        self.pages_added += len(encoded.docs)
        data["page_languages"] = sorted(encoded.languages - {NONE})
        self._engine.add(item_id, data, encoded.docs)

    def remove_items(self, item_ids: list[str]) -> None:
        """Drop items explicitly (``commit`` also drops every previous item not kept or added)."""
        for item_id in item_ids:
            if item_id in self._items:
                raise ValueError(f"item {item_id!r} was added or kept in this generation")
            self._forget_previous(item_id)

    def set_collection_labels(self, labels: dict[str, dict[str, list[str]]]) -> None:
        """Language-map labels of collections, shown as facet values (ids are shown otherwise)."""
        self._collections = dict(labels)

    def commit(self) -> None:
        """Write the index, the lexicon and the index's description. Items of the previous
        generation that were neither kept nor added are removed."""
        if self._done:
            raise RuntimeError("already committed")
        for item_id in list(self._previous_items.keys() - self._items.keys()):
            self._forget_previous(item_id)
        for item_id in self._existing - self._items.keys():
            self._drop(item_id)  # a donor's entry of an item this generation does not index
        self._encoder.close()
        meta = {"format": FORMAT_VERSION, "analysis": ANALYSIS_VERSION, "engine": self.settings.engine,
                "languages": sorted(self._languages), "items": self._items, "collections": self._collections}
        self._engine.commit(meta)
        self._write_lexicon()
        write_meta(self.index_dir, meta, self._items, previous=self.previous / INDEX_DIR if self.previous else None,
                   previous_parts=self._previous_parts, changed=self._changed)
        self._done = True

    def abort(self) -> None:
        """Give up (ingest failed): release the writer; the generation folder is the caller's to delete."""
        if not self._done:
            self._encoder.close(cancel=True)
            self._engine.abort()
            self._done = True

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if exc_type is not None:
            self.abort()
        elif not self._done:
            self.commit()

    # -- internals -----------------------------------------------------------------------
    def _write_lexicon(self) -> None:
        """The previous generation's lexicon files, linked, and this run's change to it as a delta."""
        write_lexicon(self.index_dir, self._lexicon_base, self._lexicon)

    def _drop(self, item_id: str) -> None:
        """Remove a donor's entry for the item, if there is one."""
        if item_id in self._existing:
            drop(self.words_dir, item_id)
            self._existing.discard(item_id)

    def _check_new(self, item_id: str) -> None:
        if self._done:
            raise RuntimeError("the writer is closed")
        if item_id in self._items:
            raise ValueError(f"item {item_id!r} given twice")

    def _forget_previous(self, item_id: str) -> None:
        """Delete a previous generation's documents of an item, and its words from the lexicon."""
        if self._previous_items.pop(item_id, None) is None or self.previous is None:
            return
        self._changed.add(item_id)
        self._engine.forget(item_id)
        self._lexicon.subtract(counts_of(Vocabulary.load(self.previous / WORDS_DIR / item_id / "vocab.tsv")))
