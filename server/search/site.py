"""Site-wide search for researchers: results grouped by item, facets, filters, snippets with crops.

Pure code over a :class:`~server.search.service.SearchService` (no Flask): the JSON view and the
HTML page both call :func:`site_search` and render its :class:`SiteResults`.

Facets count *items* and are disjunctive: each facet's counts apply every other facet's filter but
not its own, so choosing one language still shows how many items the other languages have. Values
chosen within one facet are alternatives (OR); different facets combine (AND). The engine counts
them and orders the items (:meth:`~server.search.engines.SearchEngine.site_search`); this module
names the values and builds the results around the items it returns.
"""
from __future__ import annotations

import time
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup, escape

from server.errors import BadRequest
from server.ocr.model import Box
from server.presentation import labels
from server.search.engines import SiteRequest
from server.search.facets import FACETS, FacetRow, facet_values
from server.search.match import hit_ranges
from server.search.model import IndexedItem
from server.search.query import Node, parse
from server.search.service import SearchService, union
from server.search.store import StoredPage
from server.search.urls import SearchUrls, query_string
from server.web.contentstate import Site, View, encoded

BROWSE_ALL = "*"
"""``q=*``: every indexed page, to browse by facets (so does an empty ``q`` with a filter)."""
SORTS = ("relevance", "date", "-date")
MAX_PAGE_SIZE = 100
SNIPPET_WORDS = 12
SNIPPETS_PER_PAGE = 2
TOP_PAGES = 200
"""Pages scored for ranking (see :func:`site_search`)."""
RANK_EXPANSIONS = 8
"""Expansions of a prefix or fuzzy term that are scored (the most frequent); pages matching only
rarer ones rank after the scored pages."""


@dataclass(frozen=True)
class SiteQuery:
    """A researcher's search: ``filters`` maps a facet name to the chosen values."""

    q: str
    filters: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    date_from: int | None = None
    date_to: int | None = None
    sort: str = "relevance"
    page: int = 1
    page_size: int = 20
    pages_per_item: int = 3

    @classmethod
    def from_args(cls, args: Any) -> SiteQuery:
        """From request arguments (a werkzeug MultiDict or a plain dict); 400 on bad values."""
        def getlist(name: str) -> list[str]:
            if hasattr(args, "getlist"):
                return [v for v in args.getlist(name) if v != ""]
            value = args.get(name)
            if value is None or value == "":
                return []
            return list(value) if isinstance(value, (list, tuple)) else [str(value)]

        def integer(name: str, default: int | None, low: int | None = None, high: int | None = None) -> int | None:
            values = getlist(name)
            if not values:
                return default
            try:
                value = int(values[0])
            except ValueError:
                raise BadRequest("must be an integer", parameter=name) from None
            if (low is not None and value < low) or (high is not None and value > high):
                raise BadRequest(f"must be between {low} and {high}", parameter=name)
            return value

        sort = (getlist("sort") or ["relevance"])[0]
        if sort not in SORTS:
            raise BadRequest(f"must be one of {', '.join(SORTS)}", parameter="sort")
        filters = {name: tuple(dict.fromkeys(getlist(name))) for name in FACETS if getlist(name)}
        return cls(q=(getlist("q") or [""])[0], filters=filters,
                   date_from=integer("from", None, -9999, 9999), date_to=integer("to", None, -9999, 9999),
                   sort=sort, page=integer("page", 1, 1, 100_000) or 1,
                   page_size=integer("page_size", 20, 1, MAX_PAGE_SIZE) or 20)

    @property
    def narrowed(self) -> bool:
        """Facet values or years are chosen."""
        return bool(self.filters) or self.date_from is not None or self.date_to is not None

    @property
    def browsing(self) -> bool:
        """No words to search, only facets: ``q=*``, or an empty ``q`` with filters or years."""
        q = self.q.strip()
        return q == BROWSE_ALL or (not q and self.narrowed)

    @property
    def asked(self) -> bool:
        """Something was asked (words or browsing): the page reports how many results, even none."""
        return bool(self.q.strip()) or self.browsing

    def params(self, **changes: Any) -> dict[str, Any]:
        """Request parameters that reproduce this query (with ``changes``), for links."""
        values: dict[str, Any] = {"q": self.q, **{k: list(v) for k, v in self.filters.items()},
                                  "from": self.date_from, "to": self.date_to,
                                  "sort": None if self.sort == "relevance" else self.sort,
                                  "page": None if self.page == 1 else self.page,
                                  "page_size": None if self.page_size == 20 else self.page_size}
        values.update(changes)
        return {k: v for k, v in values.items() if v is not None and v != [] and v != ""}


@dataclass(frozen=True)
class Snippet:
    html: Markup
    """The OCR text around the hit, HTML-escaped, matching words in ``<mark>``."""
    text: str
    region: Box | None
    """The hit's line(s) on the page, in canvas pixels (None when the OCR had no boxes)."""
    image: str | None
    """An Image API URL of ``region``: the printed original, to judge the OCR by."""
    words: Box | None = None
    """The hit's words on the page: the union of their boxes (None without boxes)."""
    content_state: str | None = None
    """A IIIF Content State (encoded, for ``iiif-content``) of the canvas at ``words``."""
    url: str | None = None
    """The item page opened with that content state and the query highlighted."""


@dataclass(frozen=True)
class PageResult:
    n: int
    label: str
    canvas: str
    url: str
    thumbnail: str
    score: float
    snippets: list[Snippet]


@dataclass(frozen=True)
class ItemResult:
    item: IndexedItem
    manifest: str
    url: str
    thumbnail: str | None
    score: float
    matching_pages: int
    pages: list[PageResult]


@dataclass(frozen=True)
class FacetValue:
    value: str
    count: int
    selected: bool
    label: dict[str, list[str]] | None = None


@dataclass
class SiteResults:
    query: SiteQuery
    total: int
    """Matching items (after filters)."""
    total_pages: int
    """Matching pages in those items."""
    items: list[ItemResult]
    facets: dict[str, list[FacetValue]]
    elapsed_ms: float = 0.0

    @property
    def page_count(self) -> int:
        return max(1, -(-self.total // self.query.page_size))

    def to_json(self, urls: SearchUrls) -> dict[str, Any]:
        q = self.query
        doc: dict[str, Any] = {
            "id": f"{urls.site_search_json()}?{query_string(q.params())}",
            "q": q.q, "sort": q.sort, "filters": {k: list(v) for k, v in q.filters.items()},
            "from": q.date_from, "to": q.date_to,
            "total": self.total, "total_pages": self.total_pages,
            "page": q.page, "page_size": q.page_size, "pages": self.page_count,
        }
        if q.page < self.page_count:
            doc["next"] = f"{urls.site_search_json()}?{query_string(q.params(page=q.page + 1))}"
        if q.page > 1:
            doc["prev"] = f"{urls.site_search_json()}?{query_string(q.params(page=min(q.page - 1, self.page_count)))}"
        doc["items"] = [{
            "id": r.item.item_id, "label": r.item.label, "type": r.item.type, "date": r.item.date,
            "year": r.item.year, "collections": r.item.collection_path, "languages": r.item.languages,
            "manifest": r.manifest, "url": r.url, "thumbnail": r.thumbnail, "score": round(r.score, 4),
            "matching_pages": r.matching_pages,
            "pages": [{
                "n": p.n, "label": p.label, "canvas": p.canvas, "url": p.url, "thumbnail": p.thumbnail,
                "snippets": [{"html": str(s.html), "text": s.text,
                              "xywh": ",".join(map(str, s.region)) if s.region else None, "image": s.image,
                              "words": ",".join(map(str, s.words)) if s.words else None,
                              "content_state": s.content_state, "url": s.url}
                             for s in p.snippets],
            } for p in r.pages],
        } for r in self.items]
        doc["facets"] = {name: [{"value": v.value, "count": v.count, "selected": v.selected,
                                 **({"label": v.label} if v.label else {})} for v in values]
                         for name, values in self.facets.items()}
        doc["elapsed_ms"] = round(self.elapsed_ms, 1)
        return doc


_FACET_TABLES: weakref.WeakKeyDictionary[SearchService, dict[str, FacetRow]] = weakref.WeakKeyDictionary()


def facet_table(service: SearchService) -> dict[str, FacetRow]:
    """Every item's :func:`facet_values`, made once per generation's service: a query that matches
    most of a large archive would otherwise rebuild them for each of its items (tens of thousands).
    Equal value tuples are shared, so the table costs about a dict entry and a row an item."""
    table = _FACET_TABLES.get(service)
    if table is None:
        shared: dict[Any, Any] = {}
        table = {}
        for item_id, item in service.items.items():
            values = facet_values(item, service.page_languages.get(item_id))
            row = tuple(shared.setdefault(values[name], values[name]) for name in FACETS)
            table[item_id] = shared.setdefault(row, row)
        _FACET_TABLES[service] = table
    return table


class ServiceCatalog:
    """A generation's items for the engine (:class:`~server.search.engines.Catalog`); the facet
    table is made only if the engine asks for it."""

    def __init__(self, service: SearchService) -> None:
        self.service = service

    @property
    def items(self) -> Mapping[str, IndexedItem]:
        return self.service.items

    def facet_rows(self) -> Mapping[str, FacetRow]:
        return facet_table(self.service)


def site_search(service: SearchService, urls: SearchUrls, query: SiteQuery, language: str = labels.FALLBACK) -> SiteResults:
    """Run a researcher's search over every published item.

    The engine answers totals, facets and the page's items in order (:class:`SiteRequest`): the
    best ``TOP_PAGES`` pages are scored for ranking (prefix and fuzzy terms by their
    ``RANK_EXPANSIONS`` most frequent expansions); items are ordered by their best page among
    those; items matching only further down follow, by how many of their pages match (scoring
    every match of a common word is what a pure-Python engine cannot afford). An item shows its
    best-ranked matching pages, else its first matching ones. Browsing (:attr:`SiteQuery.browsing`)
    matches every page and orders items by date. Pages without a printed label get the canvas's
    (``p. 3``, in ``language``).
    """
    started = time.perf_counter()
    tree = None if query.browsing else parse(query.q)
    if (tree is None and not query.browsing) or service.engine is None:
        return SiteResults(query, 0, 0, [], {}, (time.perf_counter() - started) * 1000)
    chosen = {k: tuple(dict.fromkeys(v)) for k, v in query.filters.items() if k in FACETS and v}
    by_date = 0 if query.sort == "relevance" and tree is not None else (-1 if query.sort == "-date" else 1)
    request = SiteRequest(tree, chosen, query.date_from, query.date_to, by_date,
                          (query.page - 1) * query.page_size, query.page_size, query.pages_per_item, TOP_PAGES)
    found = service.engine.site_search(request, service.expander(service.lexicon),
                                       service.expander(service.lexicon, limit=RANK_EXPANSIONS),
                                       ServiceCatalog(service))

    facets: dict[str, list[FacetValue]] = {}
    for name in FACETS:
        tally = found.facets.get(name, {})
        ordered = sorted(tally.items(), key=(lambda kv: kv[0]) if name in ("decade", "year")
                         else (lambda kv: (-kv[1], kv[0])))
        selected = chosen.get(name, ())
        for value in selected:  # a chosen value stays visible (to be unchosen)
            if value not in tally:
                ordered.append((value, 0))
        facets[name] = [FacetValue(v, c, v in selected, service.collections.get(v) if name == "collection" else None)
                        for v, c in ordered]

    shown = []
    for entry in found.items:
        picked = entry.top[:query.pages_per_item]
        if len(picked) < query.pages_per_item:
            have = {n for _, n in picked}
            picked += [(0.0, n) for n in entry.first if n not in have][:query.pages_per_item - len(picked)]
        shown.append(_item_result(service, urls, query, tree, entry.item_id, picked, entry.matching, language))
    return SiteResults(query, found.total, found.total_pages, shown, facets, (time.perf_counter() - started) * 1000)


def _item_result(service: SearchService, urls: SearchUrls, query: SiteQuery, tree: Node | None, item_id: str,
                 pages: list[tuple[float, int]], matching: int, language: str) -> ItemResult:
    item = service.items[item_id]
    page_results: list[PageResult] = []
    for score, n in pages:
        page = service.page(item_id, n)
        if page is None:
            continue
        found = snippets(urls, item_id, page, tree, q=query.q) if tree is not None else []
        page_results.append(PageResult(
            n=n, label=page.label or page_label(n, language), canvas=urls.canvas(item_id, n),
            url=found[0].url if found and found[0].url else urls.item_hit(item_id, n, "" if tree is None else query.q),
            thumbnail=urls.page_thumbnail(item_id, n, page.width, page.height), score=score,
            snippets=found))
    return ItemResult(item=item, manifest=urls.manifest(item_id), url=urls.item_page(item_id),
                      thumbnail=page_results[0].thumbnail if page_results else None,
                      score=max((s for s, _ in pages), default=0.0), matching_pages=matching, pages=page_results)


def page_label(n: int, language: str) -> str:
    """The label ingest gives a canvas without a printed page number (``p. 3``)."""
    return next(iter(labels.page_label(n, [language]).values()))[0]


def snippets(urls: SearchUrls, item_id: str, page: StoredPage, tree: Node,
             limit: int = SNIPPETS_PER_PAGE, width: int = SNIPPET_WORDS, q: str = "") -> list[Snippet]:
    """Up to ``limit`` snippets of a page: text around a hit (every hit in it marked), a crop of
    the hit's line(s), padded a little and clamped to the canvas, and a link that opens the viewer
    on the hit's words (a IIIF Content State)."""
    ranges = [(a, b) for a, b, _ in hit_ranges(page, tree)]
    marked = {w for a, b in ranges for w in range(a, b + 1)}
    words = page.texts
    out: list[Snippet] = []
    covered_until = -1
    for first, last in ranges:
        if first <= covered_until:
            continue
        lo = max(0, first - width // 2)
        hi = min(len(words), last + 1 + width // 2)
        covered_until = hi - 1
        html = _marked(words, lo, hi, marked)
        text = " ".join(words[lo:hi])
        if lo > 0:
            html, text = Markup("… ") + html, "… " + text
        if hi < len(words):
            html, text = html + Markup(" …"), text + " …"
        lines = {page.line(w) + i for w in range(first, last + 1) for i in range(page.pieces(w))}
        region = _pad(union(list(page.line_boxes(lines).values())), page.width, page.height)
        hit_box = _pad(union([b for w in range(first, last + 1) for b in page.boxes(w) if b[2] > 0 and b[3] > 0]),
                       page.width, page.height, 0)
        state = hit_state(urls, item_id, page.n, hit_box)
        out.append(Snippet(html, text, region, urls.crop(item_id, page.n, region) if region else None,
                           hit_box, state, urls.item_state(item_id, state, q)))
        if len(out) >= limit:
            break
    return out


def _marked(words: list[str], lo: int, hi: int, marked: set[int]) -> Markup:
    """Words ``lo``..``hi`` escaped, each run of matching words inside one ``<mark>``."""
    out: list[Markup] = []
    run: list[str] = []
    for i in range(lo, hi):
        if i in marked:
            run.append(words[i])
            continue
        if run:
            out.append(Markup("<mark>%s</mark>") % " ".join(run))
            run = []
        out.append(escape(words[i]))
    if run:
        out.append(Markup("<mark>%s</mark>") % " ".join(run))
    return Markup(" ").join(out)


def hit_state(urls: SearchUrls, item_id: str, n: int, words: Box | None) -> str:
    """The ``iiif-content`` value of a hit: its canvas, at the words' box when there is one."""
    site = Site(urls.base, lambda _item: None)  # writing only: nothing is looked up
    return encoded(site, View(item_id, n, words))


def _pad(box: Box | None, width: int, height: int, pad: int | None = None) -> Box | None:
    if box is None:
        return None
    x, y, w, h = box
    pad = max(4, min(h // 3, 40)) if pad is None else pad
    x0, y0 = max(0, x - pad), max(0, y - pad)
    x1, y1 = min(width, x + w + pad), min(height, y + h + pad)
    if x1 <= x0 or y1 <= y0:
        return None
    return (x0, y0, x1 - x0, y1 - y0)
