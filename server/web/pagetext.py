"""A page's OCR text in reading order, as lines, from the published word store (server/search/store.py).

The item page's text panel and ``/item/<id>/text/<n>`` read it; nothing is parsed from the OCR
files at request time. A page without OCR (or a generation without a word store) has no lines.
"""
from __future__ import annotations

from pathlib import Path

from server.search.store import StoredPage, read_page


def _page(gen_dir: Path, item_id: str, n: int) -> StoredPage | None:
    try:
        return read_page(gen_dir, item_id, n)
    except ValueError:  # an id the store refuses, or a damaged file: no text rather than a 500
        return None


def lines(gen_dir: Path, item_id: str, n: int) -> list[str]:
    """The page's words joined into its physical lines, in the store's reading order."""
    page = _page(gen_dir, item_id, n)
    if page is None:
        return []
    out: list[str] = []
    current: list[str] = []
    last_line = None
    for i, text in enumerate(page.texts):
        line = page.line(i) if i < len(page) else last_line
        if current and line != last_line:
            out.append(" ".join(current))
            current = []
        if text:
            current.append(text)
        last_line = line
    if current:
        out.append(" ".join(current))
    return out


def language(gen_dir: Path, item_id: str, n: int) -> str | None:
    """The page's language as the store knows it (a BCP 47-ish code for ``lang=``), if any."""
    page = _page(gen_dir, item_id, n)
    return page.language if page is not None else None
