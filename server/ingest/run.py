"""Orchestrates one ingest: read holdings, build pyramids, write a new generation, switch to it.

Atomic and lossless: everything is written into a hidden temporary generation; only a complete
generation is renamed into place and ``current`` switched (a symlink rename). A crash or Ctrl-C
leaves the previous publication serving; pyramids already built are content-addressed, so the
next run picks up where this one stopped. The holdings folder is only read.
"""
from __future__ import annotations

import errno
import fcntl
import gc
import logging
import os
import shutil
import sqlite3
import sys
import time
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Self

from ..catalog import collect as collect_catalog
from ..config import Settings
from ..errors import HeritageError
from ..holdings.model import Holdings, page_image
from ..holdings.scan import Scan, start_scan
from ..image.pyramid import TILE_SIZES, pyramid_key
from ..publication import Publication, PublicationStore, generations, switch_current
from ..texts import N_
from ..workers import process_pool, worker_count
from .artefacts import collect_objects, remove_objects
from .fingerprint import Fingerprints
from .images import (
    SHARD_STAMPS,
    CachedPyramids,
    PageResult,
    PageResults,
    PageTask,
    cached_result,
    process_page,
    read_stamps,
    remove_pretiled,
)
from .recycle import Donor, find_donor, take
from .report import IngestReport, Progress

KEEP_GENERATIONS = 3
log = logging.getLogger(__name__)


@contextmanager
def ingest_lock(data: Path, manifests_dir: Path) -> Iterator[None]:
    """One writer per data folder: an flock held for the whole run (the kernel drops it if we die)."""
    manifests_dir.mkdir(parents=True, exist_ok=True)
    lock = manifests_dir / ".ingest.lock"
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)  # not truncated: it names the holder
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip()
            raise HeritageError(N_("another heritage ingest%(pid)s is writing to the data folder %(data)s; wait for "
                                   "it to finish, then run again (lock: %(lock)s)",
                                   pid=" (pid " + holder + ")" if holder.isdigit() else "", data=str(data),
                                   lock=str(lock))) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)


def run_ingest(holdings_dir: Path, settings: Settings, force: bool = False, progress: bool = False,
               scan: Scan | None = None) -> IngestReport:
    """Publish ``holdings_dir`` as the next generation. ``scan``: its item folders, scanned by
    helpers that a caller started earlier (:func:`start_scan`); else they are started here."""
    report = IngestReport()
    holdings_dir = Path(holdings_dir).resolve()
    scan = scan if scan is not None else start_scan(holdings_dir, worker_count(settings.workers))
    try:
        with ingest_lock(settings.data, settings.manifests_dir):
            holdings = _ingest(holdings_dir, settings, force, progress, report, scan)
            report.html_report = str(write_html_report(holdings, report, settings) or "")
    except (OSError, sqlite3.OperationalError) as exc:
        if getattr(exc, "errno", None) in (errno.ENOSPC, errno.EDQUOT) or \
                getattr(exc, "sqlite_errorcode", None) == SQLITE_FULL:
            raise cannot_write(settings.data, "no space left on the device") from exc
        raise
    finally:
        scan.close()
        gc.unfreeze()  # see _ingest: what it froze is the collector's again
    return report


def write_html_report(holdings: Holdings, report: IngestReport, settings: Settings) -> Path | None:
    """The staff's HTML report of this run in the data folder; None (and a line on stderr) if it cannot be written."""
    from .htmlreport import ReportData, write_report
    data = ReportData("ingest", holdings, report.problems, report.outcomes, report.pages,
                      time.monotonic() - report.started, report.generation)
    try:
        return write_report(data, settings.data)
    except OSError as exc:
        print(f"cannot write the HTML report: {exc}", file=sys.stderr)
        return None


SQLITE_FULL = 13


def cannot_write(data: Path, reason: str) -> HeritageError:
    """The data folder refused a write (full disk, quota, permissions): nothing was switched."""
    return HeritageError(N_("cannot write to the data folder %(data)s: %(reason)s; ingest stopped and nothing was "
                            "published (the previous publication is still served). Free some space, then run again",
                            data=str(data), reason=reason))


def _check_cache_writes(results: dict[str, PageResult], settings: Settings) -> None:
    """A page that failed while writing into our own image cache is not a bad page but a data folder
    that cannot be written (a full disk, mostly): stop rather than publish without those pages."""
    cache = str(settings.image_cache_dir)
    failed = next((r.error for r in results.values() if r.error and cache in r.error), None)
    if failed is not None:
        free = shutil.disk_usage(settings.data).free / 2**20
        raise cannot_write(settings.data, f"{failed} ({free:.1f} MiB free)")


def _ingest(holdings_dir: Path, settings: Settings, force: bool, tty: bool, report: IngestReport,
            scan: Scan | None = None) -> Holdings:
    from ..discovery import ChangeLog, log_path
    from ..holdings import read_holdings
    from .publish import write_generation

    if settings.tile_size not in TILE_SIZES:
        raise HeritageError(f"HERITAGE_TILE_SIZE must be one of {', '.join(map(str, TILE_SIZES))}, "
                            f"not {settings.tile_size}")
    manifests_dir = settings.manifests_dir
    settings.image_cache_dir.mkdir(parents=True, exist_ok=True)
    remove_pretiled(settings.image_cache_dir)  # left by versions that pre-rendered tile files
    interrupted = False
    for stale in manifests_dir.glob(".tmp-gen-*"):
        shutil.rmtree(stale, ignore_errors=True)  # left by an interrupted run
        interrupted = True
    changes = ChangeLog(log_path(settings.data))
    changes.sync(manifests_dir)  # a run killed between its switch and its append: log that switch first

    previous = PublicationStore(manifests_dir, settings.image_cache_dir).current()
    fps = Fingerprints(_previous_inputs(previous) if not force else {}, scan)
    known_levels = _previous_levels(previous) if not force else {}
    # The holdings, the previous inputs and the modules live until the end of the run: frozen, they
    # are no longer walked by each full collection (at 20,000 pages the collector cost 0.25-0.3 s
    # of a 2.2 s one-item change, time that grows with the archive, not with the change). Frozen
    # before the collector runs again: its first collection after the reading would walk them all.
    enabled = gc.isenabled()
    gc.disable()
    try:
        holdings = read_holdings(holdings_dir, settings.default_language, fps)  # opens no unchanged .xml file
        fps.scan = None
        if scan is not None:
            scan.close()
        gc.freeze()
    finally:
        if enabled:
            gc.enable()
    report.problems.extend(holdings.problems)

    progress = Progress(sum(len(item.pages) for item in holdings.items.values()), len(holdings.items), tty)
    image_cache = str(settings.image_cache_dir)
    results = PageResults(image_cache, known_levels)
    page_keys: dict[str, list[str]] = {}
    queued: set[str] = set()
    pyramids = CachedPyramids(settings.image_cache_dir, _previous_stamps(previous) if not force else None)
    with PageBuilds(worker_count(settings.workers)) as builds:
        for item in holdings.items.values():
            recorded = fps.recorded(item.folder, item.pages)  # an unchanged folder's digests, from its record
            if recorded is None:
                masters = [fps.master(page.image) for page in item.pages]
                recorded = masters, [fps.file(page.ocr) if page.ocr is not None else "" for page in item.pages]
            masters = recorded[0]
            keys = [pyramid_key(digest, settings.tile_size) for digest in masters]
            for n, key in enumerate(keys):
                if results.known(key) or key in queued:
                    continue  # identical masters are built once
                levels = known_levels.get(key)
                if levels is not None and not force and pyramids.has(key, published=True):  # and still cached
                    results.note_cached(key, page_image(item.pages, n))  # its result is made if asked for
                    continue
                page = item.pages[n]
                task = PageTask(str(page.image), key, image_cache, settings.tile_size,
                                settings.jpeg_quality, force, str(page.ocr) if page.ocr is not None else None)
                done = cached_result(task, levels, pyramids)
                if done is None:
                    queued.add(key)
                    builds.add(task)  # workers build while the next masters are hashed
                else:
                    results[key] = done
                    progress.page_done(task.master)
            page_keys[item.id] = keys
            fps.item_files(item.id, *recorded)
        for res in builds.results():
            results[res.key] = res
            progress.page_done(res.master)
    progress.close()
    _check_cache_writes(results, settings)
    report.pyramids_built = sum(1 for r in results.values() if r.built)
    from .ocr import add_machine_ocr  # pages without OCR get Tesseract's ALTO (cached in the data folder)
    report.pages_ocred = add_machine_ocr(holdings, page_keys, results, settings, report.problems, tty)

    tmp = Path(manifests_dir / f".tmp-gen-{os.getpid()}-{int(time.time())}")
    donor = _start_generation(tmp, find_donor(manifests_dir, KEEP_GENERATIONS) if previous and not force else None)
    try:
        stats = write_generation(tmp, holdings, page_keys, results, previous, fps, settings, report, progress, force,
                                 pyramids.stamps(), donor)
        name = time.strftime("gen-%Y%m%dT%H%M%S", time.gmtime()) + f"-{os.getpid()}"
        final, again = manifests_dir / name, 0
        while final.exists():  # a second run of this process within the same second (sorts after it)
            again += 1
            final = manifests_dir / f"{name}-{again}"
        name = final.name
        os.rename(tmp, final)
        switch_current(manifests_dir, final)
        report.generation = name
        report.items, report.pages = stats
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    # the Change Discovery log (keyed by generation): the unchanged items' manifests are the previous ones
    changes.sync(manifests_dir, report.outcomes.get("unchanged", ()), previous.generation if previous else None)
    if settings.prebuild_pdf:  # build the items' PDFs now (the generation is live already)
        from ..presentation.item_pdf import prebuild
        prebuild(Publication(final, settings.image_cache_dir), settings)
    _collect_old_generations(manifests_dir, interrupted)
    return holdings


def _start_generation(tmp: Path, donor: Donor | None) -> int | None:
    """Make the run's working folder: from the generation its switch would delete, whose entries of
    unchanged items stay (``server/ingest/recycle.py``), or empty; returns the donor's number, if used."""
    if donor is not None:
        try:
            take(donor, tmp)
            return donor.number
        except OSError as exc:  # that generation was to be deleted anyway: start from nothing
            log.warning("could not start from %s (%s): writing every item's entries", donor.path.name, exc)
            shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    return None


class PageBuilds:
    """The pyramids to build, handed to a pool of worker processes as the masters are hashed: the
    workers start, and build, while the main process reads the remaining masters. No pool is
    started for fewer than two pages to build (a re-ingest has none), or for one worker."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.waiting: list[PageTask] = []  # built in this process, or by the pool once it starts
        self.futures: list[Future[PageResult]] = []
        self.pool: ProcessPoolExecutor | None = None

    def add(self, task: PageTask) -> None:
        self.waiting.append(task)
        if self.workers > 1 and len(self.waiting) + len(self.futures) > 1:
            if self.pool is None:
                self.pool = process_pool(self.workers)
            self.futures.extend(self.pool.submit(process_page, t) for t in self.waiting)
            self.waiting.clear()

    def results(self) -> Iterator[PageResult]:
        """Every added page's result, in the order added."""
        for future in self.futures:
            yield future.result()
        for task in self.waiting:
            yield process_page(task)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *_: object) -> None:
        if self.pool is not None:  # on an error (Ctrl-C …) the pages not started are dropped
            self.pool.shutdown(wait=True, cancel_futures=exc_type is not None)


def _previous_inputs(previous: Publication | None) -> dict[str, tuple[int, int, str]]:
    if previous is None:
        return {}
    try:
        return previous.catalog.inputs()
    except sqlite3.Error:
        return {}


def _previous_stamps(previous: Publication | None) -> dict[str, str]:
    if previous is None:
        return {}
    try:
        return read_stamps(previous.catalog.meta(SHARD_STAMPS))
    except sqlite3.Error:
        return {}


def _previous_levels(previous: Publication | None) -> dict[str, str]:
    if previous is None:
        return {}
    try:
        return previous.catalog.pyramid_levels()
    except (sqlite3.Error, ValueError, TypeError):
        return {}


def _collect_old_generations(manifests_dir: Path, interrupted: bool = False) -> None:
    current = os.readlink(manifests_dir / "current")
    old = [g for g in generations(manifests_dir) if g.name != current]
    for g in old[:-KEEP_GENERATIONS + 1] if len(old) >= KEEP_GENERATIONS else []:
        shutil.rmtree(g, ignore_errors=True)
    # the objects of versions no kept generation shows; after an interrupted run, all unlinked ones
    remove_objects(manifests_dir, collect_catalog(manifests_dir, [g / "catalog.sqlite" for g in generations(manifests_dir)]))
    if interrupted:
        collect_objects(manifests_dir, generations(manifests_dir))
