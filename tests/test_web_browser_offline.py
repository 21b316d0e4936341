"""The public site in headless Chromium where a new user first met it: no internet, a phone.

- The item page with the viewer's bundle unreachable (the default configuration: a pinned
  version on jsDelivr, which the test page's loopback fence blocks like a machine without
  internet): the page image itself in the viewer's place, at the box's size, and the page links.
- The search results' layout at 1280 and 390 px: each snippet's scan of its printed line beside
  (or under) the page's thumbnail, legible, never squeezed into the thumbnail's column.

Screenshots go to ``test-artifacts/web/`` (look at them when changing the layout).
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .browser.support import ARTIFACTS_DIR
from .conftest import LiveServer

pytestmark = pytest.mark.browser

ITEM = "periodical-ita-rassegna-settimanale-1878-10-06"  # 3 pages
CDN = "https://cdn.jsdelivr.net/"
SCREENSHOTS = ARTIFACTS_DIR.parent / "web"
WIDTHS = ((1280, 800), (390, 844))
MIN_SCAN_HEIGHT = 20  # px: a printed line one can read
MIN_STILL_HEIGHT = 300  # px: a page one can see, not a stamp


@pytest.fixture(scope="module")
def offline_site(demo_data: Path) -> Iterator[str]:
    """The demo with the viewer's default (CDN) URL, as `heritage demo` serves it."""
    server = LiveServer(demo_data, workers=1, env={"HERITAGE_VIEWER": "mirador", "HERITAGE_VIEWER_URL": ""})
    yield server.url
    server.stop()


def only_the_cdn_failed(page: Any) -> list[str]:
    """Problems other than the blocked bundle (the request, and Chromium's console line about it)."""
    return [p for p in page.problems() if CDN not in p]


def serious_violations(page: Any) -> list[str]:
    """axe-core's serious and critical findings on the page as shown."""
    return [f"{v['id']}: {v['help']} {[n['target'] for n in v['nodes']][:3]}" for v in page.axe_violations()
            if v.get("impact") in ("serious", "critical")]


def shoot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def still_image(page: Any) -> dict[str, Any]:
    """The image shown in the viewer's box, once it has loaded: its URL and on-screen box."""
    page.wait_for_function("() => { const i = document.querySelector('#viewer img');"
                           " return i && i.complete && i.naturalWidth > 0; }")
    return page.evaluate("""() => {
        const img = document.querySelector('#viewer img');
        const r = img.getBoundingClientRect(), v = document.getElementById('viewer').getBoundingClientRect();
        return {src: img.currentSrc, alt: img.alt, width: r.width, height: r.height,
                inside: r.left >= v.left - 1 && r.right <= v.right + 1 && r.top >= v.top - 1 && r.bottom <= v.bottom + 1,
                notice: document.querySelector('#viewer .viewer__error').textContent};
    }""")


@pytest.mark.parametrize("width,height", WIDTHS)
def test_item_page_without_the_viewer_shows_the_page_image(page: Any, offline_site: str, width: int,
                                                           height: int) -> None:
    page.set_viewport_size({"width": width, "height": height})
    page.goto(f"{offline_site}/item/{ITEM}?canvas=2&lang=en", wait_until="load")
    shown = still_image(page)
    assert any(CDN in url for url in page.blocked_requests), "the bundle should have been asked from the CDN"
    assert re.match(rf"{re.escape(offline_site)}/iiif/3/image/{ITEM}~2/full/!\d+,\d+/0/default\.jpg$", shown["src"])
    assert shown["height"] >= MIN_STILL_HEIGHT and shown["inside"], shown
    assert shown["alt"].endswith("page 2") and "could not be loaded" in shown["notice"]
    shoot(page, f"item-offline-{width}")
    assert only_the_cdn_failed(page) == []
    assert serious_violations(page) == []

    # the page links below turn the pages, and the next page shows its own image
    page.reset()
    page.click("a[rel=next]")
    page.wait_for_url(re.compile(r"canvas=3"))
    assert f"/{ITEM}~3/full/" in still_image(page)["src"]
    page.click("a[rel=prev]")
    page.wait_for_url(re.compile(r"canvas=2"))
    assert f"/{ITEM}~2/full/" in still_image(page)["src"]
    assert only_the_cdn_failed(page) == []


def test_embed_without_the_viewer_shows_the_page_image(page: Any, offline_site: str) -> None:
    page.set_viewport_size({"width": 800, "height": 600})
    page.goto(f"{offline_site}/embed/{ITEM}?lang=it", wait_until="load")
    shown = still_image(page)
    assert f"/{ITEM}~1/full/!" in shown["src"] and shown["height"] >= MIN_STILL_HEIGHT and shown["inside"]
    assert "visualizzatore" in shown["notice"]
    assert only_the_cdn_failed(page) == []


SNIPPET_BOXES = """() => [...document.querySelectorAll('.search-result__pages > li')].map(li => {
    const box = e => { const r = e.getBoundingClientRect(); return {l: r.left, r: r.right, t: r.top, b: r.bottom}; };
    return {thumb: box(li.querySelector(':scope > a img')), item: box(li),
            scans: [...li.querySelectorAll('img.snippet__scan')].map(i => ({...box(i), loaded: i.complete && i.naturalWidth > 0}))};
})"""


@pytest.mark.parametrize("width,height", WIDTHS)
def test_snippet_scans_sit_beside_or_under_the_thumbnail(page: Any, offline_site: str, width: int,
                                                          height: int) -> None:
    page.set_viewport_size({"width": width, "height": height})
    page.goto(f"{offline_site}/search?q=comune&lang=en", wait_until="load")
    page.evaluate("() => document.querySelectorAll('img[loading=lazy]').forEach(i => i.loading = 'eager')")
    page.wait_for_function("() => [...document.images].every(i => i.complete)")
    pages = page.evaluate(SNIPPET_BOXES)
    scans = [(p, s) for p in pages for s in p["scans"]]
    assert sum(len(p["scans"]) >= 2 for p in pages) >= 1, "the query should give a page two snippets"
    for p, s in scans:
        assert s["loaded"], s
        assert s["b"] - s["t"] >= MIN_SCAN_HEIGHT, f"a scan {s['b'] - s['t']:.0f}px high at {width}px"
        beside = s["l"] >= p["thumb"]["r"]
        under = s["t"] >= p["thumb"]["b"]
        assert beside or under, f"a scan overlaps its thumbnail at {width}px: {s} / {p['thumb']}"
        assert p["item"]["l"] - 1 <= s["l"] and s["r"] <= p["item"]["r"] + 1, "a scan wider than its result"
    overflow = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0
    shoot(page, f"search-{width}")
    assert page.problems() == []
    assert serious_violations(page) == []


@pytest.mark.parametrize("url", ["/search?lang=it", "/search?q=*&lang=en", "/search?q=zzyzx&type=newspaper&lang=it"])
def test_search_page_states_are_accessible_and_fit_a_phone(page: Any, offline_site: str, url: str) -> None:
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(offline_site + url, wait_until="load")
    overflow = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0
    assert page.problems() == [] and serious_violations(page) == []
