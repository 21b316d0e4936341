"""Content-addressed per-item artefacts, shared by generations like the pyramids.

An item version's published files (manifest, canvases, ranges, OCR, plain text) are written once
into ``{manifests}/objects/<k[:2]>/<k>/``, where ``k`` names everything they depend on. A generation
holds only a relative symlink ``iiif/3/<item id> -> ../../../objects/<k[:2]>/<k>``: an unchanged or
carried-over item costs one directory entry, never a copy. Paths through the generation
(``iiif/3/<item>/manifest.json``) keep working for the web app and for a front web server.

An object appears atomically (written in a hidden folder, then renamed), so a killed ingest leaves
no half-written object that a later run could mistake for complete. Objects no kept generation
links to are removed by :func:`collect_objects` after old generations are removed.
"""
from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Iterable
from pathlib import Path

OBJECTS = "objects"
ARTEFACTS_VERSION = "1"
"""Bump when what ingest writes for an item changes for the same inputs (a new object is then built)."""


def object_key(*parts: str) -> str:
    h = hashlib.sha256(ARTEFACTS_VERSION.encode())
    for part in parts:
        h.update(b"\0" + part.encode())
    return h.hexdigest()[:40]


def object_dir(manifests_dir: Path, key: str) -> Path:
    return manifests_dir / OBJECTS / key[:2] / key


def link_item(iiif: Path, item_id: str, target: Path) -> None:
    """``iiif/<item id>`` → ``target`` (an object folder), as a link relative to the generation."""
    os.symlink(os.path.relpath(target, iiif), iiif / item_id)


def linked_object(iiif: Path, item_id: str) -> Path | None:
    """The object an item of a generation links to, or None (absent, or an old-layout real folder)."""
    link = iiif / item_id
    try:
        return (iiif / os.readlink(link)).resolve()
    except OSError:
        return None


class ObjectWriter:
    """Writes one object folder; ``commit`` renames it into place (or keeps an identical one there)."""

    def __init__(self, manifests_dir: Path, key: str) -> None:
        self.final = object_dir(manifests_dir, key)
        self.final.parent.mkdir(parents=True, exist_ok=True)
        self.folder = self.final.parent / f".tmp-{key}-{os.getpid()}"
        if self.folder.exists():
            shutil.rmtree(self.folder)
        self.folder.mkdir()

    def commit(self) -> Path:
        try:
            os.rename(self.folder, self.final)
        except OSError:  # built meanwhile (same key, same content): keep the one in place
            if not self.final.is_dir():
                raise
            shutil.rmtree(self.folder, ignore_errors=True)
        return self.final

    def abort(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def adopt_folder(manifests_dir: Path, folder: Path, key: str) -> Path:
    """An old-layout generation's real item folder, copied once into the object store."""
    final = object_dir(manifests_dir, key)
    if not final.is_dir():
        writer = ObjectWriter(manifests_dir, key)
        shutil.copytree(folder, writer.folder, dirs_exist_ok=True)
        writer.commit()
    return final


def remove_objects(manifests_dir: Path, objects: Iterable[str]) -> None:
    """Remove objects the catalog says no version uses any more (paths relative to ``manifests_dir``)."""
    for rel in objects:
        path = (manifests_dir / rel).resolve()
        if path.parent.parent == (manifests_dir / OBJECTS).resolve():  # never anything but an object
            shutil.rmtree(path, ignore_errors=True)


def collect_objects(manifests_dir: Path, generations: Iterable[Path]) -> int:
    """Remove objects no generation links to (and hidden folders of killed runs); returns how many.
    A walk of every kept generation's links: run after a killed ingest, whose objects no catalog row names."""
    live: set[Path] = set()
    for gen in generations:
        for folder in (gen / "iiif" / "3", gen / "words"):  # items' files; their word stores
            try:
                entries = list(os.scandir(folder))
            except OSError:
                continue
            for entry in entries:
                if entry.is_symlink():
                    target = linked_object(folder, entry.name)
                    if target is not None:
                        live.add(target)
    removed = 0
    root = manifests_dir / OBJECTS
    for shard in (root.iterdir() if root.is_dir() else ()):
        for obj in shard.iterdir():
            if obj.resolve() not in live:
                shutil.rmtree(obj, ignore_errors=True)
                removed += 1
    return removed
