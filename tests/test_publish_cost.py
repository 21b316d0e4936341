"""Publishing costs what changed: a one-item re-ingest writes that item's artefacts, not the archive's.

Bytes are measured by a walk of the data folder before and after (new or changed inodes), so shared
objects, links and hard links count once, where they were written.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from server.catalog import open_generation
from server.ingest.diskuse import snapshot, written

from .conftest import DEMO
from .test_ingest import RASSEGNA, current, read_items, run, write_items

OTHERS = ("periodical-deu-berlinische-monatsschrift-1784-12", "newspaper-deu-der-nordstern-1878-01-03",
          "periodical-eng-english-illustrated-magazine-1884-12")


@pytest.fixture()
def holdings(tmp_path: Path) -> Path:
    target = tmp_path / "holdings"
    shutil.copytree(DEMO, target)
    return target


def retitle(holdings: Path, item_id: str, title: str) -> None:
    rows = read_items(holdings)
    for r in rows:
        if r["id"] == item_id:
            r["title_en"] = title
    write_items(holdings, rows)


def titles(generation: Path) -> dict[str, str]:
    import json
    db = open_generation(generation / "catalog.sqlite")
    try:
        return {r[0]: json.loads(r[1])["label"].get("en", [""])[0] for r in db.execute("SELECT id, data FROM items")}
    finally:
        db.close()


def test_a_one_item_change_writes_that_item_and_links_the_rest(holdings: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert run(holdings, data).returncode == 0
    first = current(data)
    links = {i: os.readlink(first / "iiif" / "3" / i) for i in OTHERS}
    before = snapshot(data)
    retitle(holdings, RASSEGNA, "Rassegna, changed")
    result = run(holdings, data)
    assert result.returncode == 0, result.stdout + result.stderr
    gen = current(data)
    assert gen != first
    _, _, paths = written(before, snapshot(data))
    changed = os.readlink(gen / "iiif" / "3" / RASSEGNA)
    new_object = os.path.normpath(os.path.join("manifests", gen.name, "iiif", "3", changed))
    new_words = os.path.normpath(os.path.join("manifests", gen.name, "words", os.readlink(gen / "words" / RASSEGNA)))
    # the unchanged items are the same objects, linked, not copied
    assert {i: os.readlink(gen / "iiif" / "3" / i) for i in OTHERS} == links
    assert changed != os.readlink(first / "iiif" / "3" / RASSEGNA)
    # every regular file written is the changed item's, the generation's own, or a log or report
    own = (new_object + "/", new_words + "/", f"manifests/{gen.name}/catalog.sqlite", f"manifests/{gen.name}/.object-links",
           f"manifests/{gen.name}/iiif/3/collection/", f"manifests/{gen.name}/index/",
           "manifests/items.sqlite", "discovery/", "reports/")
    files = [p for p in paths if (data / p).is_file() and not (data / p).is_symlink()
             and not p.startswith("manifests/.")]  # lock files
    assert files and all(p.startswith(own) for p in files), [p for p in files if not p.startswith(own)]
    assert any(p.startswith(new_object + "/") for p in files)  # its manifest, canvases, OCR, text
    # and of the collections, only its own (the others are links to the served generation's files)
    collections = {p.split("/iiif/3/collection/")[1] for p in files if "/iiif/3/collection/" in p}
    assert collections and all(c.startswith("rassegna-settimanale") for c in collections), collections
    assert not [p for p in paths if p.startswith("manifests/objects/") and not p.startswith((new_object, new_words))
                and "/" in p[len("manifests/objects/xx/"):]]  # no other object was written into
    assert {os.readlink(gen / "words" / i) for i in OTHERS} == {os.readlink(first / "words" / i) for i in OTHERS}
    # readers see exactly the generation they opened, the old one too
    assert titles(first)[RASSEGNA] != "Rassegna, changed"
    assert titles(gen)[RASSEGNA] == "Rassegna, changed"
    assert (gen / "iiif" / "3" / RASSEGNA / "ocr" / "1.hocr").is_file()


def test_old_versions_are_collected_with_their_generations(holdings: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert run(holdings, data).returncode == 0
    first_object = (current(data) / "iiif" / "3" / RASSEGNA).resolve()
    for n in range(4):  # three generations are kept: the first one's version of the item goes
        retitle(holdings, RASSEGNA, f"Rassegna {n}")
        assert run(holdings, data).returncode == 0
    objects = {p.resolve() for p in (data / "manifests" / "objects").glob("*/*")}
    kept = [g for g in (data / "manifests").glob("gen-*")]
    assert len(kept) == 3
    linked = {(g / folder / i).resolve() for g in kept for i in (RASSEGNA, *OTHERS) for folder in ("iiif/3", "words")}
    assert objects == linked and first_object not in objects
    import sqlite3
    db = sqlite3.connect(data / "manifests" / "items.sqlite")
    versions = db.execute("SELECT COUNT(*) FROM versions WHERE id = ?", (RASSEGNA,)).fetchone()[0]
    assert versions == 3  # one a kept generation
    assert db.execute("SELECT COUNT(*) FROM versions").fetchone()[0] == 3 + len(OTHERS)
    for g in kept:
        assert RASSEGNA in titles(g)


def test_a_row_added_above_leaves_the_items_below_unchanged(holdings: Path, tmp_path: Path) -> None:
    """An item's line in the sheet is not part of what it is published from: staff insert rows
    anywhere (sorted by shelf mark, say), and only the new row's item is written."""
    import sqlite3
    data = tmp_path / "data"
    assert run(holdings, data).returncode == 0
    first = current(data)
    before = {i: os.readlink(first / "iiif" / "3" / i) for i in (RASSEGNA, *OTHERS)}

    def members() -> set[tuple[int, int, int, int | None]]:
        db = sqlite3.connect(data / "manifests" / "items.sqlite")
        try:
            return set(db.execute("SELECT vid, position, first, until FROM members"))
        finally:
            db.close()

    rows_before = members()
    rows = read_items(holdings)
    source = next(r for r in rows if r["id"] == RASSEGNA)
    shutil.copytree(holdings / "items" / RASSEGNA, holdings / "items" / "added-above")
    write_items(holdings, [{**source, "id": "added-above", "title_en": "Added above"}, *rows])
    result = run(holdings, data)
    assert result.returncode == 0, result.stdout + result.stderr
    gen = current(data)
    assert {i: os.readlink(gen / "iiif" / "3" / i) for i in before} == before  # the same objects
    assert f"({len(before)} items unchanged" in result.stdout + result.stderr
    assert (gen / "iiif" / "3" / "added-above" / "manifest.json").is_file()
    # the shared catalog: one membership added (the new item's), none closed or reopened
    added = members() - rows_before
    assert len(added) == 1 and rows_before <= members(), (added, rows_before - members())
    from server.catalog import open_generation
    db = open_generation(gen / "catalog.sqlite")
    try:  # and the catalog's order is the sheet's
        assert [r[0] for r in db.execute("SELECT id FROM items ORDER BY position")][:2] == ["added-above", rows[0]["id"]]
    finally:
        db.close()
