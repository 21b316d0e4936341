"""HTTP layer of search: Content Search 1.0/2.0 + autocomplete per item, and site-wide search.

Thin: parse arguments, find the published generation, call the pure builders. Errors are raised
as :class:`~server.errors.HeritageError` (rendered as JSON on these routes by the app's handler,
with CORS like every response).
"""
from __future__ import annotations

import hashlib
import sqlite3
from typing import Any

from flask import Blueprint, Response, current_app, render_template, request

from server.errors import BadRequest, NotFound
from server.headers import CACHE_SEARCH
from server.http import base_url, json_response
from server.publication import current_publication, required_publication
from server.search.iiif import autocomplete_v1, autocomplete_v2, ignored_parameters, search_v1, search_v2
from server.search.service import HITS_PER_PAGE, SearchService, service_for
from server.search.site import FACETS, SiteQuery, site_search
from server.search.urls import SEARCH1_CONTEXT, SEARCH2_CONTEXT, SearchUrls, query_string

search = Blueprint("search", __name__)


def _service_and_item(item_id: str) -> tuple[Any, SearchService]:
    pub = required_publication()
    service = service_for(pub.root)
    if not service.has_item(item_id) and not _in_catalog(pub, item_id):
        raise NotFound(f"no item {item_id!r}")
    return pub, service


def _in_catalog(pub: Any, item_id: str) -> bool:
    """Published items without OCR may be missing from the index: still searchable (no hits)."""
    try:
        return pub.catalog.has_item(item_id)
    except (sqlite3.Error, AttributeError):
        return False


def _page_arg() -> int:
    raw = request.args.get("page", "1")
    try:
        page = int(raw)
    except ValueError:
        raise BadRequest("must be a positive integer", parameter="page") from None
    if page < 1 or page > 1_000_000:
        raise BadRequest("must be a positive integer", parameter="page")
    return page


def _respond(pub: Any, doc: Any, profile: str) -> Response:
    # the body depends on the generation, the request and the public base URL (ids are absolute)
    tag = hashlib.sha1(f"{pub.root.name}\0{base_url()}\0{request.full_path}".encode()).hexdigest()[:20]
    try:
        mtime = pub.root.stat().st_mtime
    except OSError:
        mtime = None
    return json_response(doc, profile, tag, mtime, cache_control=CACHE_SEARCH)


def _search(version: int, item_id: str) -> Response:
    pub, service = _service_and_item(item_id)
    q = request.args.get("q", "")
    page_size = int(current_app.config.get("SEARCH_HITS_PER_PAGE", HITS_PER_PAGE))
    result = service.search_item(item_id, q, _page_arg(), page_size)
    urls = SearchUrls(base_url())
    ignored = ignored_parameters(request.args)
    if version == 1:
        return _respond(pub, search_v1(urls, result, ignored), SEARCH1_CONTEXT)
    return _respond(pub, search_v2(urls, result, ignored), SEARCH2_CONTEXT)


def _autocomplete(version: int, item_id: str) -> Response:
    pub, service = _service_and_item(item_id)
    q = request.args.get("q")
    if q is None or not q.strip():
        raise BadRequest("q is required", parameter="q")
    raw_min = request.args.get("min", "1")
    try:
        minimum = int(raw_min)
    except ValueError:
        raise BadRequest("must be a positive integer", parameter="min") from None
    if minimum < 1:
        raise BadRequest("must be a positive integer", parameter="min")
    terms = service.autocomplete(item_id, q, minimum)
    urls = SearchUrls(base_url())
    own = f"{urls.autocomplete(version, item_id)}?{query_string({'q': q, 'min': request.args.get('min')})}"
    ignored = ignored_parameters(request.args)
    if version == 1:
        return _respond(pub, autocomplete_v1(urls, item_id, own, terms, ignored), SEARCH1_CONTEXT)
    return _respond(pub, autocomplete_v2(own, terms, ignored), SEARCH2_CONTEXT)


@search.get("/iiif/search/1/<item_id>")
def search_1(item_id: str) -> Response:
    return _search(1, item_id)


@search.get("/iiif/search/2/<item_id>")
def search_2(item_id: str) -> Response:
    return _search(2, item_id)


@search.get("/iiif/search/1/<item_id>/autocomplete")
def autocomplete_1(item_id: str) -> Response:
    return _autocomplete(1, item_id)


@search.get("/iiif/search/2/<item_id>/autocomplete")
def autocomplete_2(item_id: str) -> Response:
    return _autocomplete(2, item_id)


def run_site_search(args: Any, language: str | None = None) -> tuple[Any, SiteQuery, Any]:
    """``(results, query, urls)`` for request arguments: what the JSON view and HTML pages render.
    ``language``: of the words we add (page labels); the publication's default language if None."""
    query = SiteQuery.from_args(args)
    language = language or current_app.config["SETTINGS"].default_language
    urls = SearchUrls(base_url())
    pub = current_publication()
    if pub is None:
        from server.search.site import SiteResults
        return SiteResults(query, 0, 0, [], {}), query, urls
    return site_search(service_for(pub.root), urls, query, language), query, urls


@search.get("/search.json")
def site_json() -> Response:
    results, _, urls = run_site_search(request.args)
    # an app.response_class at run time; flask types its JSON provider's result as werkzeug's sansio base class
    response: Response = current_app.json.response(results.to_json(urls))  # type: ignore[assignment]
    response.headers["Cache-Control"] = CACHE_SEARCH
    return response


def facet_toggle(query: SiteQuery, name: str, value: str) -> dict[str, Any]:
    """Parameters of the same search with one facet value chosen or unchosen (back to page 1)."""
    current = list(query.filters.get(name, ()))
    chosen = [v for v in current if v != value] if value in current else [*current, value]
    filters = {**{k: list(v) for k, v in query.filters.items()}, name: chosen}
    return query.params(page=None, **filters)


@search.get("/search")
def site_html() -> str:
    from server.web.i18n import select_locale
    results, query, urls = run_site_search(request.args, select_locale())

    def link(params: dict[str, Any]) -> str:
        return f"{urls.site_search_page()}?{query_string(params)}"
    return render_template("search.html", results=results, query=query, urls=urls, facets=FACETS, link=link,
                           toggle=lambda name, value: link(facet_toggle(query, name, value)),
                           page_link=lambda n: link(query.params(page=None if n == 1 else n)))
