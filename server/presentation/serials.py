"""Newspapers and periodicals in the IIIF tree: a serial's issues grouped into one sub-collection per year.

A collection is a serial when it holds newspaper or periodical issues (the rule of the web pages,
``server/web/catalog.is_serial``). Its dated issues move into ``{collection}/{year}``
sub-collections (labelled with the year, ``navDate`` 1 January, the first issue's thumbnail),
oldest year first and issues by date within a year; undated issues stay direct members.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from .build import SERIAL_TYPES, ChildRef
from .urls import year_collection_id

YEAR = re.compile(r"^(\d{4})")


@dataclass(frozen=True)
class IssueInfo:
    type: str
    date: str | None  # ISO-like, as in the catalog's ``items.date``
    position: int


@dataclass(frozen=True)
class YearGroup:
    id: str
    year: int
    issues: list[ChildRef]


def is_serial(children: list[ChildRef], issues: dict[str, IssueInfo]) -> bool:
    return any(c.kind == "Manifest" and c.id in issues and issues[c.id].type in SERIAL_TYPES for c in children)


def group_by_year(coll_id: str, children: list[ChildRef],
                  issues: dict[str, IssueInfo]) -> tuple[list[ChildRef], list[YearGroup]]:
    """``children`` of a serial with its dated issues replaced by year sub-collections; the groups."""
    if not is_serial(children, issues):
        return children, []
    by_year: dict[int, list[ChildRef]] = {}
    kept: list[ChildRef] = []
    for child in children:
        info = issues.get(child.id) if child.kind == "Manifest" else None
        found = YEAR.match(info.date or "") if info else None
        if found:
            by_year.setdefault(int(found.group(1)), []).append(child)
        else:
            kept.append(child)
    groups = []
    for year in sorted(by_year):
        ordered = sorted(by_year[year], key=lambda c: (issues[c.id].date or "", issues[c.id].position, c.id))
        groups.append(YearGroup(year_collection_id(coll_id, year), year, ordered))
    refs = [ChildRef("Collection", g.id, year_label(g), next((c.thumbnail for c in g.issues if c.thumbnail), None),
                     datetime(g.year, 1, 1)) for g in groups]
    collections = [c for c in kept if c.kind == "Collection"]
    return collections + refs + [c for c in kept if c.kind != "Collection"], groups


def year_label(group: YearGroup) -> dict[str, list[str]]:
    return {"none": [str(group.year)]}
