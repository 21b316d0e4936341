"""Full-text search over OCR: the index (Whoosh or SolrCloud, behind :mod:`server.search.engines`),
IIIF Content Search 1.0/2.0 with autocomplete inside an item, and a site-wide search for researchers.

Write side (ingest): :class:`SearchIndexWriter` with :class:`IndexedItem` / :class:`IndexedPage`
(:mod:`server.search.ingest` builds an IndexedItem from a holdings item).
Read side (web): :func:`service_for` a generation folder → :class:`SearchService`;
:func:`site_search`; the blueprint ``server.search.views.search``; :func:`search_services` for
manifests. Nothing above :mod:`server.search.engines` knows which engine answers
(:mod:`server.search.whoosh`, :mod:`server.search.solr`).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from server.search.model import Hit, HitPart, IndexedItem, IndexedPage, ItemSearch
from server.search.service import SearchService, service_for
from server.search.site import SiteQuery, SiteResults, site_search
from server.search.urls import MANIFEST_CONTEXTS, search_services

if TYPE_CHECKING:
    from server.search.writer import SearchIndexWriter


def __getattr__(name: str) -> Any:
    """The write side is loaded by ingest only: the server never imports the writer."""
    if name == "SearchIndexWriter":
        from server.search.writer import SearchIndexWriter
        return SearchIndexWriter
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "MANIFEST_CONTEXTS",
    "Hit",
    "HitPart",
    "IndexedItem",
    "IndexedPage",
    "ItemSearch",
    "SearchIndexWriter",
    "SearchService",
    "SiteQuery",
    "SiteResults",
    "search_services",
    "service_for",
    "site_search",
]
