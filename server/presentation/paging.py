"""Which members of a large collection go on which of its page documents, stably from one ingest to the next.

A collection with more than ``size`` members lists page sub-collections (``.../page/{n}``). Were the
pages plain slices of ``size`` members, one item added at the top of a series would push every
later member on to the next page, and an ingest would rebuild every page of that collection (a
series of 100,000 files: 1,000 documents for one new file). So a page is remembered by its number
and its first members, and the next ingest keeps both while they still fit:

- a page starts where it started in the previous layout: at its first member still listed of the
  three it began with, if that one is still in order (the longest run of such marks in order is
  kept); the first page starts at the start;
- a new member joins the page it falls in; a withdrawn one leaves its page, which shrinks;
- a page grown past ``2 * size`` members is split in pieces of at most ``size``: the first piece
  keeps the number, the others take new numbers (never one that the previous layout used);
- a page shrunk under ``size // 4`` members is merged into the page before it (the first page
  takes in the one after it); when one page is left, the pages are cut afresh, as for a first layout.

So a change costs the pages it touches, and page numbers say nothing of the order: viewers follow
the parent's ``items``, which list the pages in order. A collection published for the first time,
or by a version that did not remember layouts, is cut in slices of ``size`` numbered 1, 2, 3, …
(a last slice under a quarter of ``size`` joins the one before: 120 members are one page).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..ordering import longest_kept_run


@dataclass(frozen=True)
class PageSpan:
    """Page ``number`` (its URL's) lists the members ``start`` to ``end - 1`` (indices into the collection's list)."""

    number: int
    start: int
    end: int

    def __len__(self) -> int:
        return self.end - self.start


HEADS = 3
"""How many of a page's first members are remembered: when the first is withdrawn, the next one still
marks where the page starts (losing the mark would merge the page into the one before)."""

Layout = Sequence[tuple[int, Sequence[str]]]
"""A remembered layout: each page's number and the keys of its first members (:data:`HEADS`), in order."""


def page_layout(keys: Sequence[str], size: int, previous: Layout | None = None) -> list[PageSpan]:
    """The pages of a collection whose members (in order) have ``keys``; ``[]`` when it is not paged.

    ``previous``: the layout of the served generation (:func:`remembered`), ``None`` if it had none."""
    if size <= 0 or len(keys) <= size:
        return []
    least = max(1, size // 4)
    if not previous:
        return _first_layout(len(keys), size, least)
    index = {key: i for i, key in enumerate(keys)}
    marks = [(number, next((key for key in heads if key in index), None)) for number, heads in previous[1:]]
    ordinal = {key: k for k, (_, key) in enumerate(marks) if key is not None}
    in_order = longest_kept_run(sorted(ordinal, key=index.__getitem__), ordinal)
    starts = [(previous[0][0], 0)] + [(number, index[key]) for number, key in marks if key in in_order]
    spans = [PageSpan(number, start, end)
             for (number, start), (_, end) in zip(starts, starts[1:] + [(0, len(keys))], strict=True) if end > start]
    highest = max(n for n, _ in previous)
    pages = _split(_merge(spans, least), size, highest)
    if len(pages) > 1:
        return pages
    # one page left: the slices of a first layout (so that the next ingest finds the same), new numbers but the first
    return [PageSpan(previous[0][0] if k == 0 else highest + k, s.start, s.end)
            for k, s in enumerate(_first_layout(len(keys), size, least))]


def remembered(keys: Sequence[str], spans: Sequence[PageSpan]) -> list[tuple[int, tuple[str, ...]]]:
    """What the next ingest needs of this layout: each page's number and the keys of its first members."""
    return [(span.number, tuple(keys[span.start:min(span.end, span.start + HEADS)])) for span in spans]


def _first_layout(count: int, size: int, least: int) -> list[PageSpan]:
    """Slices of ``size`` numbered from 1, a last one under ``least`` joined to the one before; ``[]`` when
    that leaves one page, which is no paging (the collection lists its members itself, up to
    ``size + least - 1``)."""
    spans = _merge([PageSpan(n, start, min(start + size, count)) for n, start in enumerate(range(0, count, size), 1)],
                   least)
    return spans if len(spans) > 1 else []


def _merge(spans: list[PageSpan], least: int) -> list[PageSpan]:
    """Adjacent pages joined while one of the two has fewer than ``least`` members; the earlier one's number stays."""
    merged: list[PageSpan] = []
    for span in spans:
        if merged and (len(span) < least or len(merged[-1]) < least):
            merged[-1] = PageSpan(merged[-1].number, merged[-1].start, span.end)
        else:
            merged.append(span)
    return merged


def _split(spans: list[PageSpan], size: int, highest: int) -> list[PageSpan]:
    """Pages of more than ``2 * size`` members cut in equal pieces of at most ``size``; new numbers above ``highest``."""
    highest = max([highest, *(s.number for s in spans)])
    out: list[PageSpan] = []
    for span in spans:
        if len(span) <= 2 * size:
            out.append(span)
            continue
        pieces = -(-len(span) // size)
        bounds = [span.start + len(span) * k // pieces for k in range(pieces + 1)]
        for k in range(pieces):
            if k:
                highest += 1
            out.append(PageSpan(span.number if k == 0 else highest, bounds[k], bounds[k + 1]))
    return out
