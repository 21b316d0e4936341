"""The item folders of a holdings folder, listed and signed by helper processes while ingest starts.

A re-ingest must look at every input file (one ``stat`` each: the holdings folder is the source of
truth, and a file edited in place changes nothing else), and at 20,000 pages that is most of what an
unchanged archive costs it. The look needs no Python state, so helper processes do it, each for a
share of the folders, while the ingest process loads its modules and reads the previous generation:
the scan is done, in parallel, before the reader asks for it.

This module is also the helpers' program. It imports only the standard library and is run by its
path (``python -I -S scan.py``), so a helper starts in milliseconds and holds none of the parent's
open files (the ingest lock stays the parent's). What a helper prints is :mod:`marshal` data: per
folder, its sorted entry names, their kinds and the folder's signature (:func:`signature`), which
:class:`server.ingest.fingerprint.Fingerprints` compares with the record of the previous run.
"""
from __future__ import annotations

import hashlib
import marshal
import os
import struct
import sys
from collections.abc import Iterator, Sequence
from stat import S_ISDIR, S_ISREG

TYPE_CHECKING = False  # typing and subprocess are not the helpers' to import: they start faster without
if TYPE_CHECKING:
    import subprocess
    from typing import IO

    from .vendor import Entry

VERSION = 1  # of the helpers' output
_SEP = "/"  # never in a file name
_STAMP = struct.Struct("<4q")
FILE, DIR, OTHER = "f", "d", "o"  # an entry's kind, links followed (as DirEntry.is_file / is_dir)


def signature(names: Sequence[str], stats: Sequence[os.stat_result]) -> str:
    """What an item folder is: its entries' names and their inodes, sizes, mtimes and ctimes.

    Any change to a file's content or metadata moves its mtime or ctime, and any entry added,
    removed or renamed changes the names: while the signature is the recorded one, so is the folder."""
    pack = _STAMP.pack
    return hashlib.blake2b(_SEP.join(names).encode(errors="surrogateescape") + b"".join(
        [pack(st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns) for st in stats]), digest_size=16).hexdigest()


def stats_in(folder: str, names: Sequence[str]) -> list[os.stat_result]:
    """The entries' stats (links followed, as ``DirEntry.stat()``), each looked up by name in the open
    folder: a third less time than by full path, which the kernel walks again for every file."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        return [os.stat(name, dir_fd=fd) for name in names]
    finally:
        os.close(fd)


def scan_folder(folder: str) -> tuple[list[str], str, str | None] | None:
    """(entry names sorted, their kinds as one string of FILE/DIR/OTHER, signature) of one folder;
    the signature is None when an entry could not be stat'ed (a dangling link, a file gone
    meanwhile); None when the folder cannot be listed (the reader lists it again, to say why)."""
    try:
        with os.scandir(folder) as it:
            entries = sorted(it, key=_name)
    except OSError:
        return None
    names = [e.name for e in entries]
    try:
        stats = stats_in(folder, names)
    except OSError:
        return names, _kinds(entries), None
    kinds = "".join([FILE if S_ISREG(st.st_mode) else DIR if S_ISDIR(st.st_mode) else OTHER for st in stats])
    return names, kinds, signature(names, stats)


def _kinds(entries: list[os.DirEntry[str]]) -> str:
    out = []
    for e in entries:
        try:
            out.append(FILE if e.is_file() else DIR if e.is_dir() else OTHER)
        except OSError:
            out.append(OTHER)
    return "".join(out)


def _name(entry: os.DirEntry[str]) -> str:
    return entry.name


class ScannedEntry:
    """An entry of a scanned folder, as much of ``os.DirEntry`` as the reader uses."""

    __slots__ = ("kind", "name", "path")

    def __init__(self, folder: str, name: str, kind: str) -> None:
        self.name, self.path, self.kind = name, folder + os.sep + name, kind

    def is_file(self) -> bool:
        return self.kind == FILE

    def is_dir(self) -> bool:
        return self.kind == DIR

    def stat(self) -> os.stat_result:
        return os.stat(self.path)


class Listing(Sequence[ScannedEntry]):
    """A scanned folder's entries, sorted by name: made one by one when asked for (an unchanged
    folder needs only its names and signature)."""

    def __init__(self, folder: str, names: list[str], kinds: str, signature: str | None) -> None:
        self.folder, self.names, self.kinds, self.signature = folder, names, kinds, signature

    def __len__(self) -> int:
        return len(self.names)

    def __getitem__(self, index):  # an int or a slice, as a list takes
        if isinstance(index, slice):
            return [ScannedEntry(self.folder, n, k) for n, k in zip(self.names[index], self.kinds[index])]
        return ScannedEntry(self.folder, self.names[index], self.kinds[index])

    def __iter__(self) -> Iterator[ScannedEntry]:
        folder = self.folder
        return (ScannedEntry(folder, n, k) for n, k in zip(self.names, self.kinds))


def entry_names(entries: Sequence[Entry]) -> list[str]:
    """The names of a folder's entries: a scanned listing's own list, without making its entries."""
    return entries.names if isinstance(entries, Listing) else [e.name for e in entries]


def item_folders(items_dir: str) -> list[str]:
    """The names of ``items_dir``'s sub-folders the reader takes for item folders (not hidden), sorted."""
    with os.scandir(items_dir) as it:
        return sorted(e.name for e in it if not e.name.startswith(".") and e.is_dir())


def start_scan(holdings_dir: str | os.PathLike[str], workers: int) -> Scan:
    """Helpers for the item folders of ``holdings_dir``, each scanning a share (:func:`helpers_for`)."""
    return Scan(os.path.join(os.path.realpath(holdings_dir), "items"), helpers_for(workers))


def helpers_for(workers: int) -> int:
    """The helpers an ingest of ``workers`` workers starts: one fewer (the ingest process needs a core
    meanwhile, to load its modules and read the previous generation; on two cores, two helpers
    beside it were slower than one), at least one."""
    return max(1, workers - 1)


class Scan:
    """Item folders scanned by helper processes, started at once and read when first asked for.

    :meth:`folder` answers (names, kinds, signature) for a folder the helpers scanned, None for any
    other (or if a helper failed: the reader then lists and signs that folder itself, as without a scan)."""

    def __init__(self, items_dir: str, helpers: int) -> None:
        import subprocess
        self.items_dir = items_dir
        self._procs: list[subprocess.Popen[bytes]] = []
        self._found: dict[str, tuple[list[str], str, str | None]] | None = None
        helpers = max(1, helpers)
        try:
            for share in range(helpers):
                self._procs.append(subprocess.Popen(
                    [sys.executable, "-I", "-S", __file__, items_dir, str(share), str(helpers), str(os.getpid())],
                    stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL))
        except (OSError, ValueError):  # no process to spare (or no interpreter to run): the reader looks itself
            self.close()

    def folder(self, path: str) -> tuple[list[str], str, str | None] | None:
        """The scan of the item folder at ``path`` (a child of the scanned items folder), if there is one."""
        found = self._found if self._found is not None else self._collect()
        parent, _, name = path.rpartition(os.sep)
        return found.get(name) if parent == self.items_dir else None

    def _collect(self) -> dict[str, tuple[list[str], str, str | None]]:
        found: dict[str, tuple[list[str], str, str | None]] = {}
        for proc in self._procs:
            assert proc.stdout is not None
            data = proc.stdout.read()
            try:
                version, folders = marshal.loads(data) if proc.wait() == 0 else (None, {})
            except (EOFError, ValueError, TypeError):
                version = None
            if version != VERSION:  # a helper failed: the reader looks at every folder itself
                found = {}
                break
            found.update(folders)
        self._stop()
        self._found = found
        return found

    def close(self) -> None:
        """Stop any helper still running (the run ended early) and let go of what they found."""
        self._stop()
        self._found = {}

    def _stop(self) -> None:
        for proc in self._procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()
        self._procs = []


class ParentGone(Exception):
    """The ingest that started this helper is gone: nobody will read the scan."""


def _share(items_dir: str, share: int, shares: int,
           parent: int) -> Iterator[tuple[str, tuple[list[str], str, str | None]]]:
    for n, name in enumerate(item_folders(items_dir)[share::shares]):
        if n % 64 == 0 and os.getppid() != parent:  # killed (SIGKILL, the OOM killer): stop, as workers do
            raise ParentGone
        scanned = scan_folder(os.path.join(items_dir, name))
        if scanned is not None:
            yield name, scanned


def main(argv: list[str], out: IO[bytes]) -> int:
    """A helper: scan one share of ``items_dir``'s folders, print them as marshal data.

    ``argv``: the items folder, this helper's share and the number of shares, the ingest's pid."""
    items_dir, share, shares, parent = argv[0], int(argv[1]), int(argv[2]), int(argv[3])
    try:
        folders = dict(_share(items_dir, share, shares, parent))
    except (OSError, ParentGone):
        return 1
    out.write(marshal.dumps((VERSION, folders)))
    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:], sys.stdout.buffer))
