"""Spreadsheets as people save them: UTF-8 with or without BOM, comma or semicolon, quoted newlines.

A table is read into rows of ``{column: value}`` with the physical line number where each row
starts (quoted newlines make rows span lines), so that every problem can say where to look.
Column names are matched case-insensitively; empty cells are simply absent.
"""
from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ..texts import N_, Text
from .model import LangMap, Problem

_LANG_SUFFIX = re.compile(r"^(.+)_([a-z]{2,3})$")
_MULTI = re.compile(r"\s*\|\s*")


@dataclass
class Row:
    line: int
    cells: dict[str, str]

    def get(self, key: str) -> str | None:
        return self.cells.get(key)


@dataclass
class Table:
    file: str  # relative to the holdings root, for problems
    columns: list[str]  # normalized names (lower case), header order
    labels: dict[str, str]  # normalized name -> the header as written
    rows: list[Row] = field(default_factory=list)
    # rows left out because their cells could not be read (too many): their ids, for later messages
    rejected: list[Row] = field(default_factory=list)


def read_table(path: Path, file: str, problems: list[Problem], item_id: str | None = None) -> Table | None:
    """Read one CSV file; None (with a problem) if it cannot be read at all."""
    try:
        data = path.read_bytes()
    except OSError as e:
        problems.append(Problem(file, None, N_("cannot read the file: %(reason)s", reason=e.strerror or str(e)), item_id))
        return None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[:e.start].count(b"\n") + 1
        problems.append(Problem(file, line, N_("not UTF-8 text: save it as 'CSV UTF-8' from Excel or LibreOffice"),
                                item_id))
        return None
    text = text.replace("\x00", "")
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if _count_outside_quotes(first_line, ";") > _count_outside_quotes(first_line, ",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False)

    def lines() -> Iterator[tuple[int, list[str]]]:
        while True:
            start = reader.line_num + 1
            try:
                yield start, next(reader)
            except StopIteration:
                return

    try:
        return build_table(lines(), file, problems, item_id, lambda cells, width: N_(
            "this row has %(cells)s cells but the header has %(width)s: a value that contains "
            "'%(delimiter)s' must be in quotes", cells=cells, width=width, delimiter=delimiter))
    except csv.Error as e:
        problems.append(Problem(file, reader.line_num, N_("malformed CSV: %(reason)s", reason=str(e)), item_id))
        return None


def build_table(lines: Iterable[tuple[int, list[str]]], file: str, problems: list[Problem], item_id: str | None,
                overflow: Callable[[int, int], Text]) -> Table | None:
    """A table from (line number, cells) pairs, the first non-blank one the header; ``overflow(cells, width)``
    is the message for a row with more cells than the header (CSV: an unquoted separator). Such a row is
    rejected, so its item keeps its earlier publication."""
    table: Table | None = None
    width = 0
    keep: list[str | None] = []
    ignored_with_values: set[int] = set()
    for start, cells in lines:
        if not any(c.strip() for c in cells):
            continue  # blank line, or ';;;;' left by a spreadsheet
        if table is None:
            table, keep = _header(cells, file, start, problems, item_id)
            width = len(cells)
            continue
        values: dict[str, str] = {}
        for i, raw in enumerate(cells):
            value = _clean(raw)
            if not value:
                continue
            if i >= width:
                break
            key = keep[i]
            if key is None:
                ignored_with_values.add(i)
                continue
            values[key] = value
        if any(_clean(c) for c in cells[width:]):
            problems.append(Problem(file, start, overflow(len(cells), width), item_id))
            table.rejected.append(Row(start, values))
            continue
        table.rows.append(Row(start, values))
    if table is None:
        problems.append(Problem(file, None, N_("the file is empty (no header row)"), item_id))
        return None
    if ignored_with_values:
        problems.append(Problem(file, 1, N_("values in columns without a name were ignored"), item_id, "warning"))
    return table


def _header(cells: list[str], file: str, line: int, problems: list[Problem],
            item_id: str | None) -> tuple[Table, list[str | None]]:
    keep: list[str | None] = []
    columns: list[str] = []
    labels: dict[str, str] = {}
    for raw in cells:
        label = _clean(raw).replace("\ufeff", "")
        key = label.lower()
        if not key:
            keep.append(None)
        elif key in labels:
            problems.append(Problem(file, line, N_("column %(column)r appears twice: the second one is ignored", column=label), item_id))
            keep.append(None)
        else:
            keep.append(key)
            columns.append(key)
            labels[key] = label
    return Table(file, columns, labels), keep


def _clean(value: str) -> str:
    return value.replace("\r\n", "\n").replace("\r", "\n").strip()


def _count_outside_quotes(line: str, char: str) -> int:
    count, quoted = 0, False
    for c in line:
        if c == '"':
            quoted = not quoted
        elif c == char and not quoted:
            count += 1
    return count


class Columns:
    """How a table's columns map onto fields: plain columns, ``_xx`` translations, and extras.

    ``title_en`` is a translation of ``title`` when ``title`` is a translatable field of the
    contract or is itself a column of the file; otherwise (``ref_no``) it is a column of its own.
    """

    def __init__(self, table: Table, known: set[str], translatable: set[str], default_language: str) -> None:
        self.default_language = default_language
        self.translations: dict[str, list[tuple[str, str]]] = {}  # base -> [(language, column)]
        self.extras: list[str] = []  # base names of unknown columns, header order
        self.labels = table.labels
        self.file = table.file
        present = set(table.columns)
        for col in table.columns:
            m = _LANG_SUFFIX.match(col)
            if m and (m[1] in translatable or (m[1] in present and m[1] not in known)):
                self.translations.setdefault(m[1], []).append((m[2], col))
            elif col not in known and col not in self.extras:
                self.extras.append(col)

    def lang_map(self, row: Row, base: str, multi: bool = False) -> LangMap:
        """``{default: [plain value], xx: [value of base_xx]}``, without empty entries."""
        translations = self.translations.get(base)
        if translations is None:  # the usual case: one column, often empty (a call per field per row)
            value = row.cells.get(base)
            if value is None:
                return {}
            values = split_multi(value) if multi else [value]
            unique = list(dict.fromkeys(values))
            return {self.default_language: unique} if unique else {}
        result: LangMap = {}
        sources = [(self.default_language, base), *translations]
        for language, col in sources:
            value = row.get(col)
            if value is None:
                continue
            values = split_multi(value) if multi else [value]
            bucket = result.setdefault(language, [])
            bucket.extend(v for v in values if v not in bucket)
        return {k: v for k, v in result.items() if v}

    def label(self, base: str) -> str:
        return self.labels.get(base, base)


def split_multi(value: str) -> list[str]:
    """Cell values separated by ' | ' (spacing around the bar is forgiven)."""
    return [v for v in _MULTI.split(value) if v]
