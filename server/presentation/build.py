"""Presentation 3.0 manifests and collections from the holdings model, with iiif-prezi3.

Pure functions: the model, the page sizes and image ids that ingest measured, and a ``Urls`` in;
a JSON-ready dict out. Nothing opens an image, so a 1,000-page manifest takes a fraction of a second.

Choices (Presentation 3.0, https://iiif.io/api/presentation/3.0/):
- ``behavior``: ``paged`` for books, periodicals and newspaper issues (bound or folded leaves a
  viewer may show as spreads); ``individuals`` for documents, photographs, maps and objects
  (each canvas is a separate view; a document's leaves need not face each other).
- ``navDate`` on every dated item (midnight UTC of the first day of the date or range), and on
  manifest references in collections, so viewers can browse issues by date.
- OCR: each canvas links its ALTO/hOCR file with ``seeAlso`` (machine-readable data: type
  ``Dataset``, ``format`` and ``profile``); the item's plain text is a ``rendering``, and so is
  a PDF of its pages with the OCR as an invisible text layer (``pdf.py``, built on first request).
- Collections: Presentation 3.0 has no paged collections (2.1's first/next are gone; 4.0 brings
  CollectionPage). A collection with more than ``page_size`` children lists page sub-collections
  ``.../collection/{id}/page/{n}`` instead, each a plain Collection with ``partOf`` its parent:
  valid 3.0 that every viewer can navigate. Which children a page lists is :mod:`.paging`'s
  choice, stable between ingests; so a page's label names its first and last members, not its place.

iiif-prezi3 notes: canvases are built as ``Canvas`` objects and given to the Manifest in one
list, because ``make_canvas``/``add_item`` re-validate the whole ``items`` list on every call
(quadratic: about 2.7 s for 1,000 canvases). Thumbnails are assigned rather than added with
``add_thumbnail``, which appends an unvalidated body that pydantic then warns about when
serializing. Every language map is passed explicitly, so the library's ``none`` default
language is never used.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from iiif_prezi3 import (
    AnnotationBody,
    Canvas,
    CanvasRef,
    Class,
    Collection,
    CollectionRef,
    Homepage,
    KeyValueString,
    LinkedResource,
    Manifest,
    ManifestRef,
    Provider,
    Range,
    ServiceV2,
    ServiceV3,
)

from ..errors import NotFound
from ..holdings.model import Item, LangMap, normalize_rights
from ..holdings.model import Range as HoldingsRange
from . import labels
from .paging import PageSpan, page_layout
from .urls import Urls

if TYPE_CHECKING:
    from ..config import Settings

PRESENTATION_CONTEXT = "http://iiif.io/api/presentation/3/context.json"
IMAGE_PROFILE = "level2"
BEHAVIOR = {"book": "paged", "periodical": "paged", "newspaper": "paged", "document": "individuals",
            "photograph": "individuals", "map": "individuals", "object": "individuals"}
SERIAL_TYPES = ("newspaper", "periodical")  # their collections group issues by year (serials.py)
OCR_LINKS = {
    "alto": ("application/xml", "http://www.loc.gov/standards/alto/"),
    "hocr": ("text/vnd.hocr+html", "http://kba.github.io/hocr-spec/1.2/"),
}


@dataclass(frozen=True)
class PageInfo:
    """What ingest measured for the n-th canvas (1-based): image service id, size, OCR link."""

    image_id: str
    width: int
    height: int
    label: str | None = None  # e.g. a printed page number; default "p. n"
    ocr_url: str | None = None  # default: Urls.ocr(item, n) when ocr_format is set
    ocr_format: Literal["alto", "hocr"] | None = None
    ocr_engine: str | None = None  # machine OCR made at ingest ("Tesseract 5.3.0"): said in the seeAlso label
    # the page's number in Item.pages (default: its position in ``pages``). Ranges use these
    # numbers, so when ingest leaves out an unreadable page the chapters stay on the right canvases.
    page: int | None = None


@dataclass(frozen=True)
class ChildRef:
    """A member of a collection: a sub-collection or an item's manifest."""

    kind: Literal["Collection", "Manifest"]
    id: str
    label: LangMap
    thumbnail: PageInfo | None = None
    nav_date: datetime | None = None


def build_manifest(item: Item, pages: Sequence[PageInfo], urls: Urls, settings: Settings,
                   services: Iterable[Mapping[str, Any]] = (), contexts: Sequence[str] = ()) -> dict[str, Any]:
    """The item's Presentation 3.0 manifest.

    ``services``: extra service descriptions for the manifest's ``service`` (e.g. SearchService2
    with its AutoCompleteService2, or a 1.0 ``@id``/``@type`` SearchService1), as plain mappings.
    ``contexts``: extension contexts placed before the Presentation context (the Search API's).
    """
    languages = labels.publication_languages(settings.default_language, settings.languages)
    manifest = Manifest(id=urls.manifest(item.id), label=item.title)
    if contexts:
        manifest.context = [*contexts, PRESENTATION_CONTEXT]
    if item.description:
        manifest.summary = item.description
    _add_metadata(manifest, item, languages)
    rights = normalize_rights(item.rights or settings.default_rights)
    if rights:
        manifest.rights = rights
    manifest.requiredStatement = KeyValueString(
        label=labels.field_label("attribution", languages),
        value=item.attribution or {settings.default_language: [settings.default_attribution]})
    manifest.provider = [_provider(urls, settings)]
    manifest.homepage = [Homepage(id=urls.item_page(item.id), type="Text", format="text/html", label=item.title,
                                  language=list(languages))]
    if item.date is not None:
        manifest.navDate = item.date.nav_date
    manifest.behavior = [BEHAVIOR.get(item.type, "individuals")]
    manifest.viewingDirection = "left-to-right"
    manifest.partOf = [Class(id=urls.collection(item.collection), type="Collection")]
    if item.type in SERIAL_TYPES and item.date is not None:  # and the year it is grouped under (serials.py)
        manifest.partOf.append(Class(id=urls.collection_year(item.collection, item.date.nav_date.year),
                                     type="Collection"))
    rendering = [LinkedResource(id=urls.pdf(item.id), type="Text", format="application/pdf",
                                label=labels.field_label("pdf", languages))] if pages else []
    if any(p.ocr_format for p in pages):
        rendering.insert(0, LinkedResource(id=urls.text(item.id), type="Text", format="text/plain",
                                           label=labels.field_label("text", languages)))
    if rendering:
        manifest.rendering = rendering
    for service in services:
        manifest.add_service(_service(service))

    canvases = [_canvas(item, n, page, urls, languages) for n, page in enumerate(pages, 1)]
    if canvases:
        manifest.thumbnail = [_thumbnail(urls, pages[0])]
    manifest.items = canvases
    _add_ranges(manifest, item, {page.page or n: urls.canvas(item.id, n) for n, page in enumerate(pages, 1)}, urls)
    return _dump(manifest)


def build_collection(coll_id: str, label: LangMap, summary: LangMap | None, children: Sequence[ChildRef], urls: Urls,
                     page: int | None = None, page_size: int = 100, *, languages: Sequence[str] = ("it", "en"),
                     parent: str | None = None, layout: Sequence[PageSpan] | None = None) -> dict[str, Any]:
    """A collection (``top`` for the root), or its page number ``page`` when it has more than ``page_size`` children.

    ``layout``: which children each page lists (:func:`.paging.page_layout`, which ingest keeps stable
    between generations); by default, slices of ``page_size`` numbered from 1.
    Raises ``NotFound`` for a page that does not exist (or any page of an unpaged collection).
    """
    part_of = [Class(id=urls.collection(parent), type="Collection")] if parent else None
    spans = list(page_layout([member_key(c) for c in children], page_size) if layout is None else layout)
    if page is None and not spans:
        collection = Collection(id=urls.collection(coll_id), label=label, items=[_member(c, urls) for c in children])
    elif page is None:
        refs = []
        for ordinal, span in enumerate(spans, 1):
            chunk = children[span.start:span.end]
            ref_label = labels.words(labels.FIELDS["part_ref"], languages, page=ordinal, pages=len(spans),
                                     first=span.start + 1, last=span.end)
            ref = CollectionRef(id=urls.collection_page(coll_id, span.number), type="Collection", label=ref_label)
            thumb = next((c.thumbnail for c in chunk if c.thumbnail), None)
            if thumb:
                ref.thumbnail = [_thumbnail(urls, thumb)]
            refs.append(ref)
        collection = Collection(id=urls.collection(coll_id), label=label, items=refs)
    else:
        shown = next((s for s in spans if s.number == page), None)
        if shown is None:
            raise NotFound(f"collection {coll_id!r} has no page {page}", parameter="page")
        chunk = children[shown.start:shown.end]
        collection = Collection(id=urls.collection_page(coll_id, page), label=_page_label(label, chunk[0], chunk[-1], languages),
                                items=[_member(c, urls) for c in chunk])
        part_of = [Class(id=urls.collection(coll_id), type="Collection", label=label)]
    if summary:
        collection.summary = summary
    if part_of:
        collection.partOf = part_of
    return _dump(collection)


def member_key(child: ChildRef) -> str:
    """What names a member in a remembered page layout (a sub-collection and an item may share an id)."""
    return f"{child.kind}:{child.id}"


def _page_label(title: LangMap, first: ChildRef, last: ChildRef, languages: Sequence[str]) -> LangMap:
    """``{title}: {first member} – {last member}``: what the page holds, in words that do not change when
    pages are added before it (a page's number is not its place, :mod:`.paging`). In the title's
    languages; for a title without one (a serial's year, ``{"none": ["1878"]}``), in the publication's."""
    langs = [lang for lang, values in title.items() if values]
    if langs == ["none"]:
        langs = list(languages) or langs
    out: LangMap = {}
    for lang in langs:
        head = _in_language(title, lang)
        table = labels.FIELDS["part"]
        out[lang] = [table.get(lang, table[labels.FALLBACK]).format(
            title=head, first=_short(_in_language(first.label, lang)), last=_short(_in_language(last.label, lang)))]
    return out


def _in_language(label: LangMap, lang: str) -> str:
    values = label.get(lang) or label.get("none") or next((v for v in label.values() if v), [""])
    return values[0]


def _short(text: str, limit: int = 60) -> str:
    """At most ``limit`` characters, cut at a space, with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[:limit - 1]
    return (cut.rsplit(" ", 1)[0] if " " in cut else cut).rstrip(" ,;:") + "…"


# --- pieces ---------------------------------------------------------------------------------------

def _add_metadata(manifest: Manifest, item: Item, languages: tuple[str, ...]) -> None:
    """Every descriptive column as a label/value pair, in the order of the contract's columns, then extras."""
    rows: list[tuple[str, LangMap]] = [("type", labels.type_value(item.type, languages))]
    if item.date is not None:
        rows.append(("date", labels.date_value(item.date, languages)))
    rows += [(name, getattr(item, name)) for name in ("creator", "publisher", "place")]
    if item.language:
        rows.append(("language", labels.language_value(item.language, languages)))
    rows += [(name, getattr(item, name)) for name in ("subject", "extent", "reference_code")]
    for name, value in rows:
        if value:
            manifest.add_metadata(labels.field_label(name, languages), value)
    for extra in item.extra:
        manifest.add_metadata({languages[0]: [extra.name]}, extra.value)


def _provider(urls: Urls, settings: Settings) -> Provider:
    home = settings.provider_homepage or urls.site()
    name = {settings.default_language: [settings.provider_label]}
    return Provider(id=home, type="Agent", label=name,
                    homepage=[Homepage(id=home, type="Text", format="text/html", label=name)])


def _image_service(urls: Urls, image_id: str) -> ServiceV3:
    return ServiceV3(id=urls.image_service(image_id), type="ImageService3", profile=IMAGE_PROFILE)


def _thumbnail(urls: Urls, page: PageInfo, service: ServiceV3 | None = None) -> AnnotationBody:
    width, height = urls.thumbnail_size(page.width, page.height)
    return AnnotationBody(id=urls.thumbnail(page.image_id, width, height), type="Image", format="image/jpeg",
                          width=width, height=height, service=[service or _image_service(urls, page.image_id)])


def _canvas(item: Item, n: int, page: PageInfo, urls: Urls, languages: tuple[str, ...]) -> Canvas:
    # the page's own number: when ingest left out an unreadable page, the next one stays "p. 2"
    label = {languages[0]: [page.label]} if page.label else labels.page_label(page.page or n, languages)
    service = _image_service(urls, page.image_id)
    extra: dict[str, Any] = {}
    if page.ocr_format:
        media_type, profile = OCR_LINKS[page.ocr_format]
        extra["seeAlso"] = [LinkedResource(id=page.ocr_url or urls.ocr(item.id, n), type="Dataset", format=media_type,
                                           profile=profile, label=labels.ocr_label(page.ocr_format, page.ocr_engine,
                                                                                   languages))]
    canvas = Canvas(id=urls.canvas(item.id, n), label=label, width=page.width, height=page.height,
                    thumbnail=[_thumbnail(urls, page, service)], **extra)
    canvas.add_image(urls.image(page.image_id), anno_id=urls.annotation(item.id, n),
                     anno_page_id=urls.annotation_page(item.id, n), format="image/jpeg",
                     width=page.width, height=page.height, service=[service])
    return canvas


def _add_ranges(manifest: Manifest, item: Item, canvas_of: dict[int, str], urls: Urls) -> None:
    """structure.csv as nested Ranges: each range lists its sub-ranges and the canvases they leave out.

    ``canvas_of`` maps page numbers of ``Item.pages`` to canvas ids; pages missing from it (left
    out of this publication) are skipped, and a range left with nothing is dropped.
    """
    if not item.ranges or not canvas_of:
        return
    known = {r.id for r in item.ranges}
    children: dict[str | None, list[HoldingsRange]] = {}
    for r in item.ranges:
        children.setdefault(r.parent if r.parent in known else None, []).append(r)
    done: set[str] = set()

    def build(r: HoldingsRange) -> Range | None:
        if r.id in done:
            return None  # a cycle: the reader rejects those, hand-made items might not
        done.add(r.id)
        entries: list[tuple[int, int, int, Any]] = []
        covered: set[int] = set()
        for order, child in enumerate(children.get(r.id, [])):
            sub = build(child)
            if sub is not None:
                entries.append((child.first_page, 0, order, sub))
                covered.update(range(child.first_page, child.last_page + 1))
        for p in range(r.first_page, r.last_page + 1):
            if p not in covered and p in canvas_of:
                entries.append((p, 1, p, CanvasRef(id=canvas_of[p], type="Canvas")))
        if not entries:
            return None
        entries.sort(key=lambda e: e[:3])
        return Range(id=urls.range(item.id, r.id), label=r.title, items=[e[3] for e in entries])

    for top in children.get(None, []):
        built = build(top)
        if built is not None:
            manifest.add_range(built)


def _member(child: ChildRef, urls: Urls) -> ManifestRef | CollectionRef:
    ref: ManifestRef | CollectionRef
    extra = {"navDate": _iso(child.nav_date)} if child.nav_date else {}
    if child.kind == "Manifest":
        ref = ManifestRef(id=urls.manifest(child.id), type="Manifest", label=child.label, **extra)
    else:
        ref = CollectionRef(id=urls.collection(child.id), type="Collection", label=child.label, **extra)
    if child.thumbnail:
        ref.thumbnail = [_thumbnail(urls, child.thumbnail)]
    return ref


def _service(description: Mapping[str, Any]) -> ServiceV3 | ServiceV2:
    """A 3.0-style (id/type) or 2.x-style (@id/@type) service description as the prezi3 model."""
    if "@id" in description:
        return ServiceV2(**description)
    return ServiceV3(**description)


def _iso(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _dump(resource: Manifest | Collection) -> dict[str, Any]:
    """What the library's ``jsonld()`` gives (context first, navDate with 'Z'), as a dict.

    ``jsonld()`` walks the whole serialized tree in Python to rewrite '+00:00' and then makes a
    string we would parse back; here only navDate can hold a datetime, so that is all we fix.
    """
    data = resource.model_dump(mode="json", exclude_none=True, by_alias=True)
    context = data.pop("@context", PRESENTATION_CONTEXT)
    if isinstance(resource, Manifest) and resource.navDate is not None:
        data["navDate"] = _iso(resource.navDate)
    return {"@context": context, **data}
