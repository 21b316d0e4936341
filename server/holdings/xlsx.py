"""Sheets saved as Excel workbooks (.xlsx): the first sheet, its first non-blank row the header.

Read into the same :class:`~server.holdings.csvread.Table` as a CSV file, so validation and
problems are identical; a problem's line is the sheet's row number, as Excel shows it. Cells typed
as dates become ISO dates (``1878-01-03``), whole numbers lose Excel's ``.0``. The workbook is
a ZIP of XML: its uncompressed size is capped before opening (no ZIP bombs) and openpyxl parses the
XML through defusedxml; a part that declares a DTD or entities is refused before parsing.
"""
from __future__ import annotations

import zipfile
from collections.abc import Iterator
from datetime import date, datetime, time
from pathlib import Path

from ..texts import N_
from .csvread import Table, build_table
from .model import Problem

MAX_UNCOMPRESSED = 256 * 1024 * 1024  # a 100,000-row catalogue is ~50 MB of sheet XML
_PROLOG_SCAN = 64 * 1024


def read_xlsx(path: Path, file: str, problems: list[Problem], item_id: str | None = None) -> Table | None:
    """Read the first sheet of one workbook; None (with a problem) if it cannot be read at all."""
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    reason = _container_problem(path)
    if reason:
        problems.append(Problem(file, None, reason, item_id))
        return None
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, TypeError, OSError) as exc:
        problems.append(Problem(file, None, N_("cannot read the sheet: not an Excel .xlsx workbook (%(error)s)",
                                                   error=str(exc)), item_id))
        return None
    except Exception as exc:  # noqa: BLE001 -- openpyxl raises many types for damaged files; never crash ingest
        problems.append(Problem(file, None, _unreadable(exc), item_id))
        return None
    try:
        sheet = workbook.worksheets[0] if workbook.worksheets else None
        if sheet is None:
            problems.append(Problem(file, None, N_("the workbook has no sheet"), item_id))
            return None
        return build_table(_rows(sheet), file, problems, item_id, lambda cells, width: N_(
            "this row has %(cells)s cells but the header has %(width)s: values right of the last named column "
            "are not read: give that column a name", cells=cells, width=width))
    except Exception as exc:  # noqa: BLE001 -- a damaged sheet part surfaces while iterating
        problems.append(Problem(file, None, _unreadable(exc), item_id))
        return None
    finally:
        workbook.close()


def _unreadable(exc: Exception) -> str:
    return N_("cannot read the sheet: %(error_type)s: %(error)s", error_type=type(exc).__name__, error=str(exc))


def _container_problem(path: Path) -> str | None:
    """Why the file is not a workbook we will open, checked on the ZIP directory alone."""
    try:
        with zipfile.ZipFile(path) as archive:
            total = sum(info.file_size for info in archive.infolist())
            names = set(archive.namelist())
    except zipfile.BadZipFile:
        with open(path, "rb") as f:
            head = f.read(8)
        if head.startswith(b"\xd0\xcf\x11\xe0"):
            return N_("cannot read the sheet: an old Excel .xls file; save it as .xlsx "
                      "(Excel Workbook) or as CSV UTF-8")
        return N_("cannot read the sheet: not an Excel .xlsx workbook")
    except OSError as exc:
        return N_("cannot read the file: %(reason)s", reason=str(exc.strerror or exc))
    if total > MAX_UNCOMPRESSED:
        return N_("cannot read the sheet: it unpacks to more than %(size)s MB", size=MAX_UNCOMPRESSED // (1024 * 1024))
    if "xl/workbook.xml" not in names:
        return N_("cannot read the sheet: not an Excel .xlsx workbook (an OpenDocument .ods? save it as .xlsx or CSV)")
    return _declared_dtd(path)


def _declared_dtd(path: Path) -> str | None:
    """Excel never writes a DOCTYPE; a part that declares one (entities, external DTD) is refused unparsed."""
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            if not info.filename.lower().endswith((".xml", ".rels", ".vml")):
                continue
            with archive.open(info) as part:
                head = part.read(_PROLOG_SCAN).lower()
            if b"<!doctype" in head or b"<!entity" in head:
                return N_("cannot read the sheet: %(part)s declares a DTD or entities (refused, never expanded)",
                          part=info.filename)
    return None


def _rows(sheet) -> Iterator[tuple[int, list[str]]]:
    for number, row in enumerate(sheet.iter_rows(min_row=1, values_only=True), 1):
        yield number, [cell_text(v) for v in row]


def cell_text(value: object) -> str:
    """A cell as the text a person sees: dates as ISO, whole numbers without '.0'."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
