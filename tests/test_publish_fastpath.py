"""A one-item change does almost nothing per unchanged item: what it skips must equal what a full
rebuild would have made (collection documents, the change log's state, carried-over links, the report)."""
from __future__ import annotations

import json
import os
import shutil
import sqlite3
from pathlib import Path

import pytest

from server.discovery import ChangeLog, log_path
from server.discovery.log import _logged_state, published_state
from server.holdings import read_holdings
from server.ingest.htmlreport import _page_images
from server.search.store import OBJECT_LINKS, marked, relink

from .conftest import DEMO
from .test_ingest import NORDSTERN, current, read_items, run, write_items

ISSUES = [f"nordstern-{n}" for n in range(1, 8)]  # one serial: six issues of 1878 (three pages of 2), one of 1879
PAGED = {"HERITAGE_COLLECTION_PAGE_SIZE": "2"}


@pytest.fixture()
def holdings(tmp_path: Path) -> Path:
    """The demo holdings plus a serial of seven issues (copies of the Nordstern issue), for paged collections."""
    target = tmp_path / "holdings"
    shutil.copytree(DEMO, target)
    rows = read_items(target)
    nordstern = next(r for r in rows if r["id"] == NORDSTERN)
    for n, item_id in enumerate(ISSUES, 1):
        shutil.copytree(target / "items" / NORDSTERN, target / "items" / item_id)
        date = f"1878-02-{n:02d}" if n < 7 else "1879-01-02"
        rows.append({**nordstern, "id": item_id, "date": date, "title": f"Issue {n}", "title_en": f"Issue {n}"})
    write_items(target, rows)
    return target


def retitle(holdings: Path, item_id: str, title: str) -> None:
    rows = read_items(holdings)
    for r in rows:
        if r["id"] == item_id:
            r["title_en"] = r["title"] = title
    write_items(holdings, rows)


def documents(gen: Path) -> dict[str, Path]:
    folder = gen / "iiif" / "3" / "collection"
    return {p.relative_to(folder).as_posix(): p for p in folder.rglob("*.json")}


def test_collection_documents_linked_by_key_equal_a_full_rebuild(holdings: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert run(holdings, data, env=PAGED).returncode == 0
    first = current(data)
    retitle(holdings, ISSUES[2], "Issue 3, changed")  # on page 2 of the year 1878
    result = run(holdings, data, env=PAGED)
    assert result.returncode == 0, result.stdout + result.stderr
    changed = current(data)
    before, after = documents(first), documents(changed)
    assert before.keys() == after.keys()
    assert "der-nordstern/1878/page/3.json" in after
    same = {rel for rel in after if os.stat(after[rel]).st_ino == os.stat(before[rel]).st_ino}
    # what does not list the changed issue is the served generation's file; what lists it is new
    assert {"top.json", "der-nordstern/1878/page/1.json", "der-nordstern/1878/page/3.json",
            "der-nordstern/1879.json"} <= same
    assert "der-nordstern/1878/page/2.json" not in same
    assert "Issue 3, changed" in after["der-nordstern/1878/page/2.json"].read_text(encoding="utf-8")
    # a rebuild of everything (--force uses no key) makes the same documents, byte for byte
    result = run(holdings, data, "--force", env=PAGED)
    assert result.returncode == 0, result.stdout + result.stderr
    rebuilt = documents(current(data))
    assert rebuilt.keys() == after.keys()
    for rel, path in after.items():
        assert path.read_bytes() == rebuilt[rel].read_bytes(), rel
    # and the keys each generation keeps name its documents
    db = sqlite3.connect(changed / "catalog.sqlite")
    try:
        keys = dict(db.execute("SELECT path, key FROM documents").fetchall())
    finally:
        db.close()
    assert keys.keys() == after.keys()
    # another page size is another key: nothing stale is linked
    result = run(holdings, data, env={"HERITAGE_COLLECTION_PAGE_SIZE": "3"})
    assert result.returncode == 0, result.stdout + result.stderr
    three = documents(current(data))
    assert "der-nordstern/1878/page/3.json" in three and "der-nordstern/1878/page/4.json" not in three
    page = json.loads(three["der-nordstern/1878/page/1.json"].read_text(encoding="utf-8"))
    assert len(page["items"]) == 3


def add_issue(holdings: Path, item_id: str, date: str) -> None:
    """A new issue of the serial (a copy of the Nordstern's pages), as the last row of the sheet."""
    rows = read_items(holdings)
    nordstern = next(r for r in rows if r["id"] == NORDSTERN)
    shutil.copytree(holdings / "items" / NORDSTERN, holdings / "items" / item_id)
    rows.append({**nordstern, "id": item_id, "date": date, "title": item_id, "title_en": item_id})
    write_items(holdings, rows)


def members(path: Path) -> list[str]:
    return [m["id"].split("/")[-2] for m in json.loads(path.read_text(encoding="utf-8"))["items"]]


def test_an_issue_added_before_the_others_rebuilds_the_page_it_joins_not_the_pages_after(
        holdings: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert run(holdings, data, env=PAGED).returncode == 0
    first = current(data)  # 1878: [Nordstern, 1], [2, 3], [4, 5], [6]
    add_issue(holdings, "nordstern-0", "1878-01-01")  # before every other issue of 1878
    result = run(holdings, data, env=PAGED)
    assert result.returncode == 0, result.stdout + result.stderr
    added = current(data)
    before, after = documents(first), documents(added)
    assert before.keys() == after.keys()  # no page added: the first one grew
    built = {rel for rel in after if os.stat(after[rel]).st_ino != os.stat(before[rel]).st_ino}
    # the page it joined, the year's list of pages (their ranges), the serial's (the year's thumbnail)
    assert built == {"der-nordstern/1878/page/1.json", "der-nordstern/1878.json", "der-nordstern.json"}
    assert members(after["der-nordstern/1878/page/1.json"]) == ["nordstern-0", NORDSTERN, ISSUES[0]]
    page = json.loads(after["der-nordstern/1878/page/1.json"].read_text(encoding="utf-8"))
    assert page["label"]["en"] == ["1878: nordstern-0 – Issue 1"]  # what it holds, not where it is
    # --force builds every document again, and keeps the pages: the same bytes
    result = run(holdings, data, "--force", env=PAGED)
    assert result.returncode == 0, result.stdout + result.stderr
    forced = documents(current(data))
    assert {rel: p.read_bytes() for rel, p in forced.items()} == {rel: p.read_bytes() for rel, p in after.items()}
    # two more: the first page holds five, more than twice the page size; it is split, and the pieces
    # after the first take new numbers, so that pages 2 to 4 keep theirs and are not built again
    add_issue(holdings, "nordstern-00", "1878-01-01")
    add_issue(holdings, "nordstern-000", "1878-01-01")
    result = run(holdings, data, env=PAGED)
    assert result.returncode == 0, result.stdout + result.stderr
    split = documents(current(data))
    year = json.loads(split["der-nordstern/1878.json"].read_text(encoding="utf-8"))
    assert [ref["id"].rsplit("/", 1)[1] for ref in year["items"]] == ["1", "5", "6", "2", "3", "4"]
    assert [members(split[f"der-nordstern/1878/page/{n}.json"]) for n in (1, 5, 6)] == [
        ["nordstern-0"], ["nordstern-00", "nordstern-000"], [NORDSTERN, ISSUES[0]]]
    for n in (2, 3, 4):
        rel = f"der-nordstern/1878/page/{n}.json"
        assert os.stat(split[rel]).st_ino == os.stat(forced[rel]).st_ino, rel
    # the served pages: each answers, with the ids the year lists
    from server import create_app
    client = create_app({"data": data, "base_url": "http://h.test"}).test_client()
    for ref in year["items"]:
        path = "/iiif/3" + ref["id"].split("/iiif/3", 1)[1]
        response = client.get(path)
        assert response.status_code == 200 and response.get_json()["id"] == f"http://h.test{path}"


def test_after_a_re_ingest_what_did_not_change_revalidates_as_not_modified(holdings: Path, tmp_path: Path) -> None:
    """Entity tags name the file, not the generation: a cache in front asks again after an ingest
    and gets a 304 for every document that is the same file (content-addressed, or linked)."""
    from server import create_app
    data = tmp_path / "data"
    assert run(holdings, data, env=PAGED).returncode == 0
    app = create_app({"data": data, "base_url": "http://h.test"})
    paths = [f"/iiif/3/{ISSUES[0]}/manifest", f"/iiif/3/{ISSUES[1]}/manifest", f"/iiif/3/{ISSUES[1]}/canvas/1",
             "/iiif/3/collection/der-nordstern/1878/page/1", "/iiif/3/collection/der-nordstern/1878/page/3",
             f"/iiif/3/{ISSUES[1]}/text.txt"]
    client = app.test_client()
    tags = {path: client.get(path).headers["ETag"] for path in paths}
    retitle(holdings, ISSUES[0], "Issue 1, changed")  # on page 1 of 1878
    result = run(holdings, data, env=PAGED)
    assert result.returncode == 0, result.stdout + result.stderr
    client = create_app({"data": data, "base_url": "http://h.test"}).test_client()
    status = {path: client.get(path, headers={"If-None-Match": tags[path]}).status_code for path in paths}
    assert status == {paths[0]: 200, paths[1]: 304, paths[2]: 304, paths[3]: 200, paths[4]: 304, paths[5]: 304}
    fresh = client.get(paths[0])
    assert fresh.headers["ETag"] != tags[paths[0]] and "Issue 1, changed" in fresh.get_data(as_text=True)
    # another base URL rebases the ids: another entity
    other = create_app({"data": data, "base_url": "http://elsewhere.test"}).test_client()
    assert other.get(paths[1], headers={"If-None-Match": tags[paths[1]]}).status_code == 200


def test_the_change_logs_state_equals_a_full_recomputation(holdings: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert run(holdings, data, env=PAGED).returncode == 0
    retitle(holdings, ISSUES[0], "Issue 1, changed")
    assert run(holdings, data, env=PAGED).returncode == 0
    log = ChangeLog(log_path(data))
    db = sqlite3.connect(log.path)
    try:
        logged = _logged_state(db)
        cached = db.execute("SELECT COUNT(*) FROM digests").fetchone()[0]
        updates = {(r[0], r[1]) for r in db.execute(
            "SELECT object_type, object_id FROM activities WHERE type = 'Update'")}
    finally:
        db.close()
    assert logged == published_state(current(data))  # every file read and hashed again
    assert cached == len(logged)  # the digests of the files the current generation shows, no more
    assert ("Manifest", ISSUES[0]) in updates and ("Manifest", ISSUES[1]) not in updates


def test_published_state_takes_a_digest_only_for_the_same_file(tmp_path: Path) -> None:
    gen = tmp_path / "gen"
    (gen / "iiif" / "3" / "item").mkdir(parents=True)
    manifest = gen / "iiif" / "3" / "item" / "manifest.json"
    manifest.write_text('{"id": 1}')
    truth = published_state(gen)
    st = os.stat(manifest)
    key = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
    seen: dict[tuple[int, int, int, int], str] = {}
    assert published_state(gen, {key: "cached"}, seen) == {("Manifest", "item"): "cached"}  # not read again
    assert seen == {key: "cached"}
    os.utime(manifest, ns=(st.st_atime_ns, st.st_mtime_ns + 1000))  # another file's identity: read
    assert published_state(gen, {key: "cached"}) == truth


def test_relink_copies_only_object_links(tmp_path: Path) -> None:
    before, after = tmp_path / "gen-1" / "iiif" / "3", tmp_path / "gen-2" / "iiif" / "3"
    before.mkdir(parents=True)
    after.mkdir(parents=True)
    (tmp_path / "objects" / "ab" / "abc").mkdir(parents=True)
    os.symlink("../../../objects/ab/abc", before / "item")
    os.symlink("/elsewhere/objects/ab/abc", before / "absolute")
    os.symlink("../../objects/ab/abc", before / "shallow")
    os.symlink("../../../objects/../ab", before / "dots")
    (before / "folder").mkdir()
    assert relink(str(before), str(after), "item", 3)
    assert os.readlink(after / "item") == "../../../objects/ab/abc"
    assert (after / "item").resolve() == (before / "item").resolve()
    # the link itself is shared (a directory entry, no inode of its own for each generation)
    assert os.lstat(after / "item").st_ino == os.lstat(before / "item").st_ino
    for name in ("absolute", "shallow", "dots", "folder", "missing"):
        assert not relink(str(before), str(after), name, 3), name
        assert not os.path.lexists(after / name)
    with pytest.raises(FileExistsError):  # never silently keeps what another step put there
        relink(str(before), str(after), "item", 3)


def test_relink_of_a_marked_generation_reads_no_link(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A generation this version wrote (its marker file) holds only object links and real folders:
    its links are shared without a readlink each; anything else still takes the careful way."""
    before, after = tmp_path / "gen-1" / "iiif" / "3", tmp_path / "gen-2" / "iiif" / "3"
    before.mkdir(parents=True)
    after.mkdir(parents=True)
    (tmp_path / "objects" / "ab" / "abc").mkdir(parents=True)
    os.symlink("../../../objects/ab/abc", before / "item")
    (before / "folder").mkdir()
    assert not marked(tmp_path / "gen-1")
    (tmp_path / "gen-1" / OBJECT_LINKS).write_text("")
    assert marked(tmp_path / "gen-1") and not marked(None)
    readlink = os.readlink
    read: list[str] = []
    monkeypatch.setattr(os, "readlink", lambda path, **kw: read.append(str(path)) or readlink(path, **kw))
    assert relink(str(before), str(after), "item", 3, marked=True)
    assert read == [] and os.lstat(after / "item").st_ino == os.lstat(before / "item").st_ino
    assert not relink(str(before), str(after), "folder", 3, marked=True)  # a real folder: not shared
    assert read == [f"{before}/folder"] and not os.path.lexists(after / "folder")
    assert not relink(str(before), str(after), "missing", 3, marked=True)
    with pytest.raises(FileExistsError):
        relink(str(before), str(after), "item", 3, marked=True)


def test_relink_makes_a_link_of_its_own_where_hard_links_are_refused(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    before, after = tmp_path / "gen-1" / "words", tmp_path / "gen-2" / "words"
    before.mkdir(parents=True)
    after.mkdir(parents=True)
    os.symlink("../../objects/ab/abc", before / "item")

    def refuse(*args: object, **kwargs: object) -> None:
        raise PermissionError(1, "Operation not permitted")
    monkeypatch.setattr(os, "link", refuse)
    assert relink(str(before), str(after), "item", 2)
    assert os.readlink(after / "item") == "../../objects/ab/abc"
    assert os.lstat(after / "item").st_ino != os.lstat(before / "item").st_ino


def test_an_unchanged_item_shares_its_links_with_the_previous_generation(holdings: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    run(holdings, data)
    first = current(data)
    retitle(holdings, ISSUES[0], "Changed")
    run(holdings, data)
    second = current(data)
    assert first != second
    for folder in ("iiif/3", "words"):
        assert os.lstat(second / folder / ISSUES[0]).st_ino != os.lstat(first / folder / ISSUES[0]).st_ino
        assert os.lstat(second / folder / ISSUES[1]).st_ino == os.lstat(first / folder / ISSUES[1]).st_ino, folder


def test_report_page_images_as_relative_to_did() -> None:
    holdings = read_holdings(DEMO.resolve(), "it")
    full: dict[str, Path] = {}
    for item in holdings.items.values():
        for page in item.pages:
            for path in (page.image, page.ocr):
                if path is not None:
                    full[str(path.relative_to(holdings.root))] = page.image
    assert _page_images(holdings) == full
    some = set(list(full)[::3]) | {"items.csv", "items/nothing.tif"}
    assert _page_images(holdings, some) == {k: v for k, v in full.items() if k in some}
    assert _page_images(holdings, set()) == {}


def test_a_reingest_opens_no_pyramid_the_previous_publication_lists(holdings: Path, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Reading every cached pyramid's headers again (~1.7 ms a 26 MP page through libvips) made a
    re-ingest cost the archive's size; the previous catalog has the level sizes. A pyramid it does
    not list, or one whose file is gone, is still opened (or rebuilt)."""
    from server.config import Settings
    from server.ingest import images
    from server.ingest.run import run_ingest
    settings = Settings(data=tmp_path / "data", workers=1, ocr="off")
    run_ingest(holdings, settings)
    before = {p.name: p for p in current(settings.data).parent.parent.glob("image_cache/pyramids/*/*.tif")}
    assert before
    opened: list[str] = []
    real = images.open_pyramid
    monkeypatch.setattr(images, "open_pyramid", lambda path: opened.append(str(path)) or real(path))
    retitle(holdings, ISSUES[0], "Changed")
    run_ingest(holdings, settings)
    assert opened == []
    gone = next(iter(before.values()))
    gone.unlink()  # rebuilt by the worker, never trusted from the catalog
    retitle(holdings, ISSUES[0], "Changed again")
    report = run_ingest(holdings, settings)
    assert gone.is_file() and report.pyramids_built == 1


def test_the_change_log_takes_unchanged_items_as_logged_only_after_the_generation_they_are_from(
        holdings: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ingest tells the log which items it kept as they were: their manifests are not looked up. The
    hint holds only after the generation they were kept from; a wrong or stale hint is not believed."""
    data = tmp_path / "data"
    assert run(holdings, data).returncode == 0
    first = current(data)
    retitle(holdings, ISSUES[0], "Issue 1, changed")
    assert run(holdings, data).returncode == 0
    log = ChangeLog(log_path(data))
    db = sqlite3.connect(log.path)
    try:
        expected = db.execute("SELECT COUNT(*) FROM activities WHERE generation = ?", (current(data).name,)).fetchone()[0]
        db.execute("DELETE FROM generations WHERE name = ?", (current(data).name,))  # as if not logged yet
        db.execute("DELETE FROM activities WHERE generation = ?", (current(data).name,))
        db.commit()
    finally:
        db.close()
    looked: list[str] = []
    real_stat = os.stat
    monkeypatch.setattr(os, "stat", lambda p, *a, **k: looked.append(os.fspath(p)) or real_stat(p, *a, **k))
    kept = [i for i in ISSUES if i != ISSUES[0]]
    assert expected >= 1
    assert log.sync(data / "manifests", kept, since="gen-not-logged") == expected  # stale: every manifest looked at
    assert any(ISSUES[1] in p for p in looked)
    db = sqlite3.connect(log.path)
    try:
        db.execute("DELETE FROM generations WHERE name = ?", (current(data).name,))
        db.execute("DELETE FROM activities WHERE generation = ?", (current(data).name,))
        db.commit()
    finally:
        db.close()
    looked.clear()
    assert log.sync(data / "manifests", kept, since=first.name) == expected  # the same activities
    assert not any(f"/{i}/" in p for p in looked for i in kept) and any(f"/{ISSUES[0]}/" in p for p in looked)
    db = sqlite3.connect(log.path)
    try:
        assert _logged_state(db) == published_state(current(data))
    finally:
        db.close()
