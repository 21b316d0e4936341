"""Stage: parse the OCR of the pages being published, in worker processes (like the pyramids).

Parsing ALTO/hOCR into words with canvas boxes costs tens of milliseconds a page; done serially it
would bound ingest throughput. Each task returns the page's words or its one-line error (never an
exception across the process boundary), so one bad file never stops the batch.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ..ocr import OCRError, PageText, parse_ocr
from ..workers import process_pool

SERIAL_BELOW = 16
"""Fewer pages than this are parsed in this process: starting workers would cost more."""


@dataclass(frozen=True)
class OCRTask:
    path: str
    width: int
    height: int


@dataclass(frozen=True)
class OCRResult:
    text: PageText | None
    reason: str | None = None
    line: int | None = None


def parse_one(task: OCRTask) -> OCRResult:
    try:
        return OCRResult(parse_ocr(Path(task.path), task.width, task.height))
    except OCRError as exc:
        return OCRResult(None, exc.reason, exc.line)


def parse_all(tasks: list[OCRTask], workers: int,
              parsed: dict[OCRTask, OCRResult] | None = None) -> dict[OCRTask, OCRResult]:
    """Every task's result; ``parsed`` ones (the pyramid workers parse the OCR of the pages they
    build) are taken as they are, the rest parsed in ``workers`` processes when there is enough to do."""
    parsed = parsed or {}
    done = {t: parsed[t] for t in tasks if t in parsed}
    unique = [t for t in dict.fromkeys(tasks) if t not in done]
    workers = workers or os.cpu_count() or 1
    if workers < 2 or len(unique) < SERIAL_BELOW:
        return {**done, **{t: parse_one(t) for t in unique}}
    with process_pool(workers) as pool:
        return {**done, **dict(zip(unique, pool.map(parse_one, unique, chunksize=8)))}
