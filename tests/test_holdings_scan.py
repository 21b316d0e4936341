"""The scan: item folders listed and signed by helper processes while ingest starts.

What the helpers say of a folder must be exactly what the reader would find itself (the same
names in the same order, the same kinds, the same signature), or ingest would take a changed
folder for an unchanged one. A helper that fails, or finds nothing, must leave the reader to look
itself; and a helper whose ingest is gone stops.
"""
from __future__ import annotations

import io
import marshal
import os
from pathlib import Path

import pytest

from server.holdings import read_holdings
from server.holdings.scan import DIR, FILE, OTHER, VERSION, Listing, main, scan_folder, signature, start_scan, stats_in
from server.holdings.vendor import list_folder
from server.ingest.fingerprint import Fingerprints

from .test_holdings_listing import plain_items


@pytest.fixture
def root(tmp_path: Path) -> Path:
    root = plain_items(tmp_path / "holdings", 5)
    odd = root / "items" / "issue-001"
    (odd / "sub").mkdir()  # a sub-folder: listed, not a page
    (odd / "notes.txt").write_text("scanner's notes", encoding="utf-8")
    os.close(os.open(os.fsencode(odd) + b"/\xff-not-utf8.jpg", os.O_CREAT | os.O_WRONLY, 0o644))
    return root


def test_the_helpers_find_what_the_reader_would(root: Path) -> None:
    scan = start_scan(root, 4)  # three helpers, each a share of the five folders
    try:
        for folder in sorted((root / "items").iterdir()):
            got = scan.folder(str(folder))
            assert got is not None, folder
            names, kinds, sign = got
            entries = list_folder(folder)
            assert names == [e.name for e in entries]  # sorted as the reader sorts them
            assert kinds == "".join(FILE if e.is_file() else DIR if e.is_dir() else OTHER for e in entries)
            assert sign == signature(names, stats_in(str(folder), names))
            listing = Listing(str(folder), names, kinds, sign)
            assert [(e.name, e.path, e.is_file(), e.is_dir()) for e in listing] == [
                (e.name, e.path, e.is_file(), e.is_dir()) for e in entries]
            assert listing[0].stat().st_ino == entries[0].stat().st_ino
        assert "\udcff-not-utf8.jpg" in scan.folder(str(root / "items" / "issue-001"))[0]  # type: ignore[index]
        assert scan.folder(str(root / "elsewhere" / "issue-001")) is None  # only the items folder's children
    finally:
        scan.close()


def test_a_folder_with_a_dangling_link_has_no_signature(root: Path) -> None:
    folder = root / "items" / "issue-002"
    (folder / "0009.jpg").symlink_to(folder / "gone.jpg")
    names, kinds, sign = scan_folder(str(folder))  # type: ignore[misc]
    assert sign is None and kinds[names.index("0009.jpg")] == OTHER
    fps = Fingerprints({}, start_scan(root, 1))
    holdings = read_holdings(root, watch=fps)
    assert fps.scan is not None
    fps.scan.close()
    plain = read_holdings(root, watch=Fingerprints({}))  # read file by file, as without a scan
    assert repr(holdings.items) == repr(plain.items) and holdings.problems == plain.problems
    assert len(holdings.items["issue-002"].pages) == 3  # the dangling link is no page


def test_what_ingest_records_is_the_same_with_and_without_the_helpers(root: Path) -> None:
    alone = Fingerprints({})
    plain = read_holdings(root, watch=alone)
    scan = start_scan(root, 2)
    helped = Fingerprints({}, scan)
    scanned = read_holdings(root, watch=helped)
    scan.close()
    assert repr(scanned.items) == repr(plain.items) and scanned.problems == plain.problems
    for item in plain.items.values():
        for page in item.pages:
            alone.master(page.image)
            helped.master(page.image)
    assert helped.current == alone.current


def test_a_failed_scan_leaves_the_reader_to_look(tmp_path: Path) -> None:
    scan = start_scan(tmp_path / "no-such-holdings", 2)  # the helpers cannot list it: they fail
    assert scan.folder(str(tmp_path / "no-such-holdings" / "items" / "x")) is None
    root = plain_items(tmp_path / "holdings", 2)
    early = start_scan(root, 2)
    early.close()  # stopped before it was read (the run ended early): nothing is taken from it
    assert early.folder(str(root / "items" / "issue-000")) is None
    fps = Fingerprints({}, early)
    assert sorted(read_holdings(root, watch=fps).items) == ["issue-000", "issue-001"]


def test_a_helper_prints_its_share_and_stops_when_its_ingest_is_gone(root: Path) -> None:
    items = str(root / "items")
    shares = []
    for share in range(2):
        out = io.BytesIO()
        assert main([items, str(share), "2", str(os.getppid())], out) == 0
        version, folders = marshal.loads(out.getvalue())
        assert version == VERSION
        shares.append(folders)
    assert sorted([*shares[0], *shares[1]]) == [f"issue-00{n}" for n in range(5)]
    assert not shares[0].keys() & shares[1].keys()
    out = io.BytesIO()
    assert main([items, "0", "1", str(os.getpid())], out) == 1  # not its parent: the ingest is gone
    assert out.getvalue() == b""


def test_one_helper_fewer_than_the_workers_and_at_least_one() -> None:
    from server.holdings.scan import helpers_for
    assert [helpers_for(w) for w in (1, 2, 3, 16)] == [1, 1, 2, 15]
