"""MAG 2.0.1 item folders: page order, labels, OCR, checksums, ranges and Dublin Core, as vendors write them.

The MAG files are written here from the schema (ICCU's metadigit.xsd: ``bib`` with Dublin Core,
``img``/``ocr`` with ``sequence_number``, ``nomenclature``, ``file/@xlink:href`` and ``md5``,
nested ``stru`` with ``element/start|stop/@sequence_number``), with the quirks real deliveries
have: ``xlink`` bound to MAG's own namespace or the standard one, relative paths in sub-folders,
Windows paths, absolute paths from the vendor's machine, a missing or wrong ``md5``.
"""
from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from server.holdings import read_holdings

from .conftest import SAMPLE

RASSEGNA = SAMPLE / "items" / "periodical-ita-rassegna-settimanale-1878-10-06"
ITEM = "mag-rassegna"
MAG_XLINK = "http://www.w3.org/TR/xlink"
W3C_XLINK = "http://www.w3.org/1999/xlink"


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def mag_xml(folder: Path, xlink: str, prolog: str = "") -> str:
    """A MAG file for the three Rassegna pages: scans in tif/ (here PNG), OCR in ocr/, pages listed out of order."""
    good = md5(folder / "tif" / "p001.png")
    return f"""<?xml version="1.0" encoding="UTF-8"?>{prolog}
<metadigit xmlns="http://www.iccu.sbn.it/metaAG1.pdf" xmlns:dc="http://purl.org/dc/elements/1.1/"
    xmlns:niso="http://www.niso.org/pdfs/DataDict.pdf" xmlns:xlink="{xlink}" version="2.0.1">
  <gen creation="2024-05-02T10:00:00" last_update="2024-05-02T10:00:00">
    <stprog>http://www.example.org/progetto</stprog>
    <agency>IT:FI0098</agency>
    <access_rights>1</access_rights>
    <completeness>0</completeness>
  </gen>
  <bib level="s">
    <dc:identifier>IT\\ICCU\\CFI\\0123456</dc:identifier>
    <dc:title>La Rassegna Settimanale di politica, scienze, lettere ed arti</dc:title>
    <dc:creator>Sonnino, Sidney</dc:creator>
    <dc:creator>Franchetti, Leopoldo</dc:creator>
    <dc:publisher>Tipografia Barbèra</dc:publisher>
    <dc:date>1878-10-06</dc:date>
    <dc:language>ITA</dc:language>
    <dc:rights>Pubblico dominio</dc:rights>
    <holdings><library>Biblioteca Nazionale Centrale di Firenze</library><shelfmark>GIORN. 1234</shelfmark></holdings>
    <piece><year>2</year><issue>14</issue></piece>
  </bib>
  <stru>
    <nomenclature>Fascicolo n. 14</nomenclature>
    <element><start sequence_number="1"/><stop sequence_number="3"/></element>
    <stru>
      <nomenclature>La questione di Firenze</nomenclature>
      <element><start sequence_number="1"/><stop sequence_number="2"/></element>
    </stru>
  </stru>
  <img>
    <sequence_number>3</sequence_number>
    <nomenclature>p. 227</nomenclature>
    <usage>1</usage>
    <file Location="URI" xlink:type="simple" xlink:href="file:///D:/Progetto/Rassegna/tif/p003.png"/>
  </img>
  <img>
    <sequence_number>1</sequence_number>
    <nomenclature>p. 225</nomenclature>
    <usage>1</usage>
    <file Location="URI" xlink:type="simple" xlink:href="./tif/p001.png"/>
    <md5>{good.upper()}</md5>
    <filesize>1</filesize>
  </img>
  <img>
    <sequence_number>2</sequence_number>
    <nomenclature>p. 226</nomenclature>
    <usage>1</usage>
    <file Location="URI" xlink:type="simple" xlink:href="tif\\p002.png"/>
    <md5>00000000000000000000000000000000</md5>
  </img>
  <ocr><sequence_number>1</sequence_number><file xlink:href="./ocr/p001.hocr"/></ocr>
  <ocr><sequence_number>2</sequence_number><file xlink:href="ocr\\p002.hocr"/></ocr>
  <ocr><sequence_number>3</sequence_number><file xlink:href="./ocr/p003.txt"/></ocr>
</metadigit>
"""


def make(tmp_path: Path, xlink: str = MAG_XLINK, title: str = "", prolog: str = "") -> Path:
    root = tmp_path / "holdings"
    (root / "items").mkdir(parents=True)
    shutil.copy(SAMPLE / "collections.csv", root)
    (root / "items.csv").write_text(
        "id,collection,type,title,date,publisher\n"
        f"{ITEM},rassegna-settimanale,periodical,{title},,Barbèra\n", encoding="utf-8")
    mag_folder(root / "items" / ITEM, xlink, prolog)
    return root


def mag_folder(folder: Path, xlink: str = MAG_XLINK, prolog: str = "") -> None:
    """An item folder as a MAG vendor delivers it: tif/ and ocr/ (three real Rassegna pages, hOCR,
    the third page's OCR a plain .txt) beside MAG_rassegna.xml."""
    (folder / "tif").mkdir(parents=True)
    (folder / "ocr").mkdir()
    for n in (1, 2, 3):
        shutil.copy(RASSEGNA / f"000{n}.png", folder / "tif" / f"p00{n}.png")
        shutil.copy(RASSEGNA / f"000{n}.hocr", folder / "ocr" / f"p00{n}.hocr")
    (folder / "ocr" / "p003.txt").write_text("plain text", encoding="utf-8")
    (folder / "MAG_rassegna.xml").write_text(mag_xml(folder, xlink, prolog), encoding="utf-8")


@pytest.mark.parametrize("xlink", [MAG_XLINK, W3C_XLINK])
def test_mag_gives_pages_labels_ocr_ranges_and_metadata(tmp_path: Path, xlink: str) -> None:
    root = make(tmp_path, xlink)
    holdings = read_holdings(root)
    assert ITEM in holdings.items, [str(p) for p in holdings.problems]
    item = holdings.items[ITEM]
    assert [p.image.name for p in item.pages] == ["p001.png", "p002.png", "p003.png"]
    assert [p.label for p in item.pages] == ["p. 225", "p. 226", "p. 227"]
    assert [p.ocr.name if p.ocr else None for p in item.pages] == ["p001.hocr", "p002.hocr", None]
    assert [p.ocr_format for p in item.pages] == ["hocr", "hocr", None]
    assert item.title == {"it": ["La Rassegna Settimanale di politica, scienze, lettere ed arti"]}
    assert item.creator == {"it": ["Sonnino, Sidney", "Franchetti, Leopoldo"]}
    assert item.publisher == {"it": ["Barbèra"]}  # the sheet wins …
    assert item.reference_code == {"it": ["GIORN. 1234"]}
    assert item.language == ("ita",)
    assert item.date is not None and item.date.display == "1878-10-06"
    assert item.rights is None  # "Pubblico dominio" is not a rights URI: the publication default applies
    assert [(r.title["it"][0], r.first_page, r.last_page) for r in item.ranges] == [
        ("Fascicolo n. 14", 1, 3), ("La questione di Firenze", 1, 2)]
    assert item.ranges[1].parent == item.ranges[0].id
    said = {(p.severity, p.file): p.message for p in holdings.problems}
    assert "from the sheet value wins" in said["info", "items.csv"]  # … and the report says so
    assert "MD5 checksum differs" in said["warning", f"items/{ITEM}/tif/p002.png"]
    assert not any(p.file.endswith("p001.png") for p in holdings.problems)  # upper-case md5 matches
    mag = [p.message for p in holdings.problems if p.file == f"items/{ITEM}/MAG_rassegna.xml"]
    assert any("found by its name" in m and "D:/Progetto" in m for m in mag)
    assert any("p003.txt is not ALTO or hOCR" in m for m in mag)
    assert not any(p.severity == "error" for p in holdings.problems)


def test_a_missing_page_rejects_the_item(tmp_path: Path) -> None:
    root = make(tmp_path)
    (root / "items" / ITEM / "tif" / "p002.png").unlink()
    holdings = read_holdings(root)
    assert ITEM not in holdings.items and ITEM in holdings.rejected
    assert any(p.severity == "error" and "sequence_number 2" in p.message for p in holdings.problems)


def test_mag_problems_are_rendered_in_the_operators_language(tmp_path: Path) -> None:
    from server.texts import cli_translations, render
    italian = cli_translations({"HERITAGE_UI_LANGUAGE": "it"})
    root = make(tmp_path)
    holdings = read_holdings(root)
    said = {(p.severity, p.file): p.message for p in holdings.problems}
    checksum = said["warning", f"items/{ITEM}/tif/p002.png"]
    assert checksum.startswith("MD5 checksum differs")  # English as a str …
    assert render(checksum, italian).startswith("il checksum MD5 è diverso da quello indicato in ")  # … Italian shown
    assert "il file è cambiato dopo la consegna" in render(checksum, italian)
    mag = [render(p.message, italian) for p in holdings.problems if p.file == f"items/{ITEM}/MAG_rassegna.xml"]
    assert any("p003.txt non è ALTO né hOCR: ignorato" in m for m in mag), mag
    assert any("trovato per nome" in m and "D:/Progetto" in m for m in mag), mag
    (root / "items" / ITEM / "tif" / "p002.png").unlink()  # an error nested in the reader's "item %(id)r: …"
    rejected = [render(p.message, italian) for p in read_holdings(root).problems if p.severity == "error"]
    assert any(m.startswith(f"documento {ITEM!r}: ") and "img sequence_number 2" in m
               and "non è nella cartella del documento" in m for m in rejected), rejected


def test_paths_outside_the_item_folder_are_refused(tmp_path: Path) -> None:
    root = make(tmp_path)
    mag = root / "items" / ITEM / "MAG_rassegna.xml"
    mag.write_text(mag.read_text(encoding="utf-8").replace("./tif/p001.png", "../../items.csv"), encoding="utf-8")
    holdings = read_holdings(root)
    assert ITEM not in holdings.items
    assert any("points outside the item folder" in p.message for p in holdings.problems)


def test_entities_in_a_mag_file_are_refused(tmp_path: Path) -> None:
    root = make(tmp_path, prolog='\n<!DOCTYPE metadigit [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>')
    holdings = read_holdings(root)
    assert ITEM not in holdings.items
    assert any(p.file.endswith("MAG_rassegna.xml") and p.severity == "error" for p in holdings.problems)
    assert "root:" not in repr(holdings)


def test_an_ingested_mag_item_has_the_page_labels(tmp_path: Path) -> None:
    import json

    from server.config import Settings
    from server.ingest.run import run_ingest
    root = make(tmp_path, title="Rassegna")
    settings = Settings.load({"data": tmp_path / "data", "workers": 1})
    report = run_ingest(root, settings)
    assert not report.errors, [str(p) for p in report.problems]
    manifest = json.loads((settings.manifests_dir / "current" / "iiif" / "3" / ITEM / "manifest.json").read_text())
    assert [c["label"] for c in manifest["items"]] == [{"it": ["p. 225"]}, {"it": ["p. 226"]}, {"it": ["p. 227"]}]
    assert manifest["label"] == {"it": ["Rassegna"]}
