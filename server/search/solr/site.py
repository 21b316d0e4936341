"""Site-wide results computed by Solr: facets, totals and the page's items, from the page documents.

Every page document carries its item's facet values (docValues; :func:`.writer.doc_facets`), so
the facets of the items matching a query are terms facets on those fields with the number of
distinct items in each bucket (``unique(item)``: exact, since ``router.field=item`` keeps each
item on one shard and the shards' counts add up). Each facet excludes its own filter
(``excludeTags``), as the page counts them; the years are a range filter. What comes back is one
bucket per facet value, never one per matching item, so the server's work does not grow with the
number of matching items (Solr's does, as any engine's must).

Ordering, as :func:`server.search.facets.select` does it:

* by relevance: the best ``top`` pages (scored by Solr, filters applied) give the first items, by
  their best page; the rest follow by number of matching pages, then id — a terms facet on
  ``item`` sorted by count, the ranked items excluded, with the page's offset and limit;
* by date: a facet on ``year`` counts the items of each year, which tells which years the page
  falls in; those years' items (a facet on ``item`` restricted to them) are ordered with the
  catalog's dates. Only the years the page touches are listed, not every matching item.

A result page's items then get their matching pages and first matching page numbers from one more
facet (a terms facet on ``n`` in each item's bucket).
"""
from __future__ import annotations

import json
from collections import Counter
from typing import TYPE_CHECKING, Any

from server.search.engines import Catalog, SiteItem, SiteRequest, SiteSelection
from server.search.facets import FACETS, date_key
from server.search.solr.query import EVERYTHING, NOTHING

if TYPE_CHECKING:
    from server.search.solr.reader import SolrEngine

ITEMS = "unique(item)"
SEP = "\x1f"
"""Separates the values of a ``{!terms}`` list (facet values and item ids may hold commas)."""
NUMERIC = ("year", "decade")
UNDATED = "*:* -year:[* TO *]"


def _usable(name: str, value: str) -> bool:
    """Whether a chosen value can be asked of Solr as it is (other values match no item, here as
    in the catalog: a year is written as ``str(int)``)."""
    if not value or SEP in value:
        return False
    if name in NUMERIC:
        try:
            return str(int(value)) == value and abs(int(value)) < 1_000_000
        except ValueError:
            return False
    return True


def _buckets(facets: dict[str, Any], name: str) -> list[dict[str, Any]]:
    return list((facets.get(name) or {}).get("buckets") or [])


class SolrSiteSearch:
    """One results page (:class:`SiteRequest`) asked of Solr: two or three requests whatever the
    number of matching items."""

    def __init__(self, engine: SolrEngine, q: str, request: SiteRequest, catalog: Catalog) -> None:
        self.engine, self.q, self.request, self.catalog = engine, q, request, catalog
        self.params: dict[str, Any] = {}
        self.fq: list[str] = [engine.generation_filter]
        if request.date_from is not None or request.date_to is not None:
            low, high = request.year_range
            self.fq.append(f"year:[{low} TO {high}]")
        self.chosen = [name for name in FACETS if request.filters.get(name)]
        for name in self.chosen:
            usable = [v for v in request.filters[name] if _usable(name, v)]
            if usable:
                self.params[f"fv_{name}"] = SEP.join(usable)
                self.fq.append(f"{{!terms tag=f_{name} f={name} separator='{SEP}' v=$fv_{name}}}")
            else:
                self.fq.append(f"{{!lucene tag=f_{name}}}{NOTHING}")

    def _select(self, facet: dict[str, Any], **params: Any) -> dict[str, Any]:
        return self.engine.client.select({"q": self.q, "fq": self.fq, "rows": 0, **self.params, **params,
                                          "json.facet": json.dumps(facet, separators=(",", ":"))})

    def run(self) -> SiteSelection:
        r = self.request
        ranking = not r.by_date and self.q != EVERYTHING
        facet: dict[str, Any] = {"processEmpty": True, "items": ITEMS}
        # an item has one year: with neither decades nor years chosen, a decade's items are the
        # sum of its years' (the same domain), one pass over the matching pages less
        derived = "decade" not in self.chosen and "year" not in self.chosen
        for name in FACETS:
            if name == "decade" and derived:
                continue
            facet[name] = {"type": "terms", "field": name, "limit": -1, "facet": {"items": ITEMS},
                           **({"domain": {"excludeTags": f"f_{name}"}} if name in self.chosen else {})}
        if r.by_date and "year" in self.chosen:  # the year facet above ignores the year filter
            facet["years"] = {"type": "terms", "field": "year", "limit": -1, "facet": {"items": ITEMS}}
        params: dict[str, Any] = {}
        if ranking and r.top > 0:
            params = {"fl": "item,n,score", "sort": "score desc, item asc, n asc", "rows": r.top}
        found = self._select(facet, **params)
        facets = found.get("facets") or {}
        total = int(facets.get("items") or 0)
        total_pages = int(found["response"]["numFound"])
        counts = {name: {str(b["val"]): int(b.get("items") or 0) for b in _buckets(facets, name)} for name in FACETS}
        if derived:
            decades: Counter[str] = Counter()
            for year, n in counts["year"].items():
                decades[str(int(year) // 10 * 10)] += n
            counts["decade"] = dict(decades)
        if total == 0:
            return SiteSelection(0, total_pages, counts, [])
        if r.by_date:
            years = _buckets(facets, "years" if "year" in self.chosen else "year")
            items = self._by_date(years, total)
        else:
            items = self._by_relevance(found["response"]["docs"] if params else [], total)
        return SiteSelection(total, total_pages, counts, items)

    # -- relevance -----------------------------------------------------------------------------
    def _by_relevance(self, docs: list[dict[str, Any]], total: int) -> list[SiteItem]:
        r = self.request
        top: dict[str, list[tuple[float, int]]] = {}
        for d in docs:
            top.setdefault(str(d["item"]), []).append((float(d.get("score") or 0.0), int(d["n"])))
        ranked = list(top)  # insertion order = best page first
        end = min(r.start + r.size, total)
        shown = ranked[r.start:end]
        facet: dict[str, Any] = {}
        if shown:
            self.params["items_shown"] = SEP.join(shown)
            facet["shown"] = self._items_facet(f"{{!terms f=item separator='{SEP}' v=$items_shown}}", -1)
        offset = max(0, r.start - len(ranked))
        limit = end - max(r.start, len(ranked))
        if limit > 0:
            rest = self._items_facet(None, limit, offset)
            if ranked:
                self.params["items_ranked"] = SEP.join(ranked)
                rest["domain"] = {"filter": f"*:* -{{!terms f=item separator='{SEP}' v=$items_ranked}}"}
            facet["rest"] = rest
        if not facet:
            return []
        facets = self._select(facet).get("facets") or {}
        pages = {str(b["val"]): b for b in _buckets(facets, "shown")}
        out = [self._item(i, pages[i], top.get(i, [])) for i in shown if i in pages]
        out += [self._item(str(b["val"]), b, []) for b in _buckets(facets, "rest")]
        return out

    # -- date ----------------------------------------------------------------------------------
    def _by_date(self, years: list[dict[str, Any]], total: int) -> list[SiteItem]:
        """The page's items by date: the years it falls in, from the items counted per year;
        then those years' items, ordered as the catalog dates them."""
        r = self.request
        groups: list[tuple[int | None, int]] = [(int(b["val"]), int(b.get("items") or 0)) for b in years]
        groups.sort(key=lambda g: r.by_date * (g[0] or 0))
        undated = total - sum(n for _, n in groups)
        if undated > 0:
            groups.append((None, undated))
        end = min(r.start + r.size, total)
        base, position, wanted = None, 0, []
        for year, n in groups:
            if position + n > r.start and position < end:
                if base is None:
                    base = position
                wanted.append(year)
            position += n
        if base is None:
            return []
        dated = [y for y in wanted if y is not None]
        facet: dict[str, Any] = {}
        if dated:
            facet["dated"] = {"type": "terms", "field": "item", "limit": -1,
                              "domain": {"filter": f"year:[{min(dated)} TO {max(dated)}]"}}
        if None in wanted:
            facet["undated"] = {"type": "terms", "field": "item", "limit": -1, "domain": {"filter": UNDATED}}
        facets = self._select(facet).get("facets") or {}
        matching = {str(b["val"]): int(b["count"]) for name in ("dated", "undated") for b in _buckets(facets, name)}
        known = self.catalog.items
        ordered = sorted((i for i in matching if i in known),
                         key=lambda i: date_key(known[i], r.by_date, matching[i]))
        on_page = ordered[r.start - base:end - base]
        if not on_page:
            return []
        self.params["items_shown"] = SEP.join(on_page)
        facets = self._select({"shown": self._items_facet(f"{{!terms f=item separator='{SEP}' v=$items_shown}}", -1)}
                              ).get("facets") or {}
        pages = {str(b["val"]): b for b in _buckets(facets, "shown")}
        return [self._item(i, pages[i], []) for i in on_page if i in pages]

    # -- shared --------------------------------------------------------------------------------
    def _items_facet(self, domain_filter: str | None, limit: int, offset: int = 0) -> dict[str, Any]:
        """Items (most matching pages first, then by id) with their first matching page numbers."""
        facet: dict[str, Any] = {"type": "terms", "field": "item", "limit": limit, "offset": offset,
                                 "sort": "count desc",
                                 "facet": {"pages": {"type": "terms", "field": "n", "sort": "index asc",
                                                     "limit": 2 * self.request.pages_per_item}}}
        if domain_filter:
            facet["domain"] = {"filter": domain_filter}
        return facet

    @staticmethod
    def _item(item_id: str, bucket: dict[str, Any], top: list[tuple[float, int]]) -> SiteItem:
        first = [int(b["val"]) for b in _buckets(bucket, "pages")]
        return SiteItem(item_id, int(bucket["count"]), top, first)
