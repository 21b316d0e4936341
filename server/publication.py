"""The published state: one immutable generation directory per successful ingest.

Layout under ``{data}/manifests/``::

    gen-20261126T101500-1a2b/   catalog.sqlite (its number, collections), iiif/ (the IIIF JSON, servable
                                statically; iiif/3/<item> links into objects/), index/, words/
    current -> gen-…            a symlink, replaced atomically (rename) when an ingest completes
    items.sqlite                the shared catalog of item versions (server/catalog/)
    objects/<k[:2]>/<k>/        an item version's files, shared by generations (server/ingest/artefacts.py)

The web app only reads; it notices a new ``current`` on the next request and reopens. Pyramids (and
the render cache) live in ``{data}/image_cache/`` keyed by content, shared by all generations.
"""
from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from .catalog import CatalogReader, generation_number, open_generation
from .errors import NotFound
from .image.model import Pyramid

CURRENT = "current"


@dataclass(frozen=True)
class ImageRecord:
    id: str
    key: str
    pyramid: Pyramid


class _Connections:
    """One read connection per thread to a generation's catalog.

    Kept apart from :class:`Publication` so that nothing refers back to it: when the last request
    using a replaced generation ends, reference counting frees the publication at once, and with it
    every thread's connection and page cache (a cycle would wait for the collector's rare full pass)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()

    def __call__(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = open_generation(self.path)
            self._local.db = db
        return db


class Publication:
    """Read access to one generation. Connections are per thread; the file is immutable.

    Its catalog is read through :attr:`catalog` (typed reads, :mod:`server.catalog.reads`)."""

    def __init__(self, root: Path, image_cache: Path) -> None:
        self.root = root
        self.image_cache = image_cache
        self.catalog_path = root / "catalog.sqlite"
        self._db = _Connections(self.catalog_path)
        self._image_memo: dict[str, ImageRecord | None] = {}
        self.catalog = CatalogReader(self._db)

    @property
    def generation(self) -> str:
        return self.root.name

    @property
    def number(self) -> int | None:
        """The generation's number in the shared catalog (None: a self-contained older catalog)."""
        return generation_number(self._db())

    @cached_property
    def baked_base_url(self) -> str:
        """The public base URL the generation's IIIF documents were written with ("" if none)."""
        return self.catalog.meta("base_url") or ""

    def image(self, image_id: str) -> ImageRecord | None:
        """The pyramid behind a public image id, or None. Memoised: the generation never changes."""
        try:
            return self._image_memo[image_id]
        except KeyError:
            pass
        row = self.catalog.image(image_id)
        record = None
        if row is not None:
            record = ImageRecord(row.id, row.key, Pyramid(str(self.image_cache / row.pyramid),
                                                          row.width, row.height, row.level_sizes))
        if len(self._image_memo) > 100_000:
            self._image_memo.clear()
        self._image_memo[image_id] = record
        return record

    def iiif_file(self, relative: str) -> Path:
        return self.root / "iiif" / relative


class PublicationStore:
    """Finds the current generation and reopens it when ingest has switched ``current``."""

    def __init__(self, manifests_dir: Path, image_cache: Path) -> None:
        self.manifests_dir = manifests_dir
        self.image_cache = image_cache
        self._link = manifests_dir / CURRENT
        self._target: str | None = None
        self._pub: Publication | None = None
        self._lock = threading.Lock()

    def current(self) -> Publication | None:
        try:
            target = os.readlink(self._link)
        except OSError:
            return None
        if target != self._target:
            with self._lock:
                if target != self._target:
                    root = (self.manifests_dir / target).resolve()
                    self._pub = Publication(root, self.image_cache) if (root / "catalog.sqlite").is_file() else None
                    self._target = target
        return self._pub


STORE_EXTENSION = "heritage.store"


def current_publication() -> Publication | None:
    """The generation the running app serves (``current`` at this request), or None before any ingest."""
    from flask import current_app
    store: PublicationStore = current_app.extensions[STORE_EXTENSION]
    return store.current()


def required_publication() -> Publication:
    """The served generation of a request that needs one: NotFound (404) before any ingest."""
    pub = current_publication()
    if pub is None:
        raise NotFound("nothing is published yet: run `heritage ingest HOLDINGS_DIR`")
    return pub


def switch_current(manifests_dir: Path, generation_dir: Path) -> None:
    """Atomically point ``current`` at a complete generation (symlink + rename)."""
    tmp = manifests_dir / f".current-{os.getpid()}"
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    os.symlink(generation_dir.name, tmp)
    os.replace(tmp, manifests_dir / CURRENT)
    fd = os.open(manifests_dir, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def generations(manifests_dir: Path) -> Iterator[Path]:
    if manifests_dir.is_dir():
        for p in sorted(manifests_dir.iterdir()):
            if p.is_dir() and p.name.startswith("gen-") and not p.is_symlink():
                yield p
