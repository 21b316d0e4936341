"""The published state: one immutable generation directory per successful ingest.

Layout under ``{data}/manifests/``::

    gen-20261126T101500-1a2b/   catalog.sqlite (its number, collections), iiif/ (the IIIF JSON, servable
                                statically; iiif/3/<item> links into objects/), index/, words/
    current -> gen-…            a symlink, replaced atomically (rename) when an ingest completes
    items.sqlite                the shared catalog of item versions (server/catalog.py)
    objects/<k[:2]>/<k>/        an item version's files, shared by generations (server/ingest/artefacts.py)

The web app only reads; it notices a new ``current`` on the next request and reopens. Pyramids (and
the render cache) live in ``{data}/image_cache/`` keyed by content, shared by all generations.
"""
from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .catalog import generation_number, open_generation
from .image.model import Pyramid

SCHEMA = """
-- the self-contained catalog of generations written before the shared catalog (server/catalog.py);
-- still read, and still what create_catalog makes for tests that build a generation by hand
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE images (
    id TEXT PRIMARY KEY,          -- the public Image API identifier: {item id}~{page number}
    key TEXT NOT NULL,            -- content key of the master; names the pyramid and its tiles
    pyramid TEXT NOT NULL,        -- path of the pyramid, relative to image_cache/
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    levels TEXT NOT NULL          -- JSON [[w, h], ...], level 0 first
);
CREATE TABLE collections (
    id TEXT PRIMARY KEY, parent TEXT, position INTEGER NOT NULL, data TEXT NOT NULL
);
CREATE TABLE items (
    id TEXT PRIMARY KEY, collection TEXT NOT NULL, type TEXT NOT NULL, date TEXT,
    position INTEGER NOT NULL, data TEXT NOT NULL
);
CREATE INDEX items_by_collection ON items (collection, position);
CREATE TABLE pages (
    item_id TEXT NOT NULL, n INTEGER NOT NULL, image_id TEXT NOT NULL,
    width INTEGER NOT NULL, height INTEGER NOT NULL, label TEXT,
    ocr_path TEXT, ocr_format TEXT,
    PRIMARY KEY (item_id, n)
);
CREATE TABLE inputs (           -- fingerprints of every input file, for incremental ingest
    path TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, digest TEXT NOT NULL
);
"""

CURRENT = "current"


@dataclass(frozen=True)
class ImageRecord:
    id: str
    key: str
    pyramid: Pyramid


class Publication:
    """Read access to one generation. Connections are per thread; the file is immutable."""

    def __init__(self, root: Path, image_cache: Path) -> None:
        self.root = root
        self.image_cache = image_cache
        self.catalog_path = root / "catalog.sqlite"
        self._local = threading.local()
        self._image_memo: dict[str, ImageRecord | None] = {}

    @property
    def generation(self) -> str:
        return self.root.name

    def _db(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = open_generation(self.catalog_path)
            db.row_factory = sqlite3.Row
            self._local.db = db
        return db

    @property
    def number(self) -> int | None:
        """The generation's number in the shared catalog (None: a self-contained older catalog)."""
        return generation_number(self._db())

    def query(self, sql: str, *args: Any) -> list[sqlite3.Row]:
        return self._db().execute(sql, args).fetchall()

    def image(self, image_id: str) -> ImageRecord | None:
        """The pyramid behind a public image id, or None. Memoised: the generation never changes."""
        try:
            return self._image_memo[image_id]
        except KeyError:
            pass
        rows = self.query("SELECT id, key, pyramid, width, height, levels FROM images WHERE id = ?", image_id)
        record = None
        if rows:
            r = rows[0]
            levels = tuple(tuple(level) for level in json.loads(r["levels"]))
            record = ImageRecord(r["id"], r["key"], Pyramid(str(self.image_cache / r["pyramid"]),
                                                             r["width"], r["height"], levels))
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


def create_catalog(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path)
    db.executescript(SCHEMA)
    return db


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
