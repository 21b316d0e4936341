"""OCR at ingest (issue 12 §1): pages without an OCR file are read by the real Tesseract, cached by content.

Tesseract runs behind a wrapper on PATH that logs every OCR run and can hide installed language
packs (``HIDE_LANGS``), so the tests count runs instead of timing them, and see a missing pack
on any machine. The page image is a small crop of a real scan (tests/fixtures/tesseract-alto).
"""
from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from lxml import etree

from server.config import Settings
from server.holdings.model import Page
from server.ingest.ocr import _cache_key, find_tesseract, package_name, tesseract_code
from tests.conftest import FIXTURES, ROOT, write_holdings

REAL = shutil.which("tesseract")
pytestmark = pytest.mark.skipif(REAL is None, reason="tesseract not installed (scripts/install-ocr-deps)")
CROP = FIXTURES / "tesseract-alto" / "rassegna-0002-crop.png"
CROP_ALTO = FIXTURES / "tesseract-alto" / "rassegna-0002-crop.xml"
BASE = "http://heritage.test"
Box = tuple[int, int, int, int]


def wrapper_dir(tmp: Path) -> Path:
    """A folder holding a ``tesseract`` that logs its OCR runs to ``runs.log`` and hides $HIDE_LANGS."""
    folder = tmp / "bin"
    folder.mkdir()
    script = folder / "tesseract"
    script.write_text(f"""#!/bin/sh
if [ "$1" = "--list-langs" ]; then
    "{REAL}" --list-langs | grep -v -x -F -e "${{HIDE_LANGS:-@none@}}"
    exit 0
fi
case "$1" in --*) ;; *) echo "$*" >> "{folder}/runs.log" ;; esac
exec "{REAL}" "$@"
""")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return folder


def runs(bin_dir: Path) -> int:
    log = bin_dir / "runs.log"
    return len(log.read_text().splitlines()) if log.is_file() else 0


def run_ingest(holdings: Path, data: Path, path: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "HERITAGE_DATA": str(data), "PATH": path, "HERITAGE_UI_LANGUAGE": "en",
            "HERITAGE_OCR": "auto", **env}
    return subprocess.run([sys.executable, "-m", "server.cli", "ingest", str(holdings), *args], check=False, env=full,
                          capture_output=True, text=True, cwd=ROOT, timeout=600)


@dataclass(frozen=True)
class FirstRun:
    holdings: Path
    data: Path
    bin: Path  # the wrapper's folder (and its runs.log)
    path: str  # PATH with the wrapper first
    first: subprocess.CompletedProcess[str]
    runs_after_first: int


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> FirstRun:
    """Three items without OCR: Italian (OCR'd), German with deu hidden (missing pack), one corrupt page."""
    tmp = tmp_path_factory.mktemp("ocr")
    corrupt = tmp / "corrupt.png"
    corrupt.write_bytes(b"\x89PNG\r\n\x1a\n" + b"not really a png" * 20)
    holdings = write_holdings(tmp / "holdings", [
        {"id": "crop", "collection": "test", "type": "periodical", "title": "Crop", "language": "it"},
        {"id": "german", "collection": "test", "type": "periodical", "title": "German", "language": "de"},
        {"id": "broken", "collection": "test", "type": "periodical", "title": "Broken", "language": "it"},
    ], {"crop": [CROP], "german": [CROP], "broken": [corrupt, CROP]})
    bin_dir = wrapper_dir(tmp)
    path = f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"
    data = tmp / "data"
    first = run_ingest(holdings, data, path, HIDE_LANGS="deu")
    assert first.returncode == 1 and "published 3 items" in first.stdout, first.stdout + first.stderr  # 1: the error
    return FirstRun(holdings, data, bin_dir, path, first, runs(bin_dir))


def client(data: Path) -> FlaskClient:
    from server import create_app
    return create_app({"data": data, "base_url": BASE}).test_client()


def alto_box(word: str) -> Box:
    """The word's box in the ALTO Tesseract wrote for the crop (the fixture)."""
    root = etree.parse(str(CROP_ALTO), etree.XMLParser(resolve_entities=False, no_network=True)).getroot()
    s = next(s for s in root.iter("{*}String") if (s.get("CONTENT") or "").strip(";.,").lower() == word)
    return int(s.get("HPOS", "")), int(s.get("VPOS", "")), int(s.get("WIDTH", "")), int(s.get("HEIGHT", ""))


def iou(a: Box, b: Box) -> float:
    ix = max(0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = ix * iy
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


def test_a_page_without_ocr_is_searchable_with_the_words_box(setup: FirstRun) -> None:
    c = client(setup.data)
    doc = c.get("/iiif/search/2/crop?q=spoliazione").get_json()
    targets = [a["target"] for a in doc["items"]]
    assert len(targets) == 1, doc
    m = re.fullmatch(rf"{BASE}/iiif/3/crop/canvas/1#xywh=(\d+),(\d+),(\d+),(\d+)", targets[0])
    assert m, targets
    x0, y0, w, h = (int(v) for v in m.groups())
    hit = (x0, y0, w, h)
    word = alto_box("spoliazione")
    x, y = hit[0] + hit[2] / 2, hit[1] + hit[3] / 2  # the hit's centre lies in the word, the boxes overlap
    assert word[0] <= x <= word[0] + word[2] and word[1] <= y <= word[1] + word[3], (hit, word)
    assert iou(hit, word) >= 0.5, (hit, word)


def test_machine_ocr_is_marked_in_the_manifest_and_on_the_item_page(setup: FirstRun) -> None:
    c = client(setup.data)
    engine = find_tesseract()
    assert engine is not None
    version = engine.version
    canvas = c.get("/iiif/3/crop/manifest").get_json()["items"][0]
    see_also = canvas["seeAlso"][0]
    assert see_also["profile"] == "http://www.loc.gov/standards/alto/" and see_also["format"] == "application/xml"
    assert see_also["label"]["en"] == [f"Machine OCR text (Tesseract {version}, ALTO XML)"]
    assert see_also["label"]["it"] == [f"Testo OCR automatico (Tesseract {version}, ALTO XML)"]
    alto = c.get(see_also["id"].removeprefix(BASE)).get_data(as_text=True)
    assert "<softwareName>tesseract" in alto  # the same master twice is read once: either page's name
    assert re.search(r"<fileName>000[12]\.png</fileName>", alto), alto[:800]  # never the holdings' path
    assert str(setup.holdings) not in alto
    en = c.get("/item/crop?lang=en").get_data(as_text=True)
    it = c.get("/item/crop?lang=it").get_data(as_text=True)
    assert f"machine OCR by Tesseract {version}: the text may contain errors" in en
    assert f"OCR automatico di Tesseract {version}: il testo può contenere errori" in it


def test_a_second_ingest_reads_the_cache_not_tesseract(setup: FirstRun) -> None:
    bin_dir = setup.bin
    assert setup.runs_after_first == 1  # one distinct master in one language (the German pack is hidden)
    cache = list((setup.data / "image_cache" / "ocr").glob("*.xml"))
    assert len(cache) == 1
    again = run_ingest(setup.holdings, setup.data, setup.path, "--force",
                       HIDE_LANGS="deu")
    assert "published 3 items" in again.stdout, again.stdout + again.stderr
    assert runs(bin_dir) == 1
    assert "read by Tesseract" not in again.stdout
    assert client(setup.data).get("/iiif/search/2/crop?q=spoliazione").get_json()["items"]


def test_a_missing_language_pack_is_named_and_the_item_published_without_text(setup: FirstRun) -> None:
    out = setup.first.stdout
    assert re.search(r"WARNING items/german: no Tesseract language pack for 'deu': install Debian's "
                     r"tesseract-ocr-deu", out), out
    manifest = client(setup.data).get("/iiif/3/german/manifest").get_json()
    assert "seeAlso" not in manifest["items"][0] and "service" not in manifest


def test_a_corrupt_image_is_reported_and_the_rest_ingested(setup: FirstRun) -> None:
    out = setup.first.stdout
    assert re.search(r"ERROR items/broken/0001\.png: ", out), out
    assert "1 page read by Tesseract" in out
    c = client(setup.data)
    manifest = c.get("/iiif/3/broken/manifest").get_json()
    assert len(manifest["items"]) == 1 and "Tesseract" in json.dumps(manifest["items"][0]["seeAlso"])
    assert c.get("/iiif/search/2/broken?q=spoliazione").get_json()["items"]


def test_an_exif_rotated_jpeg_is_read_upright_and_its_boxes_fit_the_canvas(tmp_path: Path) -> None:
    """The pyramid applies the EXIF orientation; Tesseract must read the same upright page."""
    import pyvips
    sideways = tmp_path / "sideways.jpg"
    pyvips.Image.new_from_file(str(CROP)).rot270().copy().write_to_file(str(sideways) + "[Q=95]")
    rotated = pyvips.Image.new_from_file(str(sideways)).copy()
    rotated.set_type(pyvips.GValue.gint_type, "orientation", 6)  # "rotate 90° clockwise to display"
    tagged = tmp_path / "tagged.jpg"
    rotated.write_to_file(str(tagged) + "[Q=95]")
    holdings = write_holdings(tmp_path / "holdings", [
        {"id": "exif", "collection": "test", "type": "periodical", "title": "EXIF", "language": "it"}],
        {"exif": [tagged]})
    result = run_ingest(holdings, tmp_path / "data", os.environ.get("PATH", ""))
    assert result.returncode == 0 and "1 page read by Tesseract" in result.stdout, result.stdout + result.stderr
    c = client(tmp_path / "data")
    canvas = c.get("/iiif/3/exif/manifest").get_json()["items"][0]
    assert (canvas["width"], canvas["height"]) == (1080, 690)  # upright, as the crop
    target = c.get("/iiif/search/2/exif?q=spoliazione").get_json()["items"][0]["target"]
    x0, y0, w, h = (int(v) for v in target.rsplit("=", 1)[1].split(","))
    assert iou((x0, y0, w, h), alto_box("spoliazione")) >= 0.5


def test_ocr_off_runs_nothing_and_warns_nothing(setup: FirstRun, tmp_path: Path) -> None:
    before = runs(setup.bin)
    result = run_ingest(setup.holdings, tmp_path / "data", setup.path, HERITAGE_OCR="off")
    assert "published 3 items" in result.stdout and "1 error" in result.stdout, result.stdout + result.stderr
    assert runs(setup.bin) == before
    assert "Tesseract" not in result.stdout + result.stderr
    assert not (tmp_path / "data" / "image_cache" / "ocr").exists()
    manifest = client(tmp_path / "data").get("/iiif/3/crop/manifest").get_json()
    assert "seeAlso" not in manifest["items"][0]


def test_without_tesseract_auto_warns_naming_the_packages(tmp_path: Path) -> None:
    holdings = write_holdings(tmp_path / "holdings", [
        {"id": "crop", "collection": "test", "type": "periodical", "title": "Crop", "language": "it"}], {"crop": [CROP]})
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    result = run_ingest(holdings, tmp_path / "data", str(empty))
    assert result.returncode == 0, result.stdout + result.stderr
    assert ("WARNING items: 1 page has no OCR file and Tesseract is not installed: it is published without "
            "text (install Debian's tesseract-ocr tesseract-ocr-ita") in result.stdout, result.stdout
    it = run_ingest(holdings, tmp_path / "data", str(empty), HERITAGE_UI_LANGUAGE="it")
    assert "1 pagina non ha un file OCR e Tesseract non è installato" in it.stdout, it.stdout


def test_an_unknown_ocr_mode_is_a_clear_error(tmp_path: Path) -> None:
    holdings = write_holdings(tmp_path / "holdings", [
        {"id": "crop", "collection": "test", "type": "periodical", "title": "Crop", "language": "it"}], {"crop": [CROP]})
    result = run_ingest(holdings, tmp_path / "data", os.environ.get("PATH", ""), HERITAGE_OCR="yes")
    assert result.returncode != 0
    assert "HERITAGE_OCR must be 'auto' or 'off', not 'yes'" in result.stdout + result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(("language", "code", "package"), [
    ("it", "ita", "tesseract-ocr-ita"), ("de-AT", "deu", "tesseract-ocr-deu"), ("la", "lat", "tesseract-ocr-lat"),
    ("ger", "deu", "tesseract-ocr-deu"), ("zh", "chi_sim", "tesseract-ocr-chi-sim"), ("grc", "grc", "tesseract-ocr-grc"),
    ("frk", "frk", "tesseract-ocr-frk"), ("ita-old", "ita_old", "tesseract-ocr-ita-old"), ("deu", "deu", "tesseract-ocr-deu"),
])
def test_item_languages_map_to_tesseract_models_and_debian_packages(language: str, code: str, package: str) -> None:
    assert tesseract_code(language) == code and package_name(code) == package


def test_settings_default_to_auto() -> None:  # (the suite's conftest turns OCR off for other tests)
    assert Settings.load(environ={}).ocr == "auto" and Settings.load(environ={"HERITAGE_OCR": "off"}).ocr == "off"
    assert Page(Path("a.png")).ocr_engine is None  # supplied OCR unless ingest made it


def test_the_cache_key_is_the_content_the_languages_and_the_version(tmp_path: Path) -> None:
    """Not the pyramid's format or tile size: a new pyramid format must not re-OCR every page."""
    content = "0123456789abcdef0123456789abcdef"
    key = _cache_key(CROP, f"{content}-3", "ita", "5.3.0")
    assert key == _cache_key(CROP, f"{content}-4-512", "ita", "5.3.0")
    assert len({key, _cache_key(CROP, f"{content}-3", "ita+lat", "5.3.0"),
                _cache_key(CROP, f"{content}-3", "ita", "5.4.0"),
                _cache_key(CROP, f"{'f' * 32}-3", "ita", "5.3.0")}) == 4
    copy = tmp_path / "copy.png"
    shutil.copyfile(CROP, copy)  # no usable pyramid key: the file's own hash, the same for the same bytes
    assert _cache_key(CROP, "odd", "ita", "5.3.0") == _cache_key(copy, "", "ita", "5.3.0") != key
