"""The static export in Chromium: viewers open its manifests and load its level 0 tiles, and its
search page finds OCR words with no server behind it (only ``python -m http.server``).

Every request the pages make is watched: an edge tile spelled in a way the export did not write
is a 404, and a 404 fails the test.
"""
from __future__ import annotations

import gzip
import json
import re
from collections import Counter
from typing import Any

import pytest

from .conftest import DEMO
from .export_support import StaticSite, demo_export  # noqa: F401  (a fixture)
from .test_browser_viewers import _open_manifest

pytestmark = pytest.mark.browser

ITEMS = sorted(p.name for p in (DEMO / "items").iterdir() if p.is_dir())


@pytest.mark.parametrize("viewer", ["mirador4", "universalviewer"])
def test_viewers_open_exported_manifests(page: Any, viewer_server: Any, demo_export: StaticSite,  # noqa: F811
                                         viewer: str) -> None:
    failures = {}
    for item in ITEMS:
        manifest = f"{demo_export.url}/iiif/3/{item}/manifest.json"
        problems = _open_manifest(page, viewer_server, viewer, manifest, f"{demo_export.url}/iiif/3/image/{item}~")
        page.save_screenshot(f"export-{viewer}-{item}")
        if problems:
            failures[item] = problems
    assert not failures, f"{viewer}: " + "\n".join(
        f"{item}:\n  " + "\n  ".join(problems) for item, problems in failures.items())


def _distinctive_word(site: StaticSite) -> tuple[str, str]:
    """A long word of the OCR that only one item has, and that item."""
    owners: dict[str, set[str]] = {}
    for item in ITEMS:
        text = (site.out / "iiif" / "3" / item / "text.txt").read_text(encoding="utf-8")
        for word in Counter(re.findall(r"\b[a-z]{7,14}\b", text.lower())):
            owners.setdefault(word, set()).add(item)
    unique = sorted((w for w, items in owners.items() if len(items) == 1), key=lambda w: (-len(w), w))
    assert unique, "the demo OCR has no distinctive word"
    return unique[0], next(iter(owners[unique[0]]))


@pytest.mark.parametrize("lang, prefix", [("it", ""), ("en", "/en")])
def test_static_search_finds_ocr_words(page: Any, demo_export: StaticSite, lang: str, prefix: str) -> None:  # noqa: F811
    word, item = _distinctive_word(demo_export)
    page.goto(f"{demo_export.url}{prefix}/index.html")
    form = page.locator("form[role=search]").first
    form.locator("input[name=q]").fill(word)
    form.locator("button[type=submit]").click()  # the site's own search box, as a visitor uses it
    page.wait_for_url(re.compile(re.escape(f"{demo_export.url}{prefix}/search/index.html?q=") + ".*"))
    link = page.locator(".pagefind-ui__result-link").first
    link.wait_for()
    href = link.get_attribute("href")
    assert href.startswith(f"{prefix}/item/{item}/"), href  # the item, in the page's language
    assert page.evaluate("document.documentElement.lang") == lang
    assert page.problems() == []
    page.save_screenshot(f"export-search-{lang}")
    link.click()
    page.wait_for_url(f"{demo_export.url}{href}")
    assert page.locator("h1").first.inner_text().strip()
    assert f"/iiif/3/{item}/manifest.json" in page.content()


def test_search_has_a_record_per_page_linking_to_that_page(demo_export: StaticSite) -> None:  # noqa: F811
    """Pagefind's records (its fragments) point at the item page opened at the page of the hit."""
    urls = set()
    for fragment in (demo_export.out / "pagefind" / "fragment").iterdir():
        data = gzip.decompress(fragment.read_bytes())
        urls.add(json.loads(data[data.index(b"{"):])["url"])
    expected = set()
    for item in ITEMS:
        ocr = [f for f in (DEMO / "items" / item).iterdir() if f.suffix in (".xml", ".hocr")]  # one per page
        for n in range(1, len(ocr) + 1):
            path = f"/item/{item}/index.html" if n == 1 else f"/item/{item}/canvas/{n}/index.html"
            expected |= {path, "/en" + path}
    assert urls == expected
    for url in urls:
        html = (demo_export.out / url.lstrip("/")).read_text(encoding="utf-8")
        item, page = url.removeprefix("/en").split("/")[2], url.split("/canvas/")[1].split("/")[0] if "/canvas/" in url else "1"
        assert f"/iiif/3/{item}/canvas/{page}.json" in html, url  # the viewer opens that canvas


def test_page_number_box_goes_to_the_page_file(page: Any, demo_export: StaticSite) -> None:  # noqa: F811
    """The item page's page-number box sends ?canvas=N; on a file server the export's script
    turns that into the page's own file (the first page's file leads back to the item page)."""
    item = next(i for i in ITEMS if (demo_export.out / "en" / "item" / i / "canvas" / "2").is_dir())
    start = f"{demo_export.url}/en/item/{item}/index.html"
    page.goto(start)
    box = page.locator('form input[name="canvas"]').first
    box.fill("2")
    box.press("Enter")
    page.wait_for_url(f"{demo_export.url}/en/item/{item}/canvas/2/index.html")
    box = page.locator('form input[name="canvas"]').first
    assert box.input_value() == "2"
    box.fill("1")
    box.press("Enter")
    page.wait_for_url(start)
