"""A serial's year as a calendar: twelve month grids with the days that have an issue linked.

Pure data for ``templates/_calendar.html``: weeks start on Monday (ISO 8601, and the Italian
convention); only issues dated to the day appear (a month- or year-only date has no day).
"""
from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field

from ..publication import Publication

DAY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})")


@dataclass(frozen=True)
class Issue:
    id: str
    label: dict[str, list[str]]


@dataclass
class MonthGrid:
    month: int
    weeks: list[list[int]]  # day numbers, 0 outside the month
    issues: dict[int, list[Issue]] = field(default_factory=dict)  # by day

    @property
    def count(self) -> int:
        return sum(len(v) for v in self.issues.values())


def year_calendar(pub: Publication, coll_id: str, year: int) -> list[MonthGrid]:
    """The twelve months of ``year`` with the collection's issues of each day (empty when it has none)."""
    rows = pub.catalog.items_of_year(coll_id, year)
    months = [MonthGrid(m, calendar.Calendar(calendar.MONDAY).monthdayscalendar(year, m)) for m in range(1, 13)]
    found = False
    for row in rows:
        match = DAY.match(row.date or "")
        if not match or int(match.group(1)) != year:
            continue
        month, day = int(match.group(2)), int(match.group(3))
        if not (1 <= month <= 12 and 1 <= day <= calendar.monthrange(year, month)[1]):
            continue
        months[month - 1].issues.setdefault(day, []).append(Issue(row.id, row.label))
        found = True
    return months if found else []


def weekday_names(locale: str) -> list[str]:
    """Abbreviated weekday names, Monday first, in the visitor's language."""
    from babel import Locale
    days = Locale.parse(locale).days["stand-alone"]["abbreviated"]
    return [days[i] for i in range(7)]
