"""The public pages: home, collections, item, embed, sitemap.xml, robots.txt.

Thin views: read the catalog (``catalog.py``), describe the manifest (``describe.py``), choose the
viewer options (``viewer.py``) and render a template. Site navigation links are relative to the
application (``url_for``); IIIF resources, canonical and social-card URLs are absolute, from the
same public base URL as every IIIF id.
"""
from __future__ import annotations

import hashlib
import json
from typing import Any
from xml.sax.saxutils import escape as xml_escape

from flask import (
    Blueprint,
    Response,
    current_app,
    g,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from markupsafe import escape

from ..errors import BadRequest, NotFound
from ..headers import CACHE_PAGES, HTML, JSON, PRESENTATION3_PROFILE, TEXT, XML
from ..http import base_url, json_response
from ..ids import is_safe_id
from ..presentation.urls import Urls
from ..publication import current_publication, required_publication
from . import catalog, contentstate, describe, issue_calendar, pagetext, viewer
from .i18n import gettext, pick_one, select_locale

web = Blueprint("web", __name__, static_folder="static", static_url_path="/static")

RECENT_ITEMS = 8
FEATURED_MIN = 3
FEATURED_MAX = 12
MAX_QUERY = 200
SITEMAP_LIMIT = 50_000
OG_BOX = 800


def urls(box: int = 400) -> Urls:
    return Urls(base_url(), thumbnail_box=box)


def absolute_url(endpoint: str, **values: Any) -> str:
    """An absolute URL for one of our pages: the public base already holds the mount point (SCRIPT_NAME),
    which ``url_for`` adds too, so it is taken off the path once."""
    path = url_for(endpoint, **values)
    root = request.script_root
    if root and path.startswith(root):
        path = path[len(root):]
    return base_url() + path


def _int_arg(name: str, default: int | None = None, low: int = 1, high: int = 10**9) -> int | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest("must be a whole number", parameter=name) from None
    if not low <= value <= high:
        raise BadRequest(f"must be between {low} and {high}", parameter=name)
    return value


def _html(body: str, status: int = 200) -> Response:
    response = Response(body, status=status, content_type=HTML)
    response.headers["Cache-Control"] = CACHE_PAGES
    response.vary.update(("Accept-Language", "Cookie"))
    return response


# --------------------------------------------------------------------------- home and collections


@web.get("/")
def home() -> Response:
    pub = current_publication()
    featured: list[catalog.CollectionNode] = []
    recent: list[catalog.ItemSummary] = []
    total = 0
    if pub is not None:
        tree = catalog.tree(pub)
        featured = [tree.nodes[r] for r in tree.roots]
        if len(featured) < FEATURED_MIN:  # a single fonds: show what it holds instead
            featured = [c for node in featured for c in (node.children or [node])]
        featured = featured[:FEATURED_MAX]
        recent = catalog.recent(pub, RECENT_ITEMS)
        total = sum(tree.nodes[r].item_count for r in tree.roots)
    return _html(render_template("home.html", featured=featured, recent=recent, total=total,
                                 published=pub is not None, active_page="home"))


@web.get("/collections")
def collections() -> Response:
    pub = required_publication()
    tree = catalog.tree(pub)
    return _html(render_template("collections.html", roots=[tree.nodes[r] for r in tree.roots],
                                 active_page="collections"))


@web.get("/collection/<coll_id>")
def collection(coll_id: str) -> Response:
    pub = required_publication()
    tree = catalog.tree(pub)
    node = tree.nodes.get(coll_id) if is_safe_id(coll_id) else None
    if node is None:
        raise NotFound(f"no collection {coll_id!r}")
    serial = catalog.is_serial(pub, coll_id)
    year = _int_arg("year", None, 1, 9999) if serial else None
    month = _int_arg("month", None, 1, 12) if serial and year is not None else None
    page = _int_arg("page", 1) or 1
    size = max(1, current_app.config["SETTINGS"].web_page_size)
    total, items = catalog.items_in(pub, coll_id, (page - 1) * size, size, year, month)
    pages = max(1, -(-total // size))
    if page > pages:
        raise NotFound(f"no page {page} in collection {coll_id!r}")
    years = catalog.years(pub, coll_id) if serial else []
    months = catalog.months(pub, coll_id, year) if serial and year is not None else []
    days = issue_calendar.year_calendar(pub, coll_id, year) if serial and year is not None else []

    def page_link(n: int) -> str:
        return url_for("web.collection", coll_id=coll_id, page=n if n > 1 else None, year=year, month=month,
                       lang=request.args.get("lang"))
    return _html(render_template(
        "collection.html", node=node, ancestors=tree.ancestors(coll_id), items=items, total=total,
        page=page, pages=pages, page_link=page_link, serial=serial, years=years, months=months,
        year=year, month=month, canonical=absolute_url("web.collection", coll_id=coll_id),
        calendar=days, weekdays=issue_calendar.weekday_names(select_locale()) if days else [],
        active_page="collections"))


# --------------------------------------------------------------------------- item


def _item_context(item_id: str, embedded: bool = False) -> dict[str, Any]:
    pub = required_publication()
    item = catalog.item(pub, item_id)
    if item is None:
        raise NotFound(f"no item {item_id!r}")
    pages = catalog.pages(pub, item_id)
    if not pages:
        raise NotFound(f"item {item_id!r} has no pages")
    state = _content_state()
    canvas = _int_arg("canvas", None, 1) or (state.canvas if state else None) or pages[0].n
    by_n = {p.n: p for p in pages}
    if canvas not in by_n:
        raise NotFound(f"item {item_id!r} has no page {canvas}")
    region = state.region if state and state.canvas == canvas else None
    query = request.args.get("q", "").strip()[:MAX_QUERY]
    manifest = catalog.manifest(pub, item_id)
    settings = current_app.config["SETTINGS"]
    u = urls()
    index = [p.n for p in pages].index(canvas)
    assets = viewer.assets(settings.viewer, settings.viewer_url, settings.viewer_css_url, request.script_root)
    options = viewer.options(assets.kind, u.manifest(item_id), u.canvas(item_id, canvas), index, query,
                             select_locale(), embedded, region, "paged" in (manifest.get("behavior") or []))
    site = _site()
    view = contentstate.View(item_id, canvas, region)
    return {
        "pub": pub, "item": item, "pages": pages, "page": by_n[canvas], "index": index,
        "previous": pages[index - 1] if index > 0 else None,
        "next": pages[index + 1] if index + 1 < len(pages) else None,
        "query": query, "manifest": manifest, "viewer": assets, "viewer_options": options, "u": u,
        "region": region, "view_state": contentstate.encoded(site, view),
    }


def _site() -> contentstate.Site:
    """What a content state may open: the canvases of the published items, at this base URL."""
    pub = required_publication()

    def sizes(item_id: str) -> dict[int, tuple[int, int]] | None:
        if not is_safe_id(item_id) or catalog.item(pub, item_id) is None:
            return None
        return {p.n: (p.width, p.height) for p in catalog.pages(pub, item_id)}
    return contentstate.Site(urls().base, sizes)


def _content_state() -> contentstate.View | None:
    """``?iiif-content=`` (IIIF Content State): the view it opens, or a 400 saying why not."""
    value = request.args.get("iiif-content")
    if value is None:
        return None
    if "heritage_content_state" not in g:  # read once per request (the view and the page context ask)
        try:
            g.heritage_content_state = contentstate.read(value, _site())
        except contentstate.ContentStateError as e:
            raise BadRequest(str(e), parameter="iiif-content") from None
    return g.heritage_content_state


def _elsewhere(item_id: str, endpoint: str) -> Response | None:
    """A content state naming another item of this site: go to that item's page (same arguments)."""
    state = _content_state()
    if state is None or state.item_id == item_id:
        return None
    args: dict[str, Any] = request.args.to_dict(flat=False)
    return redirect(url_for(endpoint, item_id=state.item_id, **args))  # type: ignore[return-value]


@web.get("/item/<item_id>")
def item(item_id: str) -> Response:
    moved = _elsewhere(item_id, "web.item")
    if moved is not None:
        return moved
    ctx = _item_context(item_id)
    pub, it, u, page = ctx["pub"], ctx["item"], ctx["u"], ctx["page"]
    manifest = ctx["manifest"]
    tree = catalog.tree(pub)
    node = tree.nodes.get(it.collection)
    ancestors = [*tree.ancestors(it.collection), node] if node else []
    title = pick_one(manifest.get("label") or it.label, it.id)
    embed_url = absolute_url("web.embed", item_id=it.id)
    embed_code = (f'<iframe src="{escape(embed_url)}" title="{escape(title)}" width="800" height="600" '
                  f'style="border:0" allowfullscreen></iframe>')
    og = urls(OG_BOX)
    og_size = og.thumbnail_size(page.width, page.height)
    return _html(render_template(
        "item.html", **ctx, title=title, ancestors=ancestors,
        metadata=[m for m in manifest.get("metadata") or [] if isinstance(m, dict)],
        summary=manifest.get("summary"), required=manifest.get("requiredStatement"),
        rights=describe.rights(manifest.get("rights")), toc=describe.table_of_contents(manifest),
        manifest_url=u.manifest(it.id),
        image_full=u.image(page.image_id),
        image_medium=f"{u.image_service(page.image_id)}/full/{describe.fit_size(page.width, page.height, 1600)}/0/default.jpg",
        text_url=u.text(it.id) if catalog.has_text(pub, it.id) else None,
        ocr_engine=catalog.ocr_engine(pub, it.id),
        share_url=f"{u.item_page(it.id)}?iiif-content={ctx['view_state']}",
        page_lines=pagetext.lines(pub.root, it.id, page.n), page_language=pagetext.language(pub.root, it.id, page.n),
        page_config=_page_config(ctx),
        embed_code=embed_code, canonical=u.item_page(it.id),
        og_image=og.thumbnail(page.image_id, *og_size), og_size=og_size,
        type_names=describe.TYPE_NAMES, active_page="collections"))


def _page_config(ctx: dict[str, Any]) -> dict[str, Any]:
    """What ``viewer.js`` needs beside the viewer: where to share, canvas sizes, the text panel's URLs."""
    item_id, pages, u = ctx["item"].id, ctx["pages"], ctx["u"]
    return {
        "share": {"page": u.item_page(item_id), "manifest": u.manifest(item_id)},
        "sizes": {str(p.n): [p.width, p.height] for p in pages},
        "labels": {str(p.n): p.label or gettext("page %(n)s", n=p.n) for p in pages},
        "numbers": [p.n for p in pages],
        "current": ctx["page"].n,
        "text": url_for("web.page_text", item_id=item_id, n=0)[:-1],
    }


@web.get("/embed/<item_id>")
def embed(item_id: str) -> Response:
    moved = _elsewhere(item_id, "web.embed")
    if moved is not None:
        return moved
    ctx = _item_context(item_id, embedded=True)
    title = pick_one(ctx["manifest"].get("label") or ctx["item"].label, item_id)
    response = _html(render_template("embed.html", **ctx, title=title,
                                     item_url=ctx["u"].item_page(item_id)))
    return response


@web.get("/item/<item_id>/text/<int:n>")
def page_text(item_id: str, n: int) -> Response:
    """The OCR text of one page in reading order, beside its image: the text panel without JavaScript."""
    pub = required_publication()
    item = catalog.item(pub, item_id)
    by_n = {p.n: p for p in catalog.pages(pub, item_id)} if item else {}
    if item is None or n not in by_n:
        raise NotFound(f"no page {n} in item {item_id!r}")
    manifest = catalog.manifest(pub, item_id)
    title = pick_one(manifest.get("label") or item.label, item_id)
    numbers = sorted(by_n)
    index = numbers.index(n)
    return _html(render_template(
        "text.html", item=item, title=title, page=by_n[n], lines=pagetext.lines(pub.root, item_id, n),
        language=pagetext.language(pub.root, item_id, n), u=urls(),
        size=_fit(by_n[n].width, by_n[n].height, 1000),
        previous=numbers[index - 1] if index > 0 else None,
        next=numbers[index + 1] if index + 1 < len(numbers) else None,
        canonical=absolute_url("web.page_text", item_id=item_id, n=n), active_page="collections"))


def _fit(width: int, height: int, box: int) -> tuple[int, int]:
    """The size of a ``!box,box`` Image API request of a width × height image (never upscaled)."""
    scale = min(1.0, box / max(width, height, 1))
    return max(1, round(width * scale)), max(1, round(height * scale))


@web.get("/item/<item_id>/text/<int:n>.json")
def page_text_json(item_id: str, n: int) -> Response:
    """The same text for the item page's text panel (``viewer.js`` asks as the viewer turns pages)."""
    pub = required_publication()
    if catalog.item(pub, item_id) is None or n not in {p.n for p in catalog.pages(pub, item_id)}:
        raise NotFound(f"no page {n} in item {item_id!r}")
    lines = pagetext.lines(pub.root, item_id, n)
    doc = {"item": item_id, "n": n, "language": pagetext.language(pub.root, item_id, n), "lines": lines}
    response = Response(json.dumps(doc, ensure_ascii=False), content_type=JSON)
    response.headers["Cache-Control"] = CACHE_PAGES
    return response


@web.get("/iiif/content-state/<item_id>/<int:n>")
@web.get("/iiif/content-state/<item_id>/<int:n>/<int:x>,<int:y>,<int:w>,<int:h>")
def content_state_annotation(item_id: str, n: int, x: int | None = None, y: int | None = None,
                             w: int | None = None, h: int | None = None) -> Response:
    """A content-state Annotation (Content State API 1.0 §2.2, the "Annotation URI" form) of a canvas
    or a region of it: what a ``iiif-content`` value that is a URI of this site resolves to."""
    site = _site()
    uri = site.annotation_uri(item_id, n, (x, y, w, h) if x is not None else None)  # type: ignore[arg-type]
    try:
        view = contentstate.read(uri, site)
    except contentstate.ContentStateError as e:
        raise NotFound(str(e)) from None
    doc = contentstate.annotation(site, view)
    etag = hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:20]
    return json_response(doc, PRESENTATION3_PROFILE, etag, None)


# --------------------------------------------------------------------------- for machines


@web.get("/sitemap.xml")
def sitemap() -> Response:
    """Home, the collections and every item page (the first 50,000 URLs: the protocol's limit)."""
    u = urls()
    locs = [u.site(), absolute_url("web.collections")]
    pub = current_publication()
    if pub is not None:
        locs += [absolute_url("web.collection", coll_id=c) for _, c in
                 ((d, n.id) for d, n in catalog.tree(pub).walk())]
        locs += [u.item_page(i) for i in catalog.all_item_ids(pub)]
    body = ['<?xml version="1.0" encoding="UTF-8"?>',
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">']
    body += [f"  <url><loc>{xml_escape(loc)}</loc></url>" for loc in locs[:SITEMAP_LIMIT]]
    body.append("</urlset>\n")
    response = Response("\n".join(body), content_type=XML)
    response.headers["Cache-Control"] = CACHE_PAGES
    return response


@web.get("/robots.txt")
def robots() -> Response:
    """Pages and IIIF resources may be crawled (social cards need the thumbnails); searches and embeds not."""
    prefix = request.script_root
    lines = ["User-agent: *", f"Disallow: {prefix}/search", f"Disallow: {prefix}/iiif/search/",
             f"Disallow: {prefix}/embed/", f"Allow: {prefix}/", "",
             f"Sitemap: {urls().base}/sitemap.xml", ""]
    response = Response("\n".join(lines), content_type=TEXT)
    response.headers["Cache-Control"] = CACHE_PAGES
    return response


@web.get("/viewer/<path:filename>")
def viewer_bundle(filename: str) -> Response:
    """The viewer bundle of an offline installation (``HERITAGE_VIEWER_DIR``); nothing otherwise."""
    folder = current_app.config["SETTINGS"].viewer_dir
    if not folder:
        raise NotFound("no viewer folder is configured")
    response = send_from_directory(folder, filename, max_age=current_app.config["SETTINGS"].cache_max_age)
    return response
