"""hOCR (XHTML from Tesseract, or plain HTML) → pieces on lines, in canvas pixels.

Boxes are scaled by canvas size ÷ the ``ocr_page`` bbox (the page ``title``), relative to that
bbox's origin; a page without a bbox is taken to be in canvas pixels already.

Structure: a word's line is its nearest ``ocr_line``-like ancestor (``ocr_line``, ``ocr_header``,
``ocr_textfloat``, ``ocr_caption``, …), else its parent element; its block is the nearest
``ocr_carea`` (else ``ocr_par``). Files with no ``ocrx_word`` at all (line-level hOCR) give one
piece per whitespace token of each line, with the line's box.

Language: ``lang``/``xml:lang`` of the word or its nearest ancestor **inside** the ``ocr_page``.
The ``<html>`` element's ``lang`` is ignored: Tesseract always writes ``lang="en"`` there, whatever
the page's language (the Italian Rassegna says ``en`` on ``<html>`` and ``ita`` on every ``ocr_par``).

Only the first ``ocr_page`` of a file is read.
"""
from __future__ import annotations

import html.entities
import re
from pathlib import Path

from lxml import etree

from server.ocr.assemble import Piece, assemble, mark_hyphen, tokens
from server.ocr.geometry import Scale, number
from server.ocr.lang import to_iso639_1
from server.ocr.model import Box, OCRError, PageText
from server.texts import N_

_LINE_CLASSES = frozenset({"ocr_line", "ocrx_line", "ocr_header", "ocr_footer", "ocr_caption",
                           "ocr_textfloat"})
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
_QUOTED = re.compile(r'"[^"]*"')
_BBOX = re.compile(r"(?:^|;)\s*bbox\s+([^\s;]+)\s+([^\s;]+)\s+([^\s;]+)\s+([^\s;]+)")


def classes(el: etree._Element) -> list[str]:
    """The element's hOCR classes (``class`` is a space-separated list)."""
    return (el.get("class") or "").split()


def has_class(el: etree._Element, name: str) -> bool:
    return name in classes(el)


def bbox(el: etree._Element) -> tuple[float, float, float, float] | None:
    """``bbox x0 y0 x1 y1`` from the ``title`` properties; ``None`` if absent or not numeric.

    Quoted values (``image "/tmp/a; bbox 1 2 3 4.png"``) are blanked first so they cannot fool us.
    """
    title = el.get("title")
    if not title:
        return None
    m = _BBOX.search(_QUOTED.sub('""', title))
    if m is None:
        return None
    x0, y0, x1, y1 = (number(v) for v in m.groups())
    if x0 is None or y0 is None or x1 is None or y1 is None:
        return None
    return (x0, y0, x1, y1)


def text_of(el: etree._Element) -> str:
    """All text inside ``el``; entity references left unresolved (``&nbsp;``) become characters."""
    parts: list[str] = [el.text or ""]
    for child in el.iterdescendants():
        if isinstance(child, etree._Entity):
            name = child.name
            parts.append(html.entities.html5.get(name + ";", " "))
        elif isinstance(child.tag, str) and child.text:
            parts.append(child.text)
        if child.tail:
            parts.append(child.tail)
    return "".join(parts)


def _find_page(root: etree._Element) -> etree._Element | None:
    for el in root.iter():
        if isinstance(el.tag, str) and has_class(el, "ocr_page"):
            return el
    return None


def is_hocr(root: etree._Element) -> bool:
    """An (X)HTML document with an ``ocr_page``: what we can read as hOCR."""
    return _find_page(root) is not None


def _lang(el: etree._Element, page: etree._Element, cache: dict[etree._Element, str | None]) -> str | None:
    """Nearest language code at or above ``el``, stopping at the ocr_page (see module doc)."""
    seen: list[etree._Element] = []
    node: etree._Element | None = el
    found: str | None = None
    while node is not None:
        if node in cache:
            found = cache[node]
            break
        seen.append(node)
        code = node.get("lang") or node.get(_XML_LANG)
        if code:
            found = to_iso639_1(code)
            break
        if node is page:
            break
        node = node.getparent()
    for n in seen:
        cache[n] = found
    return found


def parse_hocr(path: Path, root: etree._Element, canvas_width: int, canvas_height: int) -> PageText:
    """Words of the first ocr_page of an hOCR document, in canvas pixels."""
    page = _find_page(root)
    if page is None:
        raise OCRError(path, N_("HTML without an ocr_page element: not hOCR"))
    pb = bbox(page)
    if pb is not None and pb[2] > pb[0] and pb[3] > pb[1]:
        scale = Scale(canvas_width / (pb[2] - pb[0]), canvas_height / (pb[3] - pb[1]),
                      canvas_width, canvas_height, pb[0], pb[1])
    else:
        scale = Scale(1.0, 1.0, canvas_width, canvas_height)

    def box_of(el: etree._Element | None) -> Box | None:
        b = bbox(el) if el is not None else None
        return scale.edges(*b) if b is not None else None

    elements = [el for el in page.iter() if isinstance(el.tag, str) and el.get("class")]
    words = [el for el in elements if has_class(el, "ocrx_word")]
    line_level = not words
    if line_level:
        words = [el for el in elements if _LINE_CLASSES.intersection(classes(el))]

    lang_cache: dict[etree._Element, str | None] = {}
    line_ids: dict[etree._Element | None, list[Piece]] = {}
    block_ids: dict[etree._Element | None, int] = {}
    lines: list[list[Piece]] = []
    for word in words:
        line_el = word if line_level else None
        par = carea = None
        for anc in word.iterancestors():
            cls = classes(anc)
            if line_el is None and _LINE_CLASSES.intersection(cls):
                line_el = anc
            if par is None and "ocr_par" in cls:
                par = anc
            if "ocr_carea" in cls or "ocrx_block" in cls:
                carea = anc
                break
            if anc is page:
                break
        if line_el is None:
            line_el = word.getparent()
        block_el = carea if carea is not None else par
        block = block_ids.setdefault(block_el, len(block_ids))
        pieces = tokens(text_of(word), box_of(word) or box_of(line_el), block,
                        _lang(word, page, lang_cache))
        if not pieces:
            continue
        line = line_ids.get(line_el)
        if line is None:
            line = line_ids[line_el] = []
            lines.append(line)
        line.extend(pieces)
    for line in lines:
        mark_hyphen(line[-1])
    found, language = assemble(lines)
    return PageText(found, canvas_width, canvas_height, language, "hocr")
