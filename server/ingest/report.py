"""What an ingest tells its operator: problems with file and line, counts, a one-screen summary.

Everything here is worded through :mod:`server.texts`, so the command line shows it in Italian or
English (``HERITAGE_UI_LANGUAGE``, else the locale), with plural forms.
"""
from __future__ import annotations

import gettext
import sys
import time
from dataclasses import dataclass, field
from typing import TextIO

from ..holdings.model import Problem, by_severity
from ..texts import N_, Nn_, Text, cli_translations, render

__all__ = ["IngestReport", "Problem", "Progress", "describe"]

SEVERITY = {"error": N_("ERROR"), "warning": N_("WARNING"), "info": N_("INFO")}


def describe(problem: Problem, translations: gettext.NullTranslations | None = None) -> str:
    """``ERROR items.csv:7: …`` in the operator's language."""
    where = f"{problem.file}:{problem.line}" if problem.line else problem.file
    return f"{render(SEVERITY[problem.severity], translations)} {where}: {render(problem.message, translations)}"


@dataclass
class IngestReport:
    items: int = 0
    pages: int = 0
    pyramids_built: int = 0
    pages_ocred: int = 0  # pages Tesseract read in this run (cache misses)
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

    def summary(self, translations: gettext.NullTranslations | None = None) -> str:
        """Every problem, then one line of counts (default language: the command line's)."""
        lines = [describe(p, translations) for p in self.problems]
        counts = N_("published %(items)s, %(pages)s (%(unchanged)s, %(built)s) in %(elapsed)ss; %(warnings)s, "
                    "%(errors)s",
                    items=Nn_("%(num)s item", "%(num)s items", self.items),
                    pages=Nn_("%(num)s page", "%(num)s pages", self.pages),
                    unchanged=Nn_("%(num)s item unchanged", "%(num)s items unchanged", self.items_skipped),
                    built=Nn_("%(num)s pyramid built", "%(num)s pyramids built", self.pyramids_built),
                    elapsed=f"{time.monotonic() - self.started:.1f}",
                    warnings=Nn_("%(num)s warning", "%(num)s warnings", len(self.warnings)),
                    errors=Nn_("%(num)s error", "%(num)s errors", len(self.errors)))
        line = render(counts, translations)
        if self.pages_ocred:
            line += render(Nn_("; %(num)s page read by Tesseract (OCR)", "; %(num)s pages read by Tesseract (OCR)",
                               self.pages_ocred), translations)
        if self.generation:
            line += render(N_("; generation %(name)s", name=self.generation), translations)
        lines.append(line)
        return "\n".join(lines)


class Progress:
    """A one-line progress bar on a terminal (stderr); otherwise one log line per item on stdout.

    Without a terminal the item lines share stdout with the problems and the summary that follow
    them, so output captured to a file or a pipe reads in the order things happened.
    """

    def __init__(self, total_pages: int, total_items: int, tty: bool, stream: TextIO | None = None) -> None:
        self.total_pages, self.total_items = total_pages, total_items
        self.pages = self.items = 0
        self.tty, self._stream = tty, stream
        self.start = time.monotonic()
        self._last = 0.0
        self._translations: gettext.NullTranslations | None = None  # the command line's, looked up once
        self._kept: list[tuple[str, int]] = []  # the unchanged items not logged yet: (id, pages)
        self._kept_from = 0  # the number of the first of them

    @property
    def stream(self) -> TextIO:
        """Looked up when written to, not at import: a caller may have replaced sys.stdout/stderr."""
        return self._stream or (sys.stderr if self.tty else sys.stdout)

    def page_done(self, label: str) -> None:
        self.pages += 1
        self._show(label)

    def item_done(self, item_id: str, pages: int, unchanged: bool = False) -> None:
        """One item published (or kept): ``pages`` is that item's own page count.

        Without a terminal, a run of unchanged items is one line, written when the next item that is
        not unchanged comes or at the end: a one-item change in a large archive logs what it did, not
        a line per item of the archive."""
        self.items += 1
        if self.tty:
            return
        if unchanged:
            if not self._kept:
                self._kept_from = self.items
            self._kept.append((item_id, pages))
            return
        self.flush_kept()
        self._line(N_("ingest: item %(n)s/%(total)s %(id)s (%(pages)s, %(elapsed)s)", n=self.items,
                      total=self.total_items, id=item_id, pages=Nn_("%(num)s page", "%(num)s pages", pages),
                      elapsed=self._elapsed()))

    def flush_kept(self) -> None:
        """Log the unchanged items not logged yet (see :meth:`item_done`)."""
        kept, self._kept = self._kept, []
        if len(kept) == 1:
            self._line(N_("ingest: item %(n)s/%(total)s %(id)s (%(pages)s, %(elapsed)s)", n=self._kept_from,
                          total=self.total_items, id=kept[0][0], pages=Nn_("%(num)s page", "%(num)s pages", kept[0][1]),
                          elapsed=self._elapsed()))
        elif kept:
            pages = sum(n for _, n in kept)
            self._line(N_("ingest: items %(first)s-%(last)s/%(total)s unchanged (%(pages)s, %(elapsed)s)",
                          first=self._kept_from, last=self._kept_from + len(kept) - 1, total=self.total_items,
                          pages=Nn_("%(num)s page", "%(num)s pages", pages), elapsed=self._elapsed()))

    def _line(self, text: Text) -> None:
        if self._translations is None:
            self._translations = cli_translations()
        self.stream.write(render(text, self._translations) + "\n")
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
        status = render(N_("pages %(pages)s/%(total_pages)s items %(items)s/%(total_items)s elapsed %(elapsed)s "
                           "ETA %(eta)s", pages=self.pages, total_pages=self.total_pages, items=self.items,
                           total_items=self.total_items, elapsed=_fmt(elapsed), eta=_fmt(eta)))
        self.stream.write(f"\r[{bar}] {status} ")
        self.stream.flush()

    def close(self) -> None:
        self.flush_kept()
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()


def _fmt(seconds: float) -> str:
    m, s = divmod(int(seconds), 60)
    h, m = divmod(m, 60)
    return f"{h:d}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"
