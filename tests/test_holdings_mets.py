"""METS/MODS item folders: a Kitodo-style package written from the METS 1.12 and MODS 3 schemas, and a real
NDNP issue METS (Der Nordstern, Library of Congress), with the quirks of real deliveries."""
from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from server.holdings import read_holdings

from .conftest import SAMPLE

RASSEGNA = SAMPLE / "items" / "periodical-ita-rassegna-settimanale-1878-10-06"
NORDSTERN = SAMPLE / "items" / "newspaper-deu-der-nordstern-1878-01-03"
NORDSTERN_METS = SAMPLE / "extras" / "mets" / "nordstern-1878010301-mets.xml"
ITEM = "mets-item"
W3C_XLINK = "http://www.w3.org/1999/xlink"


def kitodo_mets(folder: Path, xlink: str = W3C_XLINK, prolog: str = "") -> str:
    """Three pages; LOCAL images in images/, DEFAULT as URLs, FULLTEXT hOCR in ocr/; ORDER out of document order."""
    good = hashlib.md5((folder / "images" / "00000001.png").read_bytes()).hexdigest()

    def files(use: str, pattern: str, mimetype: str, extra: str = "") -> str:
        return "\n".join(
            f'<mets:file ID="FILE_{n:04d}_{use}" MIMETYPE="{mimetype}"{extra if n == 1 else ""}>'
            f'<mets:FLocat LOCTYPE="URL" xlink:href="{pattern.format(n=n)}"/></mets:file>' for n in (1, 2, 3))
    fulltext = files("FULLTEXT", "ocr\\0000000{n}.hocr", "text/html")  # a Windows path
    return f"""<?xml version="1.0" encoding="UTF-8"?>{prolog}
<mets:mets xmlns:mets="http://www.loc.gov/METS/" xmlns:mods="http://www.loc.gov/mods/v3"
    xmlns:xlink="{xlink}" xmlns:dv="http://dfg-viewer.de/">
  <mets:metsHdr CREATEDATE="2024-03-01T09:00:00"><mets:agent OTHERTYPE="SOFTWARE" ROLE="CREATOR" TYPE="OTHER">
    <mets:name>Kitodo - kitodo-ugh-3.0</mets:name></mets:agent></mets:metsHdr>
  <mets:dmdSec ID="DMDLOG_0000"><mets:mdWrap MDTYPE="MODS"><mets:xmlData><mods:mods>
    <mods:titleInfo><mods:nonSort>La</mods:nonSort><mods:title>Rassegna Settimanale</mods:title>
      <mods:subTitle>di politica, scienze, lettere ed arti</mods:subTitle></mods:titleInfo>
    <mods:titleInfo type="alternative"><mods:title>Rassegna</mods:title></mods:titleInfo>
    <mods:name type="personal"><mods:namePart type="family">Sonnino</mods:namePart>
      <mods:namePart type="given">Sidney</mods:namePart>
      <mods:role><mods:roleTerm authority="marcrelator" type="code">edt</mods:roleTerm></mods:role></mods:name>
    <mods:name type="personal"><mods:displayForm>Franchetti, Leopoldo</mods:displayForm>
      <mods:role><mods:roleTerm authority="marcrelator" type="code">aut</mods:roleTerm></mods:role></mods:name>
    <mods:originInfo><mods:place><mods:placeTerm type="text">Firenze</mods:placeTerm></mods:place>
      <mods:publisher>Barbèra</mods:publisher>
      <mods:dateIssued encoding="iso8601" keyDate="yes">1878-10-06</mods:dateIssued></mods:originInfo>
    <mods:language><mods:languageTerm authority="iso639-2b" type="code">ita</mods:languageTerm></mods:language>
    <mods:subject><mods:topic>Politica</mods:topic><mods:topic>Finanza pubblica</mods:topic></mods:subject>
    <mods:location><mods:physicalLocation>BNCF</mods:physicalLocation>
      <mods:shelfLocator>GIORN. 1234</mods:shelfLocator></mods:location>
    <mods:accessCondition type="use and reproduction"
      xlink:href="https://creativecommons.org/publicdomain/mark/1.0/">Public Domain Mark 1.0</mods:accessCondition>
  </mods:mods></mets:xmlData></mets:mdWrap></mets:dmdSec>
  <mets:amdSec ID="AMD"><mets:rightsMD ID="RIGHTS"><mets:mdWrap MDTYPE="OTHER" OTHERMDTYPE="DVRIGHTS"><mets:xmlData>
    <dv:rights><dv:owner>BNCF</dv:owner></dv:rights></mets:xmlData></mets:mdWrap></mets:rightsMD></mets:amdSec>
  <mets:fileSec>
    <mets:fileGrp USE="LOCAL">
{files("LOCAL", "images/0000000{n}.png", "image/png", f' CHECKSUM="{good}" CHECKSUMTYPE="MD5"')}
    </mets:fileGrp>
    <mets:fileGrp USE="DEFAULT">
{files("DEFAULT", "https://digital.example.org/content/PPN1/800/0/0000000{n}.jpg", "image/jpeg")}
    </mets:fileGrp>
    <mets:fileGrp USE="THUMBS">
{files("THUMBS", "https://digital.example.org/content/PPN1/150/0/0000000{n}.jpg", "image/jpeg")}
    </mets:fileGrp>
    <mets:fileGrp USE="FULLTEXT">
{fulltext}
    </mets:fileGrp>
  </mets:fileSec>
  <mets:structMap TYPE="LOGICAL">
    <mets:div ID="LOG_0000" DMDID="DMDLOG_0000" ADMID="AMD" TYPE="periodical_issue" LABEL="Rassegna">
      <mets:div ID="LOG_0001" TYPE="article" LABEL="La questione di Firenze">
        <mets:div ID="LOG_0002" TYPE="section" LABEL="Gli studi della Commissione"/>
      </mets:div>
      <mets:div ID="LOG_0003" TYPE="article" LABEL="Lettere militari"/>
    </mets:div>
  </mets:structMap>
  <mets:structMap TYPE="PHYSICAL">
    <mets:div ID="PHYS_0000" TYPE="physSequence">
      <mets:div ID="PHYS_0003" ORDER="3" ORDERLABEL="227" TYPE="page">
        <mets:fptr FILEID="FILE_0003_DEFAULT"/><mets:fptr FILEID="FILE_0003_LOCAL"/>
        <mets:fptr FILEID="FILE_0003_THUMBS"/><mets:fptr FILEID="FILE_0003_FULLTEXT"/></mets:div>
      <mets:div ID="PHYS_0001" ORDER="1" ORDERLABEL="225" TYPE="page">
        <mets:fptr FILEID="FILE_0001_DEFAULT"/><mets:fptr FILEID="FILE_0001_LOCAL"/>
        <mets:fptr FILEID="FILE_0001_THUMBS"/><mets:fptr FILEID="FILE_0001_FULLTEXT"/></mets:div>
      <mets:div ID="PHYS_0002" ORDER="2" ORDERLABEL="226" TYPE="page">
        <mets:fptr FILEID="FILE_0002_DEFAULT"/><mets:fptr FILEID="FILE_0002_LOCAL"/>
        <mets:fptr FILEID="FILE_0002_THUMBS"/><mets:fptr FILEID="FILE_0002_FULLTEXT"/></mets:div>
    </mets:div>
  </mets:structMap>
  <mets:structLink>
    <mets:smLink xlink:from="LOG_0000" xlink:to="PHYS_0000"/>
    <mets:smLink xlink:from="LOG_0002" xlink:to="PHYS_0001"/><mets:smLink xlink:from="LOG_0002" xlink:to="PHYS_0002"/>
    <mets:smLink xlink:from="LOG_0003" xlink:to="PHYS_0003"/>
  </mets:structLink>
</mets:mets>
"""


def make(tmp_path: Path, sheet_title: str = "", **kwargs: str) -> Path:
    root = tmp_path / "holdings"
    (root / "items").mkdir(parents=True)
    shutil.copy(SAMPLE / "collections.csv", root)
    (root / "items.csv").write_text(f"id,collection,type,title\n{ITEM},rassegna-settimanale,periodical,{sheet_title}\n",
                                    encoding="utf-8")
    folder = root / "items" / ITEM
    (folder / "images").mkdir(parents=True)
    (folder / "ocr").mkdir()
    for n in (1, 2, 3):
        shutil.copy(RASSEGNA / f"000{n}.png", folder / "images" / f"0000000{n}.png")
        shutil.copy(RASSEGNA / f"000{n}.hocr", folder / "ocr" / f"0000000{n}.hocr")
    (folder / "mets.xml").write_text(kitodo_mets(folder, **kwargs), encoding="utf-8")
    return root


@pytest.mark.parametrize("xlink", [W3C_XLINK, "http://www.w3.org/TR/xlink"])
def test_kitodo_package(tmp_path: Path, xlink: str) -> None:
    holdings = read_holdings(make(tmp_path, xlink=xlink))
    assert ITEM in holdings.items, [str(p) for p in holdings.problems]
    item = holdings.items[ITEM]
    assert [p.image.name for p in item.pages] == ["00000001.png", "00000002.png", "00000003.png"]
    assert [p.label for p in item.pages] == ["225", "226", "227"]
    assert [p.ocr.name if p.ocr else None for p in item.pages] == ["00000001.hocr", "00000002.hocr", "00000003.hocr"]
    assert item.title == {"it": ["La Rassegna Settimanale: di politica, scienze, lettere ed arti"]}
    assert item.creator == {"it": ["Franchetti, Leopoldo"]}
    assert item.publisher == {"it": ["Barbèra"]} and item.place == {"it": ["Firenze"]}
    assert item.subject == {"it": ["Politica", "Finanza pubblica"]}
    assert item.reference_code == {"it": ["GIORN. 1234"]}
    assert item.language == ("ita",)
    assert item.date is not None and item.date.display == "1878-10-06"
    assert item.rights == "http://creativecommons.org/publicdomain/mark/1.0/"
    assert [(r.title["it"][0], r.first_page, r.last_page, r.parent) for r in item.ranges] == [
        ("La questione di Firenze", 1, 2, None), ("Gli studi della Commissione", 1, 2, "r1"),
        ("Lettere militari", 3, 3, None)]
    assert [str(p) for p in holdings.problems if p.severity != "info"] == []


def test_sheet_wins_and_a_wrong_checksum_is_reported(tmp_path: Path) -> None:
    root = make(tmp_path, sheet_title="Rassegna del 6 ottobre 1878")
    shutil.copy(RASSEGNA / "0002.png", root / "items" / ITEM / "images" / "00000001.png")  # not the delivered file
    holdings = read_holdings(root)
    assert holdings.items[ITEM].title == {"it": ["Rassegna del 6 ottobre 1878"]}
    assert any(p.severity == "info" and "from the sheet value wins" in p.message for p in holdings.problems)
    assert any(p.file == f"items/{ITEM}/images/00000001.png" and "MD5 checksum differs" in p.message
               for p in holdings.problems)


def test_a_page_without_a_local_image_rejects_the_item(tmp_path: Path) -> None:
    root = make(tmp_path)
    (root / "items" / ITEM / "images" / "00000002.png").unlink()
    holdings = read_holdings(root)
    assert ITEM not in holdings.items
    assert any("page 2 (PHYS_0002): no image file of this page" in p.message for p in holdings.problems)


def test_entities_are_refused(tmp_path: Path) -> None:
    holdings = read_holdings(make(tmp_path, prolog='\n<!DOCTYPE mets [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'))
    assert ITEM not in holdings.items
    assert any(p.file == f"items/{ITEM}/mets.xml" and p.severity == "error" for p in holdings.problems)


def test_real_ndnp_issue_mets(tmp_path: Path) -> None:
    """The Library of Congress's METS of Der Nordstern, 3 January 1878: 8 pages of master TIFF + ALTO."""
    root = tmp_path / "holdings"
    folder = root / "items" / "nordstern"
    folder.mkdir(parents=True)
    shutil.copy(SAMPLE / "collections.csv", root)
    (root / "items.csv").write_text("id,collection,type,title\nnordstern,der-nordstern,newspaper,\n", encoding="utf-8")
    shutil.copy(NORDSTERN_METS, folder / "1878010301.xml")
    for n in range(11, 19):  # the sample has 4 of the 8 scans: the others stand in for the rest
        source = 11 + (n - 11) % 4
        shutil.copy(NORDSTERN / f"00{source}.jpg", folder / f"00{n}.tif")
        shutil.copy(NORDSTERN / f"00{source}.xml", folder / f"00{n}.xml")
    holdings = read_holdings(root)
    item = holdings.items["nordstern"]
    assert [p.image.name for p in item.pages] == [f"00{n}.tif" for n in range(11, 19)]
    assert [p.label for p in item.pages] == [str(n) for n in range(1, 9)]  # MODS part/extent/start
    assert [p.ocr_format for p in item.pages] == ["alto"] * 8
    assert item.title == {"it": ["Der Nordstern (St. Cloud, Minn.), 1878-01-03"]}  # mets/@LABEL
    assert item.date is not None and item.date.display == "1878-01-03"
    (folder / "0018.tif").unlink()
    holdings = read_holdings(root)
    assert "nordstern" not in holdings.items
    assert any("page 8" in p.message and "./0018.tif" in p.message for p in holdings.problems)
