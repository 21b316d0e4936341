"""The holdings as plain, validated values: what ingest and the builders may rely on.

Everything here is already checked by the reader: ids are URL-safe, dates parse, rights are
canonical Creative Commons / RightsStatements.org URIs, pages exist and are in order. Nothing here
does I/O, so the builders can be tested without files.
"""
from __future__ import annotations

import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import lru_cache
from pathlib import Path, PosixPath
from typing import Any, Literal, overload
from urllib.parse import urlsplit

from ..texts import N_

# A language map as IIIF wants it: {"it": ["Titolo"], "en": ["Title"]}; never empty lists.
LangMap = dict[str, list[str]]

Severity = Literal["error", "warning", "info"]
OcrFormat = Literal["alto", "hocr"]

ITEM_TYPES = ("document", "book", "newspaper", "periodical", "photograph", "map", "object")
IMAGE_EXTENSIONS = frozenset({".tif", ".tiff", ".jpg", ".jpeg", ".png", ".jp2", ".j2k"})
# ALTO is XML; hOCR is XHTML (Tesseract writes .hocr, other tools .html or .hocr.html)
OCR_FORMATS: dict[str, OcrFormat] = {".xml": "alto", ".hocr": "hocr", ".html": "hocr", ".htm": "hocr"}

@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input, where a person can find it (file relative to the holdings root)."""

    file: str
    line: int | None
    message: str
    item_id: str | None = None
    severity: Severity = "error"  # error: something was not ingested; warning: ingested anyway; info: by design

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{self.severity.upper()} {where}: {self.message}"


def by_severity(problems: list[Problem], severity: Severity) -> list[Problem]:
    return [p for p in problems if p.severity == severity]


@dataclass(frozen=True)
class ExtraField:
    """A column the contract does not know: kept as metadata under its own name."""

    name: str
    value: LangMap


@dataclass(frozen=True)
class Collection:
    id: str
    title: LangMap
    parent: str | None = None
    description: LangMap = field(default_factory=dict)
    extra: tuple[ExtraField, ...] = ()
    line: int | None = None


@dataclass(frozen=True)
class Page:
    """One page image and its OCR sidecar, as listed (never opened) by the reader."""

    image: Path
    ocr: Path | None = None
    ocr_format: OcrFormat | None = None
    label: str | None = None  # e.g. a printed page number from a MAG or METS file; None: "p. n"
    ocr_engine: str | None = None  # machine OCR made at ingest ("Tesseract 5.3.0"); None: supplied OCR

    @property
    def name(self) -> str:
        return self.image.name

    def __repr__(self) -> str:
        """What the dataclass's own ``__repr__`` says, in a third of its time: an item's fingerprint
        hashes the repr of its pages (``server/ingest/publish.py``: ``item_fingerprint``)."""
        return (f"{type(self).__qualname__}(image={_path_repr(self.image)}, ocr={_path_repr(self.ocr)}, "
                f"ocr_format={self.ocr_format!r}, label={self.label!r}, ocr_engine={self.ocr_engine!r})")


def _path_repr(path: Path | None) -> str:
    """``repr(path)``: a ``PosixPath``'s is ``PosixPath('<its str>')``, made here without its method calls."""
    if type(path) is PosixPath:
        return f"PosixPath({str(path)!r})"
    return repr(path)


# ``folder / name`` for a plain file name, made as ``Path.iterdir`` makes it: CPython's pathlib has a
# private method for that, a quarter of the time of ``/`` (used when present, for speed only)
child_path = getattr(Path, "_make_child_relpath", None) or Path.joinpath


def child_known(folder: Path, prefix: str, name: str) -> Path:
    """``child_path(folder, name)`` whose string (``prefix + name``, ``prefix`` being ``str(folder) + "/"``)
    is known already: CPython's pathlib caches a path's string in its ``_str`` slot, and making it is
    the costliest step of the fingerprints, which key files by path (used when that slot is there)."""
    path: Any = child_path(folder, name)
    if _SEED_STR:
        path._str = prefix + name
    return path


def _can_seed_str() -> bool:
    probe: Any = child_path(Path("/a"), "b")
    try:
        probe._str = "/a/b"
    except AttributeError:
        return False
    return str(probe) == "/a/b" and str(child_path(Path("/a"), "b")) == "/a/b"


_SEED_STR = _can_seed_str()

RecordedPage = tuple[str, "str | None", "OcrFormat | None"]  # (image name, OCR file name, its format)


class RecordedPages(Sequence[Page]):
    """An unchanged item folder's pages as a previous run recorded them (file names in the folder),
    made into :class:`Page` objects only when one is asked for.

    A re-ingest reads every unchanged item again, and uses of its pages only their number, their
    repr (in the item's fingerprint) and their images' paths (as strings): making a ``Page`` and two
    paths a page, then their reprs, was a tenth of what an unchanged page cost. Everything else
    (iterating, indexing, comparing, hashing) makes the pages once and answers as the tuple of them
    would; ``repr`` is that tuple's, made from the names."""

    __slots__ = ("_folder", "_made", "_pages", "_prefix")

    def __init__(self, folder: Path, pages: Sequence[RecordedPage]) -> None:
        self._folder, self._prefix, self._pages = folder, str(folder) + os.sep, tuple(pages)
        self._made: tuple[Page, ...] | None = None

    def pages(self) -> tuple[Page, ...]:
        """The pages as ``Page`` objects (made on the first call)."""
        if self._made is None:
            folder, prefix = self._folder, self._prefix
            self._made = tuple([Page(child_known(folder, prefix, image),
                                     child_known(folder, prefix, ocr) if ocr else None, fmt)
                                for image, ocr, fmt in self._pages])
        return self._made

    def image_path(self, n: int) -> str:
        """``str(self[n].image)``, without making the pages."""
        return self._prefix + self._pages[n][0]

    def without_ocr(self) -> list[int]:
        """The indexes of the pages that have no OCR file, without making the pages."""
        return [n for n, (_, ocr, _) in enumerate(self._pages) if ocr is None]

    def __len__(self) -> int:
        return len(self._pages)

    @overload
    def __getitem__(self, index: int) -> Page: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[Page, ...]: ...

    def __getitem__(self, index: int | slice) -> Page | tuple[Page, ...]:
        return self.pages()[index]

    def __iter__(self) -> Iterator[Page]:
        return iter(self.pages())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, RecordedPages):
            other = other.pages()
        return self.pages() == other if isinstance(other, tuple) else NotImplemented

    def __hash__(self) -> int:
        return hash(self.pages())

    def __repr__(self) -> str:
        if self._made is not None or type(self._folder) is not PosixPath:
            return repr(self.pages())
        prefix = self._prefix
        reprs = [f"Page(image=PosixPath({prefix + image!r}), ocr="
                 f"{f'PosixPath({prefix + ocr!r})' if ocr else None}, ocr_format={fmt!r}, label=None, "
                 "ocr_engine=None)" for image, ocr, fmt in self._pages]
        return f"({reprs[0]},)" if len(reprs) == 1 else f"({', '.join(reprs)})"


def page_image(pages: Sequence[Page], n: int) -> str:
    """The path of page ``n``'s image as a string (of recorded pages, without making them)."""
    return pages.image_path(n) if isinstance(pages, RecordedPages) else str(pages[n].image)


def pages_without_ocr(pages: Sequence[Page]) -> list[int]:
    """The indexes of the pages that have no OCR file (of recorded pages, without making them)."""
    if isinstance(pages, RecordedPages):
        return pages.without_ocr()
    return [n for n, page in enumerate(pages) if page.ocr is None]


@dataclass(frozen=True)
class Range:
    """A row of structure.csv: a chapter, article or section over pages first..last (1-based, inclusive)."""

    id: str
    title: LangMap
    first_page: int
    last_page: int
    parent: str | None = None
    line: int | None = None


MONTHS = {
    "it": ("gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio", "agosto",
           "settembre", "ottobre", "novembre", "dicembre"),
    "en": ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"),
    "de": ("Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August",
           "September", "Oktober", "November", "Dezember"),
    "fr": ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
           "septembre", "octobre", "novembre", "décembre"),
}

_PART = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")


@dataclass(frozen=True)
class DatePart:
    """A year, a year-month or a full date: the precision the cataloguer wrote."""

    year: int
    month: int | None = None
    day: int | None = None

    @classmethod
    def parse(cls, text: str) -> DatePart:
        m = _PART.match(text)
        if not m:
            raise ValueError(N_("%(text)r is not a year, year-month or date (YYYY, YYYY-MM, YYYY-MM-DD)", text=text))
        year, month, day = int(m[1]), m[2] and int(m[2]), m[3] and int(m[3])
        try:  # validates month and day against the calendar
            date(year, month or 1, day or 1)
        except ValueError as e:
            raise ValueError(N_("%(text)r is not a valid date: %(reason)s", text=text, reason=str(e))) from None
        return cls(year, month or None, day or None)

    @property
    def first_day(self) -> date:
        return date(self.year, self.month or 1, self.day or 1)

    def iso(self) -> str:
        if self.day:
            return f"{self.year:04d}-{self.month:02d}-{self.day:02d}"
        if self.month:
            return f"{self.year:04d}-{self.month:02d}"
        return f"{self.year:04d}"

    def words(self, language: str) -> str:
        """'3 gennaio 1878' / '3 January 1878'; the ISO form for languages without month names here."""
        months = MONTHS.get(language)
        if months is None or self.month is None:
            return self.iso()
        if self.day:
            return f"{self.day} {months[self.month - 1]} {self.year}"
        return f"{months[self.month - 1]} {self.year}"


@dataclass(frozen=True)
class DateValue:
    """A date or a range as written in items.csv, with a navDate for the start."""

    start: DatePart
    end: DatePart | None = None

    @classmethod
    def parse(cls, text: str) -> DateValue:
        text = text.strip()
        if "/" in text:
            left, _, right = text.partition("/")
            start, end = DatePart.parse(left.strip()), DatePart.parse(right.strip())
            if end.first_day < start.first_day:
                raise ValueError(N_("%(text)r: the range ends before it starts", text=text))
            return cls(start, end)
        return cls(DatePart.parse(text))

    @property
    def nav_date(self) -> datetime:
        """Midnight UTC of the first day: IIIF navDate wants an xsd:dateTime with a time zone."""
        d = self.start.first_day
        return datetime(d.year, d.month, d.day, tzinfo=UTC)

    @property
    def display(self) -> str:
        """Language-neutral display: '1878-01-03', '1784-12', '1300–1399'."""
        if self.end is None:
            return self.start.iso()
        return f"{self.start.iso()}–{self.end.iso()}"

    def label(self, language: str) -> str:
        """Display with month names in ``language`` when known: '6 ottobre 1878', 'December 1784'."""
        if self.end is None:
            return self.start.words(language)
        return f"{self.start.words(language)} – {self.end.words(language)}" if (
            self.start.month or self.end.month) else self.display


@dataclass(frozen=True)
class Item:
    id: str
    collection: str
    type: str
    title: LangMap
    pages: tuple[Page, ...] | RecordedPages  # RecordedPages: an unchanged folder's, made when used
    folder: Path
    date: DateValue | None = None
    creator: LangMap = field(default_factory=dict)
    publisher: LangMap = field(default_factory=dict)
    place: LangMap = field(default_factory=dict)
    language: tuple[str, ...] = ()
    subject: LangMap = field(default_factory=dict)
    extent: LangMap = field(default_factory=dict)
    reference_code: LangMap = field(default_factory=dict)
    description: LangMap = field(default_factory=dict)
    rights: str | None = None  # None: the publication default (Settings.default_rights)
    attribution: LangMap = field(default_factory=dict)  # empty: Settings.default_attribution
    ranges: tuple[Range, ...] = ()  # file order; parents exist, no cycles, pages in 1..len(pages)
    extra: tuple[ExtraField, ...] = ()
    # its row's line in the items sheet, for reports only: left out of the repr, which ingest's change
    # detection hashes, so a row added or removed above it does not make it a changed item
    line: int | None = field(default=None, repr=False, compare=False)


@dataclass
class Holdings:
    """What ``read_holdings`` found: only valid, public items; everything else is in ``problems``."""

    root: Path
    collections: dict[str, Collection] = field(default_factory=dict)
    items: dict[str, Item] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    # ids whose row says access=restricted: never published (ingest must drop an earlier publication)
    restricted: set[str] = field(default_factory=set)
    # ids of rows rejected with an error: ingest may keep an earlier good publication of them
    rejected: set[str] = field(default_factory=set)

    @property
    def errors(self) -> list[Problem]:
        return by_severity(self.problems, "error")

    @property
    def warnings(self) -> list[Problem]:
        return by_severity(self.problems, "warning")

    def child_collections(self, parent: str | None) -> list[Collection]:
        """Sub-collections of ``parent`` (None: the top level), in collections.csv order."""
        return [c for c in self.collections.values() if c.parent == parent]

    def items_in(self, collection_id: str) -> list[Item]:
        """Items directly in a collection, in items.csv order."""
        return [i for i in self.items.values() if i.collection == collection_id]


_CC = re.compile(r"^/(licenses/[a-z][a-z+-]*/\d\.\d(/[a-z]{2}(-[a-z]{2})?)?|publicdomain/(zero|mark)/1\.0)/?$")
_RS = re.compile(r"^/vocab/[A-Za-z][A-Za-z-]*/1\.0/?$")


@lru_cache(maxsize=1024)
def normalize_rights(value: str) -> str | None:
    """The canonical form of a Creative Commons or RightsStatements.org URI, or None if it is not one.

    Both vocabularies define their URIs with ``http://`` and a trailing slash, and the IIIF schema
    checks for exactly that; people paste ``https://`` links from the browser, so those are accepted
    and rewritten. Remembered: an archive's rows repeat a handful of values.
    """
    try:
        parts = urlsplit(value.strip())
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or parts.query or parts.fragment:
        return None
    host = parts.netloc.lower().removeprefix("www.")
    if host == "creativecommons.org" and _CC.match(parts.path):
        path = parts.path.lower()
    elif host == "rightsstatements.org" and _RS.match(parts.path):
        path = parts.path
    else:
        return None
    return f"http://{host}{path.rstrip('/')}/"
