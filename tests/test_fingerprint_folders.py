"""Ingest remembers whole item folders: one record per folder, signed by its entries' stats.

A one-item change must cost what changed, so an unchanged folder is neither opened nor looked up
file by file; but a folder that changed in any way a file can change (content rewritten in place
with its size and mtime kept, a file added, renamed or removed) must be looked at again, and then
only its changed files are hashed.

Every test here runs twice: with the folders listed and signed by the reader, and by the scan's
helper processes (``server/holdings/scan.py``), as ``heritage ingest`` does.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from server.holdings import Holdings, read_holdings
from server.holdings.scan import start_scan
from server.ingest.fingerprint import FOLDER, KIND, Fingerprints

from .test_holdings_listing import plain_items

SCANNED = {"on": False}


@pytest.fixture(autouse=True, params=["listed", "scanned"])
def scanned(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(SCANNED, "on", request.param == "scanned")


def ingest_like(root: Path, previous: dict[str, tuple[int, int, str]]) -> tuple[Fingerprints, Holdings, list[str]]:
    """Read the holdings and fingerprint every page as ingest does; returns the paths hashed."""
    hashed: list[str] = []

    class Counting(Fingerprints):
        def _compute(self, path, compute, size, mtime_ns):  # type: ignore[no-untyped-def]
            hashed.append(str(path))
            return super()._compute(path, compute, size, mtime_ns)

    scan = start_scan(root, 3) if SCANNED["on"] else None  # two helpers
    fps = Counting(previous, scan)
    holdings = read_holdings(root, watch=fps)
    if scan is not None:
        assert scan.folder(str(root / "items" / "issue-000")) is not None  # the helpers' work was used
        scan.close()
    for item in holdings.items.values():
        for page in item.pages:
            fps.master(page.image)
            if page.ocr is not None:
                fps.file(page.ocr)
    return fps, holdings, hashed


@pytest.fixture
def root(tmp_path: Path) -> Path:
    root = plain_items(tmp_path / "holdings", 4)
    for n, jpg in enumerate(sorted(root.glob("items/*/*.jpg"))):
        jpg.write_bytes(b"\xff\xd8" + bytes([n]) * 64)  # distinct masters
    return root


def test_one_row_per_item_folder_and_nothing_hashed_when_unchanged(root: Path) -> None:
    first, holdings, hashed = ingest_like(root, {})
    assert len(hashed) == 24  # 4 items × 3 pages × (image + ALTO)
    rows = first.current
    assert sorted(rows) == sorted(FOLDER + str(item.folder) for item in holdings.items.values())
    again, _, hashed = ingest_like(root, rows)
    assert hashed == [] and again.current == rows  # nothing hashed, nothing to write back
    assert again.digests == first.digests


def test_a_file_rewritten_in_place_with_size_and_mtime_kept_is_hashed_again(root: Path) -> None:
    first, _, _ = ingest_like(root, {})
    page = root / "items" / "issue-002" / "0002.jpg"
    st = page.stat()
    page.write_bytes(b"\xff\xd8" + b"\x99" * 64)  # same size
    os.utime(page, ns=(st.st_atime_ns, st.st_mtime_ns))  # same mtime: only the ctime moved
    second, _, hashed = ingest_like(root, first.current)
    assert hashed == [str(page)]  # only that file: the folder's other files keep their digests
    assert second.digest_of(page) != first.digest_of(page)
    changed = {k for k, v in second.current.items() if first.current.get(k) != v}
    assert changed == {FOLDER + str(page.parent)}


@pytest.mark.parametrize("change", ["add", "remove", "rename"])
def test_a_folder_whose_entries_changed_is_listed_again(root: Path, change: str) -> None:
    first, before, _ = ingest_like(root, {})
    folder = root / "items" / "issue-001"
    if change == "add":
        (folder / "0020.jpg").write_bytes(b"\xff\xd8new page")
    elif change == "remove":
        (folder / "0010.jpg").unlink()
        (folder / "0010.xml").unlink()
    else:
        (folder / "0010.jpg").rename(folder / "0011.jpg")
        (folder / "0010.xml").rename(folder / "0011.xml")
    _, after, hashed = ingest_like(root, first.current)
    pages = [p.image.name for p in after.items["issue-001"].pages]
    assert pages == {"add": ["0001.jpg", "0002.jpg", "0010.jpg", "0020.jpg"], "remove": ["0001.jpg", "0002.jpg"],
                     "rename": ["0001.jpg", "0002.jpg", "0011.jpg"]}[change]
    # a renamed file keeps its inode, size and mtime, but not its name: hashed again (it is the item's cost)
    assert hashed == {"add": [str(folder / "0020.jpg")], "remove": [],
                      "rename": [str(folder / "0011.jpg"), str(folder / "0011.xml")]}[change]
    assert [i.pages for i in after.items.values() if i.id != "issue-001"] == \
        [i.pages for i in before.items.values() if i.id != "issue-001"]


def test_rows_of_the_per_file_cache_are_used_once_then_replaced(root: Path) -> None:
    """A data folder written before folders were recorded: its per-file rows spare the hashing once."""
    first, _, _ = ingest_like(root, {})
    per_file = {}
    for path, digest in first.digests.items():
        st = os.stat(path)
        per_file[path] = (st.st_size, st.st_mtime_ns, digest)
        if path.endswith(".xml"):
            per_file[KIND + path] = (st.st_size, st.st_mtime_ns, f"{st.st_ino}:{st.st_ctime_ns}:")
    upgraded, _, hashed = ingest_like(root, per_file)
    assert hashed == [] and upgraded.digests == first.digests
    assert all(k.startswith(FOLDER) for k in upgraded.current)


def test_an_unchanged_folders_pages_are_taken_from_its_record(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The pages the reader found in a folder are recorded with it: while it is unchanged they are not
    worked out again from its names, and they are the same pages."""
    from server.holdings import reader
    first, before, _ = ingest_like(root, {})
    second, again, _ = ingest_like(root, first.current)  # the rows now hold the pages
    assert second.current == first.current

    def no_listing(*_: object, **__: object) -> None:
        raise AssertionError("an unchanged folder was worked out again")

    with monkeypatch.context() as m:
        m.setattr(reader, "_list_pages", no_listing)
        _, after, hashed = ingest_like(root, second.current)
    assert hashed == [] and repr(after.items) == repr(before.items) == repr(again.items)
    assert all(str(p.image) == str(Path(p.image)) for i in after.items.values() for p in i.pages)
    # a folder with a problem (an OCR file without its image) is worked out each time: its warning is said again
    (root / "items" / "issue-003" / "0099.xml").write_text("<alto/>", encoding="utf-8")
    third, _, _ = ingest_like(root, second.current)
    _, holdings, _ = ingest_like(root, third.current)
    assert any("0099.xml" in p.file for p in holdings.problems)


def test_a_record_without_pages_gets_them_without_hashing_anything(root: Path) -> None:
    """A record an earlier version wrote (no pages in it) is completed from the folder as it is: its
    files' digests and stamps are kept, nothing is hashed again, and a later change still finds
    the unchanged files' digests."""
    first, _, _ = ingest_like(root, {})
    rows = {k: (v[0], v[1], v[2].rsplit("/", 1)[0] if v[2].rsplit("/", 1)[1].startswith("P") else v[2])
            for k, v in first.current.items()}  # the pages field taken off
    assert rows != first.current
    second, _, hashed = ingest_like(root, rows)
    assert hashed == [] and second.current == first.current  # completed, as the first run wrote it
    page = root / "items" / "issue-000" / "0001.jpg"
    page.write_bytes(page.read_bytes() + b"\0")
    _, _, hashed = ingest_like(root, second.current)
    assert hashed == [str(page)]


def test_an_unchanged_folders_digests_come_from_its_record_in_page_order(root: Path) -> None:
    """Ingest takes an unchanged folder's page digests from its record in one pass (``recorded``):
    the same digests, in the same order, as asking file by file; and nothing for a folder that
    changed, or for pages that are not the record's."""
    first, _, _ = ingest_like(root, {})
    fps = Fingerprints(first.current)
    holdings = read_holdings(root, watch=fps)
    changed = root / "items" / "issue-003" / "0001.xml"
    for item in holdings.items.values():
        got = fps.recorded(item.folder, item.pages)
        assert got is not None, item.id
        assert got == ([first.digests[str(p.image)] for p in item.pages],
                       [first.digests[str(p.ocr)] if p.ocr else "" for p in item.pages])
        assert item.pages is fps._folders[str(item.folder)].made  # made from the record: known by identity
        copy = (*item.pages,)
        assert copy is not item.pages and fps.recorded(item.folder, copy) == got  # an equal copy: compared page by page
        assert fps.recorded(item.folder, item.pages[:-1]) is None  # not the record's pages
        assert fps.recorded(item.folder, item.pages[::-1]) is None
    changed.write_text(changed.read_text(encoding="utf-8") + " ", encoding="utf-8")
    fps = Fingerprints(first.current)
    holdings = read_holdings(root, watch=fps)
    assert fps.recorded(holdings.items["issue-003"].folder, holdings.items["issue-003"].pages) is None
    assert fps.recorded(holdings.items["issue-002"].folder, holdings.items["issue-002"].pages) is not None
