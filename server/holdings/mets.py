"""METS with MODS (Goobi, Kitodo, DFG-viewer, NDNP packages): pages, labels, OCR, checksums, ranges, metadata.

- ``fileSec``: every ``file`` with its ``FLocat/@xlink:href``, its ``USE`` (or its group's), MIME
  type and ``CHECKSUM``; hrefs are resolved inside the item folder (URLs and foreign absolute
  paths by their file name);
- the physical ``structMap`` (``TYPE="PHYSICAL"``, else the first one): each ``div`` holding
  ``fptr``\\ s is a page, in ``ORDER`` when every page has one, else in document order; its label is
  ``ORDERLABEL``, else ``LABEL``, else the page number in its MODS (``part/extent/start``); the
  page's image is its local image file (master, local, max, default, service … never thumbs),
  its OCR the ``fulltext``/``ocr`` file;
- the logical ``structMap`` with ``structLink`` for ranges (the outermost division, the item
  itself, is not a range);
- MODS of the item (the logical root's ``DMDID``, else the first MODS): title, dates, language,
  rights (``accessCondition``), names, publisher, place, subjects, abstract, shelf locator.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
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
    local,
    open_package,
    text_of,
)

METS_NS = "http://www.loc.gov/METS/"
# preference of file groups for the page image (lower first); thumbnails are never pages
_IMAGE_USE = {"master": 0, "local": 1, "original": 2, "max": 3, "default": 4, "presentation": 5, "service": 6,
              "min": 8}
_OCR_USE = {"fulltext", "ocr", "alto", "hocr", "text"}
_HASHES = {"md5": "md5", "sha-1": "sha1", "sha-256": "sha256", "sha-512": "sha512"}


@dataclass
class MetsFile:
    id: str
    use: str
    href: str | None
    mimetype: str
    checksum: str
    checksum_type: str
    line: int | None


def read_mets(path: Path, file: str, folder: Path, item_id: str, problems: list[Problem],
              errors: list[str]) -> Package | None:
    root = open_package(path, file, "METS", "mets", METS_NS, item_id, problems, errors)
    if root is None:
        return None
    package = Package("METS", file)
    files = _files(root)
    maps = [m for m in root.iter() if local(m.tag) == "structMap"]
    physical = next((m for m in maps if (m.get("TYPE") or "").upper() == "PHYSICAL"), maps[0] if maps else None)
    logical = next((m for m in maps if (m.get("TYPE") or "").upper() == "LOGICAL"), None)
    dmd = {d.get("ID", ""): d for d in root.iter() if local(d.tag) == "dmdSec"}
    resolver = FolderFiles(folder, path.parent)
    page_of_div: dict[str, int] = {}
    if physical is not None:
        page_of_div = _pages(physical, files, dmd, resolver, package, item_id, problems, errors)
    else:
        errors.append(N_("%(file)s: no structMap: the page order is unknown", file=file))
    root_div = next(iter(children(logical, "div")), None) if logical is not None else None
    mods = _mods(dmd, root_div.get("DMDID") if root_div is not None else None)
    if mods is not None:
        _metadata(mods, package, item_id, problems)
    if "title" not in package.metadata and root.get("LABEL"):
        package.metadata["title"] = [root.get("LABEL", "")]
    if root_div is not None:
        links = _links(root)
        for div in children(root_div, "div"):
            _range(div, links, page_of_div, package, None)
    return package


def _files(root: etree._Element) -> dict[str, MetsFile]:
    out: dict[str, MetsFile] = {}
    for grp in (g for g in root.iter() if local(g.tag) == "fileGrp"):
        for f in children(grp, "file"):
            loc = next(iter(children(f, "FLocat")), None)
            out[f.get("ID", "")] = MetsFile(
                f.get("ID", ""), (f.get("USE") or grp.get("USE") or "").lower(),
                href(loc) if loc is not None else None, (f.get("MIMETYPE") or "").lower(),
                f.get("CHECKSUM") or "", (f.get("CHECKSUMTYPE") or "").lower(), line_of(f))
    return out


def _page_divs(structmap: etree._Element) -> list[etree._Element]:
    """The divisions that point at files: the pages."""
    return [d for d in structmap.iter() if local(d.tag) == "div" and children(d, "fptr")]


def _fileids(div: etree._Element) -> list[str]:
    ids = []
    for fptr in children(div, "fptr"):
        if fptr.get("FILEID"):
            ids.append(fptr.get("FILEID", ""))
        ids.extend(a.get("FILEID", "") for a in fptr.iter() if local(a.tag) == "area" and a.get("FILEID"))
    return ids


def _pages(physical: etree._Element, files: dict[str, MetsFile], dmd: dict[str, etree._Element],
           resolver: FolderFiles, package: Package, item_id: str, problems: list[Problem],
           errors: list[str]) -> dict[str, int]:
    divs = _page_divs(physical)
    if divs and all((d.get("ORDER") or "").isdigit() for d in divs):
        divs.sort(key=lambda d: int(d.get("ORDER", "0")))
    page_of_div: dict[str, int] = {}
    for n, div in enumerate(divs, 1):
        where = (N_("page %(n)s (%(id)s)", n=n, id=div.get("ID")) if div.get("ID")
                 else N_("page %(n)s (no ID)", n=n))
        ours = [files[i] for i in _fileids(div) if i in files]
        images = sorted((f for f in ours if _is_image(f)), key=lambda f: _IMAGE_USE.get(f.use, 7))
        image = None
        notes = []
        for candidate in images:
            found, note = resolver.resolve(candidate.href or "")
            if found is not None and found.suffix.lower() in IMAGE_EXTENSIONS:
                image = found
                if note:
                    problems.append(Problem(package.file, candidate.line,
                                            N_("%(where)s: %(note)s", where=where, note=note), item_id, "warning"))
                _check(candidate, found, resolver, package.file, item_id, problems)
                break
            notes.append(note or N_("%(ref)r is not in the item folder", ref=candidate.href))
        if image is None:
            errors.append(N_("%(file)s: %(where)s: no image file of this page in the item folder (%(notes)s)",
                             file=package.file, where=where, notes=_joined(notes)) if notes
                          else N_("%(file)s: %(where)s: no image file of this page in the item folder",
                                  file=package.file, where=where))
            continue
        page = PackagePage(image, div.get("ORDERLABEL") or div.get("LABEL") or _mods_page_number(div, dmd))
        for f in (f for f in ours if f.use in _OCR_USE):
            found, note = resolver.resolve(f.href or "")
            if found is not None and (OCR_FORMATS.get(found.suffix.lower()) or found.name.lower().endswith(".hocr.html")):
                page.ocr = found
                _check(f, found, resolver, package.file, item_id, problems)
                break
            problems.append(Problem(package.file, f.line, N_(
                "%(where)s: OCR %(ref)r: %(note)s; the page has no text", where=where, ref=f.href,
                note=note or N_("not in the item folder, or not ALTO or hOCR")), item_id, "warning"))
        package.pages.append(page)
        page_of_div[div.get("ID", f"#{n}")] = len(package.pages)
    return page_of_div


def _joined(notes: list[str]) -> str:
    """The notes separated by '; ', each still translatable."""
    return functools.reduce(lambda a, b: N_("%(first)s; %(rest)s", first=a, rest=b), notes)


def _is_image(f: MetsFile) -> bool:
    if f.use in ("thumbs", "thumbnail", "thumbnails") or f.use in _OCR_USE:
        return False
    suffix = Path((f.href or "").split("?")[0]).suffix.lower()
    return suffix in IMAGE_EXTENSIONS or f.mimetype.startswith("image/")


def _check(f: MetsFile, path: Path, resolver: FolderFiles, file: str, item_id: str, problems: list[Problem]) -> None:
    algorithm = _HASHES.get(f.checksum_type)
    if algorithm is not None:
        check_checksum(path, f.checksum, algorithm, resolver.folder, file, item_id, problems)


def _mods_page_number(div: etree._Element, dmd: dict[str, etree._Element]) -> str | None:
    for dmd_id in (div.get("DMDID") or "").split():
        section = dmd.get(dmd_id)
        if section is None:
            continue
        for extent in (e for e in section.iter() if local(e.tag) == "extent"):
            start = child_text(extent, "start")
            if start:
                return start
    return None


def _mods(dmd: dict[str, etree._Element], dmd_ids: str | None) -> etree._Element | None:
    for dmd_id in (dmd_ids or "").split():
        section = dmd.get(dmd_id)
        found = next((m for m in section.iter() if local(m.tag) == "mods"), None) if section is not None else None
        if found is not None:
            return found
    for section in dmd.values():
        found = next((m for m in section.iter() if local(m.tag) == "mods"), None)
        if found is not None:
            return found
    return None


def _metadata(mods: etree._Element, package: Package, item_id: str, problems: list[Problem]) -> None:
    meta = package.metadata
    titles = [t for t in children(mods, "titleInfo") if not t.get("type")] or children(mods, "titleInfo")
    for info in titles[:1]:
        title = " ".join(v for v in (child_text(info, "nonSort"), child_text(info, "title")) if v)
        if child_text(info, "subTitle"):
            title = f"{title}: {child_text(info, 'subTitle')}"
        if title:
            meta["title"] = [title]
    creators: list[str] = []
    others: list[str] = []
    for name in children(mods, "name"):
        shown = child_text(name, "displayForm") or ", ".join(text_of(p) for p in children(name, "namePart") if text_of(p))
        roles = {text_of(r).lower() for role in children(name, "role") for r in children(role, "roleTerm")}
        (creators if roles & {"aut", "cre", "author", "creator"} else others).append(shown)
    if creators or others:
        meta["creator"] = [c for c in (creators or others) if c]
    for origin in children(mods, "originInfo"):
        _date(origin, package, item_id, problems)
        publishers = [text_of(p) for p in children(origin, "publisher") if text_of(p)]
        places = [text_of(t) for p in children(origin, "place") for t in children(p, "placeTerm")
                  if t.get("type", "text") == "text" and text_of(t)]
        if publishers:
            meta.setdefault("publisher", publishers)
        if places:
            meta.setdefault("place", places)
    languages = [text_of(t).lower() for lang in children(mods, "language") for t in children(lang, "languageTerm")
                 if t.get("type", "code") == "code" and text_of(t)]
    if languages:
        meta["language"] = languages
    topics = [text_of(t) for s in children(mods, "subject") for t in children(s, "topic") if text_of(t)]
    if topics:
        meta["subject"] = topics
    if child_text(mods, "abstract"):
        meta["description"] = [child_text(mods, "abstract")]
    shelves = [text_of(s) for loc in children(mods, "location") for s in children(loc, "shelfLocator") if text_of(s)]
    if shelves:
        meta["reference_code"] = shelves
    for condition in children(mods, "accessCondition"):
        rights = normalize_rights(href(condition) or text_of(condition))
        if rights:
            meta["rights"] = [rights]
            break


def _date(origin: etree._Element, package: Package, item_id: str, problems: list[Problem]) -> None:
    if "date" in package.metadata:
        return
    dates = children(origin, "dateIssued") or children(origin, "dateCreated")
    if not dates:
        return
    start = next((text_of(d) for d in dates if d.get("point") == "start"), "")
    end = next((text_of(d) for d in dates if d.get("point") == "end"), "")
    keyed = next((text_of(d) for d in dates if d.get("keyDate") == "yes" and not d.get("point")), "")
    value = f"{start}/{end}" if start and end else (keyed or start or text_of(dates[0]))
    try:
        DateValue.parse(value)
    except ValueError:
        problems.append(Problem(package.file, line_of(dates[0]), N_("MODS date %(value)r is not a date ingest reads "
                                   "(1878, 1878-01-03, 1921/1925): write it in the date column", value=value),
                                item_id, "warning"))
        return
    package.metadata["date"] = [value]


def _links(root: etree._Element) -> dict[str, list[str]]:
    """Logical division ID -> the physical division IDs ``structLink`` ties it to."""
    out: dict[str, list[str]] = {}
    for link in (e for e in root.iter() if local(e.tag) == "smLink"):
        ends = {etree.QName(k).localname: str(v) for k, v in link.attrib.items()}
        if ends.get("from") and ends.get("to"):
            out.setdefault(ends["from"], []).append(ends["to"])
    return out


def _range(div: etree._Element, links: dict[str, list[str]], page_of_div: dict[str, int], package: Package,
           parent: int | None) -> None:
    pages = [page_of_div[p] for p in links.get(div.get("ID", ""), []) if p in page_of_div]
    if not pages:  # a division without links of its own spans its sub-divisions' pages
        pages = [page_of_div[p] for sub in div.iter() if local(sub.tag) == "div"
                 for p in links.get(sub.get("ID", ""), []) if p in page_of_div]
    title = div.get("LABEL") or div.get("ORDERLABEL") or ""
    index = parent
    if title and pages:
        package.ranges.append(PackageRange(title, min(pages), max(pages), parent))
        index = len(package.ranges) - 1
    for sub in children(div, "div"):
        _range(sub, links, page_of_div, package, index)
