"""Which inputs changed since the last publication: size + mtime first, content hash when they differ.

Item folders are remembered whole: the stats of a folder's entries (names, inodes, sizes, mtimes,
ctimes) sign it, and while that signature is the one the previous run recorded, the digests of its
files and the kinds of its ``.xml`` files are the recorded ones: nothing is looked up per file, and
the cache holds one row per item folder, not one per file (a one-item change in a large archive
reads and writes what changed, not a row per page).
"""
from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Sequence
from pathlib import Path

from ..holdings.model import Page, RecordedPages
from ..holdings.package import sniff
from ..holdings.scan import Listing, Scan, entry_names, signature, stats_in
from ..holdings.vendor import Entry
from ..image.pyramid import master_key

# Keys of the item folders' .xml files' kinds (MAG, METS or neither) among the fingerprints: never a
# path (fingerprinted paths are absolute), so they share the inputs table without meeting a file's row.
KIND = "kind:"
# Keys of the item folders' records: "folder:<path>" → (entries, 0, "<signature>/<name>/<stamp>/<digest>/<kind>/…")
FOLDER = "folder:"
_SEP = "/"  # never in a file name


class Fingerprints:
    """Digest of each input file, reusing the previous publication's digest when size and mtime match.

    The same cache remembers which of the item folders' ``.xml`` files are MAG or METS files
    (:meth:`sniff`), so a re-ingest need not open every ALTO file to find out it is not one; and it
    remembers whole item folders (:meth:`listed`), so an unchanged folder costs one stat per entry.
    It is the holdings reader's :class:`server.holdings.vendor.FolderWatch`."""

    def __init__(self, previous: dict[str, tuple[int, int, str]], scan: Scan | None = None) -> None:
        self.previous = previous
        self.scan = scan  # the item folders, listed and signed by helper processes (server/holdings/scan.py)
        self.files: dict[str, tuple[int, int, str]] = {}  # rows of files outside a signed folder
        self.digests: dict[str, str] = {}  # every file digested in this run: path → digest
        self._stats: dict[str, os.stat_result] = {}  # taken while listing, used once by the file's digest
        self._folders: dict[str, _Folder] = {}  # signed folders: path → record
        self._items: dict[str, str] = {}  # item id → its files' digests, joined (item_files)

    @property
    def current(self) -> dict[str, tuple[int, int, str]]:
        """The rows this run leaves for the next: its files outside signed folders, and a row per signed folder."""
        rows = dict(self.files)
        for path, folder in self._folders.items():
            rows[FOLDER + path] = folder.row()
        return rows

    def master(self, path: Path) -> str:
        """The content key of a page master (names its pyramid)."""
        return self._digest(path, master_key)

    def file(self, path: Path) -> str:
        return self._digest(path, _sha256)

    def recorded(self, folder: Path, pages: Sequence[Page]) -> tuple[list[str], list[str]] | None:
        """(master digests, OCR digests or "") of an item's pages, in page order, when they are the
        pages its unchanged folder's record lists (the reader took them from it): one pass over the
        record instead of a lookup by path per file. None otherwise: ask :meth:`master` and :meth:`file`."""
        prefix = str(folder)
        record = self._folders.get(prefix)
        if record is None or not record.matched or record.pages is None or len(record.pages) != len(pages):
            return None
        digests = record.digests
        if pages is record.made:  # the reader's pages, made from the record itself: no path to compare
            get = digests.get
            masters = [get(image, "") for image, _, _ in record.pages]
            ocrs = [get(ocr, "") if ocr is not None else "" for _, ocr, _ in record.pages]
            if all(masters) and sum(map(bool, ocrs)) == sum([ocr is not None for _, ocr, _ in record.pages]):
                return masters, ocrs  # every master and every OCR file has its digest
            return None
        prefix += os.sep
        masters, ocrs = [], []
        for page, (image, ocr, _) in zip(pages, record.pages):
            master = digests.get(image)
            if not master or str(page.image) != prefix + image:
                return None
            if ocr is None:
                if page.ocr is not None:
                    return None
                ocrs.append("")
            else:
                digest = digests.get(ocr)
                if not digest or page.ocr is None or str(page.ocr) != prefix + ocr:
                    return None
                ocrs.append(digest)
            masters.append(master)
        return masters, ocrs

    def item_files(self, item_id: str, masters: list[str], ocr: list[str]) -> None:
        """Note an item's file digests in page order (each master, then its OCR file's or ""), as
        :meth:`files_of` gives them to its fingerprint."""
        self._items[item_id] = "".join([m + o for m, o in zip(masters, ocr)])

    def files_of(self, item_id: str) -> str | None:
        """The digests :meth:`item_files` noted for an item, joined; None if none were."""
        return self._items.get(item_id)

    def digest_of(self, path: Path) -> str:
        """The digest this run took of ``path`` ("?" if none was)."""
        return self.digests.get(str(path), "?")

    def kind_of(self, path: str) -> str | None:
        """What this run found an ``.xml`` file to be: "MAG", "METS", "" (neither), None if not sniffed."""
        folder, _, name = path.rpartition(os.sep)
        record = self._folders.get(folder)
        if record is not None:
            kind = record.kinds.get(name)
            return None if kind is None else (_kind(kind) or "")
        row = self.files.get(KIND + path)
        return None if row is None else row[2].rpartition(":")[2]

    def listing(self, folder: str) -> Listing | None:
        """The item folder's entries as the scan found them (names, kinds and signature, no stat made
        here), if it was scanned."""
        if self.scan is None:
            return None
        found = self.scan.folder(folder)
        return Listing(folder, *found) if found is not None else None

    def listed(self, folder: str, entries: Sequence[Entry]) -> dict[str, str | None] | None:
        """Sign an item folder from its entries (sorted by name); when it is as the previous run
        recorded it, its files' digests and kinds are taken from that record, and the kinds of its
        ``.xml`` files are returned (None otherwise: they are asked of :meth:`sniff`)."""
        names = entry_names(entries)
        stats: list[os.stat_result] | None = None
        sign = entries.signature if isinstance(entries, Listing) else None
        if sign is None:
            try:
                stats = stats_in(folder, names)
            except OSError:  # a dangling link, a file gone meanwhile: this folder is read file by file
                return None
            sign = signature(names, stats)
        joined = _SEP.join(names)
        record = _Folder(sign, len(names))
        old = self.previous.get(FOLDER + folder)
        if old is not None and old[2].startswith(sign):
            record.known, record.matched = old, True
            fields = old[2].split(_SEP)
            end = 1 + (len(fields) - 1) // 4 * 4  # the files' fields; then, maybe, the pages
            files = fields[1:end:4]  # every recorded file has a digest or a kind ("" for the other)
            record.stamps = dict(zip(files, fields[2:end:4]))
            record.digests = dict(zip(files, fields[3:end:4]))
            kinds = record.kinds = {name: kind for name, kind in zip(files, fields[4:end:4]) if kind}
            if end < len(fields) and fields[-1].startswith(_PAGES):
                record.pages = _decode_pages(fields[-1], files)
            self._folders[folder] = record
            if (joined + _SEP).lower().count(".xml" + _SEP) != len(kinds):
                return None  # an .xml entry the record does not tell (or a hidden one): let the reader ask
            return {name: _kind(kind) for name, kind in kinds.items()}
        else:  # changed (or new): its files are looked at one by one, with these stats
            if stats is None:  # signed by the scan: stat'ed again here, for the files' own records
                try:
                    stats = stats_in(folder, names)
                except OSError:
                    return None
            record.stats = dict(zip(names, stats))
            if old is not None:  # what is still as it was keeps its digest and kind
                fields = old[2].split(_SEP)
                record.before = {fields[i]: (fields[i + 1], fields[i + 2], fields[i + 3])
                                 for i in range(1, len(fields) - 3, 4)}
        self._folders[folder] = record
        return None

    def pages(self, folder: str) -> list[tuple[str, str | None, str | None]] | None:
        """The pages the reader found in this folder when it was as it is (image, OCR file, format), if recorded."""
        record = self._folders.get(folder)
        return record.pages if record is not None and record.matched else None

    def made_pages(self, folder: str, pages: RecordedPages) -> None:
        """Keep the reader's pages made from :meth:`pages`: :meth:`recorded` knows them by identity."""
        record = self._folders.get(folder)
        if record is not None and record.matched:
            record.made = pages

    def remember_pages(self, folder: str, pages: list[tuple[str, str | None, str | None]]) -> None:
        """Record the pages the reader found in a folder it had nothing to say about (no problem, no error)."""
        record = self._folders.get(folder)
        if record is None or record.pages == pages:
            return
        if record.matched:  # an unchanged folder whose record had no pages (an earlier version's)
            if _encode_pages(pages, sorted(record.digests.keys() | record.kinds.keys())) is None:
                return  # its files are not all in it: nothing to add
            record.known = None  # its row is written again, with them
        record.pages = pages

    def sniff(self, path: str, entry: Entry) -> str | None:
        """What :func:`server.holdings.package.sniff` says of an item folder's ``.xml`` file, remembered
        while its size, mtime, inode and ctime stay the same."""
        folder, _, name = path.rpartition(os.sep)
        record = self._folders.get(folder)
        if record is not None and record.matched:
            if name in record.kinds:
                return _kind(record.kinds[name])
            record.known = None  # a file the record did not look at: the folder's row is written again
        st = record.stats.get(name) if record is not None else None
        if st is None:
            st = self._stats[path] = entry.stat()
        stamp = f"{st.st_ino}:{st.st_ctime_ns}:"
        before = record.before.get(name) if record is not None else None
        old = self.previous.get(KIND + path)  # a row of a version before folders were recorded
        if before is not None and before[2] and before[0] == _stamp(st):
            kind = _kind(before[2])
        elif old is not None and old[0] == st.st_size and old[1] == st.st_mtime_ns and old[2].startswith(stamp):
            kind = old[2][len(stamp):] or None
        else:
            kind = sniff(path)
        if record is not None:
            record.kinds[name] = kind or NONE
        else:
            self.files[KIND + path] = (st.st_size, st.st_mtime_ns, stamp + (kind or ""))
        return kind

    def _digest(self, path: Path, compute: Callable[[Path], str]) -> str:
        name = str(path)
        folder, _, base = name.rpartition(os.sep)
        record = self._folders.get(folder)
        if record is not None and record.matched:
            digest = record.digests.get(base)
            if digest:  # "": a file recorded for its kind only
                self.digests[name] = digest
                return digest
            record.known = None  # a file the record did not look at: the folder's row is written again
        st = record.stats.get(base) if record is not None else None  # the stat taken while listing
        if st is None:
            st = self._stats.pop(name, None) or os.stat(name)
        size, mtime = st.st_size, st.st_mtime_ns
        old = self.previous.get(name)  # a file outside item folders (or a row of an earlier version)
        if record is not None and base in record.before:  # kept if not even its ctime moved
            stamp, was, _ = record.before[base]
            old = (size, mtime, was) if was and stamp == _stamp(st) else None
        if old is not None and old[0] == size and old[1] == mtime:
            digest = old[2]
        else:
            digest = self._compute(path, compute, size, mtime)
        if record is not None:
            record.digests[base] = digest
        else:
            self.files[name] = (size, mtime, digest)
        self.digests[name] = digest
        return digest

    def _compute(self, path: Path, compute: Callable[[Path], str], size: int, mtime_ns: int) -> str:
        """The digest of a file not known as it is (of that size and mtime)."""
        return compute(path)


class _Folder:
    """A signed item folder: its signature, and what this run (or the previous one) learnt of its files."""

    __slots__ = ("before", "digests", "entries", "kinds", "known", "made", "matched", "pages", "signature", "stamps",
                 "stats")

    def __init__(self, signature: str, entries: int) -> None:
        self.signature, self.entries = signature, entries
        self.stats: dict[str, os.stat_result] = {}  # a changed folder's entries: name → stat
        self.stamps: dict[str, str] = {}  # an unchanged folder's, as recorded: name → "ino:size:mtime:ctime"
        self.digests: dict[str, str] = {}  # file name → digest
        self.kinds: dict[str, str] = {}  # .xml file name → "MAG", "METS" or NONE
        self.matched = False  # the folder is as the previous run recorded it: its digests and kinds hold
        self.known: tuple[int, int, str] | None = None  # the previous row, while nothing is to be added to it
        self.before: dict[str, tuple[str, str, str]] = {}  # a changed folder's previous record: name → (stamp, digest, kind)
        self.pages: list[tuple[str, str | None, str | None]] | None = None  # what the reader found (remember_pages)
        self.made: RecordedPages | None = None  # the reader's pages made from ``pages`` (made_pages)

    def row(self) -> tuple[int, int, str]:
        if self.known is not None:
            return self.known
        names = sorted(self.digests.keys() | self.kinds.keys())
        stamps = {**self.stamps, **{n: _stamp(st) for n, st in self.stats.items()}}
        pages = _encode_pages(self.pages, names) if self.pages is not None else None
        return (self.entries, 0, _SEP.join([self.signature, *(
            f"{n}{_SEP}{stamps.get(n, '')}{_SEP}{self.digests.get(n, '')}{_SEP}{self.kinds.get(n, '')}"
            for n in names), *([pages] if pages else [])]))


_PAGES = "P"  # the record's last field, when it has the pages: "P" then "image,ocr,format" by file number, ";"-joined
_FORMATS = {"alto": "a", "hocr": "h"}
_FORMAT_OF = {v: k for k, v in _FORMATS.items()}


def _encode_pages(pages: list[tuple[str, str | None, str | None]], names: list[str]) -> str | None:
    """The pages as numbers of the record's files; None when one of them is not in it (not recorded then)."""
    number = {n: i for i, n in enumerate(names)}
    out = []
    for image, ocr, fmt in pages:
        if image not in number or (ocr is not None and ocr not in number) or (fmt or "") not in ("", *_FORMATS):
            return None
        out.append(f"{number[image]},{number[ocr] if ocr is not None else ''},{_FORMATS.get(fmt or '', '')}")
    return _PAGES + ";".join(out)


def _decode_pages(field: str, names: list[str]) -> list[tuple[str, str | None, str | None]] | None:
    try:
        pages = []
        for part in field[len(_PAGES):].split(";") if len(field) > len(_PAGES) else []:
            image, ocr, fmt = part.split(",")
            pages.append((names[int(image)], names[int(ocr)] if ocr else None, _FORMAT_OF[fmt] if fmt else None))
        return pages
    except (ValueError, IndexError, KeyError):
        return None  # not a record this version wrote: the reader lists the folder


def _stamp(st: os.stat_result) -> str:
    return f"{st.st_ino}:{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}"


NONE = "-"  # the kind of an .xml file that is neither MAG nor METS, in a folder's record


def _kind(recorded: str) -> str | None:
    return None if recorded == NONE else recorded


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()[:32]
