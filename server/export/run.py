"""The export: crawl the application through its own WSGI interface, write what it answers as files.

Nothing here knows a template or a manifest builder: every page, IIIF document and image is what
the application answers to a request under the export's base URL (Flask's test client, no
server), and the crawl follows the links those answers contain. So the export follows whatever
the pages and the APIs become. Two passes: fetch everything reachable (keeping the documents
that carry links), then rewrite each document's links to the files that now hold their targets
and write it. Images are the exception to "follow the links": an image service found anywhere is
exported whole, at level 0 (``level0.py``).
"""
from __future__ import annotations

import html
import json
import re
import sys
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

from flask import Flask
from flask.testing import FlaskClient

from ..config import Settings
from ..errors import HeritageError
from ..publication import STORE_EXTENSION, Publication
from ..web import catalog
from ..web.i18n import default_language, ui_languages
from . import rewrite
from .images import ImageFiles
from .site import ASSETS, SEARCH, Key, Site
from .writer import ExportWriter

PAGES_SCRIPT = "static-export/pages.js"
IMAGE = re.compile(r"^/iiif/3/image/([^/]+)(?:/(.+))?$")
SERVER_ONLY_SERVICES = ("SearchService1", "SearchService2", "AutoCompleteService1", "AutoCompleteService2",
                        "ImageService1", "ImageService2")


@dataclass
class Document:
    kind: str            # "html" | "json" | "text"
    body: Any            # str, or the parsed JSON
    url: str             # the URL the application answered, for resolving relative links
    lang: str


@dataclass
class ExportReport:
    pages: int = 0
    images: int = 0
    files: int = 0
    written: int = 0
    unchanged: int = 0
    removed: int = 0
    bytes_written: int = 0
    bytes_total: int = 0
    seconds: float = 0.0
    search_records: int = 0
    problems: list[str] = field(default_factory=list)   # the export is incomplete: exit status 1
    warnings: list[str] = field(default_factory=list)   # broken on the server as well

    def summary(self) -> str:
        lines = [(f"exported {self.pages} pages, {self.images} images, {self.search_records} search records: "
                  f"{self.files} files ({self.bytes_total / 1e6:.1f} MB); {self.written} written, "
                  f"{self.unchanged} unchanged, {self.removed} removed, in {self.seconds:.1f} s")]
        lines += [f"warning: {w}" for w in self.warnings]
        lines += [f"problem: {p}" for p in self.problems]
        return "\n".join(lines)


class Exporter:
    def __init__(self, app: Flask, pub: Publication, site: Site, writer: ExportWriter, progress: bool = False) -> None:
        self.app = app
        self.pub = pub
        self.site = site
        self.writer = writer
        self.progress = progress
        self.client: FlaskClient = app.test_client(use_cookies=False)
        self.image_files = ImageFiles(self.client, pub, site, writer)
        self.files: dict[Key, str | None] = {}       # what holds each key (None: not exportable)
        self.aliases: dict[Key, Key] = {}            # redirects
        self.docs: dict[Key, Document] = {}
        self.linked_from_pages: dict[Key, str] = {}  # key → a page linking to it (for problems)
        self.images: dict[str, None] = {}            # image ids to export at level 0
        self.queue: deque[Key] = deque()
        self.queue_set: set[Key] = set()
        self.first_page = {i: ps[0].n for i in catalog.all_item_ids(pub) if (ps := catalog.pages(pub, i))}
        self.report = ExportReport()

    # --- keys -----------------------------------------------------------------------------------

    def key(self, url: str, lang: str) -> Key | None:
        key = self.site.key(url, lang)
        if key is None:
            return None
        parts = key.path.split("/")
        if key.is_page and len(parts) == 3 and parts[1] in ("item", "embed"):  # canvas 1 = the item page
            params = tuple(p for p in key.params if p != ("canvas", self.first_page.get(parts[2])))
            key = Key(key.path, params, key.lang)
        return key

    def enqueue(self, key: Key | None, from_page: str | None = None) -> None:
        if key is None:
            return
        if from_page and key not in self.linked_from_pages:
            self.linked_from_pages[key] = from_page
        if key in self.files or key in self.aliases or key in self.queue_set:
            return
        m = IMAGE.match(key.path)
        if m and (m.group(2) in (None, "info.json")):
            self.images.setdefault(m.group(1), None)
            self.files[key] = f"iiif/3/image/{m.group(1)}/info.json" if m.group(2) else None
            return
        self.queue_set.add(key)
        self.queue.append(key)

    # --- pass 1: crawl ----------------------------------------------------------------------------

    def seeds(self) -> Iterable[str]:
        base = self.site.base
        tree = catalog.tree(self.pub)
        yield f"{base}/"
        yield f"{base}/collections"
        for _, node in tree.walk():
            yield f"{base}/collection/{node.id}"
        for item_id in catalog.all_item_ids(self.pub):
            yield f"{base}/item/{item_id}"
            for page in catalog.pages(self.pub, item_id):
                yield f"{base}/item/{item_id}?canvas={page.n}"
        yield f"{base}{SEARCH}"

    def crawl(self) -> None:
        for lang in self.site.languages:
            for url in self.seeds():
                self.enqueue(self.key(url, lang))
        for url in (f"{self.site.base}/iiif/3/collection/top", f"{self.site.base}/sitemap.xml",
                    f"{self.site.base}/robots.txt"):
            self.enqueue(self.key(url, ""))
        done = 0
        while self.queue:
            key = self.queue.popleft()
            self.queue_set.discard(key)
            self.fetch(key)
            done += 1
            if self.progress and done % 50 == 0:
                print(f"\rexport: {done} resources, {len(self.queue)} to go", end="", file=sys.stderr, flush=True)
        if self.progress:
            print(file=sys.stderr)

    def fetch(self, key: Key) -> None:
        if key.path == SEARCH:
            self.files[key] = self.site.page_file(key)  # written by the search step
            return
        m = IMAGE.match(key.path)
        if m and m.group(2):
            self.files[key] = self.image_file(m.group(1), m.group(2))
            if self.files[key] is None and key in self.linked_from_pages:  # the server refuses it too
                self.report.warnings.append(f"{key.path}: the Image API refuses this request, the link stays "
                                            f"broken (linked from {self.linked_from_pages[key]})")
            return
        response = self.client.get(key.request_path(), base_url=self.site.origin + "/")
        url = self.site.base + key.request_path()
        if response.status_code in (301, 302, 303, 307, 308) and response.location:
            target = self.key(rewrite_location(url, response.location), key.lang)
            if target is not None:
                self.aliases[key] = target
                self.enqueue(target)
                return
        if response.status_code != 200:
            self.files[key] = None
            if key in self.linked_from_pages:
                self.report.problems.append(f"{key.request_path()} answers {response.status_code} "
                                            f"(linked from {self.linked_from_pages[key]})")
            return
        media = (response.mimetype or "").lower()
        data = response.get_data()
        if media == "text/html":
            file = self.site.page_file(key) if key.is_page else self.site.asset_file(key, media) + "/index.html"
            text = data.decode("utf-8")
            self.docs[key] = Document("html", text, url, key.lang)
            for link in rewrite.html_links(text, url, self.site.base):
                self.enqueue(self.key(link, key.lang), from_page=url)
            self.report.pages += 1
        elif media.endswith("json"):
            file = self.site.asset_file(key, media)
            doc = json.loads(data)
            self.docs[key] = Document("json", doc, url, "")
            for link in rewrite.json_links(doc, self.site.base):
                self.enqueue(self.key(link, ""))
        elif media in ("text/plain", "application/xml", "text/xml") and key.path in ("/sitemap.xml", "/robots.txt"):
            file = self.site.asset_file(key, media)
            text = data.decode("utf-8")
            self.docs[key] = Document("text", text, url, "")
        else:
            file = self.site.asset_file(key, media)
            self.writer.write(file, data)
        self.files[key] = file

    # --- images -----------------------------------------------------------------------------------

    def image_file(self, image_id: str, rest: str) -> str | None:
        return self.image_files.file(image_id, rest)

    def export_images(self) -> None:
        for n, image_id in enumerate(self.images, 1):
            problem = self.image_files.service(image_id)
            if problem:
                self.report.problems.append(problem)
            else:
                self.report.images += 1
            if self.progress:
                print(f"\rexport: images {n}/{len(self.images)}", end="", file=sys.stderr, flush=True)
        if self.progress:
            print(file=sys.stderr)

    # --- pass 2: rewrite and write ------------------------------------------------------------------

    def target(self, key: Key | None) -> str | None:
        seen = 0
        while key is not None and key in self.aliases and seen < 10:
            key, seen = self.aliases[key], seen + 1
        return self.files.get(key) if key is not None else None

    def resolver(self, lang: str, absolute: bool = True) -> rewrite.Resolver:
        def resolve_url(url: str) -> str | None:
            key = self.key(url, lang)
            file = self.target(key)
            if file is None or key is None:
                return None
            new = self.site.url_of(file) if absolute else self.site.path_of(file)
            if key.path == SEARCH and "?" in url:  # the static search page reads ?q= itself
                query = "&".join(p for p in url.split("?", 1)[1].split("&") if not p.startswith("lang="))
                new += f"?{query}" if query else ""
            return new
        return resolve_url

    def html_resolver(self, lang: str) -> Callable[[str, bool], str | None]:
        """Links in pages: absolute ones stay absolute, the others become root-relative."""
        absolute, relative = self.resolver(lang, True), self.resolver(lang, False)
        return lambda url, was_absolute: (absolute if was_absolute else relative)(url)

    def write_documents(self) -> None:
        for key, doc in self.docs.items():
            file = self.files.get(key)
            if file is None:
                continue
            if doc.kind == "html":
                text = rewrite.rewrite_html(doc.body, doc.url, self.site.base, self.html_resolver(doc.lang))
                if 'name="canvas"' in text and "</body>" in text:  # a page-number box: see assets/pages.js
                    script = f'<script src="{self.site.path_of(PAGES_SCRIPT)}" defer></script>\n'
                    text = text.replace("</body>", script + "</body>", 1)
                    self.writer.write(PAGES_SCRIPT, (ASSETS / "pages.js").read_bytes())
                self.writer.write(file, text.encode("utf-8"))
            elif doc.kind == "json":
                out = rewrite.rewrite_json(doc.body, self.site.base, self.resolver(""), self.keep_service)
                level0_services(out, self.site.base)
                self.writer.write(file, json.dumps(out, ensure_ascii=False, indent=2).encode("utf-8"))
            elif key.path == "/sitemap.xml":
                self.writer.write(file, self.sitemap(doc.body).encode("utf-8"))
            else:
                self.writer.write(file, rewrite.rewrite_text(doc.body, self.site.base, self.resolver("")).encode("utf-8"))

    def write_first_page_redirects(self) -> None:
        """``item/<id>/canvas/<first>/index.html`` leads to the item page, which shows that page
        (so that every page number has a file, as the page-number box expects)."""
        for key, file in list(self.files.items()):
            parts = key.path.split("/")
            if file is None or not key.is_page or key.params or len(parts) != 3 or parts[1] != "item":
                continue
            first = self.first_page.get(parts[2])
            if first is None:
                continue
            alias = self.site.page_file(Key(key.path, (("canvas", first),), key.lang))
            target = html.escape(self.site.path_of(file))
            self.writer.write(alias, (f'<!doctype html><html lang="{key.lang}"><meta charset="utf-8">'
                                      f'<meta http-equiv="refresh" content="0; url={target}">'
                                      f'<link rel="canonical" href="{html.escape(self.site.url_of(file))}">'
                                      f'<title>{target}</title><a href="{target}">{target}</a></html>\n').encode())

    def keep_service(self, obj: dict[str, Any]) -> bool:
        """Drop the services a set of files cannot answer (Content Search, autocomplete, 2.x images)."""
        kind = obj.get("type") or obj.get("@type")
        ident = obj.get("id") or obj.get("@id")
        return not (kind in SERVER_ONLY_SERVICES and isinstance(ident, str) and ident.startswith(self.site.base))

    def sitemap(self, text: str) -> str:
        """The application's sitemap, each page in every language."""
        locs: list[str] = []
        for loc in re.findall(r"<loc>([^<]+)</loc>", text):
            for lang in self.site.languages:
                file = self.target(self.key(loc.replace("&amp;", "&"), lang))
                if file is not None and (url := self.site.url_of(file)) not in locs:
                    locs.append(url)
        body = ['<?xml version="1.0" encoding="UTF-8"?>',
                '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">']
        body += [f"  <url><loc>{xml_escape(loc)}</loc></url>" for loc in locs]
        return "\n".join([*body, "</urlset>", ""])

    def page_title(self, key: Key) -> str:
        doc = self.docs.get(key)
        if doc is None or doc.kind != "html":
            return ""
        m = re.search(r"<title>(.*?)</title>", doc.body, re.DOTALL)
        title = " ".join(html.unescape(m.group(1)).split()) if m else ""
        suffix = f" · {self.app.config['SETTINGS'].site_title}"  # base.html appends the site's name
        return title.removesuffix(suffix)


def level0_services(doc: Any, base: str) -> None:
    """Image services of this site say what the files offer: level 0."""
    if isinstance(doc, dict):
        if doc.get("type") == "ImageService3" and str(doc.get("id", "")).startswith(base):
            doc["profile"] = "level0"
        for value in doc.values():
            level0_services(value, base)
    elif isinstance(doc, list):
        for value in doc:
            level0_services(value, base)


def xml_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def rewrite_location(url: str, location: str) -> str:
    return urljoin(url, location)


def export_site(settings: Settings, out_dir: Path, base_url: str, progress: bool = False,
                search: bool = True) -> ExportReport:
    """Export the current publication under ``base_url`` into ``out_dir`` (incrementally)."""
    from dataclasses import fields

    from .. import create_app
    started = time.monotonic()
    overrides = {f.name: getattr(settings, f.name) for f in fields(settings)}
    overrides["base_url"] = base_url.rstrip("/")
    app = create_app(overrides)
    store = app.extensions[STORE_EXTENSION]
    pub = store.current()
    if pub is None:
        raise HeritageError("nothing is published yet: run `heritage ingest HOLDINGS_DIR` first")
    # one generation for the whole export, even if an ingest switches `current` meanwhile
    store.current = lambda: pub
    site = Site(base_url, ui_languages(app), default_language(app))
    writer = ExportWriter(out_dir)
    exporter = Exporter(app, pub, site, writer, progress)
    exporter.crawl()
    exporter.export_images()
    exporter.write_documents()
    exporter.write_first_page_redirects()
    if search:
        from .search import write_search
        exporter.report.search_records = write_search(exporter)
    stats = writer.finish()
    report = exporter.report
    report.files, report.written, report.unchanged = len(stats.files), stats.written, stats.unchanged
    report.removed, report.bytes_written = stats.removed, stats.bytes_written
    report.bytes_total = sum((writer.out / rel).stat().st_size for rel in stats.files)
    report.seconds = time.monotonic() - started
    return report
