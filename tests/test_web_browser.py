"""The public site in headless Chromium, against a live ``heritage serve`` of the demo holdings.

Every page type renders without a console error or a failed request, passes axe-core with no
serious or critical violation, fits a 360 px screen, and is photographed at 1280 and 390 px into
``test-artifacts/web/``; the item page's viewer (Mirador 4, and Universal Viewer on request) opens
the requested canvas and loads its tiles; the site works without JavaScript and from the keyboard.

The viewers' bundles come from ``tests/browser/node_modules`` on the loopback static server
(``viewer_server``): the live servers here get ``HERITAGE_VIEWER_URL`` pointing there.
"""
from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urljoin, urlsplit

import pytest

from server.search.site import FACETS

from .browser.support import ARTIFACTS_DIR, inject_axe
from .conftest import DEMO

ITEM = "periodical-ita-rassegna-settimanale-1878-10-06"  # 3 pages, hOCR, two ranges
ITEMS = sorted(p.name for p in (DEMO / "items").iterdir() if p.is_dir())
SCREENSHOTS = ARTIFACTS_DIR.parent / "web"
LOAD_TIMEOUT_MS = 30_000

PAGE_TYPES = {
    "home": "/",
    "collections": "/collections",
    "collection": "/collection/emeroteca",
    "serial": "/collection/rassegna-settimanale?year=1878&month=10",
    "item": f"/item/{ITEM}?canvas=2",
    "embed": f"/embed/{ITEM}",
    "error": "/no/such/page",
}
WITH_VIEWER = {"item", "embed"}


def known_defects(viewer_base: str, site_url: str) -> list[re.Pattern[str]]:
    """Upstream defects of the pinned viewers (as in test_browser_viewers.py), matched narrowly."""
    own = re.escape(viewer_base)
    return [
        # mirador 4.0.0's bundle carries React 19's development runtime, which warns once per page
        re.compile(r"^console error: Accessing element\.ref was removed in React 19\. .*" + own
                   + r"/node_modules/mirador4/dist/mirador\.min\.js\)$"),
        # UV 4 leaves OpenSeadragon's prefixUrl at "/images/": it asks the page's origin for
        # "/images/data:image/…" (a 404 on every site that embeds UV)
        re.compile(r"^failed request: 404 GET " + re.escape(site_url) + r"/images/data:image/"),
        re.compile(r"^console error: Failed to load resource: .*\(" + re.escape(site_url) + r"/images/data:image/"),
    ]


def open_page(page: Any, url: str, expect_status: int = 200) -> None:
    page.reset()
    response = page.goto(url, wait_until="load")
    assert response is not None and response.status == expect_status, url
    if expect_status >= 400:  # the document's own status is the point, not a problem
        page.failed_requests[:] = [f for f in page.failed_requests if not f.endswith(" " + url)]
        page.console_errors[:] = [c for c in page.console_errors if "status of 404" not in c or url not in c]


def wait_for_tiles(page: Any, site_url: str, image_id: str) -> None:
    prefix = f"{site_url}/iiif/3/image/{image_id}/"
    page.wait_until(lambda: bool(page.info_hits(prefix)), LOAD_TIMEOUT_MS, f"info.json of {image_id}")
    page.wait_until(lambda: bool(page.tile_hits(prefix)), LOAD_TIMEOUT_MS, f"a tile of {image_id}")


def axe(page: Any) -> list[dict[str, Any]]:
    inject_axe(page)
    return list(page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")["violations"])


def serious(violations: list[dict[str, Any]]) -> list[str]:
    return [f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:5]}"
            for v in violations if v.get("impact") in ("serious", "critical")]


def screenshot(page: Any, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


# --------------------------------------------------------------------------- every page type

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("kind", sorted(PAGE_TYPES))
def test_page_type_renders_cleanly_and_accessibly(page: Any, site: str, viewer_server: Any, kind: str) -> None:
    url = site + PAGE_TYPES[kind]
    open_page(page, url, 404 if kind == "error" else 200)
    if kind in WITH_VIEWER:
        wait_for_tiles(page, site, f"{ITEM}~{2 if kind == 'item' else 1}")
    page.wait_for_quiet()
    assert page.problems(known_defects(viewer_server.base_url, site)) == []

    # axe-core on the page as a visitor sees it, the viewer's widgets included
    assert serious(axe(page)) == []

    for width, height in ((1280, 800), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_timeout(300 if kind in WITH_VIEWER else 50)
        screenshot(page, f"{kind}-{width}")
    page.set_viewport_size({"width": 360, "height": 740})
    page.wait_for_timeout(100)
    overflow = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"{kind} is {overflow}px wider than a 360px screen"


# --------------------------------------------------------------------------- the viewer


def mirador_canvas(page: Any) -> str:
    return page.evaluate(
        "() => { const s = window.heritageViewer.store.getState();"
        " return Object.values(s.windows)[0].canvasId; }")


def test_mirador_opens_the_requested_canvas_and_loads_its_tiles(page: Any, site: str) -> None:
    open_page(page, f"{site}/item/{ITEM}?canvas=3")
    wait_for_tiles(page, site, f"{ITEM}~3")
    page.wait_until(lambda: mirador_canvas(page).endswith(f"/iiif/3/{ITEM}/canvas/3"), LOAD_TIMEOUT_MS, "canvas 3")


def mirador_selected_hit(page: Any) -> dict[str, Any]:
    """The window's selected annotation, whether it is a search hit, and its canvas is on screen."""
    return page.evaluate(  # type: ignore[no-any-return]
        "() => { const s = window.heritageViewer.store.getState(); const w = Object.values(s.windows)[0];"
        " const id = w.selectedAnnotationId || null;"
        " const hits = Object.values(s.searches[w.id] || {}).flatMap(c => Object.values(c.data || {}))"
        "   .flatMap(d => (d.json && d.json.resources) || []);"
        " const hit = hits.find(r => r['@id'] === id);"
        " const canvas = hit ? String(hit.on).split('#')[0] : null;"
        " return {id, isHit: !!hit, visible: !!canvas && (w.visibleCanvases || []).includes(canvas)}; }")


def test_mirador_runs_the_search_from_the_hit_link(page: Any, site: str, viewer_server: Any) -> None:
    manifest = json.loads(urllib.request.urlopen(f"{site}/iiif/3/{ITEM}/manifest", timeout=10).read())
    services = [s for s in manifest.get("service") or [] if "search" in str(s.get("profile", "") or s.get("type", "")).lower()]
    assert any("/search/1/" in str(s.get("profile", "")) or s.get("type") == "SearchService1" for s in services), \
        "the manifest has no Content Search 1.0 service (the one Mirador 4 reads)"
    # page 3: the item's first hit is on page 1, and the viewer must not move there on its own
    open_page(page, f"{site}/item/{ITEM}?canvas=3&q=Firenze")
    page.wait_until(lambda: bool(page.hits(lambda u: "/iiif/search/" in u and "q=Firenze" in u)),
                    LOAD_TIMEOUT_MS, "the search request")
    wait_for_tiles(page, site, f"{ITEM}~3")
    # the search panel lists the hits (the match in <strong>), and a hit on the pages shown is selected
    page.wait_for_function("() => document.querySelectorAll('#viewer li strong').length > 0", timeout=LOAD_TIMEOUT_MS)
    assert all("firenze" in m.lower() for m in page.locator("#viewer li strong").all_inner_texts())
    page.wait_until(lambda: mirador_selected_hit(page)["isHit"], LOAD_TIMEOUT_MS, "a selected hit")
    assert mirador_selected_hit(page)["visible"], "the selected hit is not on the pages shown"
    # another panel, then the search panel again: it asks for the same search once more, which must
    # not empty the hits on screen (Mirador 4.0.0 throws then; viewer.js guards against it)
    search_tab = page.locator("#viewer [role=tab][aria-selected=true]").get_attribute("aria-label")
    page.locator("#viewer [role=tab]").first.click()
    page.locator(f"#viewer [role=tab][aria-label='{search_tab}']").click()
    page.wait_for_function("() => document.querySelectorAll('#viewer li strong').length > 0", timeout=LOAD_TIMEOUT_MS)
    page.wait_for_quiet()
    assert mirador_canvas(page).endswith(f"/iiif/3/{ITEM}/canvas/3")
    assert page.problems(known_defects(viewer_server.base_url, site)) == []


def content_state_canvas(href: str) -> int:
    """The canvas number in a hit link's IIIF Content State (tests/test_web_contentstate_browser.py
    checks the region too)."""
    from urllib.parse import parse_qs

    from server.web import contentstate
    value = parse_qs(urlsplit(href).query)["iiif-content"][0]
    return int(re.search(r"/canvas/(\d+)", json.dumps(contentstate.decode(value)))[1])  # type: ignore[index]


def test_a_search_from_the_home_page_opens_the_hit_in_the_viewer(page: Any, site: str, viewer_server: Any) -> None:
    open_page(page, site + "/")
    box = page.locator("form[role=search] input[name=q]")
    assert box.count(), "the home page has no search box"
    box.fill("Firenze")
    box.press("Enter")
    page.wait_for_url(re.compile(r"/search\?"))
    hit = page.locator(f"main a[href*='/item/{ITEM}'][href*='iiif-content=']").first
    href = hit.get_attribute("href") or ""
    canvas = content_state_canvas(href)
    assert "q=Firenze" in href
    page.wait_for_quiet()  # the results' line images: leaving earlier would abort them (not a problem)
    page.reset()
    hit.click()
    page.wait_for_url(re.compile(rf"/item/{ITEM}\?"))
    wait_for_tiles(page, site, f"{ITEM}~{canvas}")
    page.wait_until(lambda: mirador_canvas(page).endswith(f"/canvas/{canvas}"), LOAD_TIMEOUT_MS, f"canvas {canvas}")
    page.wait_until(lambda: mirador_selected_hit(page)["isHit"], LOAD_TIMEOUT_MS, "a selected hit")
    page.wait_for_quiet()
    assert mirador_canvas(page).endswith(f"/canvas/{canvas}")
    assert page.problems(known_defects(viewer_server.base_url, site)) == []


def test_universal_viewer_opens_the_requested_canvas(page: Any, uv_site: str, viewer_server: Any) -> None:
    open_page(page, f"{uv_site}/item/{ITEM}?canvas=2")
    prefix = f"{uv_site}/iiif/3/image/{ITEM}~2/"
    page.wait_until(lambda: bool(page.info_hits(prefix)), LOAD_TIMEOUT_MS, f"info.json of {ITEM}~2")
    # The manifest's search service gives UV its "search within" bar under the image: in this
    # window the two-page spread then shows each page small, and OpenSeadragon asks for the levels
    # that fit one tile as full/w,h rather than as region tiles. Wait for such a level image (w,h:
    # not UV's "90," thumbnails), then zoom in for region tiles.
    level = re.compile(rf"^{re.escape(prefix)}full/\d+,\d+/")
    page.wait_until(lambda: bool(page.hits(lambda u: bool(level.match(u)))), LOAD_TIMEOUT_MS, "canvas 2 on screen")
    page.locator("#viewer button.zoomIn.viewportNavButton").click()
    wait_for_tiles(page, uv_site, f"{ITEM}~2")
    page.wait_for_quiet()
    assert page.problems(known_defects(viewer_server.base_url, uv_site)) == []
    assert not page.tile_hits(f"{uv_site}/iiif/3/image/{ITEM}~1/"), "UV opened page 1, not the requested page 2"
    assert serious(axe(page)) == []
    screenshot(page, "item-uv-1280")


# --------------------------------------------------------------------------- without JavaScript, by keyboard


def test_browsing_without_javascript(chromium_browser: Any, site: str) -> None:
    context = chromium_browser.new_context(java_script_enabled=False, viewport={"width": 390, "height": 844})
    try:
        tab = context.new_page()
        tab.goto(site + "/")
        tab.click("a[href='/collection/rassegna-settimanale']")
        tab.click(f"a[href='/item/{ITEM}']")
        assert tab.url.endswith(f"/item/{ITEM}")
        tab.click("a[rel=next]")
        tab.wait_for_load_state("load")
        assert tab.url.endswith("canvas=2")
        assert tab.evaluate("() => [...document.images].filter(i => i.complete && i.naturalWidth > 0)"
                            ".some(i => i.src.includes('~2/full/'))"), "the page image shows without JavaScript"
        tab.fill("#canvas-input", "3")
        tab.press("#canvas-input", "Enter")
        tab.wait_for_url(re.compile(r"canvas=3"))
        tab.goto(site + "/?lang=en")
        assert tab.locator("html").get_attribute("lang") == "en"
        screenshot(tab, "item-nojs-390")
    finally:
        context.close()


def test_keyboard_skip_link_and_visible_focus(page: Any, site: str) -> None:
    open_page(page, site + "/")
    page.keyboard.press("Tab")
    focused = page.evaluate("() => document.activeElement.className")
    assert "skip-link" in focused
    box = page.evaluate("() => document.activeElement.getBoundingClientRect().top")
    assert box >= 0, "the skip link becomes visible when focused"
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "main"
    page.keyboard.press("Tab")
    # a card's link draws its focus ring around the whole card
    outline = page.evaluate("() => { const e = document.activeElement;"
                            " return getComputedStyle(e.closest('.card') || e).outlineStyle; }")
    assert outline not in ("", "none"), "keyboard focus is visible"


def test_copy_buttons(page: Any, site: str) -> None:
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    open_page(page, f"{site}/item/{ITEM}")
    button = page.locator("button[data-copy='manifest-url']")
    assert button.is_visible(), "JavaScript reveals the copy button"
    button.click()
    page.wait_for_function("() => document.getElementById('copy-status').textContent.length > 0")
    copied = page.evaluate("() => navigator.clipboard.readText()")
    assert copied == f"{site}/iiif/3/{ITEM}/manifest"
    page.locator("button[data-copy='embed-code']").click()
    assert page.evaluate("() => navigator.clipboard.readText()").startswith(f'<iframe src="{site}/embed/{ITEM}"')


# --------------------------------------------------------------------------- crawl


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        wanted = {"a": "href", "link": "href", "img": "src", "script": "src", "iframe": "src"}.get(tag)
        for name, value in attrs:
            if name == wanted and value and not value.startswith(("#", "mailto:", "data:")):
                self.found.append(value)


def fetch(url: str) -> tuple[int, str, str]:
    request = urllib.request.Request(url, headers={"Accept-Language": "it"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            kind = response.headers.get("Content-Type", "")
            body = response.read().decode("utf-8", "replace") if kind.startswith("text/html") else ""
            return response.status, kind, body
    except urllib.error.HTTPError as error:
        return error.code, "", ""


def narrows_a_search(url: str, link: str) -> bool:
    """A link from a search page to the same search with a facet chosen or another result page:
    not followed (their combinations are endless), each facet's value is shown by its own test."""
    return urlsplit(url).path.endswith("/search") and urlsplit(link).path.endswith("/search") and any(
        name in FACETS or name == "page" for name, _ in parse_qsl(urlsplit(link).query))


def test_crawl_the_demo_site(live_server: str) -> None:
    """From the home page, every link, stylesheet, script and image of every page answers < 400
    (searches: the page and its links, but not the same search narrowed by a facet)."""
    seen: set[str] = set()
    queue = [live_server + "/", live_server + "/sitemap.xml", live_server + "/robots.txt"]
    broken: list[str] = []
    pages = 0
    while queue:
        url = queue.pop()
        if url in seen:
            continue
        seen.add(url)
        status, _kind, body = fetch(url)
        if status >= 400:
            broken.append(f"{status} {url}")
            continue
        if not body:
            continue
        pages += 1
        parser = Links()
        parser.feed(body)
        for link in parser.found:
            absolute = urljoin(url, link).split("#")[0]
            if urlsplit(absolute).netloc == urlsplit(live_server).netloc and absolute not in seen \
                    and not narrows_a_search(url, absolute):
                queue.append(absolute)
    assert broken == []
    assert pages >= 2 * (len(ITEMS) + 6), f"the crawl reached only {pages} pages"
    assert all(any(f"/item/{item}" in u for u in seen) for item in ITEMS)
