"""Builds a generation's search index and word store, starting from the previous generation's.

The previous generation is still being served while ingest runs, so it is never written to:
its index files (immutable Whoosh segments; deletions live in the table of contents, which is
rewritten) and its unchanged items' word folders are hard-linked into the new generation, then
changed items are replaced. A crash before ``commit`` leaves only a half-built folder in the new,
unpublished generation.

Usage by ingest::

    writer = SearchIndexWriter(gen_dir, previous_gen_dir)   # previous may be None
    for item in published_items:
        if unchanged(item) and writer.keep_item(indexed_item):
            continue                                         # words and documents reused
        writer.add_item(indexed_item, indexed_pages)         # pages may be []: no OCR
    writer.commit()                                          # items neither kept nor added are dropped
"""
from __future__ import annotations

import json
import os
import shutil
from collections import Counter
from pathlib import Path
from types import TracebackType

from whoosh import index as windex
from whoosh.analysis import SpaceSeparatedTokenizer
from whoosh.fields import ID, NUMERIC, TEXT, Schema

from server.search.analysis import ANALYSIS_VERSION, language_key
from server.search.model import IndexedItem, IndexedPage
from server.search.query import EXACT, stem_field
from server.search.store import WORDS_DIR, check_item_id, encode_page, item_dir, link_tree, write_text, write_vocab

INDEX_DIR = "index"
META_FILE = "heritage-search.json"
FORMAT_VERSION = 2
"""Bump when the schema or the word store changes: an older index is then rebuilt, not reused."""


def make_schema() -> Schema:
    """Documents are pages. Text fields receive pre-analysed token lists (see analysis.py)."""
    schema = Schema(item=ID(stored=True, sortable=True),
                    n=NUMERIC(int, bits=32, stored=True, sortable=True, signed=False),
                    **{EXACT: TEXT(analyzer=SpaceSeparatedTokenizer(), phrase=True)})
    schema.add("t_*", TEXT(analyzer=SpaceSeparatedTokenizer(), phrase=True), glob=True)
    return schema


def read_meta(gen_dir: Path) -> dict[str, object] | None:
    """The index's own description (versions, items, languages), or None if absent or foreign."""
    try:
        meta = json.loads((gen_dir / INDEX_DIR / META_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if meta.get("format") != FORMAT_VERSION or meta.get("analysis") != ANALYSIS_VERSION:
        return None
    return meta  # type: ignore[no-any-return]


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

    def __init__(self, gen_dir: Path, previous_gen_dir: Path | None = None, *, limitmb: int = 256) -> None:
        self.gen_dir = Path(gen_dir)
        self.index_dir = self.gen_dir / INDEX_DIR
        self.words_dir = self.gen_dir / WORDS_DIR
        if self.index_dir.exists() or self.words_dir.exists():
            raise FileExistsError(f"{self.gen_dir} already has a search index")
        self.words_dir.mkdir(parents=True)
        self.index_dir.mkdir(parents=True)
        self.previous = Path(previous_gen_dir) if previous_gen_dir else None
        meta = read_meta(self.previous) if self.previous else None
        self._previous_items: dict[str, dict[str, object]] = dict(meta["items"]) if meta else {}  # type: ignore[call-overload]
        self._collections: dict[str, object] = dict(meta.get("collections") or {}) if meta else {}  # type: ignore[union-attr]
        self._languages: set[str] = set(meta.get("languages") or []) if meta else set()  # type: ignore[union-attr,arg-type]
        if meta and self.previous is not None:
            for entry in os.scandir(self.previous / INDEX_DIR):
                if entry.is_file() and entry.name != META_FILE and not entry.name.endswith("LOCK"):
                    try:
                        os.link(entry.path, self.index_dir / entry.name)
                    except OSError:
                        shutil.copy2(entry.path, self.index_dir / entry.name)
            self._index = windex.open_dir(str(self.index_dir))
        else:
            self._previous_items = {}
            self._index = windex.create_in(str(self.index_dir), make_schema())
        self._writer = self._index.writer(limitmb=limitmb)
        self._items: dict[str, dict[str, object]] = {}
        self._deleted = False
        self._done = False
        self.pages_added = 0

    # -- what ingest calls ---------------------------------------------------------------
    def can_keep(self, item_id: str) -> bool:
        """True when the previous generation indexed this item (with the same index format)."""
        return item_id in self._previous_items and (self.previous / WORDS_DIR / item_id).is_dir()  # type: ignore[operator]

    def keep_item(self, item: IndexedItem | str) -> bool:
        """Reuse the previous generation's documents and words for an item whose OCR did not change.

        Given an :class:`IndexedItem`, its (possibly changed) metadata replaces the old one: facets
        and labels come from metadata, not from the indexed documents. Returns False when there is
        nothing to keep (new item, or an index of another format): call :meth:`add_item` then.
        """
        item_id = item if isinstance(item, str) else item.item_id
        self._check_new(item_id)
        if not self.can_keep(item_id):
            return False
        link_tree(self.previous / WORDS_DIR / item_id, item_dir(self.gen_dir, item_id))  # type: ignore[operator]
        data = dict(self._previous_items[item_id])
        if not isinstance(item, str):
            data.update(item.to_json())
        self._items[item_id] = data
        return True

    def add_item(self, item: IndexedItem, pages: list[IndexedPage]) -> None:
        """Index an item's pages, replacing whatever the previous generation had for it."""
        item_id = check_item_id(item.item_id)
        self._check_new(item_id)
        if item_id in self._previous_items:
            self._writer.delete_by_term("item", item_id)
            self._deleted = True
        folder = item_dir(self.gen_dir, item_id)
        folder.mkdir(parents=True)
        vocab: Counter[tuple[str, str]] = Counter()
        page_languages: list[str] = []
        for page in sorted(pages, key=lambda p: p.n):
            lang = page_language(page, item)
            words = [(w.text, w.line, w.boxes) for w in page.page.words]
            body, toks, stems, seen = encode_page(page.n, lang, page.label, page.canvas_width,
                                                  page.canvas_height, words)
            write_text(folder / f"{int(page.n)}.txt", body)
            vocab.update(seen)
            if not toks:
                continue
            fields: dict[str, object] = {"item": item_id, "n": int(page.n), EXACT: toks}
            if lang:
                fields[stem_field(lang)] = stems
                self._languages.add(lang)
                page_languages.append(lang)
            self._writer.add_document(**fields)
            self.pages_added += 1
        write_vocab(folder, vocab)
        data = item.to_json()
        data["page_languages"] = sorted(set(page_languages))
        self._items[item_id] = data

    def remove_items(self, item_ids: list[str]) -> None:
        """Drop items explicitly (``commit`` also drops every previous item not kept or added)."""
        for item_id in item_ids:
            if item_id in self._items:
                raise ValueError(f"item {item_id!r} was added or kept in this generation")
            self._items.pop(item_id, None)

    def set_collection_labels(self, labels: dict[str, dict[str, list[str]]]) -> None:
        """Language-map labels of collections, shown as facet values (ids are shown otherwise)."""
        self._collections = dict(labels)

    def commit(self) -> None:
        """Write the index and its description. Items of the previous generation that were neither
        kept nor added are removed from the index."""
        if self._done:
            raise RuntimeError("already committed")
        for item_id in self._previous_items.keys() - self._items.keys():
            self._writer.delete_by_term("item", item_id)
            self._deleted = True
        if self.pages_added or self._deleted:
            self._writer.commit()
        else:
            self._writer.cancel()
        meta = {"format": FORMAT_VERSION, "analysis": ANALYSIS_VERSION,
                "languages": sorted(self._languages), "items": self._items, "collections": self._collections}
        write_text(self.index_dir / META_FILE, json.dumps(meta, ensure_ascii=False, separators=(",", ":")))
        self._index.close()
        self._done = True

    def abort(self) -> None:
        """Give up (ingest failed): release the writer; the generation folder is the caller's to delete."""
        if not self._done:
            self._writer.cancel()
            self._index.close()
            self._done = True

    def __enter__(self) -> "SearchIndexWriter":
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if exc_type is not None:
            self.abort()
        elif not self._done:
            self.commit()

    def _check_new(self, item_id: str) -> None:
        if self._done:
            raise RuntimeError("the writer is closed")
        if item_id in self._items:
            raise ValueError(f"item {item_id!r} given twice")
