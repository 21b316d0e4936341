"""Pure helpers that turn a manifest into what the item page shows: contents, rights, canvases.

No Flask here: language maps stay language maps (the templates choose the visitor's language),
and translatable names are only marked with :func:`N_` (translated where they are shown).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any


def N_(message: str) -> str:
    """Marks a string for the catalog without translating it here (babel extracts ``N_``)."""
    return message


_CANVAS_N = re.compile(r"/canvas/(\d+)(?:[#?].*)?$")


def canvas_number(canvas_id: str | None) -> int | None:
    """``…/canvas/7`` (optionally with a fragment) → 7: canvases are numbered from 1 by ingest."""
    m = _CANVAS_N.search(canvas_id or "")
    return int(m[1]) if m else None


@dataclass
class TocEntry:
    label: dict[str, list[str]]
    first: int | None
    last: int | None
    children: list[TocEntry] = field(default_factory=list)


def table_of_contents(manifest: dict[str, Any], max_depth: int = 8) -> list[TocEntry]:
    """The manifest's ranges as a tree, each with the first and last page it covers."""
    return [e for e in (_entry(r, max_depth) for r in manifest.get("structures") or [] if isinstance(r, dict)) if e]


def _entry(rng: dict[str, Any], depth: int) -> TocEntry | None:
    if depth <= 0 or rng.get("type") != "Range":
        return None
    children: list[TocEntry] = []
    numbers: list[int] = []
    for part in rng.get("items") or []:
        if not isinstance(part, dict):
            continue
        if part.get("type") == "Canvas" or (part.get("type") == "SpecificResource" and isinstance(part.get("source"), str)):
            n = canvas_number(part.get("id") if part.get("type") == "Canvas" else part["source"])
            if n is not None:
                numbers.append(n)
        elif part.get("type") == "Range":
            child = _entry(part, depth - 1)
            if child is not None:
                children.append(child)
                numbers += [x for x in (child.first, child.last) if x is not None]
    raw_label = rng.get("label")
    label: dict[str, list[str]] = raw_label if isinstance(raw_label, dict) else {}
    return TocEntry(label, min(numbers) if numbers else None, max(numbers) if numbers else None, children)


# --------------------------------------------------------------------------- rights


@dataclass(frozen=True)
class Rights:
    uri: str
    code: str          # short, language-neutral: "CC BY-SA 4.0", "PDM 1.0", "InC 1.0"
    name: str          # English name, translated where shown
    family: str        # "cc", "pd" or "rs": picks the badge's look
    open: bool         # reusable without asking (public domain, CC licences)


_CC_NAMES = {
    "by": N_("Attribution"),
    "by-sa": N_("Attribution-ShareAlike"),
    "by-nd": N_("Attribution-NoDerivatives"),
    "by-nc": N_("Attribution-NonCommercial"),
    "by-nc-sa": N_("Attribution-NonCommercial-ShareAlike"),
    "by-nc-nd": N_("Attribution-NonCommercial-NoDerivatives"),
}
_RS_NAMES = {
    "InC": N_("In Copyright"),
    "InC-OW-EU": N_("In Copyright – EU Orphan Work"),
    "InC-EDU": N_("In Copyright – Educational Use Permitted"),
    "InC-NC": N_("In Copyright – Non-Commercial Use Permitted"),
    "InC-RUU": N_("In Copyright – Rights-holder(s) Unlocatable or Unidentifiable"),
    "NoC-CR": N_("No Copyright – Contractual Restrictions"),
    "NoC-NC": N_("No Copyright – Non-Commercial Use Only"),
    "NoC-OKLR": N_("No Copyright – Other Known Legal Restrictions"),
    "NoC-US": N_("No Copyright – United States"),
    "CNE": N_("Copyright Not Evaluated"),
    "UND": N_("Copyright Undetermined"),
    "NKC": N_("No Known Copyright"),
}
_CC = re.compile(r"^https?://creativecommons\.org/licenses/([a-z-]+)/(\d\.\d)/?")
_PD = re.compile(r"^https?://creativecommons\.org/publicdomain/(mark|zero)/(\d\.\d)/?")
_RS = re.compile(r"^https?://rightsstatements\.org/(?:vocab|page)/([A-Za-z-]+)/(\d\.\d)/?")


def rights(uri: str | None) -> Rights | None:
    """Recognise Creative Commons and RightsStatements.org URIs; anything else is shown as a link."""
    if not uri:
        return None
    if m := _PD.match(uri):
        if m[1] == "mark":
            return Rights(uri, f"PDM {m[2]}", N_("Public Domain Mark"), "pd", True)
        return Rights(uri, f"CC0 {m[2]}", N_("Public Domain Dedication"), "pd", True)
    if (m := _CC.match(uri)) and m[1] in _CC_NAMES:
        return Rights(uri, f"CC {m[1].upper()} {m[2]}", _CC_NAMES[m[1]], "cc", True)
    if (m := _RS.match(uri)) and m[1] in _RS_NAMES:
        return Rights(uri, f"{m[1]} {m[2]}", _RS_NAMES[m[1]], "rs", m[1].startswith("NoC") or m[1] == "NKC")
    return Rights(uri, "", "", "other", False)


# --------------------------------------------------------------------------- item types

TYPE_NAMES = {
    "document": N_("Document"),
    "book": N_("Book"),
    "newspaper": N_("Newspaper"),
    "periodical": N_("Periodical"),
    "photograph": N_("Photograph"),
    "map": N_("Map"),
    "object": N_("Object"),
}


def fit_size(width: int, height: int, box: int) -> str:
    """The Image API size ``!w,h`` that fits ``box`` without asking for more than the image has.

    A plain ``!box,box`` larger than the image is a 400 under Image API 3.0 (no upscaling without
    ``^``), so the box is clipped to the image: same picture, a valid request for small scans."""
    return f"!{min(box, width)},{min(box, height)}"
