"""Stage: write a complete generation into ``gen``: its catalog rows (``server/catalog/``), links
to its items' content-addressed files (``artefacts.py``: IIIF JSON, OCR copies, plain text, written
only for new or changed item versions), its collections and its search index.

Per item, the rule that keeps ingest lossless: an item whose row was rejected, or whose page image
or OCR file could not be read, keeps its previous publication when there is one (linked as it
was); otherwise it is published without the unreadable pages, with an error in the report.
Restricted items are never written.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

from ..catalog import SharedCatalog
from ..config import Settings
from ..holdings.model import Holdings, Item, Problem
from ..image.model import Pyramid
from ..ocr import PageText
from ..presentation import labels
from ..presentation.build import ChildRef, PageInfo, build_collection, build_manifest, member_key
from ..presentation.labels import page_label
from ..presentation.paging import page_layout, remembered
from ..presentation.serials import IssueInfo, group_by_year, year_label
from ..presentation.urls import Urls
from ..publication import CURRENT, Publication
from ..search import MANIFEST_CONTEXTS, IndexedPage, SearchIndexWriter, search_services
from ..search.encoding import encoding_workers
from ..search.ingest import collection_labels, indexed_item, pages_from_publication
from ..search.store import OBJECT_LINKS, WORDS_DIR, drop, entries, marked, relink, same_entries, same_folder
from ..texts import N_
from .artefacts import (
    ARTEFACTS_VERSION,
    ObjectWriter,
    adopt_folder,
    link_item,
    linked_object,
    object_dir,
    object_key,
    remove_objects,
)
from .fingerprint import Fingerprints
from .images import SHARD_STAMPS, PageResult, PageResults
from .ocrparse import OCRResult, OCRTask, parse_all
from .positions import item_positions
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


def write_generation(gen: Path, holdings: Holdings, page_keys: dict[str, list[str]], results: PageResults,
                     previous: Publication | None, fps: Fingerprints, settings: Settings, report: IngestReport,
                     progress: Progress, force: bool = False, shard_stamps: dict[str, str] | None = None,
                     donor: int | None = None) -> tuple[int, int]:
    """Fill ``gen``; returns (items published, pages published). ``shard_stamps``: the image cache's
    shards the next run may trust (``server/ingest/images.py``: ``CachedPyramids``), recorded with it.
    ``donor``: ``gen`` is the generation of that number, taken as it is (``server/ingest/recycle.py``):
    its item entries that are the previous generation's own are kept, the others written."""
    base = settings.base_url or DEFAULT_BASE
    urls = Urls(base)
    catalog = SharedCatalog(gen.parent)
    try:
        catalog.begin(previous.number if previous else None, gen / "catalog.sqlite", gen.name)
        remove_objects(gen.parent, catalog.abandoned)
        if shard_stamps:
            catalog.set_meta(SHARD_STAMPS, json.dumps(shard_stamps, sort_keys=True, separators=(",", ":")))
        counts = _write_generation(catalog, gen, holdings, page_keys, results, previous, fps, settings, report,
                                   progress, force, urls, donor is not None)
        catalog.commit()
    finally:
        catalog.close()
    return counts


def _write_generation(catalog: SharedCatalog, gen: Path, holdings: Holdings, page_keys: dict[str, list[str]],
                      results: PageResults, previous: Publication | None, fps: Fingerprints,
                      settings: Settings, report: IngestReport, progress: Progress, force: bool,
                      urls: Urls, recycled: bool = False) -> tuple[int, int]:
    """``recycled``: ``gen`` holds a donor generation's item entries (``server/ingest/recycle.py``)."""
    iiif = gen / "iiif" / "3"
    iiif.mkdir(parents=True, exist_ok=recycled)
    existing = entries(iiif) if recycled else set()
    same = same_entries(iiif, previous.root / "iiif" / "3") if recycled and previous is not None else set()
    (gen / OBJECT_LINKS).write_text("iiif/3 and words hold links to objects (or real folders)\n", encoding="utf-8")
    catalog.set_meta("base_url", urls.base)
    catalog.set_meta("holdings", str(holdings.root))
    live = catalog.live()
    # stable positions: a row added or moved in the sheet changes its own item's membership, not the others'
    order = item_positions(list(dict.fromkeys([*holdings.items, *sorted(holdings.rejected)])),
                           {item_id: was for item_id, (_, _, was) in live.items()})

    published: dict[str, PublishedItem] = {}
    carried: list[str] = []
    prev_items = _previous_items(previous)
    unchanged: list[str] = []
    fingerprints = {item.id: item_fingerprint(item, fps, settings) for item in holdings.items.values()}
    todo = {item.id for item in holdings.items.values()
            if force or prev_items.get(item.id) != fingerprints[item.id]
            or not all(map(results.readable, page_keys[item.id]))}
    parsed = dict(r.text for r in results.values() if r.text is not None)  # by the pyramid workers
    texts = parse_all([t for item_id in todo for t in _ocr_tasks(holdings.items[item_id], page_keys[item_id], results)],
                      settings.workers, parsed)
    for item in holdings.items.values():
        fingerprint = fingerprints[item.id]
        if item.id not in todo:
            unchanged.append(item.id)  # same row, same files, same settings: reuse as published
            progress.item_done(item.id, len(item.pages), unchanged=True)
            continue
        entry, failed = _publish_item(item, page_keys[item.id], results, texts, report, holdings.root)
        if entry is not None:
            entry.fingerprint = fingerprint
        if failed and item.id in prev_items:
            carried.append(item.id)
            report.problems.append(Problem(_rel(item.folder, holdings.root), None,
                                           N_("kept the previous publication of this item"), item.id, "warning"))
        elif entry is not None:
            published[item.id] = entry
        progress.item_done(item.id, len(entry.pages) if entry is not None else 0)
    progress.flush_kept()
    for item_id in sorted(holdings.rejected - holdings.restricted - set(holdings.items)):
        if item_id in prev_items:
            carried.append(item_id)
            report.problems.append(Problem(*item_row(report.problems, item_id), N_(
                "kept the previous publication of item %(id)r", id=item_id), item_id, "warning"))

    to_index = sum(1 for entry in published.values() for text in entry.texts if text is not None)
    search_index = SearchIndexWriter(gen, previous.root if previous else None, recycled=recycled,
                                     workers=encoding_workers(to_index, settings.workers))
    try:
        for item_id, entry in published.items():
            if item_id in existing:
                drop(iiif, item_id)  # the donor's entry of an item published again
            vid = _write_item(catalog, live, iiif, entry, urls, settings, order[item_id], force)
            search_index.add_item(indexed_item(entry.item, holdings.collections),
                                  [IndexedPage(n, own_label(entry, info, settings) or "", info.width, info.height,
                                               text)
                                   for n, (info, text) in enumerate(zip(entry.pages, entry.texts), 1)
                                   if text is not None])
            words = linked_object(gen / WORDS_DIR, item_id)
            if words is not None:
                catalog.set_words(vid, os.path.relpath(words, gen.parent))
        report.items_skipped = len(unchanged)
        same_root = previous is not None and same_folder(previous.root.parent, gen.parent)
        trusted = same_root and marked(previous.root if previous is not None else None)
        for item_id in carried + unchanged:
            assert previous is not None
            if item_id in existing and item_id not in same:
                drop(iiif, item_id)  # the donor's entry is not the previous generation's
            _carry_over(catalog, live, iiif, previous, item_id, order[item_id], same_root, trusted,
                        kept=item_id in same)
            meta = holdings.items.get(item_id)
            indexed = indexed_item(meta, holdings.collections) if meta else item_id
            if not search_index.keep_item(indexed) and meta is not None:
                search_index.add_item(indexed_item(meta, holdings.collections),
                                      pages_from_publication(previous, item_id))
        for item_id in live.keys() - published.keys() - set(carried) - set(unchanged):
            catalog.hide(live[item_id][0])  # withdrawn
        for item_id in existing - published.keys() - set(carried) - set(unchanged):
            drop(iiif, item_id)  # the donor showed it; this generation does not
        search_index.set_collection_labels(collection_labels(holdings.collections))
        search_index.commit()
    except BaseException:
        search_index.abort()
        raise

    report.outcomes = {
        "new": [i for i in published if i not in prev_items], "changed": [i for i in published if i in prev_items],
        "unchanged": unchanged, "carried": carried,
        "withdrawn": sorted(set(prev_items) - set(published) - set(unchanged) - set(carried))}
    _write_collections(catalog, iiif, holdings, urls, settings, previous, reuse=not force)
    catalog.set_inputs(fps.current, _previous_inputs(previous, fps, live))
    return catalog.reads.counts()


def _previous_inputs(previous: Publication | None, fps: Fingerprints,
                     live: dict[str, tuple[int, int, int]]) -> dict[str, tuple[int, int, str]]:
    """The fingerprints the shared catalog holds already (none when the previous generation had its own)."""
    if not live or previous is None:
        return {}
    if fps.previous:
        return fps.previous
    return previous.catalog.inputs()


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


def _ocr_tasks(item: Item, keys: list[str], results: dict[str, PageResult]) -> list[OCRTask]:
    return [OCRTask(str(page.ocr), pyramid.width, pyramid.height) for page, key in zip(item.pages, keys)
            if page.ocr is not None and (pyramid := results[key].pyramid) is not None]


def _publish_item(item: Item, keys: list[str], results: dict[str, PageResult], texts: dict[OCRTask, OCRResult],
                  report: IngestReport, root: Path) -> tuple[PublishedItem | None, bool]:
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
            parsed = texts[OCRTask(str(page.ocr), result.pyramid.width, result.pyramid.height)]
            text = parsed.text
            if text is None:
                failed = True
                ocr_format = None
                report.problems.append(Problem(_rel(page.ocr, root), parsed.line, parsed.reason or "", item.id))
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


def _write_item(catalog: SharedCatalog, live: dict[str, tuple[int, int, int]], iiif: Path, entry: PublishedItem,
                urls: Urls, settings: Settings, position: int, force: bool) -> int:
    """The item's catalog rows, and its link to its (content-addressed) published files; returns its version."""
    item = entry.item
    manifests_dir = iiif.parent.parent.parent
    key = object_key(entry.fingerprint, repr(entry.page_numbers), repr([p.ocr_format for p in entry.pages]),
                     iiif.parent.parent.name if force else "")
    folder = object_dir(manifests_dir, key)
    manifest = None
    if not (folder / "manifest.json").is_file():
        writer = ObjectWriter(manifests_dir, key)
        try:
            manifest = _write_files(writer.folder, entry, urls, settings)
            folder = writer.commit()
        except BaseException:
            writer.abort()
            raise
    link_item(iiif, item.id, folder)
    if manifest is None:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    data = {"label": item.title, "pages": len(entry.pages), "fingerprint": entry.fingerprint, "thumbnail": manifest.get("thumbnail"),
            "date": item.date.display if item.date else None,
            "ocr_engine": next((p.ocr_engine for p in entry.pages if p.ocr_engine), None),  # machine OCR
            "nav_date": item.date.nav_date.strftime("%Y-%m-%dT%H:%M:%SZ") if item.date else None}
    if item.id in live:
        catalog.hide(live[item.id][0])  # its previous version
    vid = catalog.add_version(item.id, item.collection, item.type, item.date.display if item.date else None,
                              json.dumps(data, ensure_ascii=False), position, os.path.relpath(folder, manifests_dir))
    for n, (info, (key, pyramid), original) in enumerate(zip(entry.pages, entry.pyramids, entry.page_numbers), 1):
        catalog.add_image(vid, info.image_id, key, str(Path(pyramid.path).relative_to(settings.image_cache_dir)),
                          pyramid.width, pyramid.height, json.dumps(pyramid.levels))
        page = item.pages[original - 1]
        catalog.add_page(vid, item.id, n, info.image_id, info.width, info.height, own_label(entry, info, settings),
                         page.name if page.ocr else None, info.ocr_format)
    return vid


def _write_files(folder: Path, entry: PublishedItem, urls: Urls, settings: Settings) -> dict[str, Any]:
    """An item version's files: manifest, canvases, ranges, a copy of each page's OCR, the plain text."""
    item = entry.item
    (folder / "canvas").mkdir()
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
    for n, (info, text, original) in enumerate(zip(entry.pages, entry.texts, entry.page_numbers), 1):
        page = item.pages[original - 1]
        if info.ocr_format and page.ocr is not None:
            (folder / "ocr").mkdir(exist_ok=True)
            shutil.copyfile(page.ocr, folder / "ocr" / f"{n}.{'xml' if info.ocr_format == 'alto' else 'hocr'}")
        if text is not None:
            texts.append(text.text)
    if texts:
        (folder / "text.txt").write_text("\n\n".join(texts) + "\n", encoding="utf-8")
    return manifest


def _carry_over(catalog: SharedCatalog, live: dict[str, tuple[int, int, int]], iiif: Path, previous: Publication,
                item_id: str, position: int, same_root: bool = False, marked: bool = False,
                kept: bool = False) -> None:
    """Keep an item's previous publication in this generation: a link to its files, and its version stays
    shown (nothing is written unless its position changed). ``same_root``: the previous generation is
    in the same manifests folder, so its object links can be copied as they are (without reading
    them first when it is ``marked``: ``server/search/store.py``, ``relink``). ``kept``: ``iiif`` has
    its entry already (a donor generation's, naming the same version)."""
    before = previous.root / "iiif" / "3"
    if not kept and not (same_root and relink(str(before), str(iiif), item_id, 3, marked)):
        target = linked_object(before, item_id)
        if target is None:  # a generation written before the object store: adopt its folder once
            target = adopt_folder(iiif.parent.parent.parent, before / item_id,
                                  object_key("adopted", str(previous.root), item_id))
        link_item(iiif, item_id, target)
    if item_id in live:
        member, vid, was = live[item_id]
        if was != position:
            catalog.hide(member)
            catalog.show(vid, position)
        return
    row = previous.catalog.item(item_id)  # from a self-contained catalog
    if row is None:
        return
    target = linked_object(iiif, item_id)
    assert target is not None
    vid = catalog.add_version(row.id, row.collection, row.type, row.date, row.data, position,
                              os.path.relpath(target, iiif.parent.parent.parent))
    for page in previous.catalog.pages(item_id):
        catalog.add_page(vid, page.item_id, page.n, page.image_id, page.width, page.height, page.label,
                         page.ocr_path, page.ocr_format)
        img = previous.catalog.image(page.image_id)
        if img is not None:
            catalog.add_image(vid, img.id, img.key, img.pyramid, img.width, img.height, img.levels)


def _previous_items(previous: Publication | None) -> dict[str, str]:
    """Previously published item ids with their input fingerprints."""
    if previous is None:
        return {}
    try:
        return previous.catalog.fingerprints()
    except sqlite3.Error:
        return {}


def item_fingerprint(item: Item, fps: Fingerprints, settings: Settings) -> str:
    """Everything an item's publication depends on: its row, its files' contents, the publication settings."""
    h = hashlib.sha256(repr(item).encode())
    files = fps.files_of(item.id)  # each file's digest in page order (one update of them all: the same bytes hashed)
    if files is None:
        get = fps.digests.get
        files = "".join([get(str(page.image), "?") + (get(str(page.ocr), "?") if page.ocr is not None else "")
                         for page in item.pages])
    h.update(files.encode())
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


COLLECTIONS_VERSION = "3"  # 2: page layouts kept between ingests, pages labelled by their members; 3: a year's pages in the publication's languages
"""Bump when the collection documents change for the same catalog rows and settings (code changes of
``build_collection`` or of what it is given): a document is then built again, not reused by its key."""


class _ItemChild(ChildRef):
    """A published item as a collection member, read from the catalog only when a document needs its
    label, thumbnail or navDate. ``version`` (the catalog's immutable item version) stands for all of
    them in the key of a document (:func:`_signature`): the keys compared are the served generation's,
    whose versions all still exist, so a version number there cannot have been given to another row."""

    def __init__(self, item_id: str, version: int, load: Callable[[str], ChildRef]) -> None:
        self.__dict__.update(kind="Manifest", id=item_id, version=version, _load=load, _ref=None)

    def _loaded(self) -> ChildRef:
        ref: ChildRef | None = self.__dict__["_ref"]
        if ref is None:
            ref = self.__dict__["_ref"] = self.__dict__["_load"](self.id)
        return ref

    @property
    def label(self) -> dict[str, list[str]]:
        return self._loaded().label

    @property
    def thumbnail(self) -> PageInfo | None:
        return self._loaded().thumbnail

    @property
    def nav_date(self) -> datetime | None:
        return self._loaded().nav_date


def _member_ref(catalog: SharedCatalog, item_id: str) -> ChildRef:
    """An item's collection member, from its catalog row (label, navDate) and its thumbnail's page (size)."""
    row = catalog.reads.item(item_id)
    assert row is not None
    data = row.info
    thumbnail = None
    thumb = (data.get("thumbnail") or [None])[0]
    if thumb:
        image_id = thumb["service"][0]["id"].rsplit("/", 1)[1]
        page = catalog.reads.page_of_image(image_id)
        assert page is not None  # ingest wrote the thumbnail's page with the item
        thumbnail = PageInfo(image_id, page.width, page.height)
    nav = _nav_date(data["nav_date"]) if data.get("nav_date") else None
    return ChildRef("Manifest", item_id, data["label"], thumbnail, nav)


def _nav_date(text: str) -> datetime:
    """``datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ")`` (naive, as written by ``_write_item``), without
    ``strptime``'s first-call cost."""
    if len(text) == 20 and text.endswith("Z") and text[10] == "T":
        return datetime.fromisoformat(text[:-1])
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ")


def _signature(child: ChildRef) -> tuple[Any, ...]:
    """What a member's entry in a collection document depends on."""
    if isinstance(child, _ItemChild):
        return ("M", child.id, child.__dict__["version"])
    return (child.kind, child.id, child.label, child.thumbnail, child.nav_date)


class _Documents:
    """The collection documents of a generation: each one's key (a hash of everything it is built from)
    is kept in the generation's catalog; a document whose key the served generation lists is that
    generation's file, hard-linked without being built. Anything else is built (and still linked when
    the bytes are the same, :func:`_dump_shared`)."""

    def __init__(self, out: Path, urls: Urls, settings: Settings, served: Path | None,
                 served_keys: dict[str, str], served_layouts: dict[str, list[tuple[int, tuple[str, ...]]]]) -> None:
        self.out, self.urls, self.settings = out, urls, settings
        self.served, self.served_keys, self.served_layouts = served, served_keys, served_layouts
        self.keys: dict[str, str] = {}
        self.layouts: dict[str, list[tuple[int, tuple[str, ...]]]] = {}  # each paged collection's, for the next ingest
        self.built = 0

    def key(self, *parts: Any) -> str:
        settings = self.settings
        return hashlib.sha256(repr((COLLECTIONS_VERSION, ARTEFACTS_VERSION, self.urls.base, tuple(settings.languages),
                                    settings.collection_page_size, parts)).encode()).hexdigest()[:40]

    def write(self, coll_id: str, label: dict[str, list[str]], summary: dict[str, list[str]] | None,
              children: list[ChildRef], parent: str | None) -> None:
        size = self.settings.collection_page_size
        langs = tuple(self.settings.languages)
        urls = self.urls
        signatures = [_signature(c) for c in children]
        head = (coll_id, label, summary, parent)
        (self.out / f"{coll_id}.json").parent.mkdir(parents=True, exist_ok=True)
        keys = [member_key(c) for c in children]
        spans = page_layout(keys, size, self.served_layouts.get(coll_id))
        build = partial(build_collection, coll_id, label, summary, children, urls, page_size=size, languages=langs,
                        parent=parent, layout=spans)
        self._document(f"{coll_id}.json", self.key(*head, None, signatures, [(s.number, s.start, s.end) for s in spans]),
                       partial(build, None))
        if spans:
            self.layouts[coll_id] = remembered(keys, spans)
            (self.out / coll_id / "page").mkdir(parents=True)
            for span in spans:  # a page's document depends on its number and members, not on its place
                chunk = signatures[span.start:span.end]
                self._document(f"{coll_id}/page/{span.number}.json", self.key(*head, span.number, chunk),
                               partial(build, span.number))

    def _document(self, rel: str, key: str, build: Callable[[], dict[str, Any]]) -> None:
        self.keys[rel] = key
        if self.served is not None and self.served_keys.get(rel) == key:
            try:
                os.link(self.served / rel, self.out / rel)
                return
            except OSError:
                pass
        self.built += 1
        _dump_shared(self.out, self.out / rel, build())


def _write_collections(catalog: SharedCatalog, iiif: Path, holdings: Holdings, urls: Urls, settings: Settings,
                       previous: Publication | None = None, reuse: bool = True) -> int:
    """The collection tree, pruned to what is published; ``top`` lists the top-level collections.
    With ``previous`` (the served generation), its page layouts are kept (:mod:`..presentation.paging`)
    and, with ``reuse``, the documents whose key it lists are linked, not built.
    Returns how many documents were built."""
    written = catalog.reads.item_versions()  # in the catalog's own order, which the documents follow
    by_collection: dict[str, list[_ItemChild]] = {}
    members: dict[str, _ItemChild] = {}

    def load(item_id: str) -> ChildRef:
        return _member_ref(catalog, item_id)

    for r in written:
        members[r.id] = child = _ItemChild(r.id, r.version, load)
        by_collection.setdefault(r.collection, []).append(child)
    out = iiif / "collection"
    out.mkdir()
    served_keys = previous.catalog.document_keys() if previous is not None and reuse else {}
    served_layouts = previous.catalog.page_layouts(settings.collection_page_size) if previous is not None else {}
    docs = _Documents(out, urls, settings, previous.root / "iiif" / "3" / "collection" if previous and reuse else None,
                      served_keys, served_layouts)

    def children_of(coll_id: str | None) -> list[ChildRef]:
        kids: list[ChildRef] = [ChildRef("Collection", c.id, c.title, _first_thumb(c.id))
                                for c in holdings.child_collections(coll_id)]
        if coll_id is not None:
            kids.extend(by_collection.get(coll_id, []))
        return kids

    def _first_thumb(coll_id: str) -> PageInfo | None:
        for child in by_collection.get(coll_id, []):
            if child.thumbnail:
                return child.thumbnail
        for sub in holdings.child_collections(coll_id):
            found = _first_thumb(sub.id)
            if found:
                return found
        return None

    top_label = labels.top_label(settings.provider_label,
                                 labels.publication_languages(settings.default_language, settings.languages))
    docs.write("top", top_label, None, children_of(None), None)
    issues = {r.id: IssueInfo(r.type, r.date, r.position) for r in written}
    for position, coll in enumerate(holdings.collections.values()):
        kids, years = group_by_year(coll.id, children_of(coll.id), issues)  # a serial's issues, by year
        for group in years:
            docs.write(group.id, year_label(group), None, group.issues, coll.id)
        docs.write(coll.id, coll.title, coll.description or None, kids, coll.parent or "top")
        catalog.add_collection(coll.id, coll.parent, position, json.dumps(
            {"label": coll.title, "summary": coll.description, "children": len(kids)}, ensure_ascii=False))
    catalog.set_document_keys(docs.keys)
    catalog.set_page_layouts(docs.layouts, settings.collection_page_size)
    return docs.built


def _dump(path: Path, doc: dict[str, Any]) -> None:
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=1), encoding="utf-8")


def _dump_shared(out: Path, path: Path, doc: dict[str, Any]) -> None:
    """Write a collection document (``out`` is the generation's ``iiif/3/collection``), or hard-link the
    served generation's when it is the same bytes: a change to one item rewrites only the collections
    that list it."""
    body = json.dumps(doc, ensure_ascii=False, indent=1).encode("utf-8")
    served = out.parents[3] / CURRENT / out.relative_to(out.parents[2]) / path.relative_to(out)
    try:
        if served.stat().st_size == len(body) and served.read_bytes() == body:
            os.link(served, path)
            return
    except OSError:
        pass
    path.write_bytes(body)
