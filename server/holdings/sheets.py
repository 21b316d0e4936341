"""Find and read a sheet by its name, whichever way it was saved: ``items.csv`` or ``items.xlsx``."""
from __future__ import annotations

from pathlib import Path

from ..texts import N_
from .csvread import Table, read_table
from .model import Problem
from .xlsx import read_xlsx

SHEET_EXTENSIONS = (".csv", ".xlsx")


def find_sheet(folder: Path, stem: str, prefix: str, problems: list[Problem],
               item_id: str | None = None) -> tuple[Path, str] | None:
    """(path, name to report) of ``stem.csv`` or ``stem.xlsx`` in ``folder``; CSV wins if both exist."""
    found = [(folder / f"{stem}{ext}", f"{prefix}{stem}{ext}") for ext in SHEET_EXTENSIONS
             if (folder / f"{stem}{ext}").is_file()]
    if len(found) > 1:
        problems.append(Problem(found[1][1], None, N_("both %(stem)s.csv and %(stem)s.xlsx exist: reading %(stem)s.csv "
                                   "only; move the other one away", stem=stem), item_id, "warning"))
    return found[0] if found else None


def read_sheet(path: Path, file: str, problems: list[Problem], item_id: str | None = None) -> Table | None:
    if path.suffix.lower() == ".xlsx":
        return read_xlsx(path, file, problems, item_id)
    return read_table(path, file, problems, item_id)
