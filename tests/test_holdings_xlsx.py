"""Sheets saved as .xlsx: the same items as the CSV, problems at 'file:row', Excel's typed cells, hostile workbooks."""
from __future__ import annotations

import csv
import io
import re
import shutil
import zipfile
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest

from server.holdings import read_holdings
from server.holdings.model import Problem
from server.holdings.xlsx import read_xlsx

from .conftest import SAMPLE


def csv_to_xlsx(source: Path, target: Path, typed: bool = True) -> None:
    """Save a CSV of the sample as Excel would: numbers as numbers, ISO dates as Excel dates."""
    text = source.read_text(encoding="utf-8-sig")
    delimiter = ";" if text.split("\n", 1)[0].count(";") > text.split("\n", 1)[0].count(",") else ","
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for n, row in enumerate(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)):
        cells: list[object] = []
        for value in row:
            if typed and n and value.isdigit():
                cells.append(int(value))
            elif typed and n and len(value) == 10 and value[4] == "-" and value[7] == "-":
                cells.append(datetime.strptime(value, "%Y-%m-%d"))
            else:
                cells.append(value or None)
        sheet.append(cells)
    workbook.save(target)


@pytest.fixture()
def as_xlsx(tmp_path: Path) -> Path:
    """The real sample with every sheet converted to .xlsx (and the CSVs removed)."""
    target = tmp_path / "holdings"
    shutil.copytree(SAMPLE, target)
    for path in list(target.rglob("*.csv")):
        csv_to_xlsx(path, path.with_suffix(".xlsx"))
        path.unlink()
    return target


def comparable(holdings_root: Path) -> dict[str, str]:
    """Items and collections as values; line numbers differ (a CSV row with a line break spans lines)."""
    h = read_holdings(holdings_root)
    return {i: re.sub(r"line=\d+", "", repr(item).replace(str(holdings_root), "")) for i, item in h.items.items()} | {
        "collections": re.sub(r"line=\d+", "", repr(h.collections))}


def test_xlsx_reads_the_same_items_as_csv(as_xlsx: Path) -> None:
    holdings = read_holdings(as_xlsx)
    assert [p for p in holdings.problems if p.severity != "info"] == []
    assert comparable(as_xlsx) == comparable(SAMPLE)
    kant = holdings.items["periodical-deu-berlinische-monatsschrift-1784-12"]
    assert kant.ranges and kant.date is not None and kant.date.display == "1784-12"
    nordstern = holdings.items["newspaper-deu-der-nordstern-1878-01-03"]
    assert nordstern.date is not None and nordstern.date.display == "1878-01-03"  # an Excel date cell


def test_problems_name_the_sheet_row(as_xlsx: Path) -> None:
    workbook = openpyxl.load_workbook(as_xlsx / "items.xlsx")
    sheet = workbook.active
    header = [c.value for c in sheet[1]]
    sheet.insert_rows(3)  # a blank row: rows keep Excel's numbering
    sheet.cell(row=4, column=header.index("date") + 1, value="1878-13-45")
    sheet.cell(row=5, column=header.index("rights") + 1, value="all rights reserved")
    workbook.save(as_xlsx / "items.xlsx")
    problems = [str(p) for p in read_holdings(as_xlsx).problems if p.severity == "error"]
    assert any(p.startswith("ERROR items.xlsx:4: ") and "1878-13-45" in p for p in problems), problems
    assert any(p.startswith("ERROR items.xlsx:5: ") and "all rights reserved" in p for p in problems), problems


def test_csv_wins_over_xlsx_with_a_warning(as_xlsx: Path) -> None:
    shutil.copy(SAMPLE / "items.csv", as_xlsx / "items.csv")
    holdings = read_holdings(as_xlsx)
    assert any(p.file == "items.xlsx" and p.severity == "warning" and "reading items.csv" in p.message
               for p in holdings.problems)
    assert len(holdings.items) == 5


def read(path: Path) -> list[Problem]:
    problems: list[Problem] = []
    assert read_xlsx(path, path.name, problems) is None
    return problems


def test_not_a_workbook(tmp_path: Path) -> None:
    (tmp_path / "a.xlsx").write_bytes(b"id;title\n1;x\n")
    assert "not an Excel .xlsx workbook" in read(tmp_path / "a.xlsx")[0].message
    (tmp_path / "b.xlsx").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504)
    assert "old Excel .xls" in read(tmp_path / "b.xlsx")[0].message
    with zipfile.ZipFile(tmp_path / "c.xlsx", "w") as z:
        z.writestr("content.xml", "<x/>")
    assert ".ods" in read(tmp_path / "c.xlsx")[0].message


def test_entities_in_the_sheet_xml_are_refused(tmp_path: Path) -> None:
    good = tmp_path / "good.xlsx"
    workbook = openpyxl.Workbook()
    workbook.active.append(["id", "title"])
    workbook.active.append(["a", "x"])
    workbook.save(good)
    evil = tmp_path / "evil.xlsx"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(evil, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = (b'<?xml version="1.0"?>\n<!DOCTYPE worksheet [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
                        + data.replace(b"<t>", b"<t>&xxe;", 1).replace(b"<v>", b"<v>&xxe;", 1))
                assert b"&xxe;" in data
            dst.writestr(info, data)
    problems = read(evil)
    assert problems and "cannot read the sheet" in problems[0].message
    assert "root:" not in problems[0].message


def test_zip_bomb_is_refused_before_opening(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from server.holdings import xlsx
    monkeypatch.setattr(xlsx, "MAX_UNCOMPRESSED", 1000)
    path = tmp_path / "big.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/workbook.xml", "<a/>" + " " * 5000)
    assert "unpacks to more than" in read(path)[0].message
