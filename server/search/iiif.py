"""Content Search 1.0 and 2.0 responses, built from one internal hit model (pure: no Flask).

One hit = consecutive matching words on one page. It becomes one annotation per physical line it
touches (a phrase across a line break, or a hyphenated word, gives two), targeting
``canvas#xywh=x,y,w,h`` with integers: the union of the hit's word pieces on that line. Universal
Viewer parses exactly that string form, so ``on``/``target`` are never objects.
"""
from __future__ import annotations

from typing import Any

from server.search.model import Hit, ItemSearch
from server.search.urls import PRESENTATION2_CONTEXT, SEARCH1_CONTEXT, SEARCH2_CONTEXT, SearchUrls

IGNORABLE = ("motivation", "date", "user")
"""Parameters the specs define that this server does not implement: reported in ``ignored``."""


def ignored_parameters(args: Any) -> list[str]:
    """The spec-defined parameters present in a request that we did not take into account."""
    return [p for p in IGNORABLE if p in args]


def _paging(urls: SearchUrls, version: int, result: ItemSearch) -> dict[str, str | None]:
    last = result.last_page
    return {
        "first": urls.search_query(version, result.item_id, result.q, 1),
        "last": urls.search_query(version, result.item_id, result.q, last),
        "next": urls.search_query(version, result.item_id, result.q, result.page + 1) if result.page < last else None,
        "prev": (urls.search_query(version, result.item_id, result.q, min(result.page - 1, last))
                 if result.page > 1 else None),
        "self": urls.search_query(version, result.item_id, result.q, result.page),
    }


def search_v1(urls: SearchUrls, result: ItemSearch, ignored: list[str]) -> dict[str, Any]:
    """A Content Search 1.0 ``sc:AnnotationList`` with ``hits`` (what Mirador and UV read)."""
    links = _paging(urls, 1, result)
    within: dict[str, Any] = {"@type": "sc:Layer", "total": result.total_hits,
                              "first": links["first"], "last": links["last"]}
    if ignored:
        within["ignored"] = ignored
    doc: dict[str, Any] = {"@context": [PRESENTATION2_CONTEXT, SEARCH1_CONTEXT], "@id": links["self"],
                           "@type": "sc:AnnotationList", "within": within}
    if links["next"]:
        doc["next"] = links["next"]
    if links["prev"]:
        doc["prev"] = links["prev"]
    doc["startIndex"] = result.start_hit
    resources: list[dict[str, Any]] = []
    hits: list[dict[str, Any]] = []
    for hit in result.hits:
        ids = []
        for part in hit.parts:
            anno_id = urls.annotation_id(1, hit.item_id, hit.key, part.line)
            ids.append(anno_id)
            resources.append({
                "@id": anno_id, "@type": "oa:Annotation", "motivation": "sc:painting",
                "resource": {"@type": "cnt:ContentAsText", "chars": part.text},
                "on": urls.target(hit.item_id, hit.n, part.box, hit.canvas_width, hit.canvas_height),
            })
        entry: dict[str, Any] = {"@type": "search:Hit", "annotations": ids, "match": hit.match}
        if hit.before:
            entry["before"] = hit.before
        if hit.after:
            entry["after"] = hit.after
        hits.append(entry)
    doc["resources"] = resources
    doc["hits"] = hits
    return doc


def search_v2(urls: SearchUrls, result: ItemSearch, ignored: list[str]) -> dict[str, Any]:
    """A Content Search 2.0 ``AnnotationPage``: painting annotations in ``items``, and in
    ``annotations`` one ``contextualizing`` annotation per hit, whose TextQuoteSelectors give the
    matched text with its prefix and suffix, across every line annotation of the hit."""
    links = _paging(urls, 2, result)
    collection = urls.search_query(2, result.item_id, result.q)
    doc: dict[str, Any] = {
        "@context": SEARCH2_CONTEXT, "id": links["self"], "type": "AnnotationPage",
        "partOf": {"id": collection, "type": "AnnotationCollection", "total": result.total_annotations,
                   "first": {"id": links["first"], "type": "AnnotationPage"},
                   "last": {"id": links["last"], "type": "AnnotationPage"}},
    }
    if links["next"]:
        doc["next"] = {"id": links["next"], "type": "AnnotationPage"}
    if links["prev"]:
        doc["prev"] = {"id": links["prev"], "type": "AnnotationPage"}
    doc["startIndex"] = result.start_annotation
    if ignored:
        doc["ignored"] = ignored
    items: list[dict[str, Any]] = []
    matches: list[dict[str, Any]] = []
    for hit in result.hits:
        targets = []
        for i, part in enumerate(hit.parts):
            anno_id = urls.annotation_id(2, hit.item_id, hit.key, part.line)
            items.append({
                "id": anno_id, "type": "Annotation", "motivation": "painting",
                "body": {"type": "TextualBody", "value": part.text, "format": "text/plain"},
                "target": urls.target(hit.item_id, hit.n, part.box, hit.canvas_width, hit.canvas_height),
            })
            targets.append({"type": "SpecificResource", "source": anno_id,
                            "selector": [_quote(hit, part.text, i == 0, i == len(hit.parts) - 1)]})
        matches.append({"id": urls.match_id(2, hit.item_id, hit.key), "type": "Annotation",
                        "motivation": "contextualizing", "target": targets[0] if len(targets) == 1 else targets})
    doc["items"] = items
    doc["annotations"] = [{
        "id": urls.matches_query(result.item_id, result.q, result.page), "type": "AnnotationPage",
        "partOf": {"id": urls.matches_query(result.item_id, result.q), "type": "AnnotationCollection",
                   "total": result.total_hits},
        "items": matches,
    }]
    return doc


def _quote(hit: Hit, exact: str, first: bool, last: bool) -> dict[str, str]:
    selector = {"type": "TextQuoteSelector"}
    if first and hit.before:
        selector["prefix"] = hit.before
    selector["exact"] = exact
    if last and hit.after:
        selector["suffix"] = hit.after
    return selector


def autocomplete_v1(urls: SearchUrls, item_id: str, request_url: str, terms: list[tuple[str, int]],
                    ignored: list[str]) -> dict[str, Any]:
    doc: dict[str, Any] = {"@context": SEARCH1_CONTEXT, "@id": request_url, "@type": "search:TermList"}
    if ignored:
        doc["ignored"] = ignored
    doc["terms"] = [{"match": value, "url": urls.search_query(1, item_id, value), "count": count}
                    for value, count in terms]
    return doc


def autocomplete_v2(request_url: str, terms: list[tuple[str, int]], ignored: list[str]) -> dict[str, Any]:
    doc: dict[str, Any] = {"@context": SEARCH2_CONTEXT, "id": request_url, "type": "TermPage"}
    if ignored:
        doc["ignored"] = ignored
    doc["items"] = [{"value": value, "total": count} for value, count in terms]
    return doc
