"""Stage: write a complete generation — catalog, IIIF JSON, OCR copies, plain text — into ``gen``.

Per item, the rule that keeps ingest lossless: an item whose row was rejected, or whose page image
or OCR file could not be read, keeps its previous publication when there is one (copied as it
was); otherwise it is published without the unreadable pages, with an error in the report.
Restricted items are never written.
"""
from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config import Settings
from ..holdings.model import Holdings, Item, Problem
from ..image.model import Pyramid
from ..ocr import OCRError, PageText, parse_ocr
from ..presentation import labels
from ..presentation.build import ChildRef, PageInfo, build_collection, build_manifest
from ..presentation.labels import page_label
from ..presentation.serials import IssueInfo, group_by_year, year_label
from ..presentation.urls import Urls
from ..publication import Publication, create_catalog
from ..search import MANIFEST_CONTEXTS, IndexedPage, SearchIndexWriter, search_services
from ..search.ingest import collection_labels, indexed_item, pages_from_publication
from ..texts import N_
from .fingerprint import Fingerprints
from .images import PageResult
from .report import IngestReport, Progress

DEFAULT_BASE = "http://127.0.0.1:8000"


@dataclass
class PublishedItem:
    item: Item
    pages: list[PageInfo]
    pyramids: list[tuple[str, Pyramid]]  # (content key, pyramid) per published page
    texts: list[PageText | None] = field(default_factory=list)
    page_numbers: list[int] = field(default_factory=list)  # 1-based index into item.pages
    fingerprint: str = ""


def write_generation(gen: Path, holdings: Holdings, page_keys: dict[str, list[str]], results: dict[str, PageResult],
                     previous: Publication | None, fps: Fingerprints, settings: Settings, report: IngestReport,
                     progress: Progress, force: bool = False) -> tuple[int, int]:
    """Fill ``gen``; returns (items published, pages published)."""
    base = settings.base_url or DEFAULT_BASE
    urls = Urls(base)
    db = create_catalog(gen / "catalog.sqlite")
    iiif = gen / "iiif" / "3"
    iiif.mkdir(parents=True)
    db.execute("INSERT INTO meta VALUES ('base_url', ?)", (base,))
    db.execute("INSERT INTO meta VALUES ('holdings', ?)", (str(holdings.root),))

    published: dict[str, PublishedItem] = {}
    carried: list[str] = []
    prev_items = _previous_items(previous)
    unchanged: list[str] = []
    for item in holdings.items.values():
        fingerprint = item_fingerprint(item, fps, settings)
        if not force and prev_items.get(item.id) == fingerprint and all(results[k].pyramid for k in page_keys[item.id]):
            unchanged.append(item.id)  # same row, same files, same settings: reuse as published
            progress.item_done(item.id, len(item.pages))
            continue
        entry, failed = _publish_item(item, page_keys[item.id], results, report, holdings.root)
        if entry is not None:
            entry.fingerprint = fingerprint
        if failed and item.id in prev_items:
            carried.append(item.id)
            report.problems.append(Problem(_rel(item.folder, holdings.root), None,
                                           N_("kept the previous publication of this item"), item.id, "warning"))
        elif entry is not None:
            published[item.id] = entry
        progress.item_done(item.id, len(entry.pages) if entry is not None else 0)
    for item_id in sorted(holdings.rejected - holdings.restricted - set(holdings.items)):
        if item_id in prev_items:
            carried.append(item_id)
            report.problems.append(Problem(*item_row(report.problems, item_id), N_(
                "kept the previous publication of item %(id)r", id=item_id), item_id, "warning"))

    search_index = SearchIndexWriter(gen, previous.root if previous else None)
    try:
        position = 0
        for item_id, entry in published.items():
            _write_item(db, iiif, entry, urls, settings, position)
            search_index.add_item(indexed_item(entry.item, holdings.collections),
                                  [IndexedPage(n, own_label(entry, info, settings) or "", info.width, info.height,
                                               text)
                                   for n, (info, text) in enumerate(zip(entry.pages, entry.texts), 1)
                                   if text is not None])
            position += 1
        report.items_skipped = len(unchanged)
        for item_id in carried + unchanged:
            assert previous is not None
            _carry_over(db, iiif, previous, item_id, position)
            position += 1
            meta = holdings.items.get(item_id)
            indexed = indexed_item(meta, holdings.collections) if meta else item_id
            if not search_index.keep_item(indexed) and meta is not None:
                search_index.add_item(indexed_item(meta, holdings.collections),
                                      pages_from_publication(previous, item_id))
        search_index.set_collection_labels(collection_labels(holdings.collections))
        search_index.commit()
    except BaseException:
        search_index.abort()
        raise

    report.outcomes = {
        "new": [i for i in published if i not in prev_items], "changed": [i for i in published if i in prev_items],
        "unchanged": unchanged, "carried": carried,
        "withdrawn": sorted(set(prev_items) - set(published) - set(unchanged) - set(carried))}
    _write_collections(db, iiif, holdings, urls, settings)
    db.executemany("INSERT INTO inputs VALUES (?, ?, ?, ?)",
                   [(path, size, mtime, digest) for path, (size, mtime, digest) in fps.current.items()])
    db.commit()
    pages = db.execute("SELECT COUNT(*) FROM pages").fetchone()[0]
    items = db.execute("SELECT COUNT(*) FROM items").fetchone()[0]
    db.close()
    return items, pages


def item_row(problems: list[Problem], item_id: str) -> tuple[str, int | None]:
    """(sheet, line) of an item's rejected row, from the reader's problems (items.csv or items.xlsx)."""
    for p in problems:
        if p.item_id == item_id and p.file.startswith("items.") and "/" not in p.file:
            return p.file, p.line
    return "items.csv", None


def _rel(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def _publish_item(item: Item, keys: list[str], results: dict[str, PageResult], report: IngestReport,
                  root: Path) -> tuple[PublishedItem | None, bool]:
    """The item's readable pages (with parsed OCR); ``failed`` when any page or OCR file was unreadable."""
    entry = PublishedItem(item, [], [])
    failed = False
    for n, (page, key) in enumerate(zip(item.pages, keys), 1):
        result = results[key]
        if result.pyramid is None:
            failed = True
            report.problems.append(Problem(_rel(page.image, root), None, result.error or N_("unreadable image"), item.id))
            continue
        text: PageText | None = None
        ocr_format = page.ocr_format
        if page.ocr is not None:
            try:
                text = parse_ocr(page.ocr, result.pyramid.width, result.pyramid.height)
            except OCRError as exc:
                failed = True
                ocr_format = None
                report.problems.append(Problem(_rel(page.ocr, root), exc.line, exc.reason, item.id))
        number = len(entry.pages) + 1
        entry.pages.append(PageInfo(image_id=f"{item.id}~{number}", width=result.pyramid.width,
                                    height=result.pyramid.height, ocr_format=ocr_format, page=n,
                                    label=page.label, ocr_engine=page.ocr_engine if ocr_format else None))
        entry.pyramids.append((key, result.pyramid))
        entry.texts.append(text)
        entry.page_numbers.append(n)
    if not entry.pages:
        report.problems.append(Problem(_rel(item.folder, root), None, N_("no readable page: item not published"), item.id))
        return None, True
    return entry, failed


def own_label(entry: PublishedItem, info: PageInfo, settings: Settings) -> str | None:
    """The label the catalog and the search index show for a page: none (the site says "page n" in
    the visitor's language) unless pages were left out, then its own number as the canvas has it."""
    if info.label or entry.page_numbers == list(range(1, len(entry.pages) + 1)):
        return info.label
    return next(iter(page_label(info.page or 0, [settings.default_language]).values()))[0]


def _write_item(db: sqlite3.Connection, iiif: Path, entry: PublishedItem, urls: Urls, settings: Settings,
                position: int) -> None:
    item = entry.item
    folder = iiif / item.id
    (folder / "canvas").mkdir(parents=True)
    has_text = any(p.ocr_format for p in entry.pages)
    manifest = build_manifest(item, entry.pages, urls, settings,
                              services=search_services(urls.base, item.id) if has_text else (),
                              contexts=MANIFEST_CONTEXTS if has_text else ())
    _dump(folder / "manifest.json", manifest)
    context = manifest["@context"]
    for n, canvas in enumerate(manifest.get("items", []), 1):
        _dump(folder / "canvas" / f"{n}.json", {"@context": context, **canvas})
    for rng in _ranges(manifest.get("structures", [])):
        (folder / "range").mkdir(exist_ok=True)
        _dump(folder / "range" / f"{rng['id'].rsplit('/', 1)[1]}.json", {"@context": context, **rng})

    texts = []
    for n, (info, (key, pyramid), text, original) in enumerate(
            zip(entry.pages, entry.pyramids, entry.texts, entry.page_numbers), 1):
        db.execute("INSERT INTO images VALUES (?, ?, ?, ?, ?, ?)",
                   (info.image_id, key, str(Path(pyramid.path).relative_to(settings.image_cache_dir)),
                    pyramid.width, pyramid.height, json.dumps(pyramid.levels)))
        page = item.pages[original - 1]
        db.execute("INSERT INTO pages VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                   (item.id, n, info.image_id, info.width, info.height, own_label(entry, info, settings),
                    page.name if page.ocr else None, info.ocr_format))
        if info.ocr_format and page.ocr is not None:
            (folder / "ocr").mkdir(exist_ok=True)
            shutil.copyfile(page.ocr, folder / "ocr" / f"{n}.{'xml' if info.ocr_format == 'alto' else 'hocr'}")
        if text is not None:
            texts.append(text.text)
    if texts:
        (folder / "text.txt").write_text("\n\n".join(texts) + "\n", encoding="utf-8")
    data = {"label": item.title, "pages": len(entry.pages), "fingerprint": entry.fingerprint, "thumbnail": manifest.get("thumbnail"),
            "date": item.date.display if item.date else None,
            "ocr_engine": next((p.ocr_engine for p in entry.pages if p.ocr_engine), None),  # machine OCR
            "nav_date": item.date.nav_date.strftime("%Y-%m-%dT%H:%M:%SZ") if item.date else None}
    db.execute("INSERT INTO items VALUES (?, ?, ?, ?, ?, ?)",
               (item.id, item.collection, item.type, data["date"], position, json.dumps(data, ensure_ascii=False)))


def _carry_over(db: sqlite3.Connection, iiif: Path, previous: Publication, item_id: str, position: int) -> None:
    """Copy an item's previous publication into this generation unchanged (files and catalog rows)."""
    shutil.copytree(previous.root / "iiif" / "3" / item_id, iiif / item_id)
    for row in previous.query("SELECT * FROM items WHERE id = ?", item_id):
        db.execute("INSERT INTO items VALUES (?, ?, ?, ?, ?, ?)",
                   (row["id"], row["collection"], row["type"], row["date"], position, row["data"]))
    for row in previous.query("SELECT * FROM pages WHERE item_id = ?", item_id):
        db.execute("INSERT INTO pages VALUES (?, ?, ?, ?, ?, ?, ?, ?)", tuple(row))
        for img in previous.query("SELECT * FROM images WHERE id = ?", row["image_id"]):
            db.execute("INSERT INTO images VALUES (?, ?, ?, ?, ?, ?)", tuple(img))


def _previous_items(previous: Publication | None) -> dict[str, str]:
    """Previously published item ids with their input fingerprints."""
    if previous is None:
        return {}
    try:
        return {r["id"]: json.loads(r["data"]).get("fingerprint", "") for r in previous.query("SELECT id, data FROM items")}
    except sqlite3.Error:
        return {}


def item_fingerprint(item: Item, fps: Fingerprints, settings: Settings) -> str:
    """Everything an item's publication depends on: its row, its files' contents, the publication settings."""
    h = hashlib.sha256(repr(item).encode())
    for page in item.pages:
        for path in (page.image, page.ocr):
            if path is not None:
                h.update(fps.current.get(str(path), (0, 0, "?"))[2].encode())
    h.update(repr((settings.base_url, settings.default_language, settings.languages, settings.default_rights,
                   settings.default_attribution, settings.provider_label, settings.provider_homepage,
                   settings.tile_size)).encode())
    return h.hexdigest()[:32]


def _ranges(structures: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for rng in structures:
        if rng.get("type") == "Range":
            out.append(rng)
            out.extend(_ranges(rng.get("items", [])))
    return out


def _write_collections(db: sqlite3.Connection, iiif: Path, holdings: Holdings, urls: Urls, settings: Settings) -> None:
    """The collection tree, pruned to what is published; ``top`` lists the top-level collections."""
    rows = {r[0]: json.loads(r[1]) for r in db.execute("SELECT id, data FROM items")}
    item_coll = dict(db.execute("SELECT id, collection FROM items").fetchall())
    thumbs: dict[str, PageInfo] = {}
    for item_id, data in rows.items():
        thumb = (data.get("thumbnail") or [None])[0]
        if thumb:
            image_id = thumb["service"][0]["id"].rsplit("/", 1)[1]
            page = db.execute("SELECT width, height FROM pages WHERE image_id = ?", (image_id,)).fetchone()
            thumbs[item_id] = PageInfo(image_id, page[0], page[1])
    out = iiif / "collection"
    out.mkdir()
    languages = settings.languages

    def children_of(coll_id: str | None) -> list[ChildRef]:
        kids = [ChildRef("Collection", c.id, c.title, _first_thumb(c.id)) for c in holdings.child_collections(coll_id)]
        if coll_id is not None:
            for item_id in [i for i, c in item_coll.items() if c == coll_id]:
                data = rows[item_id]
                from datetime import datetime
                nav = datetime.strptime(data["nav_date"], "%Y-%m-%dT%H:%M:%SZ") if data.get("nav_date") else None
                kids.append(ChildRef("Manifest", item_id, data["label"], thumbs.get(item_id), nav))
        return kids

    def _first_thumb(coll_id: str) -> PageInfo | None:
        for item_id, c in item_coll.items():
            if c == coll_id and item_id in thumbs:
                return thumbs[item_id]
        for sub in holdings.child_collections(coll_id):
            found = _first_thumb(sub.id)
            if found:
                return found
        return None

    top_label = labels.top_label(settings.provider_label,
                                 labels.publication_languages(settings.default_language, settings.languages))
    _write_collection(out, "top", top_label, None, children_of(None), urls, settings, None)
    issues = {r[0]: IssueInfo(r[1], r[2], r[3]) for r in db.execute("SELECT id, type, date, position FROM items")}
    for position, coll in enumerate(holdings.collections.values()):
        kids, years = group_by_year(coll.id, children_of(coll.id), issues)  # a serial's issues, by year
        for group in years:
            _write_collection(out, group.id, year_label(group), None, group.issues, urls, settings, coll.id)
        _write_collection(out, coll.id, coll.title, coll.description or None, kids, urls, settings,
                          coll.parent or "top")
        db.execute("INSERT INTO collections VALUES (?, ?, ?, ?)",
                   (coll.id, coll.parent, position, json.dumps({"label": coll.title, "summary": coll.description,
                                                               "children": len(kids)}, ensure_ascii=False)))
    del languages


def _write_collection(out: Path, coll_id: str, label: dict[str, list[str]], summary: dict[str, list[str]] | None,
                      children: list[ChildRef], urls: Urls, settings: Settings, parent: str | None) -> None:
    size = settings.collection_page_size
    langs = tuple(settings.languages)
    (out / f"{coll_id}.json").parent.mkdir(parents=True, exist_ok=True)
    _dump(out / f"{coll_id}.json", build_collection(coll_id, label, summary, children, urls, None, size,
                                                    languages=langs, parent=parent))
    if size > 0 and len(children) > size:
        pages = (len(children) + size - 1) // size
        (out / coll_id / "page").mkdir(parents=True)
        for p in range(1, pages + 1):
            _dump(out / coll_id / "page" / f"{p}.json",
                  build_collection(coll_id, label, summary, children, urls, p, size, languages=langs, parent=parent))


def _dump(path: Path, doc: dict[str, Any]) -> None:
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=1), encoding="utf-8")
