"""The change log behind IIIF Change Discovery: what changed in the published JSON, generation by generation.

The log is an append-only SQLite file in the data folder, outside the generations
(``{data}/discovery/changes.sqlite``), so removing or rebuilding ``manifests/`` does not forget
history. Appending is *idempotent and keyed by generation*: ``sync`` compares the JSON of the
generation ``current`` points at with the state the log itself describes (the last activity of
each object) and appends the difference in one transaction, recording the generation as logged.
So:

- an ingest killed before its switch adds nothing (``current`` did not change);
- an ingest killed between the switch and the append is caught up by the next ``sync`` (the next
  ingest runs one first, and the feed's view runs one when it sees an unlogged generation), with
  ``endTime`` = the time of the switch (the ``current`` link's own modification time);
- a rebuild of the publication from the holdings appends only what really differs.

Objects are recorded by kind and id (``Manifest`` + item id, ``Collection`` + collection id or
``{id}/page/{n}``), not by URL, so the feed is served under whatever base URL the request uses.
"""
from __future__ import annotations

import hashlib
import os
import sqlite3
import stat
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..publication import CURRENT

SCHEMA = """
CREATE TABLE IF NOT EXISTS activities (
    seq INTEGER PRIMARY KEY,      -- order of the feed, oldest first
    generation TEXT NOT NULL,     -- the generation whose switch this activity records
    type TEXT NOT NULL,           -- Create | Update | Delete
    object_type TEXT NOT NULL,    -- Manifest | Collection
    object_id TEXT NOT NULL,      -- item id, collection id, or "{collection id}/page/{n}"
    digest TEXT,                  -- sha256 of the published JSON (NULL for Delete)
    end_time TEXT NOT NULL        -- ISO 8601 UTC, the switch
);
CREATE TABLE IF NOT EXISTS generations (name TEXT PRIMARY KEY, end_time TEXT NOT NULL, logged_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS digests (  -- a cache: the sha256 of each document file the last sync read, by its inode
    dev INTEGER NOT NULL, ino INTEGER NOT NULL, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, digest TEXT NOT NULL,
    PRIMARY KEY (dev, ino)
);
"""

Key = tuple[str, str]  # (object type, object id)
FileId = tuple[int, int, int, int]  # (st_dev, st_ino, st_size, st_mtime_ns) of a document file
_COLUMNS = "seq, type, object_type, object_id, end_time"


@dataclass(frozen=True)
class Activity:
    seq: int
    type: str
    object_type: str
    object_id: str
    end_time: str


def log_path(data: Path) -> Path:
    return data / "discovery" / "changes.sqlite"


def published_state(generation: Path, known: dict[FileId, str] | None = None,
                    seen: dict[FileId, str] | None = None, same: dict[str, str] | None = None) -> dict[Key, str]:
    """Every manifest and collection document of a generation, with the sha256 of its JSON.

    Published files are never changed in place (an item version's manifest lives in its
    content-addressed object, which a generation links; an unchanged collection document is
    hard-linked), so a file whose inode, size and modification time are in ``known`` is not read
    again: its digest is taken from there. ``seen`` receives every file's identity and digest.
    ``same``: items whose manifest is known to be the one of the given digest (unchanged since the
    last logged generation): not even looked up."""
    iiif = generation / "iiif" / "3"
    state: dict[Key, str] = {}
    known = known if known is not None else {}
    seen = seen if seen is not None else {}
    if not iiif.is_dir():
        return state
    for entry in os.scandir(iiif):
        if entry.name == "collection":
            folder = Path(entry.path)
            for path in folder.rglob("*.json"):
                digest = _digest_of(str(path), known, seen)
                if digest is not None:
                    state[("Collection", path.relative_to(folder).with_suffix("").as_posix())] = digest
        else:
            digest = same.get(entry.name) if same else None
            if digest is None:
                digest = _digest_of(f"{entry.path}/manifest.json", known, seen)
            if digest is not None:
                state[("Manifest", entry.name)] = digest
    return state


def _digest_of(path: str, known: dict[FileId, str], seen: dict[FileId, str]) -> str | None:
    """The sha256 of a regular file (following links), from ``known`` when the same file was read before;
    None when there is no such file."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    if not stat.S_ISREG(st.st_mode):
        return None
    key = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
    digest = known.get(key)
    if digest is None:
        digest = _digest(Path(path))
    seen[key] = digest
    return digest


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class ChangeLog:
    """Read and append access to the log file (created on first use)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _connect(self, write: bool = False) -> sqlite3.Connection:
        """Readers only open the file (callers check it exists); the writer creates it and its tables."""
        if write:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        if write:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(SCHEMA)
        return db

    def exists(self) -> bool:
        return self.path.is_file()

    def _rows(self, sql: str, *args: object) -> list[tuple[Any, ...]]:
        """Rows of a read; none when the log does not exist yet (or its tables are not created yet)."""
        if not self.exists():
            return []
        db = self._connect()
        try:
            return db.execute(sql, args).fetchall()
        except sqlite3.OperationalError as exc:
            if "no such table" in str(exc):
                return []
            raise
        finally:
            db.close()

    def logged(self, generation: str) -> bool:
        return bool(self._rows("SELECT 1 FROM generations WHERE name = ?", generation))

    def count(self) -> int:
        rows = self._rows("SELECT COUNT(*) FROM activities")
        return int(rows[0][0]) if rows else 0

    def activity(self, seq: int) -> Activity | None:
        rows = self._rows(f"SELECT {_COLUMNS} FROM activities WHERE seq = ?", seq)
        return Activity(*rows[0]) if rows else None

    def activities(self, offset: int = 0, limit: int = -1) -> list[Activity]:
        """Activities in feed order (oldest first), ``limit`` from the ``offset``-th (0-based)."""
        return [Activity(*row) for row in self._rows(f"SELECT {_COLUMNS} FROM activities ORDER BY seq LIMIT ? OFFSET ?",
                                                     limit, offset)]

    def sync(self, manifests_dir: Path, unchanged: Collection[str] = (), since: str | None = None) -> int:
        """Append the changes of the generation ``current`` points at, once; returns how many were added.

        ``unchanged``: items ingest kept as generation ``since`` published them (their manifests
        are the same files): when ``since`` is the last generation logged, their logged digests are
        taken as they are, so a one-item change looks at that item's manifest, not at every item's."""
        link = manifests_dir / CURRENT
        try:
            target = os.readlink(link)
            switched = os.lstat(link).st_mtime
        except OSError:
            return 0  # nothing published yet
        generation = (manifests_dir / target).resolve()
        if not (generation / "catalog.sqlite").is_file() or self.logged(generation.name):
            return 0
        db = self._connect(write=True)
        try:
            known = _known_digests(db)
            seen: dict[FileId, str] = {}
            last_seq = db.execute("SELECT MAX(seq) FROM activities").fetchone()[0]
            logged = _logged_state(db)
            last_gen = db.execute("SELECT name FROM generations ORDER BY rowid DESC LIMIT 1").fetchone()
            same = {i: d for i in unchanged if (d := logged.get(("Manifest", i)))} \
                if since is not None and last_gen is not None and last_gen[0] == since else {}
            new = published_state(generation, known, seen, same)  # outside the transaction: it reads files
            db.execute("BEGIN IMMEDIATE")  # one writer; re-check under the lock
            if db.execute("SELECT 1 FROM generations WHERE name = ?", (generation.name,)).fetchone():
                db.execute("ROLLBACK")
                return 0
            last = db.execute("SELECT MAX(end_time) FROM activities").fetchone()[0]
            end_time = max(_iso(switched), last or "")  # the feed's times never go backwards
            if db.execute("SELECT MAX(seq) FROM activities").fetchone()[0] != last_seq:
                logged = _logged_state(db)  # logged meanwhile (another process): read again, under the lock
                if any(logged.get(("Manifest", i)) != d for i, d in same.items()):
                    db.execute("ROLLBACK")
                    return self.sync(manifests_dir)  # what was taken as it was is not: look at every file
            changes = list(_diff(logged, new))
            db.executemany("INSERT INTO activities (generation, type, object_type, object_id, digest, end_time) "
                           "VALUES (?, ?, ?, ?, ?, ?)",
                           [(generation.name, kind, otype, oid, digest, end_time) for kind, (otype, oid), digest in changes])
            db.execute("INSERT INTO generations VALUES (?, ?, ?)",
                       (generation.name, end_time, _iso(datetime.now(UTC).timestamp())))
            _store_digests(db, known, seen, set(new.values()))
            db.execute("COMMIT")
            return len(changes)
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        finally:
            db.close()


def _known_digests(db: sqlite3.Connection) -> dict[FileId, str]:
    return {(r[0], r[1], r[2], r[3]): r[4] for r in db.execute("SELECT dev, ino, size, mtime_ns, digest FROM digests")}


def _store_digests(db: sqlite3.Connection, known: dict[FileId, str], seen: dict[FileId, str],
                   shown: set[str]) -> None:
    """Keep the digests of the files this generation shows (only the difference is written): those
    looked at (``seen``), and those of a digest it shows (``shown``: files not looked at, kept as they were)."""
    gone = {(k[0], k[1]) for k in known.keys() - seen.keys() if known[k] not in shown} - \
        {(k[0], k[1]) for k in seen.keys() - known.keys()}
    db.executemany("DELETE FROM digests WHERE dev = ? AND ino = ?", sorted(gone))
    db.executemany("INSERT OR REPLACE INTO digests VALUES (?, ?, ?, ?, ?)",
                   [(*k, d) for k, d in seen.items() if known.get(k) != d])


def _logged_state(db: sqlite3.Connection) -> dict[Key, str]:
    """What the log says is published now: each object's last activity, unless it was a Delete."""
    state: dict[Key, str] = {}
    for kind, otype, oid, digest in db.execute(
            "SELECT type, object_type, object_id, digest FROM activities ORDER BY seq"):
        if kind == "Delete":
            state.pop((otype, oid), None)
        else:
            state[(otype, oid)] = digest
    return state


def _diff(old: dict[Key, str], new: dict[Key, str]) -> Iterator[tuple[str, Key, str | None]]:
    """Create/Update/Delete activities from ``old`` to ``new``, in a stable order (collections first)."""
    for key in sorted(set(old) | set(new)):
        if key not in new:
            yield "Delete", key, None
        elif key not in old:
            yield "Create", key, new[key]
        elif old[key] != new[key]:
            yield "Update", key, new[key]
