"""MAG 2.0.1 (ICCU, *Metadati Amministrativi e Gestionali*): the metadata file of Italian digitization projects.

Read from a ``mag:metadigit`` document (namespace ``http://www.iccu.sbn.it/metaAG1.pdf``):

- ``bib``: Dublin Core for the item (title, creator, publisher, subject, description, date,
  language, rights) and ``holdings/shelfmark`` as the reference code;
- ``img``: the pages in ``sequence_number`` order, ``nomenclature`` as the page label,
  ``file/@xlink:href`` for the image and ``md5`` checked against it;
- ``ocr``: the OCR file of the page with the same ``sequence_number``;
- ``stru``: nested ranges, ``nomenclature`` and ``element/start|stop/@sequence_number``.

``xlink`` is found whether it is bound to MAG's own ``http://www.w3.org/TR/xlink`` or to the
standard XLink namespace; paths may be relative, absolute, ``file:`` URIs or Windows paths.
"""
from __future__ import annotations

from pathlib import Path

from lxml import etree

from ..texts import N_
from .model import IMAGE_EXTENSIONS, OCR_FORMATS, DateValue, Problem, normalize_rights
from .package import (
    FolderFiles,
    Package,
    PackagePage,
    PackageRange,
    check_checksum,
    child_text,
    children,
    href,
    line_of,
    open_package,
    text_of,
)

MAG_NS = "http://www.iccu.sbn.it/metaAG1.pdf"
_DC = ("title", "creator", "publisher", "subject", "description", "date", "language", "rights")


def read_mag(path: Path, file: str, folder: Path, item_id: str, problems: list[Problem],
             errors: list[str]) -> Package | None:
    """The package a MAG file describes; item-rejecting faults go to ``errors``, the rest to ``problems``."""
    root = open_package(path, file, "MAG", "metadigit", MAG_NS, item_id, problems, errors)
    if root is None:
        return None
    package = Package("MAG", file)
    for bib in children(root, "bib")[:1]:
        _bib(bib, package, item_id, problems)
    files = FolderFiles(folder, path.parent)
    order = _pages(root, package, files, item_id, problems, errors)
    _ocr(root, package, order, files, item_id, problems)
    for stru in children(root, "stru"):
        _stru(stru, package, order, None, item_id, problems)
    return package


def _bib(bib: etree._Element, package: Package, item_id: str, problems: list[Problem]) -> None:
    for name in _DC:
        values = [text_of(e) for e in children(bib, name)]
        values = [v for v in values if v]
        if name == "date" and values:
            try:
                DateValue.parse(values[0])
            except ValueError:
                problems.append(Problem(package.file, None, N_("dc:date %(value)r is not a date ingest reads "
                                           "(1878, 1878-01-03, 1921/1925): write it in the date column",
                                           value=values[0]),
                                        item_id, "warning"))
                continue
        if name == "rights":
            values = [r for v in values if (r := normalize_rights(v))]
        if name == "language":
            values = [v.lower() for v in values]
        if values:
            package.metadata[name] = values
    shelfmarks = [child_text(h, "shelfmark") for h in children(bib, "holdings")]
    if any(shelfmarks):
        package.metadata["reference_code"] = [s for s in shelfmarks if s]


def _sequence(element: etree._Element, fallback: int) -> int:
    text = child_text(element, "sequence_number")
    return int(text) if text.isdigit() else fallback


def _pages(root: etree._Element, package: Package, files: FolderFiles, item_id: str, problems: list[Problem],
           errors: list[str]) -> dict[int, int]:
    """Fill package.pages in sequence order; returns sequence_number -> 1-based page number."""
    entries = sorted(((_sequence(img, n), n, img) for n, img in enumerate(children(root, "img"), 1)),
                     key=lambda e: (e[0], e[1]))
    order: dict[int, int] = {}
    for seq, _, img in entries:
        where = N_("img sequence_number %(seq)s", seq=seq)
        if seq in order:
            problems.append(Problem(package.file, line_of(img), N_("%(where)s appears twice: the second is ignored",
                                                                 where=where),
                                    item_id, "warning"))
            continue
        image, why = _file(img, files, package.file, where, item_id, problems)
        if image is None:
            errors.append(N_("%(file)s: %(error)s", file=package.file, error=why))
            continue
        if image.suffix.lower() not in IMAGE_EXTENSIONS:
            errors.append(N_("%(file)s: %(where)s: %(name)s is not a page image (%(extensions)s)", file=package.file,
                             where=where, name=image.name, extensions=", ".join(sorted(IMAGE_EXTENSIONS))))
            continue
        _check_md5(img, image, files, package.file, item_id, problems)
        package.pages.append(PackagePage(image, child_text(img, "nomenclature") or None))
        order[seq] = len(package.pages)
    return order


def _file(element: etree._Element, files: FolderFiles, file: str, where: str, item_id: str,
          problems: list[Problem]) -> tuple[Path | None, str | None]:
    """(the file ``element/file/@xlink:href`` names, or None and why not)."""
    ref = next((r for r in (href(f) for f in children(element, "file")) if r), None)
    if ref is None:
        return None, N_("%(where)s has no file/@xlink:href", where=where)
    path, note = files.resolve(ref)
    if path is None:
        return None, N_("%(where)s: %(note)s", where=where,
                         note=note or N_("%(ref)r is not in the item folder", ref=ref))
    if note:
        problems.append(Problem(file, line_of(element), N_("%(where)s: %(note)s", where=where, note=note),
                                item_id, "warning"))
    return path, None


def _check_md5(element: etree._Element, path: Path, files: FolderFiles, file: str, item_id: str,
               problems: list[Problem]) -> None:
    check_checksum(path, child_text(element, "md5"), "md5", files.folder, file, item_id, problems)


def _ocr(root: etree._Element, package: Package, order: dict[int, int], files: FolderFiles, item_id: str,
         problems: list[Problem]) -> None:
    for n, ocr in enumerate(children(root, "ocr"), 1):
        seq = _sequence(ocr, n)
        where = N_("ocr sequence_number %(seq)s", seq=seq)
        if seq not in order:
            problems.append(Problem(package.file, line_of(ocr), N_("%(where)s has no img of the same sequence_number: "
                                       "ignored", where=where), item_id, "warning"))
            continue
        path, why = _file(ocr, files, package.file, where, item_id, problems)
        if path is None:  # a missing OCR file loses the page's text, not the page
            problems.append(Problem(package.file, line_of(ocr), N_("%(error)s: the page has no text", error=why),
                                    item_id, "warning"))
            continue
        if OCR_FORMATS.get(path.suffix.lower()) is None and not path.name.lower().endswith(".hocr.html"):
            problems.append(Problem(package.file, line_of(ocr), N_("%(where)s: %(name)s is not ALTO or hOCR: "
                                       "ignored", where=where, name=path.name), item_id, "warning"))
            continue
        _check_md5(ocr, path, files, package.file, item_id, problems)
        package.pages[order[seq] - 1].ocr = path


def _stru(stru: etree._Element, package: Package, order: dict[int, int], parent: int | None, item_id: str,
          problems: list[Problem]) -> None:
    title = child_text(stru, "nomenclature") or stru.get("descr") or ""
    starts, stops = [], []
    for element in children(stru, "element"):
        for s in children(element, "start"):
            starts.append(s.get("sequence_number", ""))
        for s in children(element, "stop"):
            stops.append(s.get("sequence_number", ""))
    starts += [stru.get("start", "")] if stru.get("start") else []
    stops += [stru.get("stop", "")] if stru.get("stop") else []
    pages = [order[int(v)] for v in starts + stops if v.isdigit() and int(v) in order]
    index = parent
    if title and pages:
        package.ranges.append(PackageRange(title, min(pages), max(pages), parent))
        index = len(package.ranges) - 1
    elif title or starts:
        problems.append(Problem(package.file, line_of(stru), N_("stru %(title)r names no page of the item: ignored",
                                                                   title=title),
                                item_id, "warning"))
    for sub in children(stru, "stru"):
        _stru(sub, package, order, index, item_id, problems)


