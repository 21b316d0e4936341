"""``heritage check``: everything ingest would report, and what it would publish, without writing anything.

Reads the sheets, lists the folders, reads each page image's header (never its pixels) and parses
each OCR file under the same hostile-XML policy as ingest. Then compares with the current
publication through ingest's fingerprints: a file whose size and modification time match the last
ingest keeps its recorded digest; any other file counts as changed (check never hashes masters,
so a file only touched, not edited, shows as changed here and unchanged after ingest).
"""
from __future__ import annotations

import gettext
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..config import Settings
from ..errors import HeritageError
from ..holdings import Holdings, Item, Problem, read_holdings
from ..ocr import OCRError, parse_ocr
from ..publication import PublicationStore
from ..workers import process_pool, worker_count
from .fingerprint import Fingerprints
from .headers import image_size
from .publish import _previous_items as previous_fingerprints
from .publish import _rel, item_fingerprint, item_row
from .report import IngestReport
from .run import _previous_inputs as previous_inputs

# the order the report lists them in; ingest's report uses the same keys
OUTCOMES = ("new", "changed", "unchanged", "carried", "withdrawn")
PARALLEL_FROM = 64  # pages; below this, starting worker processes costs more than it saves


@dataclass
class CheckReport(IngestReport):
    """What ``check`` found: ingest's report, with ``outcomes`` filled as ingest would fill it."""

    holdings: Holdings = field(default_factory=lambda: Holdings(root=Path()))
    elapsed: float = 0.0

    def summary(self, translations: gettext.NullTranslations | None = None) -> str:
        """Ingest's signature, so both reports are used alike; ``translations`` is not used yet here."""
        lines = [str(p) for p in self.problems]
        counts = ", ".join(f"{len(self.outcomes.get(k, []))} {k}" for k in OUTCOMES)
        lines.append(f"check: {counts} ({self.pages} pages) in {self.elapsed:.1f}s; "
                     f"{len(self.warnings)} warnings, {len(self.errors)} errors; nothing was published")
        return "\n".join(lines)


class QuickFingerprints(Fingerprints):
    """Ingest's fingerprints without hashing: an input that is not exactly as last ingested is 'changed'."""

    def _compute(self, path: Path, compute: Callable[[Path], str], size: int, mtime_ns: int) -> str:
        return f"changed-{size}-{mtime_ns}"


def run_check(holdings_dir: Path, settings: Settings) -> CheckReport:
    """Check ``holdings_dir`` against the current publication in ``settings.data`` (if any)."""
    previous = PublicationStore(settings.manifests_dir, settings.image_cache_dir).current()
    fps = QuickFingerprints(previous_inputs(previous))
    holdings = read_holdings(Path(holdings_dir).resolve(), settings.default_language, fps)
    report = CheckReport(problems=list(holdings.problems), outcomes={k: [] for k in OUTCOMES}, holdings=holdings)
    prev_items = previous_fingerprints(previous)
    handled: set[str] = set()
    pages = check_all_pages(holdings, worker_count(settings.workers))
    for item in holdings.items.values():
        readable, failed = _check_pages(item, holdings.root, pages, report.problems)
        report.pages += readable
        handled.add(item.id)
        if failed and item.id in prev_items:
            report.outcomes["carried"].append(item.id)
            report.problems.append(Problem(_rel(item.folder, holdings.root), None,
                                           "ingest would keep the previous publication of this item",
                                           item.id, "warning"))
            continue
        if readable == 0:
            report.problems.append(Problem(_rel(item.folder, holdings.root), None,
                                           "no readable page: item would not be published", item.id))
            handled.discard(item.id)
            continue
        if failed:
            report.outcomes["new"].append(item.id)
            continue
        for page in item.pages:
            fps.master(page.image)
            if page.ocr is not None:
                fps.file(page.ocr)
        fingerprint = item_fingerprint(item, fps, settings)
        if item.id not in prev_items:
            report.outcomes["new"].append(item.id)
        elif prev_items[item.id] == fingerprint:
            report.outcomes["unchanged"].append(item.id)
        else:
            report.outcomes["changed"].append(item.id)
    for item_id in sorted(holdings.rejected - holdings.restricted - set(holdings.items)):
        if item_id in prev_items:
            report.outcomes["carried"].append(item_id)
            handled.add(item_id)
            report.problems.append(Problem(*item_row(report.problems, item_id), "ingest would keep the previous "
                                           f"publication of item {item_id!r}", item_id, "warning"))
    report.outcomes["withdrawn"] = sorted(set(prev_items) - handled)
    report.elapsed = time.monotonic() - report.started
    return report


def _check_pages(item: Item, root: Path, results: dict[tuple[str, str | None], list[Problem]],
                 problems: list[Problem]) -> tuple[int, bool]:
    """(pages ingest could publish, whether any page image or OCR file would fail)."""
    readable, failed = 0, False
    for page in item.pages:
        found = results[str(page.image), str(page.ocr) if page.ocr else None]
        problems.extend(Problem(p.file, p.line, p.message, item.id) for p in found)
        readable += not any(p.file == _rel(page.image, root) for p in found)
        failed = failed or bool(found)
    return readable, failed


def check_page(task: tuple[str, str | None, str]) -> list[Problem]:
    """One page as ingest would open it: the image's header, then its OCR parsed at the image's size."""
    image, ocr, root = Path(task[0]), Path(task[1]) if task[1] else None, Path(task[2])
    try:
        width, height = image_size(image)
    except HeritageError as exc:
        return [Problem(_rel(image, root), None, str(exc))]
    if ocr is not None:
        try:
            parse_ocr(ocr, width, height)
        except OCRError as exc:
            return [Problem(_rel(ocr, root), exc.line, exc.reason)]
    return []


def check_all_pages(holdings: Holdings, workers: int) -> dict[tuple[str, str | None], list[Problem]]:
    """Every page checked once, in parallel when there are many (OCR parsing is the slow part)."""
    tasks = list(dict.fromkeys((str(p.image), str(p.ocr) if p.ocr else None, str(holdings.root))
                               for item in holdings.items.values() for p in item.pages))
    if workers > 1 and len(tasks) > PARALLEL_FROM:
        with process_pool(workers) as pool:
            found = list(pool.map(check_page, tasks, chunksize=16))
    else:
        found = [check_page(t) for t in tasks]
    return {(t[0], t[1]): f for t, f in zip(tasks, found)}
