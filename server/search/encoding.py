"""Encodes items' pages into their word folders, in this process or in a pool of worker processes.

Encoding a page for the word store (the analysis chain, stems, packed columns, zlib) and counting
an item's vocabulary is most of what indexing costs the ingest process: about 0.6 ms of CPU a
page of 300 words. Done in one process, that caps indexing at one core's worth of pages a second
however many cores and search nodes wait. :class:`Encoder` hands the work to ``workers``
processes instead, which write the page files and ``vocab.tsv`` themselves and send back what the
engine and the lexicon need. A page travels as :data:`~server.search.store.PageColumns` (a few
objects, not 300 word tuples), so the hand-over costs the ingest process a fifth of the encoding.

Results come back in the order the items were given; at most a few items per worker are in
flight, so memory stays bounded whatever the archive. The first worker error is raised to the
caller when its item's result is taken, as an error of the encoding itself would have been.
"""
from __future__ import annotations

import os
from collections import Counter, deque
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from server.search.engines import PageDoc
from server.search.store import PageColumns, encode_columns, token_counts, write_file, write_vocab
from server.workers import process_pool

NONE = "none"
IN_FLIGHT = 3
"""Items queued per worker: enough that no worker waits for the next, few enough to bound memory."""
POOL_FROM = 2000
"""Pages to encode from which a pool pays: a worker takes ~0.3 s to start, and saves ~0.6 ms a page."""


def encoding_workers(pages: int, workers: int = 0) -> int:
    """How many encoding processes ``pages`` pages deserve (``workers``: the configured number,
    0 for one a core); 0 below :data:`POOL_FROM` or on one core: encode in this process."""
    count = workers or os.cpu_count() or 1
    return count if pages >= POOL_FROM and count > 1 else 0


@dataclass(frozen=True)
class EncodedItem:
    """What the writer needs of an item once its folder is written: the engine's documents (pages
    with at least one token), the item's folded-token counts (for the lexicon) and the language keys
    of its indexed pages."""

    docs: list[PageDoc]
    counts: dict[str, int]
    languages: set[str] = field(default_factory=set)


def encode_item(folder: str, pages: list[PageColumns]) -> EncodedItem:
    """Write ``{folder}/{n}.page`` for each page and ``{folder}/vocab.tsv``; runs in a worker."""
    item_words: Counter[str] = Counter()
    docs: list[PageDoc] = []
    languages: set[str] = set()
    for page in pages:
        body, toks, stems, kept = encode_columns(page)
        n, lang = int(page[0]), page[1]
        write_file(f"{folder}/{n}.page", body)
        item_words.update(kept)
        if toks:
            docs.append(PageDoc(n, lang, toks, stems))
            languages.add(lang or NONE)
    vocab = token_counts(item_words)
    write_vocab(Path(folder), vocab)
    counts: dict[str, int] = {}
    for (folded, _), count in vocab.items():
        counts[folded] = counts.get(folded, 0) + count
    return EncodedItem(docs, counts, languages)


Done = Callable[[EncodedItem], None]


class Encoder:
    """Runs :func:`encode_item` here (``workers`` < 2) or in worker processes, and calls each item's
    ``done`` with its result in the order items were given: at once here, later with a pool (at the
    latest in :meth:`finish`)."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._pool: ProcessPoolExecutor | None = None
        self._waiting: deque[tuple[Future[EncodedItem], Done]] = deque()

    def add(self, folder: str, pages: list[PageColumns], done: Done) -> None:
        if self.workers < 2:
            done(encode_item(folder, pages))
            return
        if self._pool is None:
            self._pool = process_pool(self.workers)
        self._waiting.append((self._pool.submit(encode_item, folder, pages), done))
        while len(self._waiting) > IN_FLIGHT * self.workers:
            self._take()

    def finish(self) -> None:
        """Wait for every item given so far and call its ``done``; the pool stays for more."""
        while self._waiting:
            self._take()

    def close(self, cancel: bool = False) -> None:
        """Stop the workers (``cancel``: drop what has not run; a running item is let finish, so no
        worker writes into a folder after this returns)."""
        if cancel:
            for future, _ in self._waiting:
                future.cancel()
            self._waiting.clear()
        else:
            self.finish()
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=cancel)
            self._pool = None

    def _take(self) -> None:
        future, done = self._waiting.popleft()
        done(future.result())
