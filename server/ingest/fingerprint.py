"""Which inputs changed since the last publication: size + mtime first, content hash when they differ."""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

from ..image.pyramid import master_key


class Fingerprints:
    """Digest of each input file, reusing the previous publication's digest when size and mtime match."""

    def __init__(self, previous: dict[str, tuple[int, int, str]]) -> None:
        self.previous = previous
        self.current: dict[str, tuple[int, int, str]] = {}

    def master(self, path: Path) -> str:
        """The content key of a page master (names its pyramid)."""
        return self._digest(path, master_key)

    def file(self, path: Path) -> str:
        return self._digest(path, _sha256)

    def _digest(self, path: Path, compute) -> str:
        st = os.stat(path)
        name = str(path)
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
