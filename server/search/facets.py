"""Facets of the site-wide search, and the engine-independent way of answering a results page.

An item's facet values (:func:`facet_values`) come from its metadata: the catalog of a generation
has them for every item. Facets count *items* and are disjunctive: each facet's counts apply every
other facet's filter but not its own; values chosen within one facet are alternatives (OR),
different facets combine (AND).

:func:`select` answers a :class:`~server.search.engines.SiteRequest` from an engine's
:class:`~server.search.engines.SiteMatches` (matching pages per item) and the catalog, in Python:
its cost grows with the number of matching items. The Whoosh engine answers this way; the Solr
engine asks Solr for the same answer (facets on the page documents, see
:mod:`server.search.solr.site`) and uses this only for generations indexed before its documents
carried the facet values.
"""
from __future__ import annotations

from collections import Counter
from itertools import chain
from typing import Any

from server.ocr.lang import to_iso639_1
from server.search.engines import Catalog, SiteItem, SiteMatches, SiteRequest, SiteSelection
from server.search.model import IndexedItem

FACETS = ("collection", "type", "decade", "year", "language")
FacetRow = tuple[tuple[str, ...], ...]
"""An item's values in each facet, in :data:`FACETS` order."""


def facet_values(item: IndexedItem, page_languages: list[str] | None = None) -> dict[str, tuple[str, ...]]:
    """The values an item has in each facet."""
    langs = [to_iso639_1(code) for code in item.languages] or list(page_languages or [])
    return {
        "collection": tuple(dict.fromkeys(item.collection_path)),  # an item counts once per value, as in Solr
        "type": (item.type,) if item.type else (),
        "decade": (str(item.year // 10 * 10),) if item.year is not None else (),
        "year": (str(item.year),) if item.year is not None else (),
        "language": tuple(dict.fromkeys(c for c in langs if c)),
    }


def date_key(item: IndexedItem, sign: int, matching: int) -> tuple[Any, ...]:
    """Order by date (``sign`` 1: oldest first, -1: newest first); undated items last, then more
    matching pages first, then the id."""
    return (item.year is None, sign * (item.year or 0), item.date or "", -matching, item.item_id)


def select(found: SiteMatches, request: SiteRequest, catalog: Catalog) -> SiteSelection:
    """A results page from every matching item's page count and the catalog (see the module)."""
    counts = found.counts
    table = catalog.facet_rows()
    items = catalog.items
    values = {i: table[i] for i in counts if i in table}
    if request.date_from is not None or request.date_to is not None:
        low, high = request.year_range
        values = {i: v for i, v in values.items() if (year := items[i].year) is not None and low <= year <= high}
    chosen = {FACETS.index(k): set(v) for k, v in request.filters.items() if k in FACETS and v}

    def passes(row: FacetRow, skip: int = -1) -> bool:
        return all(k == skip or not sel.isdisjoint(row[k]) for k, sel in chosen.items())

    facets: dict[str, dict[str, int]] = {}
    for k, name in enumerate(FACETS):
        rows = [row for row in values.values() if passes(row, skip=k)] if chosen else values.values()
        facets[name] = dict(Counter(chain.from_iterable(row[k] for row in rows)))  # counted in C: one pass

    matched = [i for i, v in values.items() if passes(v)] if chosen else list(values)
    top: dict[str, list[tuple[float, int]]] = {}
    if not request.by_date:
        allowed = set(matched) if len(matched) < len(counts) else None
        for owner, n, score in found.ranked(allowed, request.top):
            top.setdefault(owner, []).append((score, n))
        rank = {i: k for k, i in enumerate(top)}  # insertion order = best page first
        matched.sort(key=lambda i: (rank.get(i, len(rank)), -counts[i], i))
    else:
        matched.sort(key=lambda i: date_key(items[i], request.by_date, counts[i]))
    on_page = matched[request.start:request.start + request.size]
    short = [i for i in on_page if len(top.get(i, [])) < request.pages_per_item]
    first = found.first_pages(short, request.pages_per_item * 2) if short else {}
    return SiteSelection(len(matched), sum(counts[i] for i in matched), facets,
                         [SiteItem(i, counts[i], top.get(i, []), first.get(i, [])) for i in on_page])
