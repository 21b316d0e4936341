"""A run starts from the generation its switch would delete (``server/ingest/recycle.py``): it keeps
that generation's entries of items unchanged since, and writes the rest. The result must be what a
generation written from nothing would be, and nothing served may change under its readers."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from server.config import Settings
from server.errors import HeritageError
from server.ingest import publish as publish_module
from server.ingest import run as run_module
from server.publication import generations
from server.search.service import SearchService

from .test_ingest import ENGLISH, KANT, NORDSTERN, RASSEGNA, current, holdings, read_items, run, write_items  # noqa: F401 (a fixture)
from .test_publish_fastpath import retitle


def entries(gen: Path) -> dict[str, dict[str, str]]:
    """Each item entry's object (its folder name), per folder of entries."""
    return {rel: {e.name: os.path.basename(os.path.realpath(e.path)) for e in os.scandir(gen / rel) if e.is_symlink()}
            for rel in ("iiif/3", "words")}


def inode(path: Path) -> int:
    return os.lstat(path).st_ino


def test_a_run_starts_from_the_generation_it_would_delete_and_equals_a_fresh_one(holdings: Path, tmp_path: Path) -> None:  # noqa: F811
    data = tmp_path / "data"
    assert run(holdings, data).returncode == 0
    first = current(data)
    first_folders = {rel: inode(first / rel) for rel in ("iiif/3", "words")}
    first_kant = inode(first / "iiif" / "3" / KANT)
    retitle(holdings, RASSEGNA, "Rassegna, second")
    assert run(holdings, data).returncode == 0
    retitle(holdings, NORDSTERN, "Nordstern, third")
    assert run(holdings, data).returncode == 0
    third = current(data)
    assert len(list(generations(data / "manifests"))) == 3  # KEEP_GENERATIONS: the next switch deletes the first
    # the fourth run: one item changed, one withdrawn, one added
    rows = read_items(holdings)
    shutil.copytree(holdings / "items" / NORDSTERN, holdings / "items" / "nordstern-copy")
    rows.append({**next(r for r in rows if r["id"] == NORDSTERN), "id": "nordstern-copy", "title": "Copy"})
    # withdrawn by its row (removing the row would move the lines of the rows below it, which are
    # part of their items' fingerprints)
    withdrawn = ENGLISH
    for r in rows:
        r["access"] = "restricted" if r["id"] == withdrawn else "public"
    write_items(holdings, rows)
    retitle(holdings, KANT, "Kant, fourth")
    result = run(holdings, data)
    assert result.returncode == 0, result.stdout + result.stderr
    fourth = current(data)
    assert not first.exists() and [g.name for g in generations(data / "manifests")][-1] == fourth.name
    # the first generation's folders are the fourth's: taken, not copied
    assert {rel: inode(fourth / rel) for rel in ("iiif/3", "words")} == first_folders
    mine = entries(fourth)
    assert withdrawn not in mine["iiif/3"] and withdrawn not in mine["words"]
    assert "nordstern-copy" in mine["iiif/3"] and "nordstern-copy" in mine["words"]
    assert inode(fourth / "iiif" / "3" / KANT) != first_kant  # published again
    for rel in ("iiif/3", "words"):  # an item unchanged since the third is the third's very entry
        for item_id in (RASSEGNA, NORDSTERN):
            assert inode(fourth / rel / item_id) == inode(third / rel / item_id), (rel, item_id)
    assert not (fourth / "iiif" / "3" / "collection").is_symlink() and (fourth / "iiif" / "3" / "collection").is_dir()
    # what a run from nothing makes of the same holdings: the same items, the same objects
    fresh = tmp_path / "fresh"
    assert run(holdings, fresh).returncode == 0
    theirs = entries(current(fresh))
    assert mine["iiif/3"] == theirs["iiif/3"]
    assert mine["words"].keys() == theirs["words"].keys()
    for item_id in mine["words"]:  # word folders are named by generation; their contents match
        ours, other = fourth / "words" / item_id, current(fresh) / "words" / item_id
        assert sorted(os.listdir(ours)) == sorted(os.listdir(other)), item_id
        assert (ours / "vocab.tsv").read_bytes() == (other / "vocab.tsv").read_bytes(), item_id
    assert sorted(os.listdir(fourth)) == sorted(os.listdir(current(fresh)))
    service = SearchService(fourth)
    try:
        for item_id in (RASSEGNA, KANT, "nordstern-copy"):
            words = (fourth / "words" / item_id / "vocab.tsv").read_text(encoding="utf-8").split("\t")[0]
            assert service.search_item(item_id, words).total_hits > 0, item_id
    finally:
        service.close()
    # and again: nothing changed, every entry kept
    before = entries(fourth)
    assert run(holdings, data).returncode == 0
    assert entries(current(data)) == before


def test_a_run_that_fails_after_taking_the_donor_leaves_the_served_generation(holdings: Path, tmp_path: Path,  # noqa: F811
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "data"
    monkeypatch.setenv("HERITAGE_DATA", str(data))
    monkeypatch.setenv("HERITAGE_WORKERS", "1")
    for title in ("one", "two", "three"):
        retitle(holdings, RASSEGNA, title)
        run_module.run_ingest(holdings, Settings.load())
    served = current(data)
    retitle(holdings, RASSEGNA, "four")

    def broken(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(publish_module, "write_generation", broken)
    with pytest.raises((OSError, HeritageError)):
        run_module.run_ingest(holdings, Settings.load())
    assert current(data) == served and served.is_dir()
    assert len(list(generations(data / "manifests"))) == 2  # the donor was taken, and went
    assert not list((data / "manifests").glob(".tmp-gen-*"))  # the donor went with the working folder
    monkeypatch.undo()
    monkeypatch.setenv("HERITAGE_DATA", str(data))
    result = run(holdings, data)
    assert result.returncode == 0, result.stdout + result.stderr
    assert current(data) != served
