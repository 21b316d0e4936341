"""Which vendor metadata file an item folder holds (MAG or METS), read with the matching reader."""
from __future__ import annotations

from pathlib import Path

from ..texts import N_
from .mag import read_mag
from .mets import read_mets
from .model import Problem
from .package import Package, sniff

READERS = {"MAG": read_mag, "METS": read_mets}


def find_package(folder: Path, item_id: str, problems: list[Problem], errors: list[str]) -> Package | None:
    """The MAG or METS file among the folder's top-level ``.xml`` files (the first by name if several)."""
    try:
        candidates = sorted(p for p in folder.iterdir() if p.suffix.lower() == ".xml" and p.is_file()
                            and not p.name.startswith("."))
    except OSError:
        return None
    found = [(p, kind) for p in candidates if (kind := sniff(p)) in READERS]
    if not found:
        return None
    path, kind = found[0]
    file = f"items/{item_id}/{path.name}"
    for other, other_kind in found[1:]:
        problems.append(Problem(f"items/{item_id}/{other.name}", None, N_("a second %(kind)s file in the item "
                                   "folder: only %(name)s is read", kind=other_kind, name=path.name),
                                item_id, "warning"))
    return READERS[kind](path, file, folder, item_id, problems, errors)
