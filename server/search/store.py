"""The per-page word store: written once at ingest, read at query time instead of the OCR.

``{gen}/words/{item}/{n}.txt`` holds one page. Its first four lines are what matching needs and
cost only a ``split`` to load (within-item search reads them for every matching page); the rest
is decoded for the hits actually shown::

    HLS2 <language key or ->
    <folded tokens, space separated>         token i of the page (see analysis.py)
    <stemmed tokens, space separated>        or "=" when the page has no stemmer
    <12 hex digits per token>                its word's index, first and last physical line
    {"label": …, "width": …, "height": …, "words": [[text, line, [x, y, w, h, …]], …]}

``{gen}/words/{item}/vocab.tsv``: the item's folded tokens, sorted, with the form to display and
the number of occurrences (``folded\\tdisplay\\tcount``), for autocomplete by binary search.

Files are immutable once written, so an unchanged item's folder is hard-linked into the next
generation rather than copied.
"""
from __future__ import annotations

import bisect
import json
import os
import shutil
from collections import Counter
from functools import cached_property
from pathlib import Path
from typing import Any

from server.ocr.model import Box
from server.search.analysis import display_form, fold, raw_tokens, stem

MAGIC = "HLS2"
WORDS_DIR = "words"
PACK = 12
"""Characters per token in the packed line: word index, first line, last line, 4 hex digits each."""
LIMIT = 0xFFFF


def check_item_id(item_id: str) -> str:
    """Item ids name folders here: refuse anything that could leave ``words/``."""
    if not item_id or "/" in item_id or "\\" in item_id or item_id.startswith(".") or "\0" in item_id:
        raise ValueError(f"item id not usable as a folder name: {item_id!r}")
    return item_id


def item_dir(gen_dir: Path, item_id: str) -> Path:
    return gen_dir / WORDS_DIR / check_item_id(item_id)


class StoredPage:
    """One page from the store. Only splitting is done on load: matching reads ``tokens`` and
    ``stems``; word indices, lines and the JSON part are decoded for the hits actually shown."""

    def __init__(self, n: int, language: str | None, tokens: list[str], stems: list[str],
                 packed: str, json_text: str) -> None:
        self.n = n
        self.language = language
        self.tokens = tokens
        self.stems = stems
        self._packed = packed
        self._json = json_text

    def word_of(self, token: int) -> int:
        """The index of the word token ``token`` belongs to."""
        return int(self._packed[PACK * token:PACK * token + 4], 16)

    def lines_of(self, token: int) -> tuple[int, int]:
        """First and last physical line of the word token ``token`` belongs to."""
        p = PACK * token
        return int(self._packed[p + 4:p + 8], 16), int(self._packed[p + 8:p + 12], 16)

    @cached_property
    def _data(self) -> dict[str, Any]:
        return json.loads(self._json)  # type: ignore[no-any-return]

    @property
    def label(self) -> str:
        return str(self._data.get("label") or "")

    @property
    def width(self) -> int:
        return int(self._data["width"])

    @property
    def height(self) -> int:
        return int(self._data["height"])

    @property
    def words(self) -> list[list[Any]]:
        """``[text, line, [x, y, w, h, …]]`` per word, in reading order (raw, for speed)."""
        return self._data["words"]  # type: ignore[no-any-return]

    def line_boxes(self, lines: set[int]) -> dict[int, Box]:
        """Union of the non-empty word pieces on each of ``lines``."""
        edges: dict[int, list[int]] = {}
        for _, line, flat in self.words:
            for i in range(0, len(flat), 4):
                n = line + i // 4
                if n not in lines:
                    continue
                x, y, w, h = flat[i:i + 4]
                if w <= 0 or h <= 0:
                    continue
                e = edges.get(n)
                if e is None:
                    edges[n] = [x, y, x + w, y + h]
                else:
                    e[0], e[1], e[2], e[3] = min(e[0], x), min(e[1], y), max(e[2], x + w), max(e[3], y + h)
        return {n: (e[0], e[1], e[2] - e[0], e[3] - e[1]) for n, e in edges.items()}


def encode_page(n: int, language: str | None, label: str, width: int, height: int,
                words: list[tuple[str, int, tuple[Box, ...]]]) -> tuple[str, list[str], list[str], Counter[tuple[str, str]]]:
    """The file text of one page, its folded tokens and stems (for the index), and its
    ``(folded, display)`` counts (for the vocabulary)."""
    toks: list[str] = []
    packed: list[str] = []
    seen: Counter[tuple[str, str]] = Counter()
    for wi, (text, line, boxes) in enumerate(words):
        last = line + max(len(boxes), 1) - 1
        if wi > LIMIT or last > LIMIT:
            break  # a page of more than 65,535 words or lines is not a page; index what fits
        code = f"{wi:04x}{line:04x}{last:04x}"
        for raw in raw_tokens(text):
            folded = fold(raw)
            if not folded:
                continue
            toks.append(folded)
            packed.append(code)
            seen[(folded, display_form(raw))] += 1
    stems = [stem(t, language) for t in toks] if language else toks
    payload = {"label": label, "width": width, "height": height,
               "words": [[text, line, [c for box in boxes for c in box]] for text, line, boxes in words]}
    body = "\n".join((f"{MAGIC} {language or '-'}", " ".join(toks), " ".join(stems) if language else "=",
                      "".join(packed), json.dumps(payload, ensure_ascii=False, separators=(",", ":"))))
    return body + "\n", toks, stems, seen


def decode_page(n: int, data: str) -> StoredPage:
    head, toks, stems, packed, rest = data.split("\n", 4)
    magic, _, lang = head.partition(" ")
    if magic != MAGIC:
        raise ValueError(f"not a word-store page (page {n})")
    tokens = toks.split()
    return StoredPage(n, None if lang == "-" else lang, tokens, tokens if stems == "=" else stems.split(),
                      packed, rest)


def write_text(path: Path, text: str) -> None:
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)


def read_page(gen_dir: Path, item_id: str, n: int) -> StoredPage | None:
    try:
        with open(item_dir(gen_dir, item_id) / f"{int(n)}.txt", encoding="utf-8") as f:
            data = f.read()
    except FileNotFoundError:
        return None
    return decode_page(n, data)


def write_vocab(directory: Path, counts: Counter[tuple[str, str]]) -> None:
    """Per folded token: its most frequent display form and its total count, sorted by the folded form."""
    totals: Counter[str] = Counter()
    best: dict[str, tuple[int, str]] = {}
    for (folded, display), c in counts.items():
        totals[folded] += c
        if folded not in best or (c, display) > best[folded]:
            best[folded] = (c, display)
    lines = [f"{f}\t{best[f][1]}\t{totals[f]}" for f in sorted(totals)]
    write_text(directory / "vocab.tsv", "\n".join(lines) + ("\n" if lines else ""))


class Vocabulary:
    """An item's terms, sorted by folded form: prefix look-ups by binary search."""

    def __init__(self, text: str) -> None:
        self.keys: list[str] = []
        self.rows: list[tuple[str, int]] = []
        for line in text.splitlines():
            folded, display, count = line.split("\t")
            self.keys.append(folded)
            self.rows.append((display, int(count)))

    @classmethod
    def load(cls, gen_dir: Path, item_id: str) -> "Vocabulary":
        try:
            return cls((item_dir(gen_dir, item_id) / "vocab.tsv").read_text(encoding="utf-8"))
        except FileNotFoundError:
            return cls("")

    def with_prefix(self, prefix: str) -> list[tuple[str, str, int]]:
        """``(folded, display, count)`` of every term starting with ``prefix`` (folded)."""
        i = bisect.bisect_left(self.keys, prefix)
        out = []
        while i < len(self.keys) and self.keys[i].startswith(prefix):
            out.append((self.keys[i], *self.rows[i]))
            i += 1
        return out


def link_tree(src: Path, dst: Path) -> None:
    """Hard-link a folder of immutable files into the new generation (copy where links fail)."""
    dst.mkdir(parents=True, exist_ok=True)
    for entry in os.scandir(src):
        target = dst / entry.name
        if entry.is_dir(follow_symlinks=False):
            link_tree(Path(entry.path), target)
            continue
        try:
            os.link(entry.path, target)
        except OSError:
            shutil.copy2(entry.path, target)
