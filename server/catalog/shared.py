"""The catalog's storage: one shared SQLite database of item versions, and which generation shows which.

A one-item change must cost what changed, so the catalog is not rewritten per generation.
``{manifests}/items.sqlite`` holds, once per item version, its row (``versions``), its pages and its
images; ``members`` says which generations show a version, as an interval of generation numbers
``[first, until)`` (``until`` NULL: still shown) with the item's position. An ingest adds the rows of
what changed, closes the intervals of what was replaced or withdrawn, all in one transaction before
its switch; an unchanged item costs nothing.

Each generation keeps a small immutable ``catalog.sqlite`` of its own (``meta`` with its number,
``collections``). A reader opens it, attaches the shared database read-only and creates TEMP views
``items``, ``pages`` and ``images`` restricted to that generation number: it sees exactly the
served generation, whatever later ingests add (their rows have larger numbers). Generations are
numbered in ``generations``; a number is never reused, and the rows of a number that was never
switched to (a killed run) are removed by the next run. Rows only generations already removed can
see are removed by :meth:`SharedCatalog.collect`.

The journal is SQLite's default rollback journal (not WAL), so that the file can live on a network
file system shared by several web nodes; readers wait (busy timeout) during an ingest's commit, and
open it read-write but query-only, so that they can roll back the hot journal a killed ingest leaves.
"""
from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from .reads import CatalogReader

SHARED = "items.sqlite"
SHARED_SCHEMA = """
CREATE TABLE IF NOT EXISTS generations (g INTEGER PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS versions (
    vid INTEGER PRIMARY KEY, id TEXT NOT NULL, collection TEXT NOT NULL, type TEXT NOT NULL, date TEXT,
    data TEXT NOT NULL,
    files TEXT, words TEXT        -- its objects (paths relative to manifests/): removed with the last version using them
);
CREATE INDEX IF NOT EXISTS versions_by_id ON versions (id);
CREATE INDEX IF NOT EXISTS versions_by_collection ON versions (collection);
CREATE TABLE IF NOT EXISTS members (      -- generations first <= g < until show version vid
    vid INTEGER NOT NULL, position INTEGER NOT NULL, first INTEGER NOT NULL, until INTEGER
);
CREATE INDEX IF NOT EXISTS members_by_vid ON members (vid);
CREATE INDEX IF NOT EXISTS members_by_first ON members (first);
CREATE INDEX IF NOT EXISTS members_by_until ON members (until);
CREATE TABLE IF NOT EXISTS pages (
    vid INTEGER NOT NULL, item_id TEXT NOT NULL, n INTEGER NOT NULL, image_id TEXT NOT NULL,
    width INTEGER NOT NULL, height INTEGER NOT NULL, label TEXT, ocr_path TEXT, ocr_format TEXT,
    PRIMARY KEY (vid, n)
);
CREATE INDEX IF NOT EXISTS pages_by_item ON pages (item_id, n);
CREATE INDEX IF NOT EXISTS pages_by_image ON pages (image_id);
CREATE TABLE IF NOT EXISTS images (
    vid INTEGER NOT NULL, id TEXT NOT NULL, key TEXT NOT NULL, pyramid TEXT NOT NULL,
    width INTEGER NOT NULL, height INTEGER NOT NULL, levels TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS images_by_id ON images (id);
CREATE INDEX IF NOT EXISTS images_by_vid ON images (vid);
CREATE TABLE IF NOT EXISTS inputs (       -- fingerprints of input files: ingest's cache, not per generation
    path TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, digest TEXT NOT NULL
);
"""

GENERATION_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE collections (
    id TEXT PRIMARY KEY, parent TEXT, position INTEGER NOT NULL, data TEXT NOT NULL
);
CREATE TABLE documents (    -- each collection document's key (what it was built from): the next ingest links
    path TEXT PRIMARY KEY,  -- a document of the same key instead of building it (path: under iiif/3/collection/)
    key TEXT NOT NULL
);
CREATE TABLE page_layouts (  -- each paged collection's pages, in order: the next ingest keeps them (paging.py)
    collection TEXT NOT NULL, ordinal INTEGER NOT NULL, page INTEGER NOT NULL,
    heads TEXT NOT NULL,      -- JSON: the keys of the page's first members (paging.HEADS)
    size INTEGER NOT NULL,    -- the page size they were made for (another one starts afresh)
    PRIMARY KEY (collection, ordinal)
);
"""

SELF_CONTAINED_SCHEMA = """
-- the self-contained catalog of generations written before the shared catalog (above);
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

_LIVE = "m.first <= {g} AND (m.until IS NULL OR m.until > {g})"
_VIEWS = """
CREATE TEMP VIEW items AS
    SELECT v.id AS id, v.collection AS collection, v.type AS type, v.date AS date, m.position AS position,
           v.data AS data, v.vid AS rowid
    FROM {s}members m JOIN {s}versions v ON v.vid = m.vid WHERE {live};
CREATE TEMP VIEW pages AS
    SELECT p.item_id AS item_id, p.n AS n, p.image_id AS image_id, p.width AS width, p.height AS height,
           p.label AS label, p.ocr_path AS ocr_path, p.ocr_format AS ocr_format
    FROM {s}pages p JOIN {s}members m ON m.vid = p.vid WHERE {live};
CREATE TEMP VIEW images AS
    SELECT i.id AS id, i.key AS key, i.pyramid AS pyramid, i.width AS width, i.height AS height, i.levels AS levels
    FROM {s}images i JOIN {s}members m ON m.vid = i.vid WHERE {live};
CREATE TEMP VIEW inputs AS SELECT path, size, mtime_ns, digest FROM {s}inputs;
"""


def shared_path(manifests_dir: Path) -> Path:
    return manifests_dir / SHARED


def generation_number(db: sqlite3.Connection) -> int | None:
    """The number of a generation catalog, or None for a self-contained (older) catalog."""
    try:
        row = db.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
    except sqlite3.Error:
        return None
    return int(row[0]) if row else None


def open_generation(path: Path) -> sqlite3.Connection:
    """A read-only connection to one generation's catalog; ``items``/``pages``/``images`` show it alone."""
    db = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True, check_same_thread=False)
    g = generation_number(db)
    if g is not None:
        db.execute("PRAGMA busy_timeout = 30000")
        # read-write but query-only: a reader must be able to roll back the hot journal a killed ingest
        # may leave, which a read-only connection cannot (it would fail until the next ingest)
        db.execute("ATTACH DATABASE ? AS shared", (f"file:{shared_path(path.parent.parent)}?mode=rw",))
        db.executescript(_VIEWS.format(live=_LIVE.format(g=int(g)), s="shared."))
        db.execute("PRAGMA query_only = ON")
    return db


class SharedCatalog:
    """Ingest's write access: one transaction per generation, committed before the switch."""

    def __init__(self, manifests_dir: Path) -> None:
        self.db = sqlite3.connect(shared_path(manifests_dir), timeout=60, isolation_level=None)
        self.db.execute("PRAGMA cache_size = -262144")  # a large change stays in memory until commit
        self.db.executescript(SHARED_SCHEMA)
        self.g = 0
        self.previous: int | None = None
        self.abandoned: set[str] = set()
        self.reads = CatalogReader(lambda: self.db)  # the generation being written (after begin)

    def begin(self, current: int | None, gen_catalog: Path, name: str) -> int:
        """Start generation ``name``'s transaction after ``current`` (the served one); returns its number.

        Its own catalog (``gen_catalog``) is attached as ``gen``, so that one transaction writes both;
        the TEMP views ``items``, ``pages``, ``images`` show the new generation to this connection.
        Rows of numbers above ``current`` come from runs that never switched: they are removed."""
        self.db.execute("ATTACH DATABASE ? AS gen", (str(gen_catalog),))
        self.db.execute("BEGIN IMMEDIATE")
        _script(self.db, GENERATION_SCHEMA.replace("CREATE TABLE ", "CREATE TABLE gen."))
        self.previous = current
        floor = current if current is not None else 0
        self.db.execute("DELETE FROM main.members WHERE first > ?", (floor,))
        self.db.execute("UPDATE main.members SET until = NULL WHERE until > ?", (floor,))
        self.abandoned = self._unused(self._drop_orphans())  # the objects of a run that never switched
        top = self.db.execute("SELECT MAX(g) FROM main.generations").fetchone()[0] or 0
        self.g = max(top, floor) + 1
        self.db.execute("INSERT INTO main.generations VALUES (?, ?)", (self.g, name))
        self.set_meta("generation", str(self.g))
        _script(self.db, _VIEWS.format(live=_LIVE.format(g=self.g), s="main."))
        return self.g

    def live(self) -> dict[str, tuple[int, int, int]]:
        """The served generation's items: id → (member rowid, version id, position)."""
        if self.previous is None:
            return {}
        live = _LIVE.format(g=int(self.previous))
        return {r[0]: (r[1], r[2], r[3]) for r in self.db.execute(
            f"SELECT v.id, m.rowid, m.vid, m.position FROM main.members m JOIN main.versions v ON v.vid = m.vid WHERE {live}")}

    def add_version(self, item_id: str, collection: str, type_: str, date: str | None, data: str,
                    position: int, files: str | None = None) -> int:
        vid = self.db.execute("INSERT INTO main.versions (id, collection, type, date, data, files) "
                              "VALUES (?, ?, ?, ?, ?, ?)", (item_id, collection, type_, date, data, files)).lastrowid
        assert vid is not None
        self.show(vid, position)
        return vid

    def add_page(self, vid: int, item_id: str, n: int, image_id: str, width: int, height: int, label: str | None,
                 ocr_path: str | None, ocr_format: str | None) -> None:
        self.db.execute("INSERT INTO main.pages VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (vid, item_id, n, image_id, width, height, label, ocr_path, ocr_format))

    def add_image(self, vid: int, image_id: str, key: str, pyramid: str, width: int, height: int, levels: str) -> None:
        self.db.execute("INSERT INTO main.images VALUES (?, ?, ?, ?, ?, ?, ?)",
                        (vid, image_id, key, pyramid, width, height, levels))

    def set_meta(self, key: str, value: str) -> None:
        self.db.execute("INSERT INTO gen.meta VALUES (?, ?)", (key, value))

    def add_collection(self, coll_id: str, parent: str | None, position: int, data: str) -> None:
        self.db.execute("INSERT INTO gen.collections VALUES (?, ?, ?, ?)", (coll_id, parent, position, data))

    def set_document_keys(self, keys: dict[str, str]) -> None:
        self.db.executemany("INSERT INTO gen.documents VALUES (?, ?)", sorted(keys.items()))

    def set_page_layouts(self, layouts: dict[str, list[tuple[int, tuple[str, ...]]]], size: int) -> None:
        self.db.executemany("INSERT INTO gen.page_layouts VALUES (?, ?, ?, ?, ?)",
                            [(coll, k, page, json.dumps(heads, ensure_ascii=False), size)
                             for coll, pages in sorted(layouts.items()) for k, (page, heads) in enumerate(pages)])

    def set_words(self, vid: int, words: str) -> None:
        self.db.execute("UPDATE main.versions SET words = ? WHERE vid = ?", (words, vid))

    def show(self, vid: int, position: int) -> None:
        self.db.execute("INSERT INTO main.members (vid, position, first) VALUES (?, ?, ?)", (vid, position, self.g))

    def hide(self, member: int) -> None:
        self.db.execute("UPDATE main.members SET until = ? WHERE rowid = ?", (self.g, member))

    def set_inputs(self, current: dict[str, tuple[int, int, str]], previous: dict[str, tuple[int, int, str]]) -> None:
        """Store the input fingerprints that changed (the table is a cache, shared by generations)."""
        self.db.executemany("INSERT OR REPLACE INTO main.inputs VALUES (?, ?, ?, ?)",
                            [(p, *v) for p, v in current.items() if previous.get(p) != v])
        self.db.executemany("DELETE FROM main.inputs WHERE path = ?", [(p,) for p in previous.keys() - current.keys()])

    def commit(self) -> None:
        self.db.execute("COMMIT")
        self.db.execute("DETACH DATABASE gen")

    def rollback(self) -> None:
        if self.db.in_transaction:
            self.db.execute("ROLLBACK")

    def collect(self, oldest_kept: int) -> set[str]:
        """Forget the rows only generations older than ``oldest_kept`` (removed) could see; returns the
        objects (paths relative to manifests/) no remaining version uses."""
        self.db.execute("BEGIN IMMEDIATE")
        self.db.execute("DELETE FROM main.members WHERE until IS NOT NULL AND until <= ?", (oldest_kept,))
        gone = self._unused(self._drop_orphans())
        self.db.execute("DELETE FROM main.generations WHERE g < ?", (oldest_kept,))
        self.db.execute("COMMIT")
        return gone

    def _unused(self, objects: set[str]) -> set[str]:
        """Those of ``objects`` no remaining version uses (a version may reuse another's object)."""
        listed = json.dumps(sorted(objects))
        used = {r[0] for r in self.db.execute(
            "SELECT files FROM main.versions WHERE files IN (SELECT value FROM json_each(?)) UNION "
            "SELECT words FROM main.versions WHERE words IN (SELECT value FROM json_each(?))", (listed, listed))}
        return objects - used

    def close(self) -> None:
        self.rollback()
        self.db.close()

    def _drop_orphans(self) -> set[str]:
        """Delete versions no generation shows; returns their objects."""
        orphans = "SELECT vid FROM main.versions WHERE vid NOT IN (SELECT vid FROM main.members)"
        gone = {path for row in self.db.execute(f"SELECT files, words FROM main.versions WHERE vid IN ({orphans})")
                for path in row if path}
        for table in ("pages", "images"):
            self.db.execute(f"DELETE FROM main.{table} WHERE vid IN ({orphans})")
        self.db.execute(f"DELETE FROM main.versions WHERE vid IN ({orphans})")
        return gone


def _script(db: sqlite3.Connection, sql: str) -> None:
    """Statements one by one: ``executescript`` would commit the transaction in progress."""
    for statement in sql.split(";"):
        if statement.strip():
            db.execute(statement)


def create_catalog(path: Path) -> sqlite3.Connection:
    """A self-contained catalog (the older layout), for tests that build a generation by hand."""
    db = sqlite3.connect(path)
    db.executescript(SELF_CONTAINED_SCHEMA)
    return db


def collect(manifests_dir: Path, generation_catalogs: list[Path]) -> set[str]:
    """After old generations were removed: forget the shared rows none of the kept ones can see;
    returns the objects (paths relative to ``manifests_dir``) that no remaining version uses."""
    numbers = []
    for path in generation_catalogs:
        try:
            db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        except sqlite3.Error:
            continue
        try:
            numbers.append(generation_number(db))
        finally:
            db.close()
    if None in numbers or not numbers or not shared_path(manifests_dir).is_file():
        return set()  # a self-contained generation is still kept, or there is nothing shared yet
    catalog = SharedCatalog(manifests_dir)
    try:
        return catalog.collect(min(n for n in numbers if n is not None))
    finally:
        catalog.close()
