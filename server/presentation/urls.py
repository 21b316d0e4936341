"""Every IIIF id is an absolute URL built here from one public base URL (DESIGN.md, "Identifiers and URLs").

Keeping the URL scheme in one class means the manifests, the views' routes and the static
exporter cannot disagree about where a canvas or an image service lives.
"""
from __future__ import annotations

import math
from urllib.parse import quote, urlsplit


def _seg(value: str) -> str:
    """One path segment: ids are URL-safe already, image ids from ingest may not be."""
    return quote(value, safe="-_.~")


def year_collection_id(coll_id: str, year: int) -> str:
    """The id of the sub-collection holding a serial's issues of one year."""
    return f"{coll_id}/{year:04d}"


class Urls:
    """Absolute URLs of everything the server publishes, from the public base URL.

    ``thumbnail_box``: thumbnails are the largest power-of-two reduction of the image that fits
    in a box of this many pixels, i.e. one of the sizes an image pyramid serves (and its
    info.json can advertise) without resampling from the master.
    """

    def __init__(self, base_url: str, thumbnail_box: int = 400) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"the public base URL must be absolute (http or https), not {base_url!r}")
        self.base = base_url.rstrip("/")
        self.thumbnail_box = thumbnail_box

    # pages for people
    def site(self) -> str:
        return f"{self.base}/"

    def item_page(self, item_id: str) -> str:
        return f"{self.base}/item/{_seg(item_id)}"

    # Presentation API
    def collection(self, coll_id: str) -> str:
        """``coll_id`` may be a path: a serial's year is the sub-collection ``{id}/{year}``."""
        return f"{self.base}/iiif/3/collection/{'/'.join(_seg(part) for part in coll_id.split('/'))}"

    def collection_year(self, coll_id: str, year: int) -> str:
        return self.collection(year_collection_id(coll_id, year))

    def collection_page(self, coll_id: str, page: int) -> str:
        return f"{self.collection(coll_id)}/page/{page}"

    def manifest(self, item_id: str) -> str:
        return f"{self.base}/iiif/3/{_seg(item_id)}/manifest"

    def canvas(self, item_id: str, n: int) -> str:
        return f"{self.base}/iiif/3/{_seg(item_id)}/canvas/{n}"

    def annotation_page(self, item_id: str, n: int) -> str:
        return f"{self.canvas(item_id, n)}/page/1"

    def annotation(self, item_id: str, n: int) -> str:
        return f"{self.canvas(item_id, n)}/annotation/1"

    def range(self, item_id: str, range_id: str) -> str:
        return f"{self.base}/iiif/3/{_seg(item_id)}/range/{_seg(range_id)}"

    def text(self, item_id: str) -> str:
        return f"{self.base}/iiif/3/{_seg(item_id)}/text.txt"

    def pdf(self, item_id: str) -> str:
        return f"{self.base}/iiif/3/{_seg(item_id)}/item.pdf"

    def ocr(self, item_id: str, n: int) -> str:
        return f"{self.base}/iiif/3/{_seg(item_id)}/ocr/{n}"

    # Image API
    def image_service(self, image_id: str) -> str:
        return f"{self.base}/iiif/3/image/{_seg(image_id)}"

    def image(self, image_id: str) -> str:
        return f"{self.image_service(image_id)}/full/max/0/default.jpg"

    def thumbnail(self, image_id: str, width: int, height: int) -> str:
        return f"{self.image_service(image_id)}/full/{width},{height}/0/default.jpg"

    def thumbnail_size(self, width: int, height: int) -> tuple[int, int]:
        """Size of the pyramid level that fits the thumbnail box (ceil, as Image API sizes are)."""
        factor = 1
        while math.ceil(width / factor) > self.thumbnail_box or math.ceil(height / factor) > self.thumbnail_box:
            factor *= 2
        return math.ceil(width / factor), math.ceil(height / factor)
