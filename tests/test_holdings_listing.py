"""Item folders are listed once and cheaply: what the reader finds in odd folders, and what it opens.

A re-ingest after a one-item change reads every item folder again, so listing a folder must cost
little: one directory scan, no file opened for a plain item whose files are as last ingested. The
folders here hold what deliveries hold (dot files, Thumbs.db, sub-folders, symlinks, two OCR files
for a page, a MAG or METS file, an ALTO file that is not one): the expected results were taken from
the reader before the listing was made fast, and must not change.
"""
from __future__ import annotations

import builtins
import io
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from server.holdings import Holdings, read_holdings
from server.ingest.fingerprint import Fingerprints

from .conftest import SAMPLE
from .test_holdings_mag import mag_folder
from .test_holdings_mets import kitodo_mets

RASSEGNA = SAMPLE / "items" / "periodical-ita-rassegna-settimanale-1878-10-06"
KANT = SAMPLE / "items" / "periodical-deu-berlinische-monatsschrift-1784-12"
ALTO = '<?xml version="1.0" encoding="UTF-8"?>\n<alto xmlns="http://www.loc.gov/standards/alto/ns-v3#"></alto>\n'
OAI = ('<?xml version="1.0"?>\n<OAI-PMH><GetRecord><record><metadata><mets xmlns="http://www.loc.gov/METS/">'
       '</mets></metadata></record></GetRecord></OAI-PMH>\n')


def odd_holdings(root: Path) -> Path:
    """Item folders as deliveries make them, with one row each (and a row without a folder)."""
    items = root / "items"
    items.mkdir(parents=True)
    shutil.copy(SAMPLE / "collections.csv", root)
    rows = {"plain": "Plain", "dup": "Two images for a page", "empty": "Nothing", "linked": "A symlinked folder",
            "links": "Symlinked files", "kant": "With a structure sheet", "mag": "", "mets": "",
            "oai": "An OAI-PMH wrapped METS", "no-folder": "No folder", "secret": "Restricted"}
    (root / "items.csv").write_text(
        "id,collection,type,title,access\n" + "".join(
            f"{i},rassegna-settimanale,periodical,{t},{'restricted' if i == 'secret' else ''}\n"
            for i, t in rows.items()), encoding="utf-8")
    (items / "README.txt").write_text("not an item", encoding="utf-8")
    (items / ".hidden").mkdir()
    (items / "secret").mkdir()
    (items / "no-row").mkdir()
    (items / "no-row" / "0001.png").write_bytes(b"")

    plain = items / "plain"
    plain.mkdir()
    for name in ("0001.jpg", "0002.jpg", "0010.jpg", "0003.JPG", "0004.hocr.html", "0004.tif", "._0001.jpg",
                 ".DS_Store", "Thumbs.db", "desktop.ini", "notes.txt", "0002.hocr", "0004.hocr.html.bak"):
        (plain / name).write_bytes(b"")
    for name in ("0001.xml", "0002.xml", "orphan.xml", "0003.XML", ".0001.xml"):
        (plain / name).write_text(ALTO, encoding="utf-8")
    (plain / "sub.xml").mkdir()
    (plain / "sub").mkdir()
    (plain / "sub" / "0005.jpg").write_bytes(b"")
    (plain / "Structure.CSV").write_text("id,title,first_page,last_page\nr1,All,1,2\n", encoding="utf-8")

    dup = items / "dup"
    dup.mkdir()
    for name in ("0001.jpg", "0001.png", "0002.png"):
        (dup / name).write_bytes(b"")
    (items / "empty").mkdir()
    (items / "linked").symlink_to("plain")

    links = items / "links"
    links.mkdir()
    (links / "0001.jpg").symlink_to(plain / "0001.jpg")
    (links / "0001.xml").symlink_to(plain / "0001.xml")
    (links / "0002.jpg").symlink_to(plain / "missing.jpg")  # broken: not a page
    (links / "0003.png").write_bytes(b"")

    kant = items / "kant"
    kant.mkdir()
    for f in KANT.iterdir():
        shutil.copy(f, kant / f.name)

    mag = items / "mag"
    mag_folder(mag)
    (mag / "0001.xml").write_text(ALTO, encoding="utf-8")  # sniffed, not a package

    mets = items / "mets"
    (mets / "images").mkdir(parents=True)
    (mets / "ocr").mkdir()
    for n in (1, 2, 3):
        shutil.copy(RASSEGNA / f"000{n}.png", mets / "images" / f"0000000{n}.png")
        shutil.copy(RASSEGNA / f"000{n}.hocr", mets / "ocr" / f"0000000{n}.hocr")
    (mets / "METS.XML").write_text(kitodo_mets(mets), encoding="utf-8")
    (mets / "zz-second.xml").write_text('<metadigit xmlns="http://www.iccu.sbn.it/metaAG1.pdf"/>', encoding="utf-8")

    oai = items / "oai"
    oai.mkdir()
    (oai / "0001.png").write_bytes(b"")
    (oai / "record.xml").write_text(OAI, encoding="utf-8")
    return root


def summary(holdings: Holdings) -> tuple[dict[str, Any], list[tuple[str, str, str]], list[str], list[str]]:
    """Each item's pages (image, OCR, format, label) and ranges; the problems in order; rejected, restricted ids."""
    root = holdings.root
    pages = {i.id: [(str(p.image.relative_to(root)), str(p.ocr.relative_to(root)) if p.ocr else None, p.ocr_format,
                     p.label) for p in i.pages] + [(r.id, r.first_page, r.last_page, r.parent) for r in i.ranges]
             for i in holdings.items.values()}
    problems = [(p.severity, p.file, p.message) for p in holdings.problems]
    return pages, problems, sorted(holdings.rejected), sorted(holdings.restricted)


# what the reader found before the listing was made fast (pathlib, two listings a folder, every .xml opened)
EXPECTED_PAGES: dict[str, Any] = {
    'plain': [
        ('items/plain/0001.jpg', 'items/plain/0001.xml', 'alto', None),
        ('items/plain/0002.jpg', 'items/plain/0002.xml', 'alto', None),
        ('items/plain/0003.JPG', 'items/plain/0003.XML', 'alto', None),
        ('items/plain/0004.tif', 'items/plain/0004.hocr.html', 'hocr', None),
        ('items/plain/0010.jpg', None, None, None),
    ],
    'linked': [
        ('items/linked/0001.jpg', 'items/linked/0001.xml', 'alto', None),
        ('items/linked/0002.jpg', 'items/linked/0002.xml', 'alto', None),
        ('items/linked/0003.JPG', 'items/linked/0003.XML', 'alto', None),
        ('items/linked/0004.tif', 'items/linked/0004.hocr.html', 'hocr', None),
        ('items/linked/0010.jpg', None, None, None),
    ],
    'links': [
        ('items/links/0001.jpg', 'items/links/0001.xml', 'alto', None),
        ('items/links/0003.png', None, None, None),
    ],
    'kant': [
        ('items/kant/INPUT_0017.tif', 'items/kant/INPUT_0017.xml', 'alto', None),
        ('items/kant/INPUT_0020.tif', 'items/kant/INPUT_0020.xml', 'alto', None),
        ('aufklaerung', 1, 2, None),
    ],
    'mag': [
        ('items/mag/tif/p001.png', 'items/mag/ocr/p001.hocr', 'hocr', 'p. 225'),
        ('items/mag/tif/p002.png', 'items/mag/ocr/p002.hocr', 'hocr', 'p. 226'),
        ('items/mag/tif/p003.png', None, None, 'p. 227'),
        ('r1', 1, 3, None),
        ('r2', 1, 2, 'r1'),
    ],
    'mets': [
        ('items/mets/images/00000001.png', 'items/mets/ocr/00000001.hocr', 'hocr', '225'),
        ('items/mets/images/00000002.png', 'items/mets/ocr/00000002.hocr', 'hocr', '226'),
        ('items/mets/images/00000003.png', 'items/mets/ocr/00000003.hocr', 'hocr', '227'),
        ('r1', 1, 2, None),
        ('r2', 1, 2, 'r1'),
        ('r3', 3, 3, None),
    ],
}
EXPECTED_PROBLEMS: list[Any] = [
    ('warning', 'items/plain/0002.xml', 'more than one OCR file for this page (0002.xml, 0002.hocr): using 0002.xml'),
    ('warning', 'items/plain/orphan.xml', 'OCR file without a page image of the same name: ignored'),
    ('error', 'items.csv', "item 'dup': page '0001' has more than one image (0001.jpg, 0001.png): keep one"),
    ('error', 'items.csv', ("item 'empty': items/empty/ has no page images (.j2k, .jp2, .jpeg, .jpg, .png, .tif, "
     '.tiff)')),
    ('warning', 'items/linked/0002.xml', 'more than one OCR file for this page (0002.xml, 0002.hocr): using 0002.xml'),
    ('warning', 'items/linked/orphan.xml', 'OCR file without a page image of the same name: ignored'),
    ('warning', 'items/mag/tif/p002.png', ('MD5 checksum differs from the one in items/mag/MAG_rassegna.xml '
     '(00000000000000000000000000000000): the file changed after delivery')),
    ('warning', 'items/mag/MAG_rassegna.xml', ('img sequence_number 3: '
     "'file:///D:/Progetto/Rassegna/tif/p003.png' is not in the item folder; using tif/p003.png, found by its name")),
    ('warning', 'items/mag/MAG_rassegna.xml', 'ocr sequence_number 3: p003.txt is not ALTO or hOCR: ignored'),
    ('warning', 'items/mets/zz-second.xml', 'a second MAG file in the item folder: only METS.XML is read'),
    ('warning', 'items/oai/record.xml', ('the mets element is not in the METS namespace '
     'http://www.loc.gov/METS/: read as METS anyway')),
    ('error', 'items.csv', "item 'oai': items/oai/record.xml: no structMap: the page order is unknown"),
    ('error', 'items.csv', "item 'no-folder': no folder items/no-folder/"),
    ('info', 'items.csv', "item 'secret' is restricted: not published"),
    ('warning', 'items/no-row', 'folder without a row in items.csv: not published'),
]
EXPECTED_REJECTED = ['dup', 'empty', 'no-folder', 'oai']
EXPECTED_RESTRICTED = ['secret']


@pytest.fixture()
def odd(tmp_path: Path) -> Path:
    return odd_holdings(tmp_path / "holdings")


def test_odd_item_folders_read_as_documented(odd: Path) -> None:
    pages, problems, rejected, restricted = summary(read_holdings(odd))
    assert pages == EXPECTED_PAGES
    assert problems == EXPECTED_PROBLEMS
    assert (rejected, restricted) == (EXPECTED_REJECTED, EXPECTED_RESTRICTED)
    again = read_holdings(odd)
    assert repr(again.items) == repr(read_holdings(odd).items)


def test_ingest_sniffer_reads_alike(odd: Path) -> None:
    """Ingest's sniffer, which remembers what each .xml file is, finds what opening them finds."""
    first = Fingerprints({})
    fresh = read_holdings(odd, watch=first)
    cached = read_holdings(odd, watch=Fingerprints(first.current))
    for holdings in (fresh, cached):
        assert summary(holdings) == (EXPECTED_PAGES, EXPECTED_PROBLEMS, EXPECTED_REJECTED, EXPECTED_RESTRICTED)
        assert repr(holdings.items) == repr(read_holdings(odd).items)
    def kind(name: str) -> str | None:
        return first.kind_of(str(odd / "items" / name))
    assert kind("mets/METS.XML") == "METS" and kind("mets/zz-second.xml") == "MAG"
    assert kind("plain/0001.xml") == "" and kind("plain/.0001.xml") is None


def opened(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The files opened from now on (by open() or io.open())."""
    seen: list[str] = []
    real = builtins.open

    def spy(file: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(os.fsdecode(file) if isinstance(file, (str, bytes, os.PathLike)) else repr(file))
        return real(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", spy)
    monkeypatch.setattr(io, "open", spy)
    return seen


def plain_items(root: Path, n: int) -> Path:
    """``n`` items of three pages, each an image and its ALTO file."""
    (root / "items").mkdir(parents=True)
    shutil.copy(SAMPLE / "collections.csv", root)
    ids = [f"issue-{i:03d}" for i in range(n)]
    (root / "items.csv").write_text("id,collection,type,title\n" + "".join(
        f"{i},der-nordstern,newspaper,Issue {i}\n" for i in ids), encoding="utf-8")
    for i in ids:
        folder = root / "items" / i
        folder.mkdir()
        for page in ("0001", "0002", "0010"):
            (folder / f"{page}.jpg").write_bytes(b"")
            (folder / f"{page}.xml").write_text(ALTO, encoding="utf-8")
    return root


def test_plain_items_unchanged_since_are_read_without_opening_a_file(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    root = plain_items(tmp_path / "holdings", 20)
    sheets = {str(root / "collections.csv"), str(root / "items.csv")}
    stats: list[str] = []
    real_stat = os.stat
    monkeypatch.setattr(os, "stat", lambda path, *a, **k: stats.append(os.fspath(path)) or real_stat(path, *a, **k))

    def digest_all(fps: Fingerprints, holdings: Holdings) -> list[str]:
        return [fps.file(page.ocr) for item in holdings.items.values() for page in item.pages if page.ocr]

    first = Fingerprints({})
    seen = opened(monkeypatch)
    before = read_holdings(root, watch=first)
    assert set(seen) - sheets == {str(p.ocr) for i in before.items.values() for p in i.pages}  # sniffed once
    stats.clear()
    digests = digest_all(first, before)
    assert stats == []  # the stats taken while listing are the files' fingerprints'
    seen.clear()
    fps = Fingerprints(first.current)
    after = read_holdings(root, watch=fps)
    assert set(seen) == sheets  # the item folders were only listed
    assert repr(after.items) == repr(before.items) and len(after.items) == 20
    assert [p.image.name for p in after.items["issue-000"].pages] == ["0001.jpg", "0002.jpg", "0010.jpg"]
    stats.clear()
    assert digest_all(fps, after) == digests and set(seen) == sheets and stats == []  # known: nothing read
    assert fps.current == first.current  # nothing to write back


def test_a_changed_xml_file_is_sniffed_again(odd: Path) -> None:
    """Even with its size and mtime kept, a rewritten file is opened again (its ctime moved)."""
    first = Fingerprints({})
    read_holdings(odd, watch=first)
    alto = odd / "items" / "plain" / "0001.xml"
    st = alto.stat()
    mets = '<mets xmlns="http://www.loc.gov/METS/"/>'
    alto.write_text(mets + " " * (st.st_size - len(mets)), encoding="utf-8")
    os.utime(alto, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert (alto.stat().st_size, alto.stat().st_mtime_ns) == (st.st_size, st.st_mtime_ns)
    holdings = read_holdings(odd, watch=Fingerprints(first.current))
    assert "plain" in holdings.rejected and "plain" not in holdings.items
    assert any(p.file == "items.csv" and "no structMap" in p.message and "'plain'" in p.message
               for p in holdings.problems)
