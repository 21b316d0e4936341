"""Search inside an item with the real viewers: Mirador 3, Mirador 4 and Universal Viewer 4 find the
search service in a manifest, query it, list the hits and highlight them.

The demo holdings are ingested once per session (``demo_data``); this module works on a copy,
indexes it with :class:`SearchIndexWriter` and declares the search services in its manifests,
unless ingest already did both, and serves it with the app (search blueprint included).
"""
from __future__ import annotations

import json
import re
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from werkzeug.serving import make_server

from server import create_app
from server.holdings import read_holdings
from server.publication import PublicationStore
from server.search import SearchIndexWriter, search_services
from server.search.ingest import collection_labels, indexed_item, pages_from_publication
from server.search.writer import INDEX_DIR
from tests.conftest import DEMO, free_port
from tests.test_browser_viewers import VIEWERS, known_viewer_defects

pytestmark = pytest.mark.browser

ITEM = "periodical-ita-rassegna-settimanale-1878-10-06"
WORD = "firenze"
TIMEOUT_MS = 20_000


def _index_publication(data: Path) -> None:
    """What ingest does for search, on a generation ingest wrote (skipped if it already did)."""
    store = PublicationStore(data / "manifests", data / "image_cache")
    pub = store.current()
    assert pub is not None
    gen = pub.root
    holdings = read_holdings(DEMO.resolve(), "it")
    if not (gen / INDEX_DIR).exists():
        writer = SearchIndexWriter(gen, None)
        for item in holdings.items.values():
            writer.add_item(indexed_item(item, holdings.collections), pages_from_publication(pub, item.id))
        writer.set_collection_labels(collection_labels(holdings.collections))
        writer.commit()
    for item in holdings.items.values():
        path = gen / "iiif" / "3" / item.id / "manifest.json"
        manifest = json.loads(path.read_text(encoding="utf-8"))
        services = manifest.get("service", [])
        if not any(s.get("profile") == "http://iiif.io/api/search/1/search" for s in services):
            base = manifest["id"].split("/iiif/3/")[0]
            manifest["service"] = services + search_services(base, item.id)
            path.write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")


@pytest.fixture(scope="module")
def search_server(demo_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data = tmp_path_factory.mktemp("search-browser") / "data"
    shutil.copytree(demo_data, data, symlinks=True)
    _index_publication(data)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    app = create_app({"data": data, "base_url": base})
    if "search" not in app.blueprints:
        from server.search.views import search
        app.register_blueprint(search)
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield base
    server.shutdown()


def _searches(page: Any, base: str) -> list[Any]:
    return page.hits(lambda url: url.startswith(f"{base}/iiif/search/1/{ITEM}?"))


@pytest.mark.parametrize("viewer", sorted(VIEWERS))
def test_viewer_searches_inside_the_item(page: Any, viewer_server: Any, search_server: str, viewer: str) -> None:
    manifest = f"{search_server}/iiif/3/{ITEM}/manifest"
    ignore = known_viewer_defects(viewer, viewer_server.base_url)
    page.goto(viewer_server.url(f"/harness/{VIEWERS[viewer]}?manifest=" + quote(manifest, safe="")))
    page.wait_until(lambda: bool(page.info_hits(f"{search_server}/iiif/3/image/{ITEM}~")), TIMEOUT_MS, "the first info.json")
    if viewer.startswith("mirador"):
        page.page.get_by_role("button", name="Toggle sidebar").first.click()
        page.page.get_by_role("tab", name="Search").click()
        box = page.page.locator("input[id^='search-']").first
        box.fill(WORD)
        box.press("Enter")
        page.wait_until(lambda: bool(_searches(page, search_server)), TIMEOUT_MS, "the search request")
        # the hit list: each hit shows its match in <strong> within before/after text
        page.page.wait_for_function("() => document.querySelectorAll('li strong').length > 0", timeout=TIMEOUT_MS)
        matches = page.page.locator("li strong").all_inner_texts()
        assert matches and all(WORD in m.lower() for m in matches)
        selected = page.page.evaluate(
            "() => Object.values(window.mirador.store.getState().searches)"
            ".flatMap(w => Object.values(w)).flatMap(s => s.selectedContentSearchAnnotationIds || [])")
        assert selected, "Mirador selected no hit to highlight"
    else:
        box = page.page.locator("#searchWithinInput")
        box.fill(WORD)
        box.press("Enter")
        page.wait_until(lambda: bool(_searches(page, search_server)), TIMEOUT_MS, "the search request")
        page.page.get_by_text(re.compile(r"results? found for")).first.wait_for(timeout=TIMEOUT_MS)
        found = page.page.locator(".number").first.inner_text()
        assert int(found) >= 1
    page.wait_for_quiet()
    page.save_screenshot(f"search-{viewer}")
    assert all(hit.status == 200 for hit in _searches(page, search_server))
    assert not page.problems(ignore)
