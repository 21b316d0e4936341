"""Which inputs changed since the last publication: size + mtime first, content hash when they differ."""
from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path

from ..holdings.package import sniff
from ..image.pyramid import master_key

# Keys of the item folders' .xml files' kinds (MAG, METS or neither) among the fingerprints: never a
# path (fingerprinted paths are absolute), so they share the inputs table without meeting a file's row.
KIND = "kind:"


class Fingerprints:
    """Digest of each input file, reusing the previous publication's digest when size and mtime match.

    The same cache remembers which of the item folders' ``.xml`` files are MAG or METS files
    (:meth:`sniff`), so a re-ingest need not open every ALTO file to find out it is not one."""

    def __init__(self, previous: dict[str, tuple[int, int, str]]) -> None:
        self.previous = previous
        self.current: dict[str, tuple[int, int, str]] = {}
        self._stats: dict[str, os.stat_result] = {}  # taken by sniff(), used once by the file's digest

    def master(self, path: Path) -> str:
        """The content key of a page master (names its pyramid)."""
        return self._digest(path, master_key)

    def file(self, path: Path) -> str:
        return self._digest(path, _sha256)

    def sniff(self, path: str, entry: os.DirEntry[str]) -> str | None:
        """What :func:`server.holdings.package.sniff` says of an item folder's ``.xml`` file, remembered
        while its size, mtime, inode and ctime stay the same (a :data:`server.holdings.vendor.Sniffer`)."""
        st = entry.stat()
        self._stats[path] = st
        stamp = f"{st.st_ino}:{st.st_ctime_ns}:"
        old = self.previous.get(KIND + path)
        if old is not None and old[0] == st.st_size and old[1] == st.st_mtime_ns and old[2].startswith(stamp):
            kind = old[2][len(stamp):] or None
        else:
            kind = sniff(path)
        self.current[KIND + path] = (st.st_size, st.st_mtime_ns, stamp + (kind or ""))
        return kind

    def _digest(self, path: Path, compute: Callable[[Path], str]) -> str:
        name = str(path)
        st = self._stats.pop(name, None) or os.stat(name)  # a stat the sniffer took is as good (and older)
        old = self.previous.get(name)
        if old is not None and old[0] == st.st_size and old[1] == st.st_mtime_ns:
            digest = old[2]
        else:
            digest = compute(path)
        self.current[name] = (st.st_size, st.st_mtime_ns, digest)
        return digest


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()[:32]
