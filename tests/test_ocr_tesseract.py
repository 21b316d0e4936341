"""Tesseract 5's own ALTO: a word broken at a line end is "ripo-" + "savo", with no HYP element and no
SUBS_CONTENT. The fixture is real Tesseract output (``tesseract rassegna-0002-crop.png … -l ita alto``,
see tests/fixtures/SOURCES.md), so the test sees exactly what an archive's OCR pipeline produces.
"""
from __future__ import annotations

import re
import unicodedata
from itertools import pairwise
from pathlib import Path

import pytest
from lxml import etree
from PIL import Image

from server.ocr import parse_ocr
from server.search import IndexedItem, IndexedPage
from server.search.iiif import search_v1
from server.search.service import SearchService
from server.search.urls import SearchUrls
from tests.search_support import index_generation

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "tesseract-alto"
ALTO = FIXTURE / "rassegna-0002-crop.xml"
IMAGE = FIXTURE / "rassegna-0002-crop.png"
ITEM = "tesseract-rassegna"
BASE = "http://localhost"
HYPHENS = "-\u00ad¬"
Box = tuple[int, int, int, int]


def raw_lines() -> list[list[tuple[str, Box]]]:
    """``(CONTENT, box)`` of the Strings of each TextLine, read here from the raw XML (pixel ALTO,
    Page size = image size, so the boxes are canvas pixels as written)."""
    root = etree.parse(str(ALTO), etree.XMLParser(resolve_entities=False, no_network=True)).getroot()
    out = []
    for line in root.iter("{*}TextLine"):
        out.append([(unicodedata.normalize("NFC", s.get("CONTENT") or ""),
                     (int(s.get("HPOS", "")), int(s.get("VPOS", "")), int(s.get("WIDTH", "")),
                      int(s.get("HEIGHT", ""))))
                    for s in line.iter("{*}String")])
    return out


def hyphenated() -> list[tuple[str, Box, Box]]:
    """Every line-final "xxx-" followed by a line starting lower-case: (joined word, box 1, box 2)."""
    lines = [line for line in raw_lines() if line]
    out = []
    for line, nxt in pairwise(lines):
        (head, box1), (tail, box2) = line[-1], nxt[0]
        if len(head) > 1 and head[-1] in HYPHENS and head[-2].isalpha() and tail[0].islower():
            out.append((head[:-1] + tail, box1, box2))
    return out


def test_the_fixture_is_tesseract_alto_with_line_end_hyphens() -> None:
    text = ALTO.read_text(encoding="utf-8")
    assert "<softwareName>tesseract 5" in text
    assert "<HYP" not in text and "SUBS_CONTENT" not in text and "SUBS_TYPE" not in text
    with Image.open(IMAGE) as im:
        assert re.search(rf'<Page WIDTH="{im.width}" HEIGHT="{im.height}"', text)
    words = [w for w, _, _ in hyphenated()]
    assert len(words) >= 5, words
    assert {"necessario", "sarebbe", "responsabilità", "amministratori", "necessità"} <= set(words)


def test_parser_joins_each_word_with_both_boxes() -> None:
    with Image.open(IMAGE) as im:
        page = parse_ocr(ALTO, im.width, im.height)
    by_boxes = {w.boxes: w.text for w in page.words}
    for word, box1, box2 in hyphenated():
        assert by_boxes.get((box1, box2)) == word
    # "pub-" then "“blico,": the next line does not start with a letter, so it stays as printed
    assert "pub-" in [w.text for w in page.words]


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> SearchService:
    with Image.open(IMAGE) as im:
        width, height = im.size
    item = IndexedItem(ITEM, {"it": ["La Rassegna Settimanale (ritaglio)"]}, ["emeroteca"], "periodical",
                       "1878-10-06", 1878, ["it"])
    page = IndexedPage(1, "p. 1", width, height, parse_ocr(ALTO, width, height))
    return SearchService(index_generation(tmp_path_factory.mktemp("tesseract-search"), [(item, [page])]))


@pytest.mark.parametrize("word, box1, box2", hyphenated(), ids=lambda v: v if isinstance(v, str) else "")
def test_each_joined_word_is_found_with_both_boxes(service: SearchService, word: str, box1: Box, box2: Box) -> None:
    result = service.search_item(ITEM, word)
    assert result.total_hits >= 1
    split = [hit for hit in result.hits if len(hit.parts) == 2]
    assert [[p.box for p in hit.parts] for hit in split] == [[box1, box2]]
    # Content Search 1.0: the hit's two annotations target the two halves as printed
    doc = search_v1(SearchUrls(BASE), result, [])
    on = {r["@id"]: r["on"] for r in doc["resources"]}
    targets = [[on[a] for a in hit["annotations"]] for hit in doc["hits"] if len(hit["annotations"]) == 2]
    xywh = [f"#xywh={','.join(map(str, box))}" for box in (box1, box2)]
    assert len(targets) == 1 and all(t.endswith(x) for t, x in zip(targets[0], xywh)), (targets, xywh)
