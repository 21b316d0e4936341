"""Lines of word pieces → Words: numbering, dehyphenation and language, the same for every format.

Format readers (ALTO, hOCR) only say what is on each physical line and how a line-final piece may
continue; the joining rules live here, once.

Joining rules (one word, two boxes, text written once):
- ``SUBS``: ALTO ``SUBS_TYPE="HypPart1"``; joins the first piece of the next line if that piece is
  ``HypPart2``. Text = ``SUBS_CONTENT`` (of either part), else the two contents.
- ``HYP``: ALTO ``<HYP>`` after a line's last String, no SUBS attributes; the OCR engine said it is
  hyphenated, so it joins the next line's first piece. The hyphen is dropped when that piece
  starts lower-case, kept otherwise (``Nord-`` + ``Amerika`` → ``Nord-Amerika``).
- ``MARK``: hOCR word ending in ``-``, U+00AD, ``¬``, U+2010 or ``⸗`` after a letter, last on its
  line; joins only if the next line's first word starts with a lower-case letter (conservative:
  ``prefig-`` followed by a stray ``-`` or a capitalised word stays as printed).
An unmatched ``HypPart1`` (the word goes on over the page break) keeps ``SUBS_CONTENT`` as its
text, so the page is found by the whole word; other unmatched pieces keep their own text.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from server.ocr.lang import dominant
from server.ocr.model import Box, Word

SUBS, HYP, MARK = "subs", "hyp", "mark"
HYPHENS = "-\u00ad¬\u2010\u2e17"


def nfc(text: str) -> str:
    """Canonical composition; ``ſ`` and other historic letters stay (folding is the analyzer's job)."""
    return unicodedata.normalize("NFC", text)


@dataclass(slots=True)
class Piece:
    """One whitespace-free token as printed on one physical line."""

    text: str
    box: Box | None
    block: int
    lang: str | None = None
    hyph: str | None = None  # how a line-final piece may continue on the next line
    subs: str | None = None  # ALTO SUBS_CONTENT: the whole dehyphenated word
    part2: bool = False  # ALTO SUBS_TYPE="HypPart2"


def tokens(text: str | None, box: Box | None, block: int, lang: str | None = None,
           hyph: str | None = None, subs: str | None = None, part2: bool = False) -> list[Piece]:
    """Split one source string into pieces sharing its box (line-level OCR gives a line per string).

    The hyphenation flags belong to the string's ends: ``hyph``/``subs`` to the last token,
    ``part2`` to the first.
    """
    parts = nfc(text or "").split()
    pieces = [Piece(t, box, block, lang) for t in parts]
    if pieces:
        pieces[-1].hyph = hyph
        pieces[-1].subs = nfc(subs).strip() if subs and subs.strip() else None
        pieces[0].part2 = part2
    return pieces


def mark_hyphen(piece: Piece) -> None:
    """Flag a line-final piece that ends in a hyphen after a letter (hOCR's only hyphenation hint)."""
    t = piece.text
    if piece.hyph is None and len(t) >= 2 and t[-1] in HYPHENS and t[-2].isalpha():
        piece.hyph = MARK


def _join(text: str, last: Piece, nxt: Piece) -> str | None:
    """The joined text if ``nxt`` continues the word ``text`` whose last piece is ``last``, else ``None``."""
    if last.hyph == SUBS:
        if not nxt.part2:
            return None
        return last.subs or nxt.subs or text.rstrip(HYPHENS) + nxt.text
    if last.hyph == HYP:
        if nxt.part2 and (last.subs or nxt.subs):
            return last.subs or nxt.subs
        head = text.rstrip(HYPHENS) or text
        return head + nxt.text if nxt.text[0].islower() else head + "-" + nxt.text
    if last.hyph == MARK:
        return text[:-1] + nxt.text if nxt.text[0].islower() else None
    return None


def _alone(piece: Piece) -> str:
    """Text of a piece that joined nothing: an open ``HypPart1`` stands for its whole word."""
    if piece.hyph == SUBS and piece.subs:
        return piece.subs
    return piece.text


class _Builder:
    def __init__(self) -> None:
        self.words: list[Word] = []
        self.langs: list[str | None] = []
        self.blocks: dict[int, int] = {}

    def emit(self, text: str, pieces: list[Piece], line: int) -> None:
        boxes = tuple(p.box for p in pieces if p.box is not None)
        x, y, w, h = boxes[0] if boxes else (0, 0, 0, 0)
        block = self.blocks.setdefault(pieces[0].block, len(self.blocks))
        self.words.append(Word(text, x, y, w, h, line, block, boxes))
        self.langs.append(pieces[0].lang)


def assemble(lines: list[list[Piece]]) -> tuple[list[Word], str | None]:
    """Words in reading order and the dominant language code of the page.

    Empty lines are dropped before numbering, so line numbers are consecutive and piece ``i`` of a
    word lies on line ``word.line + i``.
    """
    lines = [line for line in lines if line]
    out = _Builder()
    # a word waiting for the next line: (text so far, its pieces, line of the first piece)
    carry: tuple[str, list[Piece], int] | None = None
    for n, line in enumerate(lines):
        start = 0
        if carry is not None:
            text, pieces, first_line = carry
            carry = None
            joined = _join(text, pieces[-1], line[0])
            if joined is None:
                out.emit(_alone(pieces[0]) if len(pieces) == 1 else text, pieces, first_line)
            else:
                start = 1
                pieces = pieces + [line[0]]
                if len(line) == 1 and line[0].hyph and n + 1 < len(lines):
                    carry = (joined, pieces, first_line)  # hyphenated again: three lines or more
                else:
                    out.emit(joined, pieces, first_line)
        for i in range(start, len(line)):
            piece = line[i]
            if i == len(line) - 1 and piece.hyph and n + 1 < len(lines):
                carry = (piece.text, [piece], n)
            else:
                out.emit(_alone(piece), [piece], n)
    return out.words, dominant(out.langs)
