"""IIIF Content State in Chromium, against a live ``heritage serve`` of the demo holdings, with
Mirador 4 (the default viewer) and Universal Viewer 4: a search hit's link opens the right canvas
zoomed so that the hit's words are in view (and highlighted); every encoding form does the same;
"Share this view" gives a link that opens the same view again; the text panel follows the viewer's
page and passes axe-core.

Mirador's viewport is read from its store (``viewers[windowId]``: OpenSeadragon's centre and zoom in
world coordinates, which are canvas pixels in the single-page view; the visible rectangle is 1/zoom
wide, with the aspect ratio of OpenSeadragon's container, as in OpenSeadragon's
``Viewport.getBounds``); UV's from the
share link viewer.js keeps on UV's ``targetChange`` event (UV's own ``canvas#xywh=`` of what it shows).
"""
from __future__ import annotations

import json
import urllib.request
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import pytest

from server.web import contentstate as cs

from .test_web_browser import (
    ITEM,
    LOAD_TIMEOUT_MS,
    axe,
    known_defects,
    mirador_selected_hit,
    open_page,
    screenshot,
    serious,
    wait_for_tiles,
)

pytestmark = pytest.mark.browser


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as r:
        return json.loads(r.read())


def sizes(site_url: str) -> cs.Site:
    """This site's canvas sizes, from the manifests (as a client sees them)."""
    def pages(item_id: str) -> dict[int, tuple[int, int]]:
        manifest = get_json(f"{site_url}/iiif/3/{item_id}/manifest")
        return {int(c["id"].rsplit("/", 1)[1]): (c["width"], c["height"]) for c in manifest["items"]}
    return cs.Site(site_url, pages)


def mirador_view(page: Any, canvas: str | None = None) -> dict[str, Any]:
    """The canvas Mirador's window is on and its viewport in world coordinates [x, y, w, h]
    (None before OpenSeadragon reports), from Mirador's state (centre and zoom) and the size of
    OpenSeadragon's container; with ``canvas``, also where that canvas sits in the world and its
    scale (Mirador's CanvasWorld: the book view puts two pages side by side at a common height)."""
    return page.evaluate(  # type: ignore[no-any-return]
        """(canvas) => { const M = window.Mirador, s = window.heritageViewer.store.getState();
        const w = Object.values(s.windows)[0], v = (s.viewers || {})[w.id];
        const box = document.querySelector('#viewer .openseadragon-container');
        const out = {canvas: w.canvasId, visible: M.getVisibleCanvasIds(s, {windowId: w.id}), bounds: null, world: null};
        if (v && v.zoom != null && box) {
          const r = box.getBoundingClientRect(), width = 1 / v.zoom, height = width * r.height / r.width;
          out.bounds = [v.x - width / 2, v.y - height / 2, width, height];
        }
        const d = canvas && M.getCurrentCanvasWorld(s, {windowId: w.id}).canvasDimensions.find(c => c.canvas.id === canvas);
        if (d) out.world = [d.x, d.y, d.width / d.canvas.getWidth()];
        return out; }""", canvas)


def inside(region: tuple[int, int, int, int] | list[float], bounds: list[float] | None, slack: float = 2) -> bool:
    if not bounds:
        return False
    x, y, w, h = region
    bx, by, bw, bh = bounds
    return bx - slack <= x and by - slack <= y and x + w <= bx + bw + slack and y + h <= by + bh + slack


def zoomed_on(page: Any, canvas: str, region: tuple[int, int, int, int], canvas_size: tuple[int, int]) -> bool:
    """Mirador shows ``canvas`` with ``region`` (canvas pixels) inside the viewport, zoomed in
    (the viewport narrower than the canvas)."""
    view = mirador_view(page, canvas)
    if canvas not in view["visible"] or not view["world"] or not view["bounds"]:
        return False
    wx, wy, scale = view["world"]
    in_world = [wx + region[0] * scale, wy + region[1] * scale, region[2] * scale, region[3] * scale]
    return inside(in_world, view["bounds"]) and view["bounds"][2] < canvas_size[0] * scale * 0.9


def test_a_search_hit_opens_its_region_in_mirador(page: Any, site: str, viewer_server: Any) -> None:
    doc = get_json(f"{site}/search.json?q=Firenze")
    page_hit = doc["items"][0]["pages"][-1]
    snippet = page_hit["snippets"][0]
    view = cs.read(snippet["content_state"], sizes(site))
    assert view.region and snippet["words"] == ",".join(map(str, view.region))
    size = sizes(site).pages(view.item_id)[view.canvas]  # type: ignore[index]
    canvas = f"{site}/iiif/3/{view.item_id}/canvas/{view.canvas}"
    open_page(page, snippet["url"])
    wait_for_tiles(page, site, f"{view.item_id}~{view.canvas}")
    page.wait_until(lambda: zoomed_on(page, canvas, view.region, size), LOAD_TIMEOUT_MS,  # type: ignore[arg-type]
                    f"canvas {view.canvas} zoomed on {view.region}")
    page.wait_until(lambda: mirador_selected_hit(page)["isHit"], LOAD_TIMEOUT_MS, "the hit highlighted")
    page.wait_for_quiet()
    assert zoomed_on(page, canvas, view.region, size), mirador_view(page, canvas)  # type: ignore[arg-type]
    assert mirador_selected_hit(page)["visible"]
    assert page.problems(known_defects(viewer_server.base_url, site)) == []
    screenshot(page, "contentstate-hit-mirador")


REGION = (300, 500, 500, 120)


@pytest.mark.parametrize("form", ["annotation", "annotation URI", "target body", "target URI"])
def test_every_form_opens_the_region_in_mirador(page: Any, site: str, form: str) -> None:
    canvas = f"{site}/iiif/3/{ITEM}/canvas/2"
    target = f"{canvas}#xywh={','.join(map(str, REGION))}"
    value = {
        "annotation": cs.encode({"@context": cs.CONTEXT, "type": "Annotation", "motivation": ["contentState"],
                                 "target": {"id": target, "type": "Canvas",
                                            "partOf": [{"id": f"{site}/iiif/3/{ITEM}/manifest", "type": "Manifest"}]}}),
        "annotation URI": f"{site}/iiif/content-state/{ITEM}/2/{','.join(map(str, REGION))}",
        "target body": cs.encode({"id": target, "type": "Canvas"}),
        "target URI": target,
    }[form]
    size = sizes(site).pages(ITEM)[2]  # type: ignore[index]
    open_page(page, f"{site}/item/{ITEM}?iiif-content={quote(value, safe='')}")
    wait_for_tiles(page, site, f"{ITEM}~2")
    page.wait_until(lambda: zoomed_on(page, canvas, REGION, size), LOAD_TIMEOUT_MS, f"{form}: zoomed on the region")


def test_share_this_view_round_trips_in_mirador(page: Any, site: str, viewer_server: Any) -> None:
    open_page(page, f"{site}/item/{ITEM}?canvas=3")
    wait_for_tiles(page, site, f"{ITEM}~3")
    page.wait_until(lambda: mirador_view(page)["bounds"] is not None, LOAD_TIMEOUT_MS, "the viewport")
    for _ in range(3):
        page.locator("#viewer button[aria-label='Zoom in']").click()
        page.wait_for_timeout(400)
    page.wait_for_function("() => (document.getElementById('share-url').value.match(/iiif-content=/) || false)"
                           " && document.getElementById('share-url').value !== document.getElementById('share-url').defaultValue",
                           timeout=LOAD_TIMEOUT_MS)
    page.wait_for_quiet()
    shared, link, drag = page.evaluate(  # read together: they follow the viewer
        "() => [document.getElementById('share-url').value, document.getElementById('share-link').href,"
        " document.getElementById('iiif-drag').href]")
    assert link == shared
    value = parse_qs(urlsplit(shared).query)["iiif-content"][0]
    assert parse_qs(urlsplit(drag).query)["iiif-content"] == [value]
    view = cs.read(value, sizes(site))
    assert view.canvas == 3 and view.region is not None, view
    size = sizes(site).pages(ITEM)[3]  # type: ignore[index]
    assert view.region[2] < size[0] * 0.9, "zoomed in: a region, not the whole canvas"
    shown = mirador_view(page)["bounds"]
    page.locator("button[data-copy='share-url']").click()  # the copy button is there for this field too
    # the link opens the same view: the shared region is in the viewport, at about the same scale
    page.reset()
    open_page(page, shared)
    wait_for_tiles(page, site, f"{ITEM}~3")
    canvas = f"{site}/iiif/3/{ITEM}/canvas/3"

    def same_view() -> bool:
        # the shared region is in view, zoomed in (not the whole page). Not checked: the scale. The
        # region is read from OpenSeadragon's viewport, whose aspect can differ from the box Mirador
        # reports, so a wide view can reopen up to about twice as wide (a known limit, docs/web.md).
        bounds = mirador_view(page)["bounds"]
        return zoomed_on(page, canvas, view.region, size) and bounds[2] <= shown[2] * 2.5 + 2  # type: ignore[arg-type]
    page.wait_until(same_view, LOAD_TIMEOUT_MS, f"the shared view (was {shown})")
    page.wait_for_quiet()
    assert same_view(), (shown, mirador_view(page))
    assert page.problems(known_defects(viewer_server.base_url, site)) == []


def test_a_search_hit_opens_its_region_in_universal_viewer(page: Any, uv_site: str, viewer_server: Any) -> None:
    """UV gets the region as its xywh option. What it shows is read from the tiles it asks for:
    OpenSeadragon fetches only what is in view, at the resolution shown, so zoomed on the hit means
    near-full-resolution tiles of the hit's page that cover the hit (the spread UV opens on asks
    for one small image per page)."""
    doc = get_json(f"{uv_site}/search.json?q=Firenze")
    # a hit on page 1: UV 4 measures xywh on its two-page spread, not on the canvas (docs/web.md)
    snippet = next(p for p in doc["items"][0]["pages"] if p["n"] == 1)["snippets"][0]
    hit = cs.read(snippet["content_state"], sizes(uv_site))
    assert hit.region
    x, y, w, h = hit.region
    open_page(page, snippet["url"])
    prefix = f"{uv_site}/iiif/3/image/{hit.item_id}~{hit.canvas}/"

    def sharp_tiles_on_the_hit() -> bool:
        for tile in page.tile_hits(prefix):
            parts = urlsplit(tile.url).path.rsplit("/", 4)
            tx, ty, tw, th = map(int, parts[1].split(","))
            scale = tw / int(parts[2].split(",")[0])
            if scale <= 2 and tx < x + w and x < tx + tw and ty < y + h and y < ty + th:
                return True
        return False

    page.wait_until(sharp_tiles_on_the_hit, LOAD_TIMEOUT_MS, f"UV zoomed on {hit.region} of canvas {hit.canvas}")
    page.wait_for_quiet()
    shared = parse_qs(urlsplit(page.locator("#share-url").input_value()).query)["iiif-content"][0]
    assert cs.read(shared, sizes(uv_site)).canvas == hit.canvas  # UV's share: the canvas (see viewer.js)
    assert page.problems(known_defects(viewer_server.base_url, uv_site)) == []
    screenshot(page, "contentstate-hit-uv")


def test_embed_opens_the_region(page: Any, site: str) -> None:
    canvas = f"{site}/iiif/3/{ITEM}/canvas/2"
    open_page(page, f"{site}/embed/{ITEM}?iiif-content={quote(canvas + '#xywh=' + ','.join(map(str, REGION)), safe='')}")
    wait_for_tiles(page, site, f"{ITEM}~2")
    size = sizes(site).pages(ITEM)[2]  # type: ignore[index]
    page.wait_until(lambda: zoomed_on(page, canvas, REGION, size), LOAD_TIMEOUT_MS, "embed zoomed on the region")


def test_text_panel_follows_the_viewer(page: Any, site: str, viewer_server: Any) -> None:
    open_page(page, f"{site}/item/{ITEM}?canvas=1&lang=en")
    wait_for_tiles(page, site, f"{ITEM}~1")
    toggle = page.locator("#text-toggle")
    assert toggle.is_visible() and toggle.get_attribute("aria-expanded") == "false"
    assert not page.locator("#text-panel").is_visible()
    toggle.click()
    assert toggle.get_attribute("aria-expanded") == "true"
    body = page.locator("#text-panel .text-panel__body")
    assert body.is_visible() and body.inner_text().startswith("LA RASSEGNA\nSETTIMANALE")
    assert body.get_attribute("lang") == "it"
    page2 = get_json(f"{site}/item/{ITEM}/text/2.json")["lines"]
    page.evaluate("() => { const M = window.Mirador, st = window.heritageViewer.store;"
                  " const w = Object.values(st.getState().windows)[0];"
                  f" st.dispatch(M.setCanvas(w.id, '{site}/iiif/3/{ITEM}/canvas/2')); }}")
    page.wait_for_function("(first) => document.querySelector('#text-panel .text-panel__body').innerText.startsWith(first)",
                           arg=page2[0], timeout=LOAD_TIMEOUT_MS)
    # selectable and copyable: select it all and read the selection back
    selected = page.evaluate("() => { const b = document.querySelector('#text-panel .text-panel__body');"
                             " const r = document.createRange(); r.selectNodeContents(b);"
                             " const s = getSelection(); s.removeAllRanges(); s.addRange(r); return s.toString(); }")
    assert selected.split("\n")[:3] == page2[:3]
    wait_for_tiles(page, site, f"{ITEM}~2")
    page.wait_for_quiet()
    assert serious(axe(page)) == []
    assert page.problems(known_defects(viewer_server.base_url, site)) == []
    screenshot(page, "item-text-panel-1280")
    # the page the panel links to (the text with the page image) passes axe-core too
    page.reset()
    open_page(page, f"{site}/item/{ITEM}/text/2?lang=it")
    page.wait_for_quiet()
    assert serious(axe(page)) == []
    assert page.problems() == []


def test_text_page_without_javascript(chromium_browser: Any, site: str) -> None:
    context = chromium_browser.new_context(java_script_enabled=False, viewport={"width": 390, "height": 844})
    try:
        tab = context.new_page()
        tab.goto(f"{site}/item/{ITEM}?canvas=2")
        tab.click(f"nav.page-nav a[href='/item/{ITEM}/text/2']")  # the visible one (not the hidden panel's)
        tab.wait_for_url(f"**/item/{ITEM}/text/2")
        tab.wait_for_load_state("load")
        assert tab.locator("h1").count() == 1 and tab.locator("main h2").count() >= 1
        assert tab.evaluate("() => [...document.images].some(i => i.complete && i.naturalWidth > 0 && i.src.includes('~2/full/'))")
        tab.click("a[rel=next]")
        tab.wait_for_url(f"**/item/{ITEM}/text/3")
        tab.wait_for_load_state("load")  # images included (no page script runs here to poll with)
        assert tab.evaluate("() => [...document.images].some(i => i.complete && i.naturalWidth > 0 && i.src.includes('~3/full/'))")
        screenshot(tab, "text-page-nojs-390")
    finally:
        context.close()
