"""Serves the pre-built Presentation 3.0 JSON of the current generation.

The files under ``manifests/<generation>/iiif/`` are written at ingest with ids from the configured
public base URL, so a front web server can serve them as they are. When this app is reached under
another base URL (no HERITAGE_BASE_URL set, or a proxy), the ids are rewritten on the way out.
"""
from __future__ import annotations

import hashlib
import os

from flask import Blueprint, Response

from ..errors import NotFound
from ..headers import OCR_MEDIA_TYPES, PRESENTATION3_PROFILE, TEXT
from ..http import base_url, cacheable, json_content_type
from ..ids import is_safe_id
from ..publication import required_publication

presentation = Blueprint("presentation", __name__, url_prefix="/iiif/3")



def send_document(relative: str, what: str, media_type: str | None = None) -> Response:
    """Send one pre-built file of the current generation, with the ids rebased to this request.

    The entity tag names the file's identity (inode, size, mtime), not the generation: an unchanged
    document is the same file in the next generation (a content-addressed object or a hard link),
    so after a re-ingest a cache's revalidation of it is a 304, and only what changed is sent again
    (no device number: nodes that mount the data folder over NFS see other ones, and must agree)."""
    pub = required_publication()
    path = pub.iiif_file(relative)
    try:
        with open(path, "rb") as f:
            st = os.fstat(f.fileno())
            body = f.read()
    except OSError:
        raise NotFound(f"no {what}") from None
    baked, here = pub.baked_base_url, base_url()
    if media_type is None:
        if baked and baked != here:
            body = body.replace(f'"{baked}/'.encode(), f'"{here}/'.encode())
            body = body.replace(f'"{baked}"'.encode(), f'"{here}"'.encode())
        content_type = json_content_type(PRESENTATION3_PROFILE)
    else:
        content_type = media_type
    response = Response(body, content_type=content_type)
    etag = hashlib.sha1(f"{st.st_ino}|{st.st_size}|{st.st_mtime_ns}|{relative}|{baked}|{here}".encode())
    return cacheable(response, etag.hexdigest(), st.st_mtime, vary_accept=media_type is None)


def _safe(value: str, what: str) -> str:
    if not is_safe_id(value):
        raise NotFound(f"no {what} {value!r}")
    return value


@presentation.route("/collection/<coll_id>")
def collection(coll_id: str) -> Response:
    return send_document(f"3/collection/{_safe(coll_id, 'collection')}.json", f"collection {coll_id!r}")


@presentation.route("/collection/<coll_id>/page/<int:page>")
def collection_page(coll_id: str, page: int) -> Response:
    return send_document(f"3/collection/{_safe(coll_id, 'collection')}/page/{page}.json",
                         f"page {page} of collection {coll_id!r}")


@presentation.route("/collection/<coll_id>/<int:year>")
def collection_year(coll_id: str, year: int) -> Response:
    return send_document(f"3/collection/{_safe(coll_id, 'collection')}/{year:04d}.json",
                         f"year {year} of collection {coll_id!r}")


@presentation.route("/collection/<coll_id>/<int:year>/page/<int:page>")
def collection_year_page(coll_id: str, year: int, page: int) -> Response:
    return send_document(f"3/collection/{_safe(coll_id, 'collection')}/{year:04d}/page/{page}.json",
                         f"page {page} of year {year} of collection {coll_id!r}")


@presentation.route("/<item_id>/manifest")
def manifest(item_id: str) -> Response:
    return send_document(f"3/{_safe(item_id, 'item')}/manifest.json", f"item {item_id!r}")


@presentation.route("/<item_id>/canvas/<int:n>")
def canvas(item_id: str, n: int) -> Response:
    return send_document(f"3/{_safe(item_id, 'item')}/canvas/{n}.json", f"canvas {n} of item {item_id!r}")


@presentation.route("/<item_id>/range/<range_id>")
def range_(item_id: str, range_id: str) -> Response:
    return send_document(f"3/{_safe(item_id, 'item')}/range/{_safe(range_id, 'range')}.json",
                         f"range {range_id!r} of item {item_id!r}")


@presentation.route("/<item_id>/ocr/<int:n>")
def ocr(item_id: str, n: int) -> Response:
    pub = required_publication()
    page = pub.catalog.page(_safe(item_id, "item"), n)
    if page is None or not page.ocr_format:
        raise NotFound(f"no OCR for page {n} of item {item_id!r}")
    fmt = page.ocr_format
    return send_document(f"3/{item_id}/ocr/{n}.{ 'xml' if fmt == 'alto' else 'hocr'}", "OCR file", OCR_MEDIA_TYPES[fmt])


@presentation.route("/<item_id>/text.txt")
def text(item_id: str) -> Response:
    return send_document(f"3/{_safe(item_id, 'item')}/text.txt", f"text of item {item_id!r}",
                         TEXT)


@presentation.route("/<item_id>/item.pdf")
def pdf(item_id: str) -> Response:
    from .item_pdf import send_item_pdf
    return send_item_pdf(required_publication(), _safe(item_id, "item"))
