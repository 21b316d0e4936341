"""Which vendor metadata file an item folder holds (MAG or METS), read with the matching reader."""
from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from operator import attrgetter
from pathlib import Path
from typing import Protocol

from ..texts import N_
from .mag import read_mag
from .mets import read_mets
from .model import Problem, RecordedPages
from .package import Package, sniff

READERS = {"MAG": read_mag, "METS": read_mets}


class Entry(Protocol):
    """An entry of a listed folder: an ``os.DirEntry``, or a scanned one (``server/holdings/scan.py``)."""

    @property
    def name(self) -> str: ...

    @property
    def path(self) -> str: ...

    def is_file(self) -> bool: ...

    def is_dir(self) -> bool: ...

    def stat(self) -> os.stat_result: ...

Sniffer = Callable[[str, "Entry"], "str | None"]
"""The kind of an item folder's ``.xml`` file ('MAG', 'METS' or None), given its path and directory entry."""


class FolderWatch(Protocol):
    """What the holdings reader tells of the item folders it lists, and asks of their ``.xml`` files:
    ingest's fingerprints (:class:`server.ingest.fingerprint.Fingerprints`) remember both between
    runs, so an unchanged folder's files are neither opened nor looked up one by one."""

    def listing(self, folder: str) -> Sequence[Entry] | None:
        """The item folder's entries sorted by name, if they are known without listing it (scanned)."""

    def listed(self, folder: str, entries: Sequence[Entry]) -> dict[str, str | None] | None:
        """An item folder was listed: ``entries`` sorted by name. Returns the kinds of all its
        ``.xml`` files (name → 'MAG', 'METS' or None) when they are known without asking, else None."""

    def sniff(self, path: str, entry: Entry) -> str | None:
        """The kind of the folder's ``.xml`` file at ``path`` (a :data:`Sniffer`)."""

    def pages(self, folder: str) -> list[tuple[str, str | None, str | None]] | None:
        """The pages (image name, OCR file name, OCR format) last found in the folder, if it is as it was then."""

    def remember_pages(self, folder: str, pages: list[tuple[str, str | None, str | None]]) -> None:
        """The pages found in a listed folder, which raised no problem."""

    def made_pages(self, folder: str, pages: RecordedPages) -> None:
        """The item's pages, made from what :meth:`pages` answered (in its order): the object the item holds."""


class OpenEach:
    """The :class:`FolderWatch` that remembers nothing: each ``.xml`` file is opened to tell its kind."""

    def listing(self, folder: str) -> Sequence[Entry] | None:
        return None

    def listed(self, folder: str, entries: Sequence[Entry]) -> dict[str, str | None] | None:
        return None

    def sniff(self, path: str, entry: Entry) -> str | None:
        return sniff(path)

    def pages(self, folder: str) -> list[tuple[str, str | None, str | None]] | None:
        return None

    def remember_pages(self, folder: str, pages: list[tuple[str, str | None, str | None]]) -> None:
        pass

    def made_pages(self, folder: str, pages: RecordedPages) -> None:
        pass


OPEN_EACH = OpenEach()


def list_folder(folder: Path) -> list[os.DirEntry[str]]:
    """The folder's entries sorted by name (as sorting their paths would): one directory scan, no stat."""
    with os.scandir(folder) as scan:
        entries = list(scan)
    entries.sort(key=_NAME)
    return entries


_NAME = attrgetter("name")


def find_package(folder: Path, item_id: str, problems: list[Problem], errors: list[str],
                 entries: Sequence[Entry] | None = None, sniffer: Sniffer = OPEN_EACH.sniff) -> Package | None:
    """The MAG or METS file among the folder's top-level ``.xml`` files (the first by name if several).

    ``entries``: the folder's entries sorted by name (:func:`list_folder`), if the caller has them;
    ``sniffer`` tells each candidate's kind (a caller may know it without opening the file)."""
    try:
        if entries is None:
            entries = list_folder(folder)
        found = [(entry.name, kind) for entry in entries
                 if entry.name[-4:].lower() == ".xml" and not entry.name.startswith(".") and entry.is_file()
                 and (kind := sniffer(entry.path, entry)) in READERS]
    except OSError:
        return None
    if not found:
        return None
    name, kind = found[0]
    path = folder / name
    file = f"items/{item_id}/{name}"
    for other, other_kind in found[1:]:
        problems.append(Problem(f"items/{item_id}/{other}", None, N_("a second %(kind)s file in the item "
                                   "folder: only %(name)s is read", kind=other_kind, name=name),
                                item_id, "warning"))
    return READERS[kind](path, file, folder, item_id, problems, errors)
