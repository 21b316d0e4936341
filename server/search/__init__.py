"""Full-text search over OCR: the index (Whoosh, behind this small interface), IIIF Content Search
1.0/2.0 with autocomplete inside an item, and a site-wide search for researchers.

Write side (ingest): :class:`SearchIndexWriter` with :class:`IndexedItem` / :class:`IndexedPage`
(:mod:`server.search.ingest` builds an IndexedItem from a holdings item).
Read side (web): :func:`service_for` a generation folder → :class:`SearchService`;
:func:`site_search`; the blueprint ``server.search.views.search``; :func:`search_services` for
manifests. Nothing outside this package touches Whoosh, so another engine could replace it here.
"""
from __future__ import annotations

from server.search.model import Hit, HitPart, IndexedItem, IndexedPage, ItemSearch
from server.search.service import SearchService, service_for
from server.search.site import SiteQuery, SiteResults, site_search
from server.search.urls import MANIFEST_CONTEXTS, search_services
from server.search.writer import SearchIndexWriter

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
