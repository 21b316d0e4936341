"""Site search without a server: a Pagefind index of the pages' OCR text, and a search page.

One record per page of an item and per language of the site: its URL is the exported item page
opened at that page (``item/<id>/canvas/<n>/index.html``), its text the page's words as ingest
stored them for search (``server.search.store``), its title the page's own ``<title>``. Pagefind
keeps one index per language and the search page loads the one of its ``<html lang>``.

The search page is rendered by the application (``templates/export_search.html`` extends
``base.html``), so it has the site's header, footer and language switcher; ``search.js`` starts
Pagefind's UI there and runs ``?q=`` — the parameter the site's search forms send.
"""
from __future__ import annotations

import asyncio
import gzip
import json
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from flask import render_template

from ..search.store import read_page
from ..web import catalog
from . import rewrite
from .site import ASSETS, SEARCH, Key

if TYPE_CHECKING:
    from .run import Exporter

BUNDLE = "pagefind"
SCRIPT = "search/search.js"
STYLE = "search/search.css"


def page_records(exporter: Exporter) -> list[dict[str, str]]:
    """The records to index: (url, language, title, text) of every exported page with words."""
    records = []
    for item_id in catalog.all_item_ids(exporter.pub):
        for page in catalog.pages(exporter.pub, item_id):
            stored = read_page(exporter.pub.root, item_id, page.n)
            words = " ".join(stored.texts) if stored is not None else ""
            if not words.strip():
                continue
            for lang in exporter.site.languages:
                key = exporter.key(f"{exporter.site.base}/item/{item_id}?canvas={page.n}", lang)
                file = exporter.target(key)
                if key is None or file is None:
                    continue
                records.append({"url": exporter.site.path_of(file), "language": lang,
                                "title": exporter.page_title(key) or item_id, "content": words})
    return records


async def _index(records: list[dict[str, str]], out: Path) -> None:
    from pagefind.index import IndexConfig, PagefindIndex
    async with PagefindIndex(IndexConfig(output_path=str(out))) as index:
        for r in records:
            await index.add_custom_record(url=r["url"], content=r["content"], language=r["language"],
                                          meta={"title": r["title"]})


def write_search(exporter: Exporter) -> int:
    """Build the index into the export (through its writer) and write the search page per language."""
    records = page_records(exporter)
    with tempfile.TemporaryDirectory(prefix="heritage-pagefind-") as tmp:
        bundle = Path(tmp) / BUNDLE
        asyncio.run(_index(records, bundle))
        for path in sorted(p for p in bundle.rglob("*") if p.is_file()):
            data = path.read_bytes()
            if path.name == "pagefind-entry.json":  # its languages come in any order: fix one, or it always changes
                data = json.dumps(json.loads(data), sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()
            elif path.name.startswith("wasm.") and data[:2] == b"\x1f\x8b":  # compressed differently run to run
                data = gzip.compress(gzip.decompress(data), compresslevel=9, mtime=0)
            exporter.writer.write(f"{BUNDLE}/{path.relative_to(bundle).as_posix()}", data)
    exporter.writer.write(SCRIPT, (ASSETS / "search.js").read_bytes())
    exporter.writer.write(STYLE, (ASSETS / "search.css").read_bytes())
    for lang in exporter.site.languages:
        key = Key(SEARCH, (), lang)
        exporter.writer.write(exporter.site.page_file(key), search_page(exporter, lang).encode("utf-8"))
    return len(records)


def search_page(exporter: Exporter, lang: str) -> str:
    site = exporter.site
    page_url = f"{site.base}{SEARCH}?lang={lang}"
    with exporter.app.test_request_context(f"{SEARCH}?lang={lang}", base_url=site.origin + "/"):
        text = render_template("export_search.html", bundle_url=site.path_of(BUNDLE + "/"),
                               script_url=site.path_of(SCRIPT), style_url=site.path_of(STYLE))
    return rewrite.rewrite_html(text, page_url, site.base, exporter.html_resolver(lang))
