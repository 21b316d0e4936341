"""What an ingest tells its operator: problems with file and line, counts, a one-screen summary."""
from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from typing import TextIO

from ..holdings.model import Problem, by_severity

__all__ = ["IngestReport", "Problem", "Progress"]


@dataclass
class IngestReport:
    items: int = 0
    pages: int = 0
    pyramids_built: int = 0
    items_skipped: int = 0
    problems: list[Problem] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)
    generation: str = ""
    # item ids by outcome: new, changed, unchanged, carried (previous publication kept), withdrawn
    outcomes: dict[str, list[str]] = field(default_factory=dict)
    html_report: str = ""  # path of the HTML report written for this run

    @property
    def errors(self) -> list[Problem]:
        return by_severity(self.problems, "error")

    @property
    def warnings(self) -> list[Problem]:
        return by_severity(self.problems, "warning")

    def summary(self) -> str:
        lines = [str(p) for p in self.problems]
        elapsed = time.monotonic() - self.started
        lines.append(
            f"published {self.items} items, {self.pages} pages "
            f"({self.items_skipped} items unchanged, {self.pyramids_built} pyramids built) "
            f"in {elapsed:.1f}s; {len(self.warnings)} warnings, {len(self.errors)} errors"
            + (f"; generation {self.generation}" if self.generation else ""))
        return "\n".join(lines)


class Progress:
    """A one-line progress bar on a terminal; plain log lines when output is not a TTY."""

    def __init__(self, total_pages: int, total_items: int, tty: bool, stream: TextIO = sys.stderr) -> None:
        self.total_pages, self.total_items = total_pages, total_items
        self.pages = self.items = 0
        self.tty, self.stream = tty, stream
        self.start = time.monotonic()
        self._last = 0.0

    def page_done(self, label: str) -> None:
        self.pages += 1
        self._show(label)

    def item_done(self, item_id: str) -> None:
        self.items += 1
        if not self.tty:
            self.stream.write(f"ingest: item {self.items}/{self.total_items} {item_id} "
                              f"({self.pages}/{self.total_pages} pages, {self._elapsed()})\n")
            self.stream.flush()

    def _elapsed(self) -> str:
        return _fmt(time.monotonic() - self.start)

    def _show(self, label: str) -> None:
        if not self.tty:
            return
        now = time.monotonic()
        if now - self._last < 0.1 and self.pages < self.total_pages:
            return
        self._last = now
        elapsed = now - self.start
        eta = elapsed / self.pages * (self.total_pages - self.pages) if self.pages else 0.0
        width = 30
        filled = int(width * self.pages / max(self.total_pages, 1))
        bar = "#" * filled + "-" * (width - filled)
        self.stream.write(f"\r[{bar}] pages {self.pages}/{self.total_pages} items {self.items}/{self.total_items} "
                          f"elapsed {_fmt(elapsed)} ETA {_fmt(eta)} ")
        self.stream.flush()

    def close(self) -> None:
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()


def _fmt(seconds: float) -> str:
    m, s = divmod(int(seconds), 60)
    h, m = divmod(m, 60)
    return f"{h:d}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"
