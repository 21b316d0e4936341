"""OCR edge cases the samples do not cover: units, clamping, missing coordinates, namespaces,
HTML hOCR, dehyphenation rules, language codes. Small hand-written documents, one quirk each."""
from __future__ import annotations

from pathlib import Path

import pytest

from server.ocr import OCRError, PageText, parse_ocr
from server.ocr.lang import dominant, to_iso639_1


def write(tmp_path: Path, text: str, name: str = "page.xml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def alto(body: str, unit: str = "pixel", page: str = 'WIDTH="1000" HEIGHT="2000"',
         ns: str = 'xmlns="http://www.loc.gov/standards/alto/ns-v3#"') -> str:
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<alto {ns}><Description><MeasurementUnit>{unit}'
            f'</MeasurementUnit></Description><Layout><Page ID="p1" {page}><PrintSpace>{body}'
            f"</PrintSpace></Page></Layout></alto>")


def line(*strings: str, attrs: str = 'HPOS="0" VPOS="0" WIDTH="1000" HEIGHT="50"') -> str:
    return f"<TextLine {attrs}>{''.join(strings)}</TextLine>"


def block(*lines: str, attrs: str = "") -> str:
    return f"<TextBlock {attrs}>{''.join(lines)}</TextBlock>"


def s(content: str, x: float = 10, y: float = 10, w: float = 100, h: float = 40, extra: str = "") -> str:
    return f'<String CONTENT="{content}" HPOS="{x}" VPOS="{y}" WIDTH="{w}" HEIGHT="{h}" {extra}/>'


# --- ALTO units and scaling ------------------------------------------------------------------

def test_alto_mm10_scaled_by_page_size(tmp_path: Path) -> None:
    # Page 2100×2970 mm10 (A4); image 1050×1485 px: factor 0.5 on both axes, whatever the DPI
    doc = alto(block(line(s("Roma", 1001, 201, 401, 101))), unit="mm10", page='WIDTH="2100" HEIGHT="2970"')
    page = parse_ocr(write(tmp_path, doc), 1050, 1485)
    (word,) = page.words
    # edges: 500.5→501, 100.5→101, 701→701, 151→151
    assert word.boxes == ((501, 101, 200, 50),)


def test_alto_inch1200_without_page_size_uses_dpi(tmp_path: Path) -> None:
    doc = alto(block(line(s("Torino", 1200, 2400, 600, 120))), unit="inch1200", page="")
    page = parse_ocr(write(tmp_path, doc), 5000, 5000)  # default 300 dpi: 1200 → 300 px
    assert page.words[0].boxes == ((300, 600, 150, 30),)
    page = parse_ocr(write(tmp_path, doc), 5000, 5000, dpi=600)
    assert page.words[0].boxes == ((600, 1200, 300, 60),)


def test_alto_unknown_unit_without_page_size_is_an_error(tmp_path: Path) -> None:
    doc = alto(block(line(s("x"))), unit="furlong", page="")
    with pytest.raises(OCRError, match="MeasurementUnit"):
        parse_ocr(write(tmp_path, doc), 100, 100)


def test_alto_unknown_unit_with_page_size_still_scales(tmp_path: Path) -> None:
    doc = alto(block(line(s("x", 10, 10, 10, 10))), unit="furlong")
    assert parse_ocr(write(tmp_path, doc), 100, 200).words[0].boxes == ((1, 1, 1, 1),)


def test_alto_decimal_coordinates(tmp_path: Path) -> None:
    doc = alto(block(line(s("Pisa", "123.5", "10.25", "50.5", "20.75"))))
    (word,) = parse_ocr(write(tmp_path, doc), 1000, 2000).words
    assert word.boxes == ((124, 10, 50, 21),)  # edges 123.5→124, 174→174, 10.25→10, 31→31


def test_alto_boxes_clamped_to_canvas(tmp_path: Path) -> None:
    doc = alto(block(line(s("left", -50, -20, 100, 40), s("right", 950, 1990, 200, 100),
                          s("outside", 5000, 5000, 10, 10))))
    words = parse_ocr(write(tmp_path, doc), 1000, 2000).words
    assert [w.text for w in words] == ["left", "right", "outside"]
    assert words[0].boxes == ((0, 0, 50, 20),)
    assert words[1].boxes == ((950, 1990, 50, 10),)
    assert words[2].boxes == ((1000, 2000, 0, 0),)  # kept for search: the word is not empty


def test_alto_missing_coordinates_fall_back_to_line_then_block(tmp_path: Path) -> None:
    doc = alto(
        block(line('<String CONTENT="noline"/>', attrs='HPOS="5" VPOS="6" WIDTH="7" HEIGHT="8"'),
              line('<String CONTENT="noblock" HPOS="1" VPOS="bogus" WIDTH="nan" HEIGHT="1"/>', attrs=""),
              attrs='HPOS="100" VPOS="200" WIDTH="300" HEIGHT="400"')
        + block(line('<String CONTENT="nothing"/>', attrs=""))
    )
    words = parse_ocr(write(tmp_path, doc), 1000, 2000).words
    assert [(w.text, w.boxes) for w in words] == [
        ("noline", ((5, 6, 7, 8),)),
        ("noblock", ((100, 200, 300, 400),)),
        ("nothing", ()),
    ]
    assert (words[2].x, words[2].y, words[2].w, words[2].h) == (0, 0, 0, 0)


def test_alto_empty_strings_and_sp_without_coordinates(tmp_path: Path) -> None:
    doc = alto(block(line(s("a"), '<SP/>', s(" "), '<SP WIDTH="3"/>', s(""), s("b", 200))))
    page = parse_ocr(write(tmp_path, doc), 1000, 2000)
    assert [w.text for w in page.words] == ["a", "b"]
    assert page.text == "a b"


@pytest.mark.parametrize("ns", [
    "",
    'xmlns="http://www.loc.gov/standards/alto/ns-v2#"',
    'xmlns="http://www.loc.gov/standards/alto/ns-v4#"',
    'xmlns:a="http://www.loc.gov/standards/alto/ns-v4#"',  # prefixed root, unprefixed children
    'xmlns="http://schema.ccs-gmbh.com/ALTO"',  # ALTO 1.x
])
def test_alto_any_namespace_or_none(tmp_path: Path, ns: str) -> None:
    doc = alto(block(line(s("parola"))), ns=ns)
    if ns.startswith("xmlns:a"):
        doc = doc.replace("<alto ", "<a:alto ").replace("</alto>", "</a:alto>")
    page = parse_ocr(write(tmp_path, doc), 1000, 2000)
    assert [w.text for w in page.words] == ["parola"]
    assert page.format == "alto"


def test_alto_nfc_and_long_s_kept(tmp_path: Path) -> None:
    doc = alto(block(line(s("cas\u0303tro"), s("ſtrada", 200), s("u\u0364ber", 400))))
    texts = [w.text for w in parse_ocr(write(tmp_path, doc), 1000, 2000).words]
    assert texts == ["cas\u0303tro", "ſtrada", "u\u0364ber"]  # nothing to compose: s + tilde stays
    doc = alto(block(line(s("co\u0303me"))))
    assert parse_ocr(write(tmp_path, doc), 1000, 2000).words[0].text == "c\u00f5me"


def test_alto_language_codes_and_dominance(tmp_path: Path) -> None:
    doc = alto(block(line(s("uno"), s("due", 200), s("three", 400, extra='LANG="en"')),
                     attrs='LANG="ita"')
               + block(line(s("four", extra="")), attrs='language="eng"'))
    page = parse_ocr(write(tmp_path, doc), 1000, 2000)
    assert page.language == "it"  # 2 words it, 2 words en: the first seen wins a tie


def test_alto_line_level_tokens_share_the_string_box(tmp_path: Path) -> None:
    doc = alto(block(line(s("Lana de  caſtrõ", 10, 20, 300, 40))))
    page = parse_ocr(write(tmp_path, doc), 1000, 2000)
    assert [(w.text, w.boxes) for w in page.words] == [(t, ((10, 20, 300, 40),)) for t in ("Lana", "de", "caſtrõ")]
    assert page.lines == [(10, 20, 300, 40)]


# --- ALTO dehyphenation ------------------------------------------------------------------------

def test_alto_subs_pair_joined(tmp_path: Path) -> None:
    doc = alto(block(
        line(s("kein"), s("Abon", 300, extra='SUBS_TYPE="HypPart1" SUBS_CONTENT="Abonnement"'), "<HYP CONTENT=\"-\"/>"),
        line(s("nement", 10, 60, extra='SUBS_TYPE="HypPart2" SUBS_CONTENT="Abonnement"'), s("angenommen.", 200, 60)),
    ))
    page = parse_ocr(write(tmp_path, doc), 1000, 2000)
    assert [w.text for w in page.words] == ["kein", "Abonnement", "angenommen."]
    joined = page.words[1]
    assert joined.boxes == ((300, 10, 100, 40), (10, 60, 100, 40)) and joined.line == 0
    assert page.words[2].line == 1
    assert page.text == "kein Abonnement\nangenommen."
    assert page.lines == [(10, 10, 390, 40), (10, 60, 290, 40)]


def test_alto_hyp_without_subs(tmp_path: Path) -> None:
    doc = alto(block(
        line(s("Nord"), '<HYP CONTENT="-"/>'), line(s("Amerika", 10, 60)),
        line(s("Vermeh"), '<HYP CONTENT="¬"/>'), line(s("rung", 10, 160)),
    ))
    page = parse_ocr(write(tmp_path, doc), 1000, 2000)
    assert [w.text for w in page.words] == ["Nord-Amerika", "Vermehrung"]
    assert [len(w.boxes) for w in page.words] == [2, 2]
    assert [w.line for w in page.words] == [0, 2]


def test_alto_unmatched_hyphen_parts(tmp_path: Path) -> None:
    # part 2 without part 1 (continued from the previous page), part 1 without part 2 (goes on)
    doc = alto(block(
        line(s("ment", extra='SUBS_TYPE="HypPart2" SUBS_CONTENT="Abonnement"'), s("und", 200)),
        line(s("Zei", 10, 60, extra='SUBS_TYPE="HypPart1" SUBS_CONTENT="Zeitung"'), '<HYP CONTENT="-"/>'),
    ))
    page = parse_ocr(write(tmp_path, doc), 1000, 2000)
    assert [w.text for w in page.words] == ["ment", "und", "Zeitung"]
    assert all(len(w.boxes) == 1 for w in page.words)


def test_alto_part1_not_followed_by_part2_stays_alone(tmp_path: Path) -> None:
    doc = alto(block(
        line(s("Zei", extra='SUBS_TYPE="HypPart1" SUBS_CONTENT="Zeitung"')),
        line(s("Andere", 10, 60), s("tung", 200, 60, extra='SUBS_TYPE="HypPart2"')),
    ))
    page = parse_ocr(write(tmp_path, doc), 1000, 2000)
    assert [w.text for w in page.words] == ["Zeitung", "Andere", "tung"]



@pytest.mark.parametrize("mark", ["-", "\u00ad", "¬"])
def test_alto_line_end_hyphen_in_content_joined(tmp_path: Path, mark: str) -> None:
    """Tesseract's ALTO: "ripo-" last on its line, no HYP, no SUBS_CONTENT; joined as in hOCR."""
    doc = alto(block(
        line(s("mi"), s(f"ripo{mark}", 200)), line(s("savo", 10, 60), s("Nord-", 200, 60)),
        line(s("Amerika", 10, 110), s("pub-", 200, 110)), line(s("\u201cblico", 10, 160)),
    ))
    page = parse_ocr(write(tmp_path, doc), 1000, 2000)
    assert [w.text for w in page.words] == ["mi", "riposavo", "Nord-", "Amerika", "pub-", "\u201cblico"]
    assert page.words[1].boxes == ((200, 10, 100, 40), (10, 60, 100, 40))

# --- hOCR --------------------------------------------------------------------------------------

XHTML = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN"
    "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="en" lang="en"><head><title></title></head>
<body><div class='ocr_page' title='image "/tmp/x; bbox 9 9 9 9.png"; bbox 0 0 {pw} {ph}; ppageno 0'>
<div class='ocr_carea' title="bbox 0 0 100 100"><p class='ocr_par' lang='{lang}'>{lines}</p></div>
</div></body></html>"""


def hocr(lines: list[list[tuple[str, tuple[int, int, int, int]]]], pw: int = 1000, ph: int = 2000,
         lang: str = "ita") -> str:
    out = []
    for n, words in enumerate(lines):
        spans = "".join(f"<span class='ocrx_word' title='bbox {b[0]} {b[1]} {b[2]} {b[3]}; x_wconf 90'>{t}</span> "
                        for t, b in words)
        out.append(f"<span class='ocr_line' title='bbox 0 {n * 50} 1000 {n * 50 + 40}'>{spans}</span>")
    return XHTML.format(pw=pw, ph=ph, lang=lang, lines="".join(out))


def test_hocr_scaled_by_page_bbox(tmp_path: Path) -> None:
    doc = hocr([[("Firenze", (100, 200, 301, 251))]], pw=1000, ph=2000)
    page = parse_ocr(write(tmp_path, doc, "p.hocr"), 500, 1000)  # canvas half the OCR's page
    assert page.words[0].boxes == ((50, 100, 101, 26),)  # 150.5→151, 125.5→126: half up
    assert page.language == "it" and page.format == "hocr"


def test_hocr_page_bbox_with_origin(tmp_path: Path) -> None:
    doc = hocr([[("x", (150, 250, 160, 260))]]).replace("bbox 0 0 1000 2000", "bbox 100 200 1100 2200")
    assert parse_ocr(write(tmp_path, doc, "p.hocr"), 1000, 2000).words[0].boxes == ((50, 50, 10, 10),)


@pytest.mark.parametrize("mark", ["-", "\u00ad", "¬"])
def test_hocr_line_end_hyphens_joined(tmp_path: Path, mark: str) -> None:
    doc = hocr([[("la", (0, 0, 10, 10)), (f"Ammini{mark}", (20, 0, 30, 10))],
                [("strazione", (0, 50, 10, 60)), ("comunale", (20, 50, 30, 60))]])
    page = parse_ocr(write(tmp_path, doc, "p.hocr"), 1000, 2000)
    assert [w.text for w in page.words] == ["la", "Amministrazione", "comunale"]
    assert page.words[1].boxes == ((20, 0, 10, 10), (0, 50, 10, 10))
    assert page.text == "la Amministrazione\ncomunale"


@pytest.mark.parametrize("lines, expected", [
    # next line starts upper-case: a proper noun or a new sentence, keep as printed
    ([[("Nord-", (0, 0, 1, 1))], [("Amerika", (0, 50, 1, 51))]], ["Nord-", "Amerika"]),
    # the hyphen is not at the end of the line
    ([[("pre-", (0, 0, 1, 1)), ("x", (2, 0, 3, 1))], [("fisso", (0, 50, 1, 51))]], ["pre-", "x", "fisso"]),
    # no next line
    ([[("pre-", (0, 0, 1, 1))]], ["pre-"]),
    # hyphen after a digit or alone
    ([[("1878-", (0, 0, 1, 1))], [("ottobre", (0, 50, 1, 51))]], ["1878-", "ottobre"]),
    ([[("-", (0, 0, 1, 1))], [("ottobre", (0, 50, 1, 51))]], ["-", "ottobre"]),
    # next line begins with a stray mark (Rassegna p. 225, "prefig-" / "-" / "giamo")
    ([[("prefig-", (0, 0, 1, 1))], [("-", (0, 50, 1, 51)), ("giamo", (2, 50, 3, 51))]], ["prefig-", "-", "giamo"]),
])
def test_hocr_conservative_dehyphenation(tmp_path: Path, lines: list, expected: list[str]) -> None:
    page = parse_ocr(write(tmp_path, hocr(lines), "p.hocr"), 1000, 2000)
    assert [w.text for w in page.words] == expected


def test_hocr_hyphenated_over_three_lines(tmp_path: Path) -> None:
    doc = hocr([[("in-", (0, 0, 1, 1))], [("con-", (0, 50, 1, 51))], [("trovertibile", (0, 100, 1, 101)), ("fatto", (5, 100, 6, 101))]])
    page = parse_ocr(write(tmp_path, doc, "p.hocr"), 1000, 2000)
    assert [w.text for w in page.words] == ["incontrovertibile", "fatto"]
    assert page.words[0].boxes == ((0, 0, 1, 1), (0, 50, 1, 1), (0, 100, 1, 1))
    assert page.words[0].line == 0 and page.words[1].line == 2
    assert len(page.lines) == 3


def test_hocr_empty_words_skipped_and_entities(tmp_path: Path) -> None:
    doc = hocr([[(" ", (0, 0, 1000, 2000)), ("d’&#39;", (0, 0, 5, 5)), ("a&amp;b", (6, 0, 9, 5)),
                 ("l<em>&#39;</em>arte", (10, 0, 20, 5)), ("&#160;", (30, 0, 40, 5))]])
    page = parse_ocr(write(tmp_path, doc, "p.hocr"), 1000, 2000)
    assert [w.text for w in page.words] == ["d’'", "a&b", "l'arte"]


def test_hocr_undeclared_html_entity_in_xhtml(tmp_path: Path) -> None:
    doc = hocr([[("caf&eacute;", (0, 0, 5, 5)), ("a&nbsp;b", (6, 0, 9, 5))]])
    page = parse_ocr(write(tmp_path, doc, "p.hocr"), 1000, 2000)
    assert [w.text for w in page.words] == ["café", "a", "b"]  # the DTD is never loaded


def test_hocr_html_not_xhtml_falls_back(tmp_path: Path) -> None:
    doc = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>x</title></head><body>
<div class="ocr_page" title="bbox 0 0 200 400"><p class="ocr_par" lang="deu">
<span class="ocr_line" title="bbox 0 0 200 20"><span class="ocrx_word" title="bbox 0 0 50 20">Straße<br>
<span class="ocrx_word" title="bbox 60 0 100 20">und&nbsp;Weg</span></span></p></div></body></html>"""
    page = parse_ocr(write(tmp_path, doc, "p.html"), 400, 800)
    assert [w.text for w in page.words][:1] == ["Straße"]
    assert page.words[0].boxes == ((0, 0, 100, 40),)
    assert page.language == "de"


def test_hocr_line_level_without_words(tmp_path: Path) -> None:
    doc = XHTML.format(pw=100, ph=100, lang="lat", lines=(
        "<span class='ocr_line' title='bbox 0 0 50 10'>Gallia est omnis</span>"
        "<span class='ocr_line' title='bbox 0 10 50 20'>divisa</span>"))
    page = parse_ocr(write(tmp_path, doc, "p.hocr"), 100, 100)
    assert [(w.text, w.line, w.boxes) for w in page.words] == [
        ("Gallia", 0, ((0, 0, 50, 10),)), ("est", 0, ((0, 0, 50, 10),)), ("omnis", 0, ((0, 0, 50, 10),)),
        ("divisa", 1, ((0, 10, 50, 10),))]
    assert page.language == "la"


def test_hocr_word_without_bbox_takes_line_box(tmp_path: Path) -> None:
    doc = hocr([[("a", (1, 1, 2, 2))]]).replace("title='bbox 1 1 2 2; x_wconf 90'", "title='x_wconf 90'")
    assert parse_ocr(write(tmp_path, doc, "p.hocr"), 1000, 2000).words[0].boxes == ((0, 0, 1000, 40),)


def test_hocr_ignores_html_element_lang(tmp_path: Path) -> None:
    doc = hocr([[("parola", (0, 0, 5, 5))]]).replace(" lang='ita'", "")
    assert parse_ocr(write(tmp_path, doc, "p.hocr"), 1000, 2000).language is None


def test_not_ocr_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(OCRError, match="neither ALTO nor hOCR"):
        parse_ocr(write(tmp_path, "<?xml version='1.0'?><TEI><text/></TEI>"), 10, 10)
    with pytest.raises(OCRError, match="neither ALTO nor hOCR"):
        parse_ocr(write(tmp_path, "<html><body><p>hi</p></body></html>", "x.html"), 10, 10)
    with pytest.raises(OCRError, match="Page"):
        parse_ocr(write(tmp_path, "<alto><Layout/></alto>"), 10, 10)


def test_bad_canvas_is_a_programming_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        parse_ocr(write(tmp_path, alto(block(line(s("x"))))), 0, 10)


def test_page_text_helpers_on_empty_page() -> None:
    page = PageText([], 10, 10, None, "alto")
    assert page.text == "" and page.lines == []


# --- language codes ----------------------------------------------------------------------------

@pytest.mark.parametrize("code, expected", [
    ("ita", "it"), ("ger", "de"), ("deu", "de"), ("eng", "en"), ("fre", "fr"), ("lat", "la"),
    ("deu_frak", "de"), ("frk", "de"), ("it-IT", "it"), ("IT", "it"), ("deu+eng", "de"),
    ("grc", "grc"), ("enm", "enm"), ("", None), (None, None), ("  ", None),
])
def test_language_codes(code: str | None, expected: str | None) -> None:
    assert to_iso639_1(code) == expected


def test_dominant_language() -> None:
    assert dominant(["de", "en", None, "en", "de", "de"]) == "de"
    assert dominant(["en", "it"]) == "en"
    assert dominant([None, None]) is None
