"""An item as a PDF: its page JPEGs, each under an invisible text layer placed from the OCR word boxes.

Why these libraries (measured in bench/README.md, "PDF renderings"): img2pdf wraps each JPEG as
it is (a ``DCTDecode`` stream: no decoding, no re-encoding, so the PDF is barely larger than the
JPEGs), and pikepdf (qpdf) adds one small content stream per page and writes compressed object
streams. fpdf2 embeds JPEGs as they are too, but its per-word text calls are several times slower.

The text layer is what OCR engines write: text rendering mode 3 (invisible), one ``Tj`` per word
(with a trailing space, so extractors see word breaks) at the word's box, stretched with ``Tz`` to
the box width. The font is a CID font with ``Identity-H`` encoding (two bytes per character, the
code = the Unicode code point) and a ``ToUnicode`` map saying exactly that, so any BMP character
is searchable and copyable; nothing is drawn, so no glyph program is embedded.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from io import BytesIO

import img2pdf
import pikepdf

from ..ocr.model import Word

VERSION = "1"  # part of the cache key: bump when the output changes
GLYPH_WIDTH = 500  # every glyph's advance, in 1/1000 of the font size
DESCENT = 0.2  # baseline this far above the box bottom, in box heights


@dataclass(frozen=True)
class PdfPage:
    jpeg: bytes
    canvas_width: int  # the coordinate space of the words
    canvas_height: int
    words: Sequence[Word] = ()


def build_pdf(pages: Sequence[PdfPage], title: str = "") -> bytes:
    """The PDF: one page per ``PdfPage``, sized 1 pt per JPEG pixel, the words invisible on top."""
    if not pages:
        raise ValueError("a PDF needs at least one page")
    layout = img2pdf.get_fixed_dpi_layout_fun((72, 72))
    images = img2pdf.convert([p.jpeg for p in pages], layout_fun=layout, nodate=True,
                             title=title or None, producer="Heritage Lab")
    pdf = pikepdf.open(BytesIO(images))
    font = pdf.make_indirect(_font(pdf))
    for pdf_page, page in zip(pdf.pages, pages):
        if not page.words:
            continue
        box = [float(v) for v in pdf_page.mediabox]
        width, height = box[2] - box[0], box[3] - box[1]
        ops = _text_layer(page, width / page.canvas_width, height / page.canvas_height, height)
        pdf_page.contents_add(pdf.make_stream(ops), prepend=False)
        resources = pdf_page.obj.get("/Resources")
        if resources is None:
            resources = pdf_page.obj.Resources = pikepdf.Dictionary()
        resources.Font = pikepdf.Dictionary(F0=font)
    out = BytesIO()
    pdf.save(out, compress_streams=True, object_stream_mode=pikepdf.ObjectStreamMode.generate)
    return out.getvalue()


def _text_layer(page: PdfPage, sx: float, sy: float, page_height: float) -> bytes:
    parts = [b"q BT 3 Tr"]
    for word in page.words:
        x, y, w, h = word.boxes[0] if word.boxes else (word.x, word.y, word.w, word.h)
        if w <= 0 or h <= 0 or not word.text:
            continue
        size = h * sy
        text = word.text + " "
        natural = len(word.text) * GLYPH_WIDTH / 1000 * size
        stretch = 100 * (w * sx) / natural
        baseline = page_height - (y + h) * sy + DESCENT * size
        parts.append(f"/F0 {size:.2f} Tf {stretch:.2f} Tz 1 0 0 1 {x * sx:.2f} {baseline:.2f} Tm <{_hex(text)}> Tj"
                     .encode())
    parts.append(b"ET Q")
    return b"\n".join(parts)


def _hex(text: str) -> str:
    """Identity-H codes: each character's code point as two bytes; beyond the BMP, U+FFFD."""
    return "".join(f"{ord(c) if ord(c) <= 0xFFFF and not 0xD800 <= ord(c) <= 0xDFFF else 0xFFFD:04X}"
                   for c in text)


def _font(pdf: pikepdf.Pdf) -> pikepdf.Dictionary:
    descriptor = pikepdf.Dictionary(Type=pikepdf.Name.FontDescriptor, FontName=pikepdf.Name("/GlyphLessFont"),
                                    Flags=5, FontBBox=[0, -200, GLYPH_WIDTH, 800], ItalicAngle=0, Ascent=800,
                                    Descent=-200, CapHeight=800, StemV=80)
    cid_font = pikepdf.Dictionary(
        Type=pikepdf.Name.Font, Subtype=pikepdf.Name.CIDFontType2, BaseFont=pikepdf.Name("/GlyphLessFont"),
        CIDSystemInfo=pikepdf.Dictionary(Registry=pikepdf.String("Adobe"), Ordering=pikepdf.String("Identity"),
                                         Supplement=0),
        FontDescriptor=pdf.make_indirect(descriptor), DW=GLYPH_WIDTH, CIDToGIDMap=pikepdf.Name.Identity)
    return pikepdf.Dictionary(Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type0,
                              BaseFont=pikepdf.Name("/GlyphLessFont"), Encoding=pikepdf.Name("/Identity-H"),
                              DescendantFonts=[pdf.make_indirect(cid_font)],
                              ToUnicode=pdf.make_stream(_TO_UNICODE))


def _to_unicode() -> bytes:
    """A CMap mapping every two-byte code to the same code point (ranges may only vary the last byte)."""
    ranges = [f"<{hi:02X}00> <{hi:02X}FF> <{hi:02X}00>" for hi in range(256) if not 0xD8 <= hi <= 0xDF]
    body = []
    for start in range(0, len(ranges), 100):
        chunk = ranges[start:start + 100]
        body.append(f"{len(chunk)} beginbfrange\n" + "\n".join(chunk) + "\nendbfrange")
    return ("/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
            "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
            "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
            "1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n" + "\n".join(body) +
            "\nendcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n").encode()


_TO_UNICODE = _to_unicode()
