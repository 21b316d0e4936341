"""Read side of the Solr engine: one generation = the item versions its description lists."""
from __future__ import annotations

from typing import Any

from server.search.engines import Catalog, EngineSettings, Expand, SiteRequest, SiteSelection
from server.search.facets import select
from server.search.query import Node
from server.search.solr.client import SolrClient
from server.search.solr.query import EVERYTHING, to_solr

VERSION = "solr"
"""Key of an item's version in its entry of the generation's description."""
FACETS_KEY = "solr_facets"
"""Key of the facet values an item's documents carry, in its entry (absent: indexed before the
documents carried them, or with other values)."""


def generation_filter(meta: dict[str, Any]) -> str:
    """The documents of one generation: its publication's, indexed by its ingest or before, less
    the item versions that were on disk then and that it does not list (replaced or removed items).
    Short whatever the archive's size; ingests that started later (running, failed or killed)
    are after ``solr_seq``, and earlier failed ones were collected before this one indexed."""
    pub, seq = meta.get("solr_pub"), meta.get("solr_seq")
    if not pub or not isinstance(seq, int) or not str(pub).isalnum():
        return "-*:*"
    excluded = [v for v in meta.get("solr_excluded") or [] if str(v).isalnum()]
    out = f"+pub:{pub} +g:[* TO {seq}]"
    return out + (f" -{{!terms f=iv v='{','.join(excluded)}'}}" if excluded else "")


class SolrEngine:
    """:class:`~server.search.engines.SearchEngine` over a SolrCloud collection."""

    def __init__(self, settings: EngineSettings, meta: dict[str, Any]) -> None:
        if not settings.solr_url:
            raise ValueError("this generation was indexed in Solr: set HERITAGE_SOLR_URL")
        self.client = SolrClient(settings.solr_url, str(meta.get("solr_collection") or settings.collection))
        self.languages: tuple[str, ...] = tuple(meta.get("languages") or ())
        items: dict[str, dict[str, Any]] = meta.get("items") or {}
        self.versions = {k: str(v[VERSION]) for k, v in items.items() if v.get(VERSION)}
        self.page_counts = {k: int(v.get("page_count") or 0) for k, v in items.items()}
        self.generation_filter = generation_filter(meta)
        """Cached by Solr's filterCache: the same string for every query of the generation."""
        self.facets_indexed = all(FACETS_KEY in v for v in items.values())
        """Every item's documents carry its facet values: Solr counts the facets and orders the
        items (:mod:`.site`); otherwise the server does, from a count per matching item."""

    def item_filter(self, item_id: str) -> str | None:
        version = self.versions.get(item_id)
        return None if version is None else "{!term f=iv}" + version

    def item_pages(self, item_id: str, tree: Node, expand: Expand) -> list[int]:
        fq = self.item_filter(item_id)
        if fq is None or not self.page_counts.get(item_id):
            return []
        query = to_solr(tree, self.languages, expand, native_prefix=False)
        found = self.client.select({"q": query, "fq": fq, "fl": "n",
                                    "sort": "n asc", "rows": self.page_counts[item_id]})
        return [int(d["n"]) for d in found["response"]["docs"]]

    def site_matches(self, tree: Node | None, expand: Expand, rank_expand: Expand, top: int = 0) -> SolrMatches:
        return SolrMatches(self, None if tree is None else to_solr(tree, self.languages, expand), top)

    def site_search(self, request: SiteRequest, expand: Expand, rank_expand: Expand,
                    catalog: Catalog) -> SiteSelection:
        q = EVERYTHING if request.tree is None else to_solr(request.tree, self.languages, expand)
        if self.facets_indexed:
            from server.search.solr.site import SolrSiteSearch
            return SolrSiteSearch(self, q, request, catalog).run()
        ranking = not request.by_date and not request.narrowed
        return select(SolrMatches(self, q, request.top if ranking else 0), request, catalog)

    def close(self) -> None:
        pass


class SolrMatches:
    """Solr's matches are exact (positions): counts per item from a terms facet on ``item``."""

    def __init__(self, engine: SolrEngine, q: str | None, top: int = 0) -> None:
        self.engine = engine
        self.q = q or EVERYTHING
        params: dict[str, Any] = {
            "q": self.q, "fq": engine.generation_filter, "rows": 0,
            "json.facet": '{"items":{"type":"terms","field":"item","limit":-1,"sort":"index"}}'}
        self._top: tuple[int, list[tuple[str, int, float]]] | None = None
        if top > 0 and self.q != EVERYTHING:  # the unfiltered ranking rides along: one round trip less
            params.update(self._ranking(top))
        found = engine.client.select(params)
        buckets = (found.get("facets") or {}).get("items", {}).get("buckets", [])
        self.counts: dict[str, int] = {str(b["val"]): int(b["count"]) for b in buckets}
        if params["rows"]:
            self._top = (top, self._scored(found))

    @staticmethod
    def _ranking(limit: int) -> dict[str, Any]:
        return {"fl": "item,n,score", "sort": "score desc, item asc, n asc", "rows": limit}

    @staticmethod
    def _scored(found: dict[str, Any]) -> list[tuple[str, int, float]]:
        return [(str(d["item"]), int(d["n"]), float(d.get("score") or 0.0)) for d in found["response"]["docs"]]

    def ranked(self, items: set[str] | None, limit: int) -> list[tuple[str, int, float]]:
        if self.q == EVERYTHING:
            return []
        if items is None and self._top is not None and limit <= self._top[0]:
            return self._top[1][:limit]
        params: dict[str, Any] = {"q": self.q, "fq": [self.engine.generation_filter], **self._ranking(limit)}
        if items is not None:
            if not items:
                return []
            params["fq"].append("{!terms f=item separator='\x1f'}" + "\x1f".join(sorted(items)))
        return self._scored(self.engine.client.select(params))

    def first_pages(self, item_ids: list[str], limit: int) -> dict[str, list[int]]:
        versions = [v for i in item_ids if (v := self.engine.versions.get(i))]
        if not versions:
            return {}
        found = self.engine.client.select({
            "q": self.q, "fq": "{!terms f=iv}" + ",".join(versions), "fl": "item,n", "rows": len(versions),
            "group": "true", "group.field": "item", "group.limit": limit, "group.sort": "n asc", "sort": "item asc"})
        groups = found["grouped"]["item"]["groups"]
        return {str(g["groupValue"]): [int(d["n"]) for d in g["doclist"]["docs"]] for g in groups}
