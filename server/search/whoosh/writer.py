"""Whoosh documents of a new generation, started from the previous generation's segments.

The previous generation is still being served, so it is never written to: its segment files
(immutable; deletions live in the table of contents, which is rewritten) are hard-linked into the
new generation's ``index`` folder, then changed items' documents are deleted and re-added.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from whoosh import index as windex
from whoosh.writing import MERGE_SMALL

from server.search.engines import PageDoc
from server.search.meta import OWN_PREFIX
from server.search.whoosh.schema import NONE, bigram_field, common_grams, make_schema, text_field

INDEX_DIR = "index"
OWN_FILES = ("lexicon.tsv",)
"""Files of the index folder that are not Whoosh's (written by the engine-independent writer),
besides those named ``heritage-*`` (the index's description and its item parts)."""


def drop_empty_then_merge_small(writer: Any, segments: list[Any]) -> list[Any]:
    """Whoosh's own merge policy (``MERGE_SMALL``) after leaving out the segments whose every document
    was deleted. Whoosh keeps those (its policy merges by size, deleted documents included): a
    segment of 20,000 replaced pages stayed in every later table of contents, its 20,000 deleted
    document numbers with it, which each ingest rewrites (62 KB against 9 at 20,000 pages), and in
    every search's segment list."""
    return MERGE_SMALL(writer, [segment for segment in segments if segment.doc_count() > 0])


class WhooshWriter:
    """:class:`~server.search.engines.EngineWriter` over a Whoosh index in ``{gen}/index``."""

    def __init__(self, gen_dir: Path, previous: Path | None, previous_meta: dict[str, Any] | None,
                 limitmb: int = 256) -> None:
        self.index_dir = Path(gen_dir) / INDEX_DIR
        self.index_dir.mkdir(parents=True, exist_ok=True)
        if previous_meta is not None and previous is not None:
            for entry in os.scandir(previous / INDEX_DIR):
                if (entry.is_file() and entry.name not in OWN_FILES and not entry.name.startswith(OWN_PREFIX)
                        and not entry.name.endswith("LOCK")):
                    try:
                        os.link(entry.path, self.index_dir / entry.name)
                    except OSError:
                        shutil.copy2(entry.path, self.index_dir / entry.name)
            self._index = windex.open_dir(str(self.index_dir))
        else:
            self._index = windex.create_in(str(self.index_dir), make_schema())
        self._writer = self._index.writer(limitmb=limitmb)
        self._changed = False
        self._done = False

    def holds(self, previous_meta: dict[str, Any]) -> bool:
        """Always: the previous generation's segments were linked into this index."""
        return True

    def keep(self, item_id: str, entry: dict[str, Any]) -> None:
        """Nothing to do: the linked segments hold the item's documents."""

    def add(self, item_id: str, entry: dict[str, Any], pages: list[PageDoc]) -> None:
        for page in pages:
            key = page.language or NONE
            fields: dict[str, Any] = {"item": item_id, "n": int(page.n), text_field(key): page.stems}
            grams = common_grams(page.tokens, page.stems, page.language)
            if grams:
                fields[bigram_field(key)] = grams
            self._writer.add_document(**fields)
        self._changed = True

    def forget(self, item_id: str) -> None:
        self._writer.delete_by_term("item", item_id)
        self._changed = True

    def flush(self) -> None:
        """Nothing: documents are handed to Whoosh's writer as they are added."""

    def commit(self, meta: dict[str, Any]) -> None:
        if self._changed:
            self._writer.commit(mergetype=drop_empty_then_merge_small)
        else:
            self._writer.cancel()
        self._index.close()
        self._done = True

    def abort(self) -> None:
        if not self._done:
            self._writer.cancel()
            self._index.close()
            self._done = True
