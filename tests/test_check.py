"""``heritage check`` and the staff's HTML report: same findings as ingest, nothing published, Italian or English."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from server.holdings.model import Holdings, Problem
from server.ingest.htmlreport import (
    KEEP_REPORTS,
    LISTED_UNCHANGED,
    ReportData,
    hint,
    render,
    ui_language,
    write_report,
)

from .conftest import ROOT
from .test_ingest import (
    ENGLISH,
    KANT,
    NORDSTERN,
    RASSEGNA,
    _break,
    current,
    holdings,
    read_items,
    run,
    write_items,
)

__all__ = ["holdings"]  # the fixture


def check(holdings: Path, data: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "HERITAGE_DATA": str(data), **(env or {})}
    return subprocess.run([sys.executable, "-m", "server.cli", "check", str(holdings)], check=False, env=full,
                          capture_output=True, text=True, cwd=ROOT, timeout=600)


def report_path(result: subprocess.CompletedProcess[str]) -> Path:
    found = re.search(r"^report: (.+)$", result.stdout, re.MULTILINE)
    assert found, result.stdout
    return Path(found[1])


def where(output: str, severity: str = "ERROR") -> set[str]:
    """The 'file:line' of each problem of a severity in a command's output."""
    return {line.split(" ", 2)[1].rstrip(":") for line in output.splitlines() if line.startswith(severity + " ")}


def test_check_finds_what_ingest_finds_and_writes_nothing(holdings: Path, tmp_path: Path) -> None:
    _break(holdings)
    (holdings / "items" / ENGLISH / "sim_english-illustrated-magazine_1884-12_2_15_0000.jp2").write_bytes(b"not a jp2")
    data = tmp_path / "data"
    result = check(holdings, data)
    assert result.returncode == 1, result.stdout + result.stderr
    assert sorted(p.name for p in data.iterdir()) == ["reports"]  # no manifests, no pyramids
    ingested = run(holdings, tmp_path / "data2")
    # check reads headers, not pixels: only the page cut off in its pixels is ingest's alone
    assert where(ingested.stdout) - where(result.stdout) == {f"items/{NORDSTERN}/0012.jpg"}
    assert where(result.stdout) <= where(ingested.stdout) | {f"items/{ENGLISH}"}
    assert f"items/{RASSEGNA}/0002.hocr" in where(result.stdout)  # the XXE file, refused
    assert "root:" not in result.stdout


def test_check_compares_with_the_current_publication(holdings: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert run(holdings, data).returncode == 0
    first = check(holdings, data)
    assert first.returncode == 0, first.stdout
    assert "0 new, 0 changed, 4 unchanged, 0 carried, 0 withdrawn" in first.stdout
    rows = read_items(holdings)
    for r in rows:
        if r["id"] == RASSEGNA:
            r["title"] = "Un altro titolo"
        if r["id"] == ENGLISH:
            r["access"] = "restricted"
    write_items(holdings, [r for r in rows if r["id"] != NORDSTERN])
    xml = holdings / "items" / KANT / "INPUT_0020.xml"
    xml.write_text(xml.read_text(encoding="utf-8")[:5000], encoding="utf-8")
    before = os.readlink(data / "manifests" / "current")
    second = check(holdings, data)
    assert second.returncode == 1
    assert "0 new, 1 changed, 0 unchanged, 1 carried, 2 withdrawn" in second.stdout, second.stdout
    assert os.readlink(data / "manifests" / "current") == before
    html = report_path(second).read_text(encoding="utf-8")
    for item_id in (RASSEGNA, KANT, NORDSTERN, ENGLISH):
        assert item_id in html


def test_ingest_writes_an_italian_report_with_thumbnails_and_hints(holdings: Path, tmp_path: Path) -> None:
    _break(holdings)
    rows = read_items(holdings)
    rows[0]["title"] = '<script>alert("x")</script>'
    write_items(holdings, rows)
    data = tmp_path / "data"
    result = run(holdings, data, env={"HERITAGE_UI_LANGUAGE": "it"})
    path = report_path(result)
    assert path.parent == data / "reports" and current(data).is_dir()
    html = path.read_text(encoding="utf-8")
    assert '<html lang="it">' in html and "Rapporto di pubblicazione" in html and "Riepilogo" in html
    assert "Scrivete le date come 1878" in html  # the fix for the bad date, in Italian
    assert "non è una data valida" in html  # and the problem itself, in Italian
    assert "items.csv:" in html and "riga " in html
    assert "<script>alert" not in html and "&lt;script&gt;alert" in html  # hostile cell value, escaped
    # the refused OCR file shows its page
    box = next(b for b in html.split('<div class="problem ') if f"items/{RASSEGNA}/0002.hocr" in b)
    assert '<img src="data:image/jpeg;base64,' in box
    assert "<script" not in html.replace("&lt;script", "")  # no JavaScript at all


def test_report_language_from_the_environment() -> None:
    assert ui_language({"HERITAGE_UI_LANGUAGE": "it", "LANG": "en_US.UTF-8"}) == "it"
    assert ui_language({"LANG": "it_IT.UTF-8"}) == "it"
    assert ui_language({"HERITAGE_UI_LANGUAGE": "xx", "LANG": "C.UTF-8"}) == "en"
    assert ui_language({}) == "en"


def test_every_reader_problem_of_the_sample_gets_a_hint() -> None:
    for message in ("not UTF-8 text: save it as 'CSV UTF-8'", "item 'x': bad date: '1878-13' is not a valid date",
                    "item 'x': rights must be a Creative Commons …", "duplicate id 'x' (first on line 2)",
                    "not well-formed XML: Premature end of data", "0012.jpg: not a readable image (x)",
                    "DOCTYPE with entity declarations is refused"):
        assert hint(message), message
    assert hint("something nobody wrote a hint for") is None


def test_hostile_names_are_escaped_and_old_reports_pruned(tmp_path: Path) -> None:
    evil = '<img src=x onerror=alert(1)>.csv'
    data = ReportData("check", Holdings(root=tmp_path), [Problem(evil, 3, "<b>bold</b> & co", "it<em>")],
                      {"new": [], "withdrawn": ["<i>gone</i>"]})
    html = render(data, "en")
    assert "<img src=x" not in html and "<b>bold" not in html and "<i>gone" not in html and "it<em>" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;.csv:3" in html
    for n in range(KEEP_REPORTS + 3):
        data.created = 1_700_000_000 + n
        write_report(data, tmp_path, "en")
    kept = sorted((tmp_path / "reports").glob("*.html"))
    assert len(kept) == KEEP_REPORTS and kept[0].name.startswith("20231114T221323")


def test_unchanged_items_are_counted_not_all_listed(tmp_path: Path) -> None:
    """A one-item change in a large archive: the report names what changed, counts the rest (its size
    does not grow with the archive), in both languages."""
    many = [f"item-{n:06d}" for n in range(LISTED_UNCHANGED * 20)]
    data = ReportData("ingest", Holdings(root=tmp_path), [], {"changed": ["the-one"], "unchanged": many,
                                                              "withdrawn": [f"gone-{n}" for n in range(300)]})
    small = render(replace(data, outcomes={"changed": ["the-one"], "unchanged": many[:LISTED_UNCHANGED * 2],
                                           "withdrawn": data.outcomes["withdrawn"]}), "en")
    html = render(data, "en")
    assert abs(len(html) - len(small)) < 100
    assert "the-one" in html and "gone-299" in html  # what needs a look is always listed
    assert f"Unchanged ({len(many)})" in html and f"<b>{len(many)}</b>" in html
    assert many[LISTED_UNCHANGED - 1] in html and many[LISTED_UNCHANGED] not in html
    assert f"and {len(many) - LISTED_UNCHANGED} more, not listed" in html
    assert f"e altri {len(many) - LISTED_UNCHANGED}, non elencati" in render(data, "it")


def test_reports_are_never_served(tmp_path: Path) -> None:
    from server import create_app
    path = write_report(ReportData("check", Holdings(root=tmp_path), [], {}), tmp_path, "en")
    client = create_app({"data": tmp_path, "base_url": "http://h.test"}).test_client()
    for url in (f"/reports/{path.name}", f"/data/reports/{path.name}", f"/static/../reports/{path.name}"):
        assert client.get(url).status_code == 404


def test_pages_checked_in_parallel_find_the_same(holdings: Path, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from server.config import Settings
    from server.ingest import check as check_module
    _break(holdings)
    settings = Settings.load({"data": tmp_path / "data", "workers": 2})
    one = check_module.run_check(holdings, replace(settings, workers=1))
    monkeypatch.setattr(check_module, "PARALLEL_FROM", 0)
    two = check_module.run_check(holdings, settings)
    assert sorted(map(str, two.problems)) == sorted(map(str, one.problems)) and one.errors
    assert two.outcomes == one.outcomes and two.pages == one.pages


def test_a_new_staff_member_checks_fixes_and_publishes(holdings: Path, tmp_path: Path) -> None:
    """The workflow of the issue: check, read the Italian report, fix the sheet, publish."""
    import openpyxl

    from .test_holdings_xlsx import csv_to_xlsx
    csv_to_xlsx(holdings / "items.csv", holdings / "items.xlsx")
    (holdings / "items.csv").unlink()
    workbook = openpyxl.load_workbook(holdings / "items.xlsx")
    sheet = workbook.active
    date_column = [c.value for c in sheet[1]].index("date") + 1
    sheet.cell(row=3, column=date_column, value="3 gennaio 1878")
    workbook.save(holdings / "items.xlsx")
    data = tmp_path / "data"
    italian = {"HERITAGE_UI_LANGUAGE": "", "LANG": "it_IT.UTF-8"}

    first = check(holdings, data, env=italian)
    assert first.returncode == 1 and "ERROR items.xlsx:3: " in first.stdout, first.stdout
    html = report_path(first).read_text(encoding="utf-8")
    assert "items.xlsx:3" in html and "Scrivete le date come 1878" in html

    sheet.cell(row=3, column=date_column, value="1878-01-03")
    workbook.save(holdings / "items.xlsx")
    second = check(holdings, data, env=italian)
    assert second.returncode == 0 and "4 new, 0 changed" in second.stdout, second.stdout
    assert run(holdings, data).returncode == 0
    assert "0 new, 0 changed, 4 unchanged" in check(holdings, data, env=italian).stdout
