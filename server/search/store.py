"""The per-page word store: written once at ingest, read at query time instead of the OCR.

``{gen}/words/{item}/{n}.page`` holds one page. Its first five lines are what matching needs and
cost only a ``split`` to load (within-item search reads every matching page); the words and
boxes follow, zlib-compressed (they are three quarters of the bytes and are read only for the
hits shown), and one word is decoded at a time::

    HLS4 <language key or -> <canvas width> <canvas height>
    <page label>
    <folded tokens, space separated>         token i of the page (see analysis.py)
    <stemmed tokens, space separated>        or "=" when the page has no stemmer
    <12 hex digits per token>                its word's index, first and last physical line
    zlib( <word texts, separated by U+001F>  as printed, in reading order
          <9 hex digits per word>            its physical line, first box, number of boxes
          <20 hex digits per box> )          x, y, w, h in canvas pixels

``{gen}/words/{item}/vocab.tsv``: the item's folded tokens, sorted, with the form to display and
the number of occurrences (``folded\\tdisplay\\tcount``), for autocomplete by binary search.

Files are immutable once written, so an unchanged item's folder is hard-linked into the next
generation rather than copied.
"""
from __future__ import annotations

import binascii
import errno
import hashlib
import os
import shutil
import sys
import zlib
from array import array
from collections import Counter
from functools import cached_property
from itertools import accumulate, chain, repeat
from operator import attrgetter, itemgetter
from pathlib import Path

from server.ocr.model import Box, Word
from server.search.analysis import stemmer, word_folds, word_tokens

MAGIC = "HLS4"
WORDS_DIR = "words"
PACK = 12
"""Hex digits per token in the token line: word index, first line, last line (4 each)."""
META = 9
"""Hex digits per word in the word line: physical line (4), first box (4), number of boxes (1)."""
BOX = 20
"""Hex digits per box: x, y, w, h (5 each)."""
LIMIT = 0xFFFF
_EXTRA_LINES = {f"{k:x}": max(k, 1) - 1 for k in range(16)}
"""Lines a word covers after its first, by its number of boxes (a hex digit)."""
SEP = "\x1f"
BSEP = SEP.encode()
READ_SIZE = 1 << 16
_LITTLE = sys.byteorder == "little"
_I32 = next(code for code in "il" if array(code).itemsize == 4)


def check_item_id(item_id: str) -> str:
    """Item ids name folders here: refuse anything that could leave ``words/``."""
    if not item_id or "/" in item_id or "\\" in item_id or item_id.startswith(".") or "\0" in item_id:
        raise ValueError(f"item id not usable as a folder name: {item_id!r}")
    return item_id


def item_dir(gen_dir: Path, item_id: str) -> Path:
    return gen_dir / WORDS_DIR / check_item_id(item_id)


def page_numbers(folder: Path) -> list[int]:
    """The page numbers of an item folder of the word store, in order."""
    try:
        names = os.listdir(folder)
    except FileNotFoundError:
        return []
    return sorted(int(name[:-5]) for name in names if name.endswith(".page") and name[:-5].isdigit())


class StoredPage:
    """One page from the store. Loading only splits lines; matching looks for words in the token
    and stem lines as they are (bytes, :func:`server.search.match.find_tokens`), and ``tokens`` and
    ``stems`` are split only when first read (fuzzy terms); the token line's numbers are decoded
    all at once when a hit needs them; words, lines and boxes are decoded one at a time, for the
    hits actually shown."""

    def __init__(self, n: int, language: str | None, width: int, height: int, label: str,
                 tokens: bytes, stems: bytes | None, packed: str, tail: bytes) -> None:
        self.n = n
        self.language = language
        self.width = width
        self.height = height
        self.label = label
        self._raw_tokens = tokens
        self._raw_stems = stems
        self.packed = packed
        self._tail = tail

    @property
    def raw_tokens(self) -> bytes:
        """The folded tokens as stored: UTF-8, separated by single spaces."""
        return self._raw_tokens

    @property
    def raw_stems(self) -> bytes:
        """The stems as stored (the tokens on a page without a stemmer)."""
        return self._raw_tokens if self._raw_stems is None else self._raw_stems

    @cached_property
    def _columns(self) -> array[int]:
        """The token line as numbers, decoded in one step: token ``i``'s word, first and last
        physical line at ``3i``, ``3i + 1``, ``3i + 2``."""
        columns = array("H", binascii.unhexlify(self.packed))
        if _LITTLE:
            columns.byteswap()
        return columns

    @property
    def owners(self) -> array[int]:
        """Token ``i``'s word (the numbers of :meth:`word_of`, for every token)."""
        return self._columns[0::3]

    @property
    def first_lines(self) -> array[int]:
        """Token ``i``'s word's first physical line."""
        return self._columns[1::3]

    @property
    def last_lines(self) -> array[int]:
        """Token ``i``'s word's last physical line."""
        return self._columns[2::3]

    @cached_property
    def tokens(self) -> list[str]:
        """The page's folded tokens (token ``i`` of the page)."""
        return self._raw_tokens.decode("utf-8").split()

    @cached_property
    def stems(self) -> list[str]:
        """Their stems (the tokens themselves on a page without a stemmer)."""
        return self.tokens if self._raw_stems is None else self._raw_stems.decode("utf-8").split()

    @cached_property
    def _words(self) -> tuple[bytes, str, str]:
        """The compressed part, split: the word texts left as UTF-8 (a hit decodes only the words
        it shows), the numbers as text."""
        texts, meta, boxes = zlib.decompress(self._tail).split(b"\n")
        return texts, meta.decode("ascii"), boxes.decode("ascii")

    @property
    def _meta(self) -> str:
        return self._words[1]

    @property
    def _boxes(self) -> str:
        return self._words[2]

    def word_of(self, token: int) -> int:
        """The index of the word token ``token`` belongs to."""
        return int(self.packed[PACK * token:PACK * token + 4], 16)

    def lines_of(self, token: int) -> tuple[int, int]:
        """First and last physical line of the word token ``token`` belongs to."""
        p = PACK * token
        return int(self.packed[p + 4:p + 8], 16), int(self.packed[p + 8:p + 12], 16)

    @cached_property
    def texts(self) -> list[str]:
        """Every word's text as printed, in reading order."""
        raw = self._words[0]
        return raw.decode("utf-8").split(SEP) if raw else []

    def texts_of(self, start: int, stop: int) -> list[str]:
        """``texts[start:stop]`` (``0 <= start``), decoding only those words."""
        return [w.decode("utf-8") for w in self._pieces[start:stop]]

    @cached_property
    def _pieces(self) -> list[bytes]:
        """Every word's text, still UTF-8 (split once: a page of a common word shows many hits)."""
        raw = self._words[0]
        return raw.split(BSEP) if raw else []

    def __len__(self) -> int:
        return len(self._meta) // META

    def line(self, word: int) -> int:
        return int(self._meta[META * word:META * word + 4], 16)

    def boxes(self, word: int) -> list[Box]:
        """The word's boxes, one per physical piece (piece ``i`` on line ``line(word) + i``)."""
        m = META * word
        first, count = int(self._meta[m + 4:m + 8], 16), int(self._meta[m + 8], 16)
        out = []
        for k in range(first, first + count):
            b = self._boxes[BOX * k:BOX * (k + 1)]
            out.append((int(b[0:5], 16), int(b[5:10], 16), int(b[10:15], 16), int(b[15:20], 16)))
        return out

    def pieces(self, word: int) -> int:
        """Physical lines the word covers (1 for a word without boxes)."""
        return max(int(self._meta[META * word + 8], 16), 1)

    @cached_property
    def _lines(self) -> list[tuple[int, int]]:
        """Every word's first and last physical line, decoded once: a snippet's crop looks at every word."""
        meta = self._meta
        return [(start := int(meta[i:i + 4], 16), start + _EXTRA_LINES[meta[i + 8]])
                for i in range(0, len(meta) - META + 1, META)]

    def line_boxes(self, lines: set[int]) -> dict[int, Box]:
        """Union of the non-empty word pieces on each of ``lines``."""
        edges: dict[int, list[int]] = {}
        low, high = min(lines, default=0), max(lines, default=-1)
        for word in [w for w, (start, end) in enumerate(self._lines) if start <= high and end >= low]:
            start = self._lines[word][0]
            for i, (x, y, w, h) in enumerate(self.boxes(word)):
                n = start + i
                if n not in lines or w <= 0 or h <= 0:
                    continue
                e = edges.get(n)
                if e is None:
                    edges[n] = [x, y, x + w, y + h]
                else:
                    e[0], e[1], e[2], e[3] = min(e[0], x), min(e[1], y), max(e[2], x + w), max(e[3], y + h)
        return {n: (e[0], e[1], e[2] - e[0], e[3] - e[1]) for n, e in edges.items()}


def _clean(text: str) -> str:
    if SEP in text or "\n" in text or "\r" in text:
        return " ".join(text.replace(SEP, " ").split())
    return text


PageColumns = tuple[int, "str | None", str, int, int, list[str], list[int], bytes, "array[int]"]
"""One page's words as :func:`encode_columns` takes them: ``(n, language, label, width, height,
texts, lines, box counts, flat boxes)``. Strings, a list of ints, bytes and an array: a few objects
a page, so handing a page to an encoding process costs a few microseconds (a list of word tuples
with their box tuples costs a third of the encoding itself to pickle and unpickle)."""


def page_columns(n: int, language: str | None, label: str, width: int, height: int,
                 words: list[tuple[str, int, tuple[Box, ...]]] | list[Word]) -> PageColumns:
    """The columns of a page's words (at most 15 boxes a word: the format's limit); ``words`` are
    :class:`~server.ocr.model.Word` objects or ``(text, line, boxes)`` tuples."""
    if words and isinstance(words[0], tuple):
        texts, lines, boxes = (list(map(itemgetter(k), words)) for k in range(3))
    else:
        texts, lines, boxes = (list(map(attrgetter(k), words)) for k in ("text", "line", "boxes"))
    counts = list(map(len, boxes))
    if counts and max(counts) > 15:
        boxes = [b[:15] for b in boxes]
        counts = list(map(len, boxes))
    try:
        flat = array(_I32, chain.from_iterable(chain.from_iterable(boxes)))
    except OverflowError:  # not a box on any canvas: encode_columns' slow path clamps it
        flat = array("q", chain.from_iterable(chain.from_iterable(boxes)))
    return (n, language, label, width, height, texts, lines, bytes(counts), flat)


def encode_page(n: int, language: str | None, label: str, width: int, height: int,
                words: list[tuple[str, int, tuple[Box, ...]]]) -> tuple[bytes, list[str], list[str], list[str]]:
    """The file text of one page, its folded tokens and stems (for the index), and the texts of
    the words it kept (for the vocabulary: count them over the item, then :func:`token_counts`)."""
    return encode_columns(page_columns(n, language, label, width, height, words))


def encode_columns(page: PageColumns) -> tuple[bytes, list[str], list[str], list[str]]:
    """:func:`encode_page` of a page given as :func:`page_columns`.

    A page of more than 65,535 words or lines is not a page: what fits is kept. Ingest runs this
    for every page, so the common case is done a whole page at a time (one conversion per
    column, C-level counting); :func:`_encode_slow` handles the rare page that needs cutting or
    clamping, with the same result.
    """
    n, language, label, width, height, texts, lines, box_counts, flat_boxes = page
    counts = list(box_counts)
    flat = flat_boxes.tolist()
    if (len(texts) > LIMIT + 1 or len(flat) > 4 * LIMIT or (lines and (min(lines) < 0 or max(lines) + 15 > LIMIT))
            or (flat and (min(flat) < 0 or max(flat) > 0xFFFFF))):
        return _encode_slow(n, language, label, width, height, _words(texts, lines, counts, flat))
    analysed = list(map(word_folds, texts))
    toks = list(chain.from_iterable(analysed))
    lasts = [line + (c - 1 if c else 0) for line, c in zip(lines, counts)]
    if len(toks) == len(texts) and all(analysed):  # one token a word (the common case): owner i is word i
        packed = _hex_columns(4, list(range(len(texts))), lines, lasts)
    else:
        owners = list(chain.from_iterable(map(repeat, range(len(texts)), map(len, analysed))))
        packed = _hex_columns(4, owners, list(map(lines.__getitem__, owners)), list(map(lasts.__getitem__, owners)))
    starts = list(accumulate(counts, initial=0))
    starts.pop()
    meta = _hex_columns(4, lines, starts, counts, last_digits=1)
    joined = SEP.join(texts)
    if "\n" in joined or "\r" in joined or joined.count(SEP) != max(len(texts) - 1, 0):
        joined = SEP.join(map(_clean, texts))
    return _assemble(language, label, width, height, toks, packed, joined, meta, _hex_columns(5, flat), texts)


def _words(texts: list[str], lines: list[int], counts: list[int],
           flat: list[int]) -> list[tuple[str, int, tuple[Box, ...]]]:
    """Word tuples again from columns (for the slow path)."""
    out = []
    at = 0
    for text, line, count in zip(texts, lines, counts):
        out.append((text, line, tuple(tuple(flat[at + 4 * k:at + 4 * k + 4]) for k in range(count))))
        at += 4 * count
    return out  # type: ignore[return-value]


_HEX_DIGIT = bytes.maketrans(bytes(range(16)), b"0123456789abcdef")
_U32 = next(code for code in "IL" if array(code).itemsize == 4)


def _hex_column(digits: int, values: list[int]) -> bytes:
    """``"%0{digits}x" * len(values) % tuple(values)`` as ASCII bytes (``digits`` 1, 4 or 5; values
    that fit), a C-level conversion: big-endian machine words through ``bytes.hex``."""
    if digits == 1:
        return bytes(values).translate(_HEX_DIGIT)
    width = 4 if digits == 4 else 8
    column = array("H" if digits == 4 else _U32, values)
    if _LITTLE:
        column.byteswap()
    text = column.tobytes().hex().encode("ascii")
    if digits == width:
        return text
    out = bytearray(digits * len(values))  # keep the last ``digits`` of each ``width``
    for k in range(digits):
        out[k::digits] = text[width - digits + k::width]
    return bytes(out)


def _hex_columns(digits: int, *columns: list[int], last_digits: int | None = None) -> str:
    """The columns' values in fixed-width lower-case hex, interleaved row by row: what
    ``("%04x%04x%x" * n) % tuple(chain(*zip(a, b, c)))`` gives for ``_hex_columns(4, a, b, c,
    last_digits=1)``, without formatting each number in turn (ingest packs every page's tokens,
    words and boxes this way: 3-4 times faster than ``%``). Every value must fit its width."""
    widths = [digits] * len(columns)
    if last_digits is not None:
        widths[-1] = last_digits
    if len(columns) == 1:
        return _hex_column(digits, columns[0]).decode("ascii")
    row = sum(widths)
    out = bytearray(row * len(columns[0]))
    at = 0
    for width, column in zip(widths, columns):
        text = _hex_column(width, column)
        for k in range(width):
            out[at + k::row] = text[k::width]
        at += width
    return out.decode("ascii")


def _assemble(language: str | None, label: str, width: int, height: int, toks: list[str], packed: str,
              texts: str, meta: str, boxes: str, kept: list[str]) -> tuple[bytes, list[str], list[str], list[str]]:
    stems = list(map(stemmer(language), toks)) if language else toks
    head = "\n".join((f"{MAGIC} {language or '-'} {int(width)} {int(height)}", _clean(label),
                      " ".join(toks), " ".join(stems) if language else "=", packed))
    tail = zlib.compress(f"{texts}\n{meta}\n{boxes}".encode(), 1)
    return head.encode("utf-8") + b"\n" + tail, toks, stems, kept


def _encode_slow(n: int, language: str | None, label: str, width: int, height: int,
                 words: list[tuple[str, int, tuple[Box, ...]]]) -> tuple[bytes, list[str], list[str], list[str]]:
    """:func:`encode_page` one word at a time: cuts a page that does not fit, clamps boxes."""
    toks: list[str] = []
    packed: list[str] = []
    texts: list[str] = []
    meta: list[str] = []
    boxes_out: list[str] = []
    kept: list[str] = []
    for wi, (text, line, boxes) in enumerate(words):
        boxes = boxes[:15]
        last = line + max(len(boxes), 1) - 1
        if wi > LIMIT or last > LIMIT or len(boxes_out) + len(boxes) > LIMIT:
            break
        analysed = word_tokens(text)
        if analysed:
            code = f"{wi:04x}{line:04x}{last:04x}"
            for pair in analysed:
                toks.append(pair[0])
                packed.append(code)
        kept.append(text)
        texts.append(_clean(text))
        meta.append(f"{line:04x}{len(boxes_out):04x}{len(boxes):x}")
        for box in boxes:
            box = tuple(min(max(int(c), 0), 0xFFFFF) for c in box)  # type: ignore[assignment]
            boxes_out.append("".join(f"{c:05x}" for c in box))
    return _assemble(language, label, width, height, toks, "".join(packed), SEP.join(texts), "".join(meta),
                     "".join(boxes_out), kept)


def decode_page(n: int, data: bytes) -> StoredPage:
    parts = data.split(b"\n", 5)
    if len(parts) < 6:
        raise ValueError(f"truncated word-store page (page {n})")
    magic, lang, width, height = parts[0].decode("ascii").split(" ")
    if magic != MAGIC:
        raise ValueError(f"not a word-store page (page {n})")
    return StoredPage(n, None if lang == "-" else lang, int(width), int(height), parts[1].decode("utf-8"),
                      parts[2], None if parts[3] == b"=" else parts[3], parts[4].decode("ascii"), parts[5])


_CREATE = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)


def write_file(path: str | Path, data: bytes) -> None:
    """``Path(path).write_bytes(data)`` without the file object (ingest writes one file per page)."""
    fd = os.open(path, _CREATE, 0o666)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    finally:
        os.close(fd)


def link_from(previous: str | Path, target: str | Path) -> bool:
    """Share a previous generation's file as ``target`` (a hard link); False when it cannot be
    (another file system, the file gone): the caller writes ``target`` then."""
    try:
        os.link(previous, target)
    except OSError:
        return False
    return True


def write_text(path: Path, text: str) -> None:
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)


def read_page(gen_dir: Path, item_id: str, n: int) -> StoredPage | None:
    try:
        fd = os.open(f"{gen_dir}/{WORDS_DIR}/{check_item_id(item_id)}/{int(n)}.page", os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:  # one read(2) for a page (~10 KB), no buffered file object: within-item search reads hundreds
        data = os.read(fd, READ_SIZE)
        if len(data) == READ_SIZE:
            parts = [data]
            while chunk := os.read(fd, READ_SIZE):
                parts.append(chunk)
            data = b"".join(parts)
    finally:
        os.close(fd)
    return decode_page(n, data)


def token_counts(words: Counter[str]) -> Counter[tuple[str, str]]:
    """``(folded, display)`` counts from word counts: each distinct word is analysed once."""
    out: dict[tuple[str, str], int] = {}
    get = out.get
    for word, count in words.items():
        for pair in word_tokens(word):
            out[pair] = get(pair, 0) + count
    return Counter(out)


def write_vocab(directory: Path, counts: Counter[tuple[str, str]]) -> None:
    """Per folded token: its most frequent display form and its total count, sorted by the folded form."""
    totals: dict[str, int] = {}
    best: dict[str, tuple[int, str]] = {}
    for (folded, display), c in counts.items():
        b = best.get(folded)
        if b is None:
            best[folded] = (c, display)
            totals[folded] = c
        else:
            totals[folded] += c
            if (c, display) > b:
                best[folded] = (c, display)
    lines = [f"{f}\t{best[f][1]}\t{totals[f]}" for f in sorted(totals)]
    write_text(directory / "vocab.tsv", "\n".join(lines) + ("\n" if lines else ""))


def new_item_folder(gen_dir: Path, item_id: str) -> Path:
    """An item's new word folder: written once under ``{manifests}/objects/`` and linked from the
    generation as ``words/<item>``, so that later generations share it by a link, not a copy
    (``server/ingest/artefacts.py`` removes it when no kept generation links to it)."""
    link = item_dir(gen_dir, item_id)
    key = hashlib.sha256(f"words\0{gen_dir.name}\0{item_id}".encode()).hexdigest()[:40]
    target = gen_dir.parent / "objects" / key[:2] / key
    if target.exists():
        shutil.rmtree(target)  # left by a killed run of the same name
    target.mkdir(parents=True)
    link.parent.mkdir(parents=True, exist_ok=True)
    os.symlink(os.path.relpath(target, link.parent), link)
    return link


def same_folder(a: Path, b: Path) -> bool:
    """True when ``a`` and ``b`` are the same folder (however each was spelt): two generations whose
    parents are the same folder can share :func:`relink`'s links as they are."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


OBJECT_LINKS = ".object-links"
"""A generation's marker file: every entry it holds in ``iiif/3/`` and ``words/`` is a relative link to
an object (``../`` × depth, then ``objects/<k[:2]>/<k>``) or a real folder, as this version writes
them, so :func:`relink` may share them without reading each one first."""


def marked(generation: Path | None) -> bool:
    """True when ``generation`` carries the :data:`OBJECT_LINKS` marker."""
    return generation is not None and os.path.isfile(generation / OBJECT_LINKS)


def relink(before: str, after: str, name: str, depth: int, marked: bool = False) -> bool:
    """Give ``after/name`` the link ``before/name`` has, when that is an object link relative to the
    generation: ``depth`` times ``..`` then ``objects/<k[:2]>/<k>``. Two generations of one manifests
    folder hold their links at the same depth, so the same text names the same object from either:
    carrying an item over costs a ``readlink`` and a hard link *to the symbolic link itself* (one
    directory entry; a new symbolic link would cost an inode per item per generation, and allocating
    inodes among a large archive's objects took 0.4 ms each on ext4 here), a ``symlink`` where the
    file system refuses. False (nothing done) for anything else (no link, an old-layout real folder,
    another shape of link): the caller then takes the general way
    (``server/ingest/artefacts.py``: ``linked_object``, ``link_item``; :func:`keep_item_folder`).

    ``marked``: ``before``'s generation carries the :data:`OBJECT_LINKS` marker, so a link there has
    the shape: it is shared without a ``readlink`` (a real folder refuses a hard link: the careful
    way below then says False)."""
    if marked:
        try:
            os.link(f"{before}/{name}", f"{after}/{name}", follow_symlinks=False)
            return True
        except FileNotFoundError:
            return False
        except FileExistsError:
            raise
        except OSError:
            pass  # a real folder, or hard links refused: look at it
    try:
        target = os.readlink(f"{before}/{name}")
    except OSError:
        return False
    parts = target.split("/")
    if (len(parts) != depth + 3 or parts[depth] != "objects" or any(p != ".." for p in parts[:depth])
            or not _object_part(parts[depth + 1]) or not _object_part(parts[depth + 2])):
        return False
    try:
        os.link(f"{before}/{name}", f"{after}/{name}", follow_symlinks=False)
    except OSError as e:
        if e.errno == errno.EEXIST:
            raise
        os.symlink(target, f"{after}/{name}")  # EMLINK, EPERM, EXDEV …: a link of its own
    return True


def same_entries(folder: Path, previous: Path) -> set[str]:
    """Names whose entry in ``folder`` is the very entry ``previous`` has (a hard link to the same
    symbolic link: same inode), from one listing of each; both exist, so an equal inode is one file."""
    try:
        mine = {e.name: e.inode() for e in os.scandir(folder) if e.is_symlink()}
        theirs = {e.name: e.inode() for e in os.scandir(previous) if e.is_symlink()}
    except FileNotFoundError:
        return set()
    return {name for name, ino in mine.items() if theirs.get(name) == ino}


def entries(folder: Path) -> set[str]:
    """The names of a folder's entries (none if it does not exist)."""
    try:
        return set(os.listdir(folder))
    except FileNotFoundError:
        return set()


def drop(folder: Path, name: str) -> None:
    """Remove an item's entry, if there is one."""
    try:
        os.unlink(folder / name)
    except FileNotFoundError:
        pass


def _object_part(part: str) -> bool:
    return bool(part) and part not in (".", "..")


def keep_item_folder(src: Path, dst: Path) -> None:
    """Reuse a previous generation's word folder: the same link (or hard links, from an older layout)."""
    if src.is_symlink():
        dst.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(os.path.relpath(src.resolve(), dst.parent), dst)
    else:
        link_tree(src, dst)


def link_tree(src: Path, dst: Path) -> None:
    """Hard-link a folder of immutable files into the new generation (copy where links fail)."""
    dst.mkdir(parents=True, exist_ok=True)
    for entry in os.scandir(src):
        target = dst / entry.name
        if entry.is_dir(follow_symlinks=False):
            link_tree(Path(entry.path), target)
            continue
        try:
            os.link(entry.path, target)
        except OSError:
            shutil.copy2(entry.path, target)
