"""URLs of the search services, and the IIIF URLs search results point at.

IIIF ids (canvas, manifest, image service, item page) come from :class:`server.presentation.urls.Urls`
so that search results and manifests cannot disagree.
"""
from __future__ import annotations

from urllib.parse import quote, urlencode

from server.ocr.model import Box
from server.presentation.urls import Urls

SEARCH1_PROFILE = "http://iiif.io/api/search/1/search"
AUTOCOMPLETE1_PROFILE = "http://iiif.io/api/search/1/autocomplete"
SEARCH1_CONTEXT = "http://iiif.io/api/search/1/context.json"
SEARCH2_CONTEXT = "http://iiif.io/api/search/2/context.json"
PRESENTATION2_CONTEXT = "http://iiif.io/api/presentation/2/context.json"


def _seg(value: str) -> str:
    return quote(value, safe="-_.~")


def image_id(item_id: str, n: int) -> str:
    """The public Image API identifier of a page (the catalog's convention)."""
    return f"{item_id}~{n}"


def query_string(params: dict[str, object]) -> str:
    clean = {k: v for k, v in params.items() if v is not None and v != ""}
    return urlencode(clean, doseq=True, quote_via=quote)


class SearchUrls(Urls):
    """:class:`Urls` plus the search endpoints."""

    def search(self, version: int, item_id: str) -> str:
        return f"{self.base}/iiif/search/{version}/{_seg(item_id)}"

    def search_query(self, version: int, item_id: str, q: str, page: int | None = None) -> str:
        return f"{self.search(version, item_id)}?{query_string({'q': q, 'page': page})}"

    def matches_query(self, item_id: str, q: str, page: int | None = None) -> str:
        """Id of the 2.0 ``annotations`` page/collection (distinct from the results' own, as the spec asks)."""
        return f"{self.search(2, item_id)}/matches?{query_string({'q': q, 'page': page})}"

    def autocomplete(self, version: int, item_id: str) -> str:
        return f"{self.search(version, item_id)}/autocomplete"

    def annotation_id(self, version: int, item_id: str, key: str, line: int) -> str:
        return f"{self.search(version, item_id)}/annotation/{key}-{line}"

    def match_id(self, version: int, item_id: str, key: str) -> str:
        return f"{self.search(version, item_id)}/match/{key}"

    def target(self, item_id: str, n: int, box: Box | None, width: int, height: int) -> str:
        """``canvas#xywh=x,y,w,h`` with integers; the whole canvas when the words had no box."""
        x, y, w, h = box if box else (0, 0, width, height)
        return f"{self.canvas(item_id, n)}#xywh={int(x)},{int(y)},{int(w)},{int(h)}"

    def site_search_json(self) -> str:
        return f"{self.base}/search.json"

    def site_search_page(self) -> str:
        return f"{self.base}/search"

    def item_hit(self, item_id: str, n: int, q: str) -> str:
        """The public item page opened at a canvas, with the query to highlight."""
        return f"{self.item_page(item_id)}?{query_string({'canvas': n, 'q': q})}"

    def item_state(self, item_id: str, state: str, q: str = "") -> str:
        """The public item page opened at a IIIF Content State (``iiif-content``), the query highlighted."""
        return f"{self.item_page(item_id)}?{query_string({'iiif-content': state, 'q': q})}"

    def page_thumbnail(self, item_id: str, n: int, width: int, height: int) -> str:
        tw, th = self.thumbnail_size(width, height)
        return self.thumbnail(image_id(item_id, n), tw, th)

    def crop(self, item_id: str, n: int, region: Box, max_width: int = 800, max_height: int = 240) -> str:
        """An Image API URL of a region, scaled down (never up) to fit ``max_width`` × ``max_height``."""
        x, y, w, h = region
        scale = min(1.0, max_width / w, max_height / h)
        size = f"{max(1, int(w * scale))},"
        return f"{self.image_service(image_id(item_id, n))}/{x},{y},{w},{h}/{size}/0/default.jpg"


def search_services(base_url: str, item_id: str) -> list[dict[str, object]]:
    """What a manifest's top-level ``service`` list carries for search within the item.

    Mirador 3/4 and Universal Viewer 4 find search only by the 1.0 profile (and parse 1.0
    responses only), so the 1.0 service comes first; the 2.0 service sits beside it.
    """
    urls = SearchUrls(base_url)
    return [
        {"@context": SEARCH1_CONTEXT, "@id": urls.search(1, item_id), "@type": "SearchService1",
         "profile": SEARCH1_PROFILE,
         "service": [{"@id": urls.autocomplete(1, item_id), "@type": "AutoCompleteService1",
                      "profile": AUTOCOMPLETE1_PROFILE}]},
        {"id": urls.search(2, item_id), "type": "SearchService2",
         "service": [{"id": urls.autocomplete(2, item_id), "type": "AutoCompleteService2"}]},
    ]


MANIFEST_CONTEXTS = [SEARCH2_CONTEXT]
"""Extension contexts a manifest declaring :func:`search_services` lists before the Presentation context."""
