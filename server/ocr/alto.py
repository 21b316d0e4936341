"""ALTO v2, v3 and v4 (any namespace, or none) → pieces on lines, in canvas pixels.

Units: ``MeasurementUnit`` may be ``pixel``, ``mm10`` or ``inch1200``, and DPI is rarely recorded,
so each axis is scaled by canvas size ÷ ``Page`` WIDTH/HEIGHT, which works for every unit. Only a
Page without a size falls back to unit arithmetic with ``dpi`` (300 unless the caller knows).

Line-level ALTO (eScriptorium: one ``String`` per ``TextLine``) yields one piece per whitespace
token, each carrying the String's box: a search hit highlights the line it is on.

Per-String box fallback: a String without usable coordinates takes its TextLine's box, then its
TextBlock's; if none has one, the word is kept for search with no box. ``SP`` and ``Glyph``
elements are ignored (spaces are implied between Strings; SP often has no coordinates anyway).

Hyphenation: ``SUBS_TYPE``/``SUBS_CONTENT`` pairs and ``HYP`` elements join a word's two lines; so
does a line's last String ending in ``-``, ``¬`` or a soft hyphen, as in hOCR (Tesseract's ALTO
writes the hyphen into ``CONTENT`` and nothing else), with the same conservative rule (the next
line must start lower-case) — but only in a file without any HYP or SUBS_TYPE: when the producer
marks hyphenation, a hyphen it did not mark is printed text. Both boxes are kept, so a hit
highlights both halves.

Only the first ``Page`` of a file is read (ALTO files in digitization output hold one page).
"""
from __future__ import annotations

from pathlib import Path

from lxml import etree

from server.ocr.assemble import HYP, SUBS, Piece, assemble, mark_hyphen, tokens
from server.ocr.geometry import Scale, number
from server.ocr.lang import to_iso639_1
from server.ocr.model import Box, OCRError, PageText
from server.texts import N_

_UNITS_PER_INCH = {"pixel": None, "mm10": 254.0, "inch1200": 1200.0}
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


def local(tag: object) -> str:
    """Local name of a tag in any namespace (``{ns}String`` → ``String``); '' for comments/PIs."""
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def _lang(el: etree._Element) -> str | None:
    code = el.get("LANG") or el.get("language") or el.get(_XML_LANG)
    return to_iso639_1(code)


def _unit(root: etree._Element) -> str:
    for el in root.iter():
        if local(el.tag) == "MeasurementUnit":
            return (el.text or "").strip().lower() or "pixel"
        if local(el.tag) == "Layout":
            break
    return "pixel"  # ALTO's own default


def _scale(path: Path, root: etree._Element, page: etree._Element, canvas_w: int, canvas_h: int,
           dpi: float) -> Scale:
    unit = _unit(root)
    if unit not in _UNITS_PER_INCH:
        unit_factor = None
    else:
        per_inch = _UNITS_PER_INCH[unit]
        unit_factor = 1.0 if per_inch is None else dpi / per_inch
    page_w, page_h = number(page.get("WIDTH")), number(page.get("HEIGHT"))
    sx = canvas_w / page_w if page_w and page_w > 0 else unit_factor
    sy = canvas_h / page_h if page_h and page_h > 0 else unit_factor
    if sx is None or sy is None:
        raise OCRError(path, N_("Page has no WIDTH/HEIGHT and MeasurementUnit %(unit)r is unknown", unit=unit),
                       page.sourceline)  # type: ignore[arg-type]  # an int (or None); lxml-stubs says "..."
    return Scale(sx, sy, canvas_w, canvas_h)


def _box(el: etree._Element, scale: Scale) -> Box | None:
    x, y = number(el.get("HPOS")), number(el.get("VPOS"))
    w, h = number(el.get("WIDTH")), number(el.get("HEIGHT"))
    if x is None or y is None or w is None or h is None:
        return None
    return scale.xywh(x, y, w, h)


def parse_alto(path: Path, root: etree._Element, canvas_width: int, canvas_height: int,
               dpi: float = 300.0) -> PageText:
    """Words of the first Page of an ALTO document, in canvas pixels."""
    page = next((el for el in root.iter() if local(el.tag) == "Page"), None)
    if page is None:
        raise OCRError(path, N_("ALTO without a Layout/Page element"))
    scale = _scale(path, root, page, canvas_width, canvas_height, dpi)

    lines: list[list[Piece]] = []
    line: list[Piece] = []
    block = -1
    block_el: etree._Element | None = None
    line_el: etree._Element | None = None
    block_lang: str | None = None
    line_lang: str | None = None
    marked = False  # the producer encodes hyphenation (HYP, SUBS_TYPE): trust it, guess nothing
    # Only the elements that matter, matched in C; "{*}" is any namespace or none.
    for el in page.iter("{*}String", "{*}HYP", "{*}TextLine", "{*}TextBlock"):
        name = local(el.tag)
        if name == "String":
            content = el.get("CONTENT")
            if not content or content.isspace():
                continue
            subs_type = el.get("SUBS_TYPE")
            marked = marked or subs_type is not None
            box = _box(el, scale)
            if box is None:  # rare: fall back to the line's, then the block's box
                box = (_box(line_el, scale) if line_el is not None else None) or (
                    _box(block_el, scale) if block_el is not None else None)
            line.extend(tokens(
                content,
                box,
                block,
                _lang(el) or line_lang or block_lang,
                hyph=SUBS if subs_type == "HypPart1" else None,
                subs=el.get("SUBS_CONTENT") if subs_type else None,
                part2=subs_type == "HypPart2",
            ))
        elif name == "HYP":
            marked = True
            if line and line[-1].hyph is None:
                line[-1].hyph = HYP
        elif name == "TextLine":
            line = []
            lines.append(line)
            line_el, line_lang = el, _lang(el)
        else:  # TextBlock
            block += 1
            block_el, block_lang = el, _lang(el)
            line_el, line_lang = None, None
            line = []
            lines.append(line)  # Strings outside any TextLine (invalid ALTO) still count
    if not marked:  # Tesseract: "ripo-" ends the line, no HYP, no SUBS_CONTENT anywhere
        for printed in lines:
            if printed:
                mark_hyphen(printed[-1])
    words, language = assemble(lines)
    return PageText(words, canvas_width, canvas_height, language, "alto")
