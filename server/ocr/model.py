"""One word model for every OCR format, so search and highlighting never care where text came from.

All coordinates are canvas pixels (the image's full size), already scaled, rounded and clamped.

Numbering invariants (the search layer relies on them):
- ``Word.line`` counts, from 0, the physical lines that hold at least one word piece, in reading
  order; ``Word.block`` counts text blocks that hold at least one word, from 0.
- ``Word.boxes`` holds one box per physical piece. Piece ``i`` of a word lies on line
  ``word.line + i``: a word dehyphenated across a line break has two boxes, on consecutive lines.
- ``x, y, w, h`` is the **first** piece's box (where the word starts, what a viewer should scroll
  to), not the union: the union of a word split over two columns' lines would cover both lines.
  A word whose source had no usable coordinates has ``boxes == ()`` and ``x = y = w = h = 0``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from server.errors import HeritageError
from server.texts import Text

Box = tuple[int, int, int, int]
"""``(x, y, w, h)`` in canvas pixels."""


class OCRError(HeritageError):
    """An OCR file we refuse or cannot read; the message is one line naming the file and the reason."""

    status = 422

    def __init__(self, path: object, reason: str, line: int | None = None) -> None:
        name = getattr(path, "name", None) or str(path)
        where = f"{name}, line {line}" if line else name
        if not isinstance(reason, Text):  # (a Text is one line already, and stays translatable)
            reason = " ".join(str(reason).split())  # always one line, whatever libxml2 says
        super().__init__(f"{where}: {reason}")
        self.path = path
        self.reason = reason
        self.line = line


@dataclass(frozen=True, slots=True)
class Word:
    """One searchable word: text as printed (NFC), dehyphenated, with its box(es) on the canvas."""

    text: str
    x: int
    y: int
    w: int
    h: int
    line: int
    block: int
    boxes: tuple[Box, ...]


@dataclass
class PageText:
    """The words of one page, in reading order, plus what the indexer needs to know about them."""

    words: list[Word]
    width: int
    height: int
    language: str | None
    format: Literal["alto", "hocr"]

    @property
    def text(self) -> str:
        """Plain text: one line per physical line, a blank line between blocks, hyphenation removed.

        A dehyphenated word is written once, on the line where it starts; a line that held only the
        second half of such a word therefore disappears.
        """
        out: list[str] = []
        current: list[str] = []
        line = block = None
        for word in self.words:
            if word.line != line:
                if current:
                    out.append(" ".join(current))
                    current = []
                if block is not None and word.block != block:
                    out.append("")
                line, block = word.line, word.block
            current.append(word.text)
        if current:
            out.append(" ".join(current))
        return "\n".join(out)

    @property
    def lines(self) -> list[Box]:
        """Line boxes, indexed by line number: the union of the word pieces on each line.

        A line whose words carry no coordinates gets ``(0, 0, 0, 0)``.
        """
        edges: dict[int, list[int]] = {}
        count = 0
        for word in self.words:
            count = max(count, word.line + max(len(word.boxes), 1))
            for i, (x, y, w, h) in enumerate(word.boxes):
                e = edges.get(word.line + i)
                if e is None:
                    edges[word.line + i] = [x, y, x + w, y + h]
                else:
                    e[0], e[1] = min(e[0], x), min(e[1], y)
                    e[2], e[3] = max(e[2], x + w), max(e[3], y + h)
        result: list[Box] = []
        for n in range(count):
            e = edges.get(n)
            result.append((e[0], e[1], e[2] - e[0], e[3] - e[1]) if e else (0, 0, 0, 0))
        return result
