"""Incremental output: write a file only when its bytes changed, remove what is no longer exported.

``OUT_DIR/.heritage-export.json`` lists every file the last export wrote with the SHA-256 of its
bytes (and, for images, the source they were rendered from: the master's content key and the
canonical request, so an unchanged image is not even rendered again). A re-export compares,
writes what differs (atomically: temp file + rename), and deletes files the previous export
wrote and this one did not: withdrawn items, old search index chunks. Files it never wrote are
left alone.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

STATE = ".heritage-export.json"
STATE_VERSION = 1


@dataclass
class WriteStats:
    written: int = 0
    unchanged: int = 0
    removed: int = 0
    bytes_written: int = 0
    files: dict[str, dict[str, str]] = field(default_factory=dict)


class ExportWriter:
    def __init__(self, out_dir: Path) -> None:
        self.out = out_dir.resolve()
        self.out.mkdir(parents=True, exist_ok=True)
        self.previous: dict[str, dict[str, str]] = {}
        state = self.out / STATE
        try:
            data = json.loads(state.read_text(encoding="utf-8"))
            if data.get("version") == STATE_VERSION and isinstance(data.get("files"), dict):
                self.previous = data["files"]
        except (OSError, ValueError):
            pass
        self.stats = WriteStats()

    def target(self, rel: str) -> Path:
        """The file for ``rel``; refuses anything that would leave OUT_DIR or hide as a dot file."""
        parts = rel.split("/")
        if not rel or rel.startswith("/") or any(p in ("", ".", "..") or p.startswith(".") for p in parts) \
                or "\0" in rel or "\\" in rel:
            raise ValueError(f"not a safe export path: {rel!r}")
        return self.out / rel

    def has(self, rel: str) -> bool:
        return rel in self.stats.files

    def unchanged_source(self, rel: str, source: str) -> bool:
        """True (and the file kept) when the last export wrote ``rel`` from the same ``source``."""
        old = self.previous.get(rel)
        if old is None or old.get("source") != source or not self.target(rel).is_file():
            return False
        self.stats.files[rel] = old
        self.stats.unchanged += 1
        return True

    def write(self, rel: str, data: bytes, source: str | None = None) -> None:
        path = self.target(rel)
        digest = hashlib.sha256(data).hexdigest()
        entry = {"sha256": digest, **({"source": source} if source else {})}
        if rel in self.stats.files:
            return
        self.stats.files[rel] = entry
        old = self.previous.get(rel)
        if old is not None and old.get("sha256") == digest and _same_size(path, len(data)):
            self.stats.unchanged += 1
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.parent / f".{path.name}.{os.getpid()}.tmp"
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
        self.stats.written += 1
        self.stats.bytes_written += len(data)

    def finish(self) -> WriteStats:
        """Remove what the previous export wrote and this one did not; save the new state."""
        for rel in sorted(set(self.previous) - set(self.stats.files)):
            try:
                path = self.target(rel)
            except ValueError:
                continue
            try:
                path.unlink()
                self.stats.removed += 1
            except FileNotFoundError:
                continue
            _prune(path.parent, self.out)
        state = json.dumps({"version": STATE_VERSION, "files": dict(sorted(self.stats.files.items()))},
                           indent=0, ensure_ascii=False)
        try:
            same = (self.out / STATE).read_text(encoding="utf-8") == state
        except OSError:
            same = False
        if not same:  # an export that changed nothing leaves OUT_DIR untouched, the state file too
            tmp = self.out / f".{STATE}.{os.getpid()}.tmp"
            tmp.write_text(state, encoding="utf-8")
            os.replace(tmp, self.out / STATE)
        return self.stats


def _same_size(path: Path, size: int) -> bool:
    try:
        return path.stat().st_size == size
    except OSError:
        return False


def _prune(directory: Path, root: Path) -> None:
    """Remove directories left empty, up to (not including) the export root."""
    while directory != root and root in directory.parents:
        try:
            directory.rmdir()
        except OSError:
            return
        directory = directory.parent
