"""Start a new generation from the one its switch would delete, so that a run touches what changed.

A generation holds one entry per item in ``iiif/3/`` and in ``words/`` (links to the item's
objects). Written from nothing, every run links every item again, and later deletes the oldest
generation's entries: work that grows with the archive, about 30 µs an item, for a one-item
change. But a run deletes the oldest generation right after its switch (``KEEP_GENERATIONS``
are kept), and that generation's entries are already right for every item whose shown version has
not changed since it was served. So the run takes that folder (the *donor*) instead of a new one:
it is renamed into the run's hidden working folder, everything but the item entries is removed,
and only the entries that are not the previous generation's own are replaced, added or removed:
an unchanged item's entry in the previous generation is a hard link to the same symbolic link as
the donor's when the item has not changed since (``server/search/store.py``: ``relink``), which one
directory listing of each folder shows (the entries' inode numbers, read without a ``stat``).

Nothing served is touched: the donor is no longer current nor the one before it (readers finish
their requests on those). A killed run leaves a hidden working folder, removed by the next run
like any other; only the donor is lost, which that run would have deleted anyway.
"""
from __future__ import annotations

import os
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from ..catalog.shared import generation_number
from ..publication import CURRENT, generations
from ..search.store import OBJECT_LINKS, WORDS_DIR

ITEM_FOLDERS = (os.path.join("iiif", "3"), WORDS_DIR)
"""The folders of per-item entries, relative to the generation."""


@dataclass(frozen=True)
class Donor:
    """A generation to start from: its folder and its number in the shared catalog."""

    path: Path
    number: int


def find_donor(manifests_dir: Path, keep: int) -> Donor | None:
    """The generation this run's switch would delete (``keep`` generations stay, the new one
    included), if it was written by this layout: object links (its :data:`OBJECT_LINKS` marker)
    and a number in the shared catalog. None otherwise: the run starts from an empty folder."""
    try:
        current = os.readlink(manifests_dir / CURRENT)
    except OSError:
        return None
    old = [g for g in generations(manifests_dir) if g.name != current]
    if len(old) + 1 < keep:  # after the switch: old + the current one; the oldest goes when that is `keep`
        return None
    path = old[0]
    if not (path / OBJECT_LINKS).is_file():
        return None
    try:
        db = sqlite3.connect(f"file:{path / 'catalog.sqlite'}?mode=ro", uri=True)
    except sqlite3.Error:
        return None
    try:
        number = generation_number(db)
    finally:
        db.close()
    return Donor(path, number) if number is not None else None


def take(donor: Donor, folder: Path) -> None:
    """Rename the donor to ``folder`` (the run's working folder) and keep only its item entries:
    its catalog, search index, collection documents and anything else go (they are written again);
    an entry that is not a link (an older layout's real folder) goes too, and is written again."""
    os.rename(donor.path, folder)
    keep = {Path(p).parts[0] for p in ITEM_FOLDERS}
    for entry in os.scandir(folder):
        if entry.name not in keep:
            _remove(entry)
    for entry in os.scandir(folder / "iiif"):
        if entry.name != "3":
            _remove(entry)
    for rel in ITEM_FOLDERS:
        try:
            entries = list(os.scandir(folder / rel))
        except FileNotFoundError:
            continue
        for entry in entries:
            if not entry.is_symlink():
                _remove(entry)


def _remove(entry: os.DirEntry[str]) -> None:
    if entry.is_dir(follow_symlinks=False):
        shutil.rmtree(entry.path)
    else:
        os.unlink(entry.path)
