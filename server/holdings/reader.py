"""Read a holdings folder (see HOLDINGS.md) into validated values, reporting every problem by file and line.

The reader only reads: it lists item folders without opening images, never writes, and never
raises for bad input. A bad row is left out with an error; the rest is read. Ingest decides what
to do with rejected ids (keep an earlier good publication) and restricted ones (drop it).
"""
from __future__ import annotations

import gc
import os
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from ..ids import is_safe_id
from ..texts import N_, Nn_, Text
from .csvread import Columns, Row, Table, split_multi
from .model import (
    IMAGE_EXTENSIONS,
    ITEM_TYPES,
    OCR_FORMATS,
    Collection,
    DateValue,
    ExtraField,
    Holdings,
    Item,
    LangMap,
    OcrFormat,
    Page,
    Problem,
    Range,
    RecordedPages,
    child_known,
    child_path,
    normalize_rights,
)
from .package import Package, merge_metadata
from .scan import entry_names
from .sheets import SHEET_EXTENSIONS, find_sheet, read_sheet
from .vendor import OPEN_EACH, READERS, Entry, FolderWatch, find_package, list_folder

# sheets: "<name>.csv" or "<name>.xlsx" (see sheets.py); problems name the file that was read
COLLECTIONS = "collections"
ITEMS = "items"
STRUCTURE = "structure"

_COLL_KNOWN = {"id", "parent", "title", "description"}
_COLL_TRANSLATABLE = {"title", "description"}
_ITEM_KNOWN = {"id", "collection", "type", "title", "date", "creator", "publisher", "place", "language",
               "subject", "extent", "reference_code", "description", "rights", "attribution", "access"}
_ITEM_TRANSLATABLE = {"title", "description", "creator", "publisher", "place", "subject", "extent",
                      "reference_code", "attribution"}
# free text stays one value; these hold lists separated by ' | '
_ITEM_MULTI = ("creator", "publisher", "place", "subject", "extent", "reference_code")
_RANGE_KNOWN = {"id", "parent", "title", "first_page", "last_page"}
_LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
_IGNORED_FILES = {"thumbs.db", "desktop.ini"}
# what _check_tree checks, in words: (one, several)
_KIND = {"collection": (N_("collection"), N_("collections")), "range": (N_("range"), N_("ranges"))}


def read_holdings(root: Path, default_language: str = "it", watch: FolderWatch = OPEN_EACH) -> Holdings:
    """Everything publishable under ``root``; problems for everything that is not.

    ``watch`` is told of each item folder listed and tells whether its ``.xml`` files are MAG or
    METS files; by default it opens them (ingest passes its fingerprints, which remember the
    answers, and the folders, for files unchanged since)."""
    root = Path(root)
    holdings = Holdings(root=root)
    problems = holdings.problems
    with _no_gc():
        collections, coll_lines = _read_collections(root, default_language, problems)
        holdings.collections = collections
        _read_items(root, default_language, holdings, coll_lines, watch)
    return holdings


@contextmanager
def _no_gc() -> Iterator[None]:
    """The cyclic garbage collector paused: the reader makes many objects that live on (pages,
    paths, items) and few cycles, and each full collection while it reads walks all of them (in
    an ingest, a third of the time of reading 20,000 pages). Any cycles are collected afterwards."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


# --- collections.csv ------------------------------------------------------------------------------

def _read_collections(root: Path, language: str,
                      problems: list[Problem]) -> tuple[dict[str, Collection], dict[str, str]]:
    found = find_sheet(root, COLLECTIONS, "", problems)
    if found is None:
        problems.append(Problem(f"{COLLECTIONS}.csv", None, N_("missing: every item must belong to a collection")))
        return {}, {}
    table = read_sheet(*found, problems)
    if table is None or not _has_columns(table, ("id", "title"), problems):
        return {}, {}
    cols = Columns(table, _COLL_KNOWN, _COLL_TRANSLATABLE, language)
    candidates: dict[str, Collection] = {}
    lines: dict[str, int] = {}
    for row in table.rows:
        cid = _row_id(row, table, lines, problems, None)
        if cid is None:
            continue
        title = cols.lang_map(row, "title")
        if not title:
            problems.append(Problem(table.file, row.line, N_("collection %(id)r has no title", id=cid)))
            continue
        candidates[cid] = Collection(cid, title, row.get("parent"), cols.lang_map(row, "description"),
                                     _extras(cols, row), row.line)
    verdict = _check_tree({cid: c.parent for cid, c in candidates.items()}, "collection", lines)
    valid: dict[str, Collection] = {}
    for cid, c in candidates.items():
        if verdict[cid] is None:
            valid[cid] = c
        else:
            problems.append(Problem(table.file, c.line, N_("collection %(id)r: %(error)s", id=cid, error=verdict[cid])))
    return valid, {cid: f"{table.file} line {line}" for cid, line in lines.items()}


def _check_tree(parents: dict[str, str | None], what: str, lines: dict[str, int]) -> dict[str, Text | None]:
    """For each node: None if its chain of parents reaches the top, else why not (unknown parent, cycle)."""
    verdict: dict[str, Text | None] = {}
    kind, kinds = _KIND[what]
    for start in parents:
        path: list[str] = []
        cur = start
        while True:
            if cur in verdict:
                ok = verdict[cur] is None
                break
            if cur in path:
                cycle = path[path.index(cur):]
                chain = " → ".join([*cycle, cur])
                for node in cycle:
                    verdict[node] = N_("%(kinds)s form a cycle (%(chain)s)", kinds=kinds, chain=chain)
                path = path[:path.index(cur)]
                ok = False
                break
            path.append(cur)
            parent = parents[cur]
            if parent is None:
                verdict[cur] = None
                path.pop()
                ok = True
                break
            if parent not in parents:
                verdict[cur] = (N_("parent %(kind)s %(parent)r was rejected (line %(line)s)", kind=kind,
                                   parent=parent, line=lines[parent]) if parent in lines
                                else N_("unknown parent %(kind)s %(parent)r", kind=kind, parent=parent))
                path.pop()
                ok = False
                break
            cur = parent
        for node in reversed(path):  # the descendants of the node just resolved share its fate
            verdict[node] = None if ok else N_("parent %(kind)s %(parent)r is not published", kind=kind,
                                               parent=parents[node])
    return verdict


# --- items.csv ------------------------------------------------------------------------------------

def _read_items(root: Path, language: str, holdings: Holdings, coll_lines: dict[str, str],
                watch: FolderWatch = OPEN_EACH) -> None:
    problems = holdings.problems
    folders = _item_folders(root, problems)
    found = find_sheet(root, ITEMS, "", problems)
    items_file = found[1] if found else f"{ITEMS}.csv"
    seen: dict[str, int] = {}
    rejected_rows: dict[str, int] = {}  # ids of rows rejected before their id was taken → line
    table: Table | None = None
    if found is None:
        problems.append(Problem(f"{ITEMS}.csv", None, N_("missing: nothing can be published")))
    else:
        table = read_sheet(*found, problems)
        if table is not None and not _has_columns(table, ("id", "collection", "type", "title"), problems):
            table = None
    if table is not None:
        cols = Columns(table, _ITEM_KNOWN, _ITEM_TRANSLATABLE, language)
        _read_rows(table, cols, folders, holdings, coll_lines, language, watch, seen, rejected_rows)
    for name in folders:
        if name in rejected_rows and name not in seen:
            problems.append(Problem(f"items/{name}", None, N_("folder of the rejected row on line %(line)s of "
                                                              "%(file)s: not published", line=rejected_rows[name],
                                                              file=items_file), name, "warning"))
        elif name not in seen:
            problems.append(Problem(f"items/{name}", None, N_("folder without a row in %(file)s: not published",
                                                              file=items_file), name, "warning"))


def _listing(folder: Path, watch: FolderWatch) -> Sequence[Entry] | OSError:
    """The folder's entries as the watch knows them (scanned), else :func:`list_folder`, or why the
    folder could not be listed."""
    known = watch.listing(str(folder))
    if known is not None:
        return known
    try:
        return list_folder(folder)
    except OSError as e:
        return e


def _read_rows(table: Table, cols: Columns, folders: dict[str, Path], holdings: Holdings, coll_lines: dict[str, str],
               language: str, watch: FolderWatch, seen: dict[str, int], rejected_rows: dict[str, int]) -> None:
    """The items of ``items.csv``'s rows (and their rejections), in row order."""
    problems = holdings.problems
    for row in table.rows:
        access = (row.get("access") or "public").lower()
        duplicate = row.get("id")
        if access == "restricted" and duplicate is not None and duplicate in seen:
            holdings.items.pop(duplicate, None)  # two rows, one restricted: publish neither
            holdings.restricted.add(duplicate)
        item_id = _row_id(row, table, seen, problems, None)
        if item_id is None:
            if duplicate is not None and duplicate not in seen:  # an unsafe id: its folder is not an orphan
                rejected_rows.setdefault(duplicate, row.line)
            continue
        if access == "restricted":
            holdings.restricted.add(item_id)
            problems.append(Problem(table.file, row.line, N_("item %(id)r is restricted: not published", id=item_id),
                                    item_id, "info"))
            continue
        errors: list[str] = []  # Text messages, and plain strings from the MAG/METS readers
        if access != "public":
            errors.append(N_("access must be 'public' or 'restricted', not %(value)r", value=row.get("access")))
        item = _item(row, item_id, cols, folders.get(item_id), holdings, coll_lines, language, errors, watch)
        if errors or item is None:
            problems.extend(Problem(table.file, row.line, N_("item %(id)r: %(error)s", id=item_id, error=e),
                                    item_id) for e in errors)
            holdings.rejected.add(item_id)
            continue
        holdings.items[item_id] = item
    for row in table.rejected:  # rows whose cells could not be read: reported by read_table
        rid = row.get("id")
        if rid is not None and rid not in seen and rid not in rejected_rows:
            rejected_rows[rid] = row.line
            if is_safe_id(rid):
                holdings.rejected.add(rid)  # as any rejected row: an earlier publication is kept

def _item_folders(root: Path, problems: list[Problem]) -> dict[str, Path]:
    items_dir = root / "items"
    if not items_dir.is_dir():
        problems.append(Problem("items", None, N_("missing: the folder that holds one sub-folder per item")))
        return {}
    return {e.name: child_path(items_dir, e.name) for e in list_folder(items_dir)
            if not e.name.startswith(".") and e.is_dir()}


def _item(row: Row, item_id: str, cols: Columns, folder: Path | None, holdings: Holdings,
          coll_lines: dict[str, str], language: str, errors: list[str], watch: FolderWatch = OPEN_EACH) -> Item | None:
    entries: Sequence[Entry] | OSError | None = None  # the item folder, listed once
    package = None
    if folder is not None:
        entries = _listing(folder, watch)
        if not isinstance(entries, OSError):
            kinds = watch.listed(str(folder), entries)
            if kinds is None or any(kind in READERS for kind in kinds.values()):
                package = find_package(folder, item_id, holdings.problems, errors, entries, watch.sniff)
    if package is not None:  # a MAG or METS file fills the row's empty cells
        merge_metadata(row.cells, package, cols.file, row.line, item_id, holdings.problems)
    collection = row.get("collection")
    if collection is None:
        errors.append(N_("no collection"))
    elif collection not in holdings.collections:
        errors.append(N_("collection %(id)r was rejected (%(where)s)", id=collection, where=coll_lines[collection])
                      if collection in coll_lines else N_("unknown collection %(id)r", id=collection))
    kind = (row.get("type") or "").lower()
    if not kind:
        errors.append(N_("no type"))
    elif kind not in ITEM_TYPES:
        errors.append(N_("unknown type %(value)r (one of: %(types)s)", value=row.get("type"),
                         types=", ".join(ITEM_TYPES)))
    title = cols.lang_map(row, "title")
    if not title:
        errors.append(N_("no title"))
    date = None
    if row.get("date"):
        try:
            date = DateValue.parse(row.get("date") or "")
        except ValueError as e:
            errors.append(N_("bad date: %(reason)s", reason=e.args[0]))
    rights = None
    if row.get("rights"):
        rights = normalize_rights(row.get("rights") or "")
        if rights is None:
            errors.append(N_("rights must be a Creative Commons or RightsStatements.org URI such as "
                             "http://rightsstatements.org/vocab/InC/1.0/, not %(value)r", value=row.get("rights")))
    languages: list[str] = []
    for code in split_multi(row.get("language") or ""):
        if not _LANGUAGE_CODE.match(code.lower()):
            holdings.problems.append(Problem(cols.file, row.line, N_("item %(id)r: language %(code)r is not an ISO 639 "
                                                                     "code (it, de, lat …)", id=item_id, code=code),
                                             item_id, "warning"))
        languages.append(code.lower())
    pages: Sequence[Page] = []
    if folder is None:
        errors.append(N_("no folder items/%(id)s/", id=item_id))
    elif package is not None and package.pages:
        pages = [Page(p.image, p.ocr, _ocr_format(p.ocr), p.label) for p in package.pages]
    elif package is None and (known := watch.pages(str(folder))) is not None:  # as the last run found them
        pages = RecordedPages(folder, known)  # type: ignore[arg-type]  # (formats checked when decoded)
        watch.made_pages(str(folder), pages)  # the object the item holds
    else:
        before = len(holdings.problems), len(errors)
        pages = _list_pages(folder, item_id, holdings.problems, errors,
                            ignore=Path(package.file).name if package is not None else None, entries=entries)
        if package is None and (len(holdings.problems), len(errors)) == before:
            watch.remember_pages(str(folder), [(p.image.name, p.ocr.name if p.ocr else None, p.ocr_format)
                                               for p in pages])
    if errors or collection is None or folder is None:
        return None
    structure = (find_sheet(folder, STRUCTURE, f"items/{item_id}/", holdings.problems, item_id)
                 if _may_hold_sheet(entries, STRUCTURE) else None)
    ranges = _read_structure(*structure, item_id, len(pages), language, holdings.problems) if structure else ()
    if package is not None and package.ranges:
        if structure:
            holdings.problems.append(Problem(structure[1], None, N_("the structure sheet wins over the ranges in "
                                                                  "%(file)s", file=package.file), item_id, "info"))
        else:
            ranges = _package_ranges(package, language)
    multi = {name: cols.lang_map(row, name, multi=True) for name in _ITEM_MULTI}
    return Item(
        id=item_id, collection=collection, type=kind, title=title,
        pages=pages if isinstance(pages, RecordedPages) else tuple(pages), folder=folder,
        date=date, language=tuple(languages), description=cols.lang_map(row, "description"), rights=rights,
        attribution=cols.lang_map(row, "attribution"), ranges=ranges, extra=_extras(cols, row), line=row.line,
        **multi)


# --- item folders ---------------------------------------------------------------------------------

def natural_key(name: str) -> tuple[tuple[int, int | str], ...]:
    """Sort key that puts 'f9' before 'f10' and 'page2' before 'Page10' (case-insensitive)."""
    parts = re.split(r"(\d+)", name.casefold())
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in parts if p != "")


def _page_order(stems: dict[str, list[str]]) -> list[str]:
    """The stems in natural order (by :func:`natural_key`, then as strings): plain string order when
    all are ASCII digits of one length ('0001', '0002' …), the same order found faster."""
    if len({len(s) for s in stems}) == 1 and all(s.isascii() and s.isdigit() for s in stems):
        return sorted(stems)
    return sorted(stems, key=lambda s: (natural_key(s), s))


def _split_name(name: str) -> tuple[str, str]:
    """(stem, extension) with '.hocr.html' taken as one extension."""
    lower = name.lower()
    if lower.endswith(".hocr.html"):
        return name[:-len(".hocr.html")], ".hocr"
    dot = name.rfind(".")
    if dot <= 0:
        return name, ""
    return name[:dot], lower[dot:]


def _ocr_format(path: Path | None) -> OcrFormat | None:
    if path is None:
        return None
    return OCR_FORMATS.get(_split_name(path.name)[1])


def _package_ranges(package: Package, language: str) -> tuple[Range, ...]:
    """A MAG or METS file's ranges (already within the item's pages), with ids r1, r2 … in file order."""
    return tuple(Range(f"r{n}", {language: [r.title]}, r.first, r.last,
                       f"r{r.parent + 1}" if r.parent is not None else None)
                 for n, r in enumerate(package.ranges, 1))


def _list_pages(folder: Path, item_id: str, problems: list[Problem], errors: list[str],
                ignore: str | None = None, entries: Sequence[Entry] | OSError | None = None) -> list[Page]:
    """Page images in natural order, each with the OCR file that shares its stem.

    ``entries``: the folder's entries sorted by name (or why they could not be listed), if the
    caller has them. Names only: no file is opened, and no stat is made but for symlinks."""
    rel = f"items/{item_id}"
    images: dict[str, list[str]] = {}
    ocr: dict[str, list[tuple[str, OcrFormat]]] = {}
    if entries is None:
        try:
            entries = list_folder(folder)
        except OSError as e:
            entries = e
    if isinstance(entries, OSError):
        errors.append(N_("cannot list items/%(id)s/: %(reason)s", id=item_id,
                         reason=entries.strerror or str(entries)))
        return []
    for entry in entries:
        name = entry.name
        dot = name.rfind(".")
        if dot <= 0 or name[0] == ".":
            continue  # .DS_Store, ._0001.tif (macOS), no extension (Thumbs.db and the like have theirs)
        ext = name[dot:].lower()
        if ext in IMAGE_EXTENSIONS:
            if name != ignore and entry.is_file():  # not a sub-folder
                images.setdefault(name[:dot], []).append(name)
        elif ext in OCR_FORMATS and name != ignore and entry.is_file():
            if ext == ".html" and name[:dot].lower().endswith(".hocr"):
                ocr.setdefault(name[:dot - len(".hocr")], []).append((name, "hocr"))  # x.hocr.html
            else:
                ocr.setdefault(name[:dot], []).append((name, OCR_FORMATS[ext]))
    if not images:
        errors.append(N_("items/%(id)s/ has no page images (%(extensions)s)", id=item_id,
                          extensions=", ".join(sorted(IMAGE_EXTENSIONS))))
        return []
    if len(images) + len(ocr) < len(entries):  # some stem has several files
        for stem, files in images.items():
            if len(files) > 1:
                errors.append(N_("page %(page)r has more than one image (%(files)s): keep one", page=stem,
                                 files=", ".join(files)))
    for stem, sidecars in sorted(ocr.items()) if not ocr.keys() <= images.keys() or any(
            len(s) > 1 for s in ocr.values()) else ():
        if stem not in images:
            problems.append(Problem(f"{rel}/{sidecars[0][0]}", None, N_("OCR file without a page image of the "
                                    "same name: ignored"), item_id, "warning"))
        elif len(sidecars) > 1:
            sidecars.sort(key=lambda f: (f[1] != "alto", f[0]))
            problems.append(Problem(f"{rel}/{sidecars[0][0]}", None, N_(
                "more than one OCR file for this page (%(files)s): using %(used)s",
                files=", ".join(f[0] for f in sidecars), used=sidecars[0][0]), item_id, "warning"))
    pages = []
    prefix = str(folder) + os.sep
    for stem in _page_order(images):
        image = child_known(folder, prefix, images[stem][0])
        sidecar = ocr.get(stem)
        if sidecar:
            pages.append(Page(image, child_known(folder, prefix, sidecar[0][0]), sidecar[0][1]))
        else:
            pages.append(Page(image))
    return pages


def _may_hold_sheet(entries: Sequence[Entry] | OSError | None, stem: str) -> bool:
    """False when the listing shows no ``stem.csv`` or ``stem.xlsx`` (in any case), so
    :func:`find_sheet` need not look; True when it must (also when there is no listing)."""
    if entries is None or isinstance(entries, OSError):
        return True
    names = {f"{stem}{ext}" for ext in SHEET_EXTENSIONS}
    return any(name.casefold() in names for name in entry_names(entries))




# --- structure.csv --------------------------------------------------------------------------------

def _read_structure(path: Path, file: str, item_id: str, page_count: int, language: str,
                    problems: list[Problem]) -> tuple[Range, ...]:
    """Valid ranges in file order; a bad row is dropped (with its sub-ranges), the item is still published."""
    table = read_sheet(path, file, problems, item_id)
    if table is None or not _has_columns(table, ("id", "title", "first_page", "last_page"), problems, item_id):
        return ()
    cols = Columns(table, _RANGE_KNOWN, {"title"}, language)
    candidates: dict[str, Range] = {}
    lines: dict[str, int] = {}
    for row in table.rows:
        rid = _row_id(row, table, lines, problems, item_id)
        if rid is None:
            continue
        errors: list[Text] = []
        title = cols.lang_map(row, "title")
        if not title:
            errors.append(N_("no title"))
        first, last = _page_number(row, "first_page", errors), _page_number(row, "last_page", errors)
        if first is not None and last is not None:
            if first > last:
                errors.append(N_("first_page %(first)s is after last_page %(last)s", first=first, last=last))
            elif last > page_count:
                errors.append(Nn_("pages %(first)s–%(last)s are outside the item's %(num)s page",
                                  "pages %(first)s–%(last)s are outside the item's %(num)s pages",
                                  page_count, first=first, last=last))
        if first is None or last is None or errors:
            problems.extend(Problem(file, row.line, N_("range %(id)r: %(error)s", id=rid, error=e), item_id)
                            for e in errors)
            continue
        candidates[rid] = Range(rid, title, first, last, row.get("parent"), row.line)
    verdict = _check_tree({rid: r.parent for rid, r in candidates.items()}, "range", lines)
    valid = {}
    for rid, r in candidates.items():
        if verdict[rid] is not None:
            problems.append(Problem(file, r.line, N_("range %(id)r: %(error)s", id=rid, error=verdict[rid]), item_id))
        else:
            valid[rid] = r
    for r in valid.values():
        parent = valid.get(r.parent) if r.parent else None
        if parent and not (parent.first_page <= r.first_page and r.last_page <= parent.last_page):
            problems.append(Problem(file, r.line, N_(
                "range %(id)r (pages %(first)s–%(last)s) reaches outside its parent %(parent)r "
                "(%(parent_first)s–%(parent_last)s)", id=r.id, first=r.first_page, last=r.last_page,
                parent=parent.id, parent_first=parent.first_page, parent_last=parent.last_page), item_id, "warning"))
    return tuple(valid.values())


def _page_number(row: Row, column: str, errors: list[Text]) -> int | None:
    value = row.get(column)
    if value is None:
        errors.append(N_("no %(column)s", column=column))
        return None
    if not value.isdigit() or int(value) < 1:
        errors.append(N_("%(column)s must be a page number from 1, not %(value)r", column=column, value=value))
        return None
    return int(value)


# --- shared ---------------------------------------------------------------------------------------

def _has_columns(table: Table, required: tuple[str, ...], problems: list[Problem], item_id: str | None = None) -> bool:
    missing = [c for c in required if c not in table.columns]
    if missing:
        problems.append(Problem(table.file, 1, Nn_("missing required column: %(columns)s",
                                                   "missing required columns: %(columns)s", len(missing),
                                                   columns=", ".join(missing)), item_id))
    return not missing


def _row_id(row: Row, table: Table, seen: dict[str, int], problems: list[Problem], item_id: str | None) -> str | None:
    """The row's id if it is present, URL-safe and not a duplicate (the first row with an id wins)."""
    value = row.get("id")
    if value is None:
        problems.append(Problem(table.file, row.line, N_("row without an id"), item_id))
        return None
    if not is_safe_id(value):
        problems.append(Problem(table.file, row.line, N_("id %(id)r is not URL-safe: use only letters, digits, "
                                                         "'-' and '_' (at most 200)", id=value), item_id))
        return None
    if value in seen:
        problems.append(Problem(table.file, row.line, N_("duplicate id %(id)r (first on line %(line)s): this row is "
                                                         "ignored", id=value, line=seen[value]),
                                item_id or (value if table.file.startswith(ITEMS + ".") else None)))
        return None
    seen[value] = row.line
    return value


def _extras(cols: Columns, row: Row) -> tuple[ExtraField, ...]:
    out = []
    for base in cols.extras:
        value: LangMap = cols.lang_map(row, base, multi=True)
        if value:
            out.append(ExtraField(cols.label(base), value))
    return tuple(out)
