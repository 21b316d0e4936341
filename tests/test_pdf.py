"""The item PDF rendering: every canvas a page, the page JPEGs embedded as they are, the OCR words
searchable in order (checked with poppler's ``pdftotext``), nothing for restricted items."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

from server import create_app
from server.ocr import parse_ocr_bytes

from .conftest import DEMO
from .test_discovery import edit_items, ingest_ok
from .test_ingest import RASSEGNA

BASE = "http://heritage.test"
PDFTOTEXT = shutil.which("pdftotext")


def _get(client: Any, url: str) -> Any:
    assert url.startswith(BASE), url
    response = client.get(url[len(BASE):])
    assert response.status_code == 200, (url, response.status_code)
    return response


def _pdf_rendering(manifest: dict[str, Any]) -> dict[str, Any]:
    found = [r for r in manifest.get("rendering", []) if r["format"] == "application/pdf"]
    assert len(found) == 1, manifest.get("rendering")
    assert found[0]["type"] == "Text" and found[0]["label"]["en"]
    return found[0]


def _pdftotext(pdf: Path, page: int) -> str:
    assert PDFTOTEXT, "pdftotext is missing: run scripts/test (it installs poppler-utils)"
    out = subprocess.run([PDFTOTEXT, "-raw", "-enc", "UTF-8", "-f", str(page), "-l", str(page), str(pdf), "-"],
                         capture_output=True, text=True, check=True)
    return out.stdout


def _pages(pdf: Path) -> int:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    return int(re.search(r"^Pages:\s+(\d+)", info, re.MULTILINE).group(1))  # type: ignore[union-attr]


def _page_images(pdf: Path) -> list[bytes]:
    """The raw (still DCT-encoded) stream of each page's one image."""
    import pikepdf
    with pikepdf.open(pdf) as doc:
        out = []
        for page in doc.pages:
            images = [x for x in page.Resources.XObject.values() if x.Subtype == "/Image"]
            assert len(images) == 1 and images[0].Filter == "/DCTDecode"
            out.append(images[0].read_raw_bytes())
        return out


def test_every_item_pdf_has_its_pages_and_words(client: Any, live_items: list[str], tmp_path: Path) -> None:
    with_text = 0
    for item in live_items:
        manifest = _get(client, f"{BASE}/iiif/3/{item}/manifest").get_json()
        response = _get(client, _pdf_rendering(manifest)["id"])
        assert response.headers["Content-Type"] == "application/pdf"
        assert response.data.startswith(b"%PDF-")
        pdf = tmp_path / f"{item}.pdf"
        pdf.write_bytes(response.data)

        canvases = manifest["items"]
        assert _pages(pdf) == len(canvases)
        embedded = _page_images(pdf)
        jpegs = 0
        for n, canvas in enumerate(canvases, 1):
            body = canvas["items"][0]["items"][0]["body"]
            jpeg = _get(client, body["id"]).data
            assert embedded[n - 1] == jpeg  # the canvas's image, embedded as served: not re-encoded
            jpegs += len(jpeg)
            words: list[str] = []
            for link in canvas.get("seeAlso", []):
                ocr = _get(client, link["id"]).data
                words += [w.text for w in parse_ocr_bytes(ocr, Path(link["id"]), canvas["width"], canvas["height"]).words]
            extracted = _pdftotext(pdf, n)
            # the same characters in the same order (pdftotext decides where the spaces and line breaks go)
            assert "".join(extracted.split()) == "".join("".join(words).split()), (item, n)
            with_text += bool(words)
        assert len(response.data) <= 1.1 * jpegs, (item, len(response.data), jpegs)
    assert with_text >= 3  # the demo's pages with OCR were really checked

    again = client.get(f"/iiif/3/{live_items[0]}/item.pdf", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code in (200, 304)


def test_canvases_link_their_ocr_with_format_and_profile(client: Any, live_items: list[str]) -> None:
    expected = {"application/xml": "http://www.loc.gov/standards/alto/",
                "text/vnd.hocr+html": "http://kba.github.io/hocr-spec/1.2/"}
    for item in live_items:
        for canvas in _get(client, f"{BASE}/iiif/3/{item}/manifest").get_json()["items"]:
            for link in canvas.get("seeAlso", []):
                assert link["type"] == "Dataset" and expected[link["format"]] == link["profile"]
                assert _get(client, link["id"]).headers["Content-Type"].startswith(link["format"])


def test_unknown_and_restricted_items_have_no_pdf(tmp_path: Path) -> None:
    holdings, data = tmp_path / "holdings", tmp_path / "data"
    shutil.copytree(DEMO, holdings)
    ingest_ok(holdings, data)
    client = create_app({"data": data, "base_url": BASE}).test_client()
    assert client.get(f"/iiif/3/{RASSEGNA}/item.pdf").status_code == 200
    edit_items(holdings, lambda rows: [{**r, "access": "restricted" if r["id"] == RASSEGNA else "public"}
                                       for r in rows])
    ingest_ok(holdings, data)
    for path in (f"/iiif/3/{RASSEGNA}/item.pdf", "/iiif/3/no-such-item/item.pdf", "/iiif/3/..%2Fx/item.pdf"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert response.get_json()["status"] == 404


def test_ingest_prebuilds_the_pdfs_when_asked(tmp_path: Path) -> None:
    from .conftest import FIXTURES, write_holdings
    from .test_ingest import run
    png = FIXTURES / "67352ccc-d1b0-11e1-89ae-279075081939.png"
    holdings = write_holdings(tmp_path / "holdings", [{"id": "uno", "collection": "test", "type": "book",
                                                      "title": "Uno"}], {"uno": [png, png]})
    result = run(holdings, tmp_path / "lazy", env={"HERITAGE_PREBUILD_PDF": "0"})
    assert result.returncode == 0, result.stdout + result.stderr
    assert not list((tmp_path / "lazy" / "image_cache").glob("pdf/*/*"))  # off: built on first request
    result = run(holdings, tmp_path / "data", env={"HERITAGE_PREBUILD_PDF": "1"})
    assert result.returncode == 0, result.stdout + result.stderr
    built = list((tmp_path / "data" / "image_cache" / "pdf").glob("*/*"))
    assert len(built) == 1
    client = create_app({"data": tmp_path / "data", "base_url": BASE}).test_client()
    response = client.get("/iiif/3/uno/item.pdf")
    assert response.status_code == 200 and response.data == built[0].read_bytes()
    pdf = tmp_path / "uno.pdf"
    pdf.write_bytes(response.data)
    assert _pages(pdf) == 2 and _pdftotext(pdf, 1).strip() == ""  # no OCR: images only
