"""Metadata files vendors deliver inside an item folder (MAG, METS/MODS), read into one shape.

An item folder may hold the vendor's description of the item: a MAG file (Italian projects) or a
METS file with MODS (Goobi, Kitodo, DFG-viewer). It gives the page order, page labels, the OCR
file of each page, checksums, ranges and descriptive metadata. The reader merges it with the
item's row (sheet values win) — see :func:`merge_metadata`.

These files come from outside: they are parsed under the OCR policy (no DTD, no entities, no
network: :mod:`server.ocr.safexml`), and every file they name must lie inside the item folder.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath, PureWindowsPath
from urllib.parse import unquote, urlsplit

from lxml import etree

from ..ocr.model import OCRError
from ..ocr.safexml import parse_document, read_bytes
from ..texts import N_
from .model import Problem

MAX_PACKAGE_BYTES = 32 * 1024 * 1024
_ROOT = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(metadigit|mets)[\s>/]")


@dataclass
class PackagePage:
    image: Path
    label: str | None = None
    ocr: Path | None = None


@dataclass
class PackageRange:
    title: str
    first: int  # 1-based page numbers in the package's page order
    last: int
    parent: int | None = None  # index into Package.ranges


@dataclass
class Package:
    """What a MAG or METS file says about its item; ``file`` is relative to the holdings root."""

    kind: str  # "MAG" or "METS"
    file: str
    metadata: dict[str, list[str]] = field(default_factory=dict)  # items-sheet column -> values
    pages: list[PackagePage] = field(default_factory=list)
    ranges: list[PackageRange] = field(default_factory=list)


def sniff(path: str | Path) -> str | None:
    """'MAG' or 'METS' if the XML file's root element says so (first 4 KB only), else None."""
    try:
        with open(path, "rb") as f:
            head = f.read(4096)
    except OSError:
        return None
    if b"metadigit" not in head and b"mets" not in head:
        return None  # what _ROOT looks for, found faster (an ALTO file, mostly)
    found = _ROOT.search(head)
    if not found:
        return None
    return "MAG" if found[1] == b"metadigit" else "METS"


def open_package(path: Path, file: str, kind: str, root_name: str, namespace: str, item_id: str,
                 problems: list[Problem], errors: list[str]) -> etree._Element | None:
    """The root element, parsed safely; None (with an error that rejects the item) for a file we will not read."""
    try:
        root = parse_document(path, read_bytes(path, MAX_PACKAGE_BYTES))
    except OCRError as exc:
        problems.append(Problem(file, exc.line, exc.reason, item_id))
        errors.append(N_("%(file)s cannot be read (see above)", file=file))
        return None
    if etree.QName(root).namespace != namespace:
        problems.append(Problem(file, line_of(root), N_("the %(root)s element is not in the %(kind)s namespace "
                                   "%(namespace)s: read as %(kind)s anyway", root=root_name, kind=kind,
                                   namespace=namespace), item_id, "warning"))
    return root


def line_of(element: etree._Element) -> int | None:
    line = element.sourceline
    return line if isinstance(line, int) else None


def local(tag: object) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def children(element: etree._Element, name: str) -> list[etree._Element]:
    """Child elements named ``name`` in any namespace (vendors bind prefixes every which way)."""
    return [c for c in element if local(c.tag) == name]


def text_of(element: etree._Element) -> str:
    """The element's text, whitespace collapsed."""
    return " ".join("".join(str(t) for t in element.itertext()).split())


def child_text(element: etree._Element, name: str) -> str:
    for c in children(element, name):
        text = text_of(c)
        if text:
            return text
    return ""


def href(element: etree._Element) -> str | None:
    """The element's ``href`` attribute in whatever namespace ``xlink`` was bound to (or none)."""
    for key, value in element.attrib.items():
        if etree.QName(key).localname == "href":
            return str(value).strip()
    return None


class FolderFiles:
    """Resolves the file names a package gives to files inside the item folder, never outside it."""

    def __init__(self, folder: Path, package_dir: Path) -> None:
        self.folder = folder.resolve()
        self.package_dir = package_dir.resolve()
        self._by_name: dict[str, list[Path]] | None = None

    def resolve(self, ref: str) -> tuple[Path | None, str | None]:
        """(file, note): the file the reference names, and a warning when it was found only by its name."""
        raw = ref.strip()
        if raw.lower().startswith("file:"):
            parts = urlsplit(raw)
            raw = unquote(parts.path)
            if re.match(r"^/[A-Za-z]:[/\\]", raw):
                raw = raw[1:]  # file:///C:/scans/0001.tif
        elif re.match(r"^[a-z][a-z0-9+.-]*://", raw, re.IGNORECASE):
            return self._by_basename(PurePosixPath(urlsplit(raw).path).name, ref)
        windows = "\\" in raw or re.match(r"^[A-Za-z]:", raw) is not None
        pure = PureWindowsPath(raw) if windows else PurePosixPath(raw)
        if pure.is_absolute() or pure.anchor:
            return self._by_basename(pure.name, ref)
        candidate = (self.package_dir / Path(*pure.parts)).resolve() if pure.parts else self.package_dir
        if not _inside(candidate, self.folder):
            return None, N_("%(ref)r points outside the item folder: not read", ref=ref)
        if candidate.is_file():
            return candidate, None
        return self._by_basename(pure.name, ref)

    def _by_basename(self, name: str, ref: str) -> tuple[Path | None, str | None]:
        if self._by_name is None:
            self._by_name = {}
            for p in sorted(self.folder.rglob("*")):
                if p.is_file() and not p.name.startswith(".") and _inside(p.resolve(), self.folder):
                    self._by_name.setdefault(p.name.lower(), []).append(p)
        found = self._by_name.get(name.lower(), [])
        if len(found) == 1:
            return found[0], N_("%(ref)r is not in the item folder; using %(path)s, found by its name",
                                 ref=ref, path=str(found[0].relative_to(self.folder)))
        if len(found) > 1:
            return None, N_("%(ref)r: more than one file in the item folder is called %(name)r", ref=ref, name=name)
        return None, None


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.relative_to(folder)
        return True
    except ValueError:
        return False


def check_checksum(path: Path, expected: str, algorithm: str, folder: Path, file: str, item_id: str,
                   problems: list[Problem]) -> None:
    """A warning on the file when its checksum differs from the one the package gives (hex, any case)."""
    if not expected.strip():
        return
    h = hashlib.new(algorithm, usedforsecurity=False)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    if h.hexdigest().lower() != expected.strip().lower():
        problems.append(Problem(str(Path("items") / item_id / path.relative_to(folder)), None,
                                N_("%(algorithm)s checksum differs from the one in %(file)s (%(expected)s): "
                                   "the file changed after delivery", algorithm=algorithm.upper(), file=file,
                                   expected=expected.strip()), item_id, "warning"))


# item-sheet columns that hold several values separated by ' | '
MULTI = {"creator", "publisher", "place", "subject", "extent", "reference_code", "language"}


def merge_metadata(cells: dict[str, str], package: Package, sheet: str, line: int, item_id: str,
                   problems: list[Problem]) -> None:
    """Fill the row's empty cells from the package; where both have a value, keep the sheet's and say so."""
    for column, values in package.metadata.items():
        values = [v for v in values if v]
        if not values:
            continue
        value = " | ".join(values) if column in MULTI else values[0]
        mine = cells.get(column)
        if mine is None:
            cells[column] = value
        elif mine.strip() != value.strip():
            problems.append(Problem(sheet, line, N_("item %(id)r: %(column)s %(mine)r from the sheet value wins "
                                       "over %(value)r from %(file)s", id=item_id, column=column, mine=mine,
                                       value=value, file=package.file), item_id, "info"))
