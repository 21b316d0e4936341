"""The staff's HTML report in Chromium: readable on a 360-pixel phone, accessible, nothing loaded from anywhere."""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from server.config import Settings
from server.ingest.check import run_check
from server.ingest.htmlreport import ReportData, write_report

from .conftest import DEMO
from .test_ingest import _break

pytestmark = pytest.mark.browser


def test_the_italian_report_reads_on_a_phone(page: Any, viewer_server: Any, tmp_path: Path) -> None:
    holdings = tmp_path / "holdings"
    shutil.copytree(DEMO, holdings)
    _break(holdings)
    long_name = holdings / "items" / "periodical-deu-berlinische-monatsschrift-1784-12" / ("x" * 120 + ".xml")
    long_name.write_text("<not-closed>", encoding="utf-8")
    report = run_check(holdings, Settings.load({"data": tmp_path / "data", "workers": 1}))
    assert report.errors
    path = write_report(ReportData("check", report.holdings, report.problems, report.outcomes, report.pages),
                        tmp_path / "data", "it")
    base = viewer_server.mount(f"report-{tmp_path.name}", path.parent)
    page.set_viewport_size({"width": 360, "height": 740})
    response = page.goto(f"{base}/{path.name}", wait_until="load")
    assert response is not None and response.status == 200
    assert page.problems() == []  # no request beyond the file itself (thumbnails are inline)
    assert page.locator("h1").inner_text() == "Rapporto di verifica"
    assert page.locator("img").count() >= 3  # the pages of the image and OCR problems
    overflow = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the report is {overflow}px wider than a 360px screen"
    serious = [v["id"] for v in page.axe_violations() if v.get("impact") in ("serious", "critical")]
    assert serious == []
