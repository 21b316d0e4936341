"""Stage: pages without an OCR file get Tesseract's ALTO, before publishing (``HERITAGE_OCR=auto|off``).

The ALTO is written to ``image_cache/ocr/<key>.xml`` in the data folder (the holdings folder is
only read), keyed by the master's content hash, the Tesseract languages and Tesseract's version:
a re-ingest finds it there and never runs Tesseract on the same page twice. The page then points
at that file and goes through the same parser, word store and index as supplied OCR; its
``ocr_engine`` ("Tesseract 5.3.0") marks it as machine OCR in the manifest and on the item page.
"""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TextIO

from ..config import Settings
from ..errors import HeritageError
from ..holdings.model import Holdings, Item, Problem, pages_without_ocr
from ..ocr.lang import to_iso639_1
from ..texts import N_, Nn_, render
from ..workers import worker_count
from .images import PageResults

MODES = ("auto", "off")
# what a Debian machine needs for the languages our sample holdings use (docs/configuration.md)
PACKAGES = "tesseract-ocr tesseract-ocr-ita tesseract-ocr-eng tesseract-ocr-deu tesseract-ocr-lat"
# ISO 639-1 → Tesseract's model names (ISO 639-2/T, as Debian's tesseract-ocr-<code> packages)
_TESSERACT: dict[str, str] = {
    "it": "ita", "en": "eng", "de": "deu", "fr": "fra", "es": "spa", "pt": "por", "la": "lat", "nl": "nld",
    "el": "ell", "pl": "pol", "cs": "ces", "sk": "slk", "sl": "slv", "hr": "hrv", "sr": "srp", "bs": "bos",
    "ru": "rus", "uk": "ukr", "be": "bel", "bg": "bul", "mk": "mkd", "ro": "ron", "hu": "hun", "fi": "fin",
    "et": "est", "lv": "lav", "lt": "lit", "sv": "swe", "da": "dan", "no": "nor", "nb": "nor", "is": "isl",
    "ca": "cat", "gl": "glg", "eu": "eus", "cy": "cym", "ga": "gle", "gd": "gla", "br": "bre", "sq": "sqi",
    "mt": "mlt", "lb": "ltz", "fy": "fry", "eo": "epo", "tr": "tur", "ar": "ara", "he": "heb", "yi": "yid",
    "fa": "fas", "hy": "hye", "ka": "kat", "hi": "hin", "zh": "chi_sim", "ja": "jpn", "ko": "kor", "oc": "oci",
    "co": "cos",
}
# ISO 639-2/B codes whose Tesseract model has the 639-2/T name (ger → deu)
_BIBLIOGRAPHIC = {"ger", "fre", "dut", "gre", "cze", "slo", "rum", "ice", "baq", "wel", "alb", "arm", "geo", "per",
                  "chi", "mac"}
_HEX32 = re.compile(r"[0-9a-f]{32}")
_TIMEOUT = 600  # seconds for one page: a hung Tesseract must not hang the ingest


@dataclass(frozen=True)
class Tesseract:
    """The installed engine: its command, version and language packs."""

    command: str
    version: str
    languages: frozenset[str]

    @property
    def engine(self) -> str:
        return f"Tesseract {self.version}"


def find_tesseract(command: str = "tesseract") -> Tesseract | None:
    """The Tesseract on PATH with its version and installed languages; None if there is none (or it fails)."""
    path = shutil.which(command)
    if path is None:
        return None
    try:
        out = subprocess.run([path, "--version"], check=False, capture_output=True, text=True, timeout=60)
        langs = subprocess.run([path, "--list-langs"], check=False, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.search(r"tesseract\s+v?(\d[\w.\-]*)", out.stdout + out.stderr, re.IGNORECASE)
    if out.returncode != 0 or match is None:
        return None
    listed = [line.strip() for line in langs.stdout.splitlines()[1:] if line.strip()]
    return Tesseract(path, match.group(1), frozenset(listed))


def tesseract_code(language: str) -> str:
    """An item's ``language`` value → a Tesseract model name: ``it`` → ``ita``, ``de-AT``/``ger`` → ``deu``.

    Other values are taken as Tesseract's own model names, so a cell may ask for one that no ISO
    code names: ``de | frk`` reads German Fraktur with ``deu+frk``, ``ita-old`` is ``ita_old``.
    """
    code = language.strip().lower().replace("-", "_")
    primary = code.split("_")[0]
    if len(primary) == 2 or primary in _BIBLIOGRAPHIC:
        return _TESSERACT.get(to_iso639_1(primary) or "", code)
    return code


def package_name(code: str) -> str:
    """Debian's package for a Tesseract model: ``chi_sim`` → ``tesseract-ocr-chi-sim``."""
    return "tesseract-ocr-" + code.replace("_", "-").lower()


@dataclass(frozen=True)
class OcrJob:
    """One page to OCR: the master, its cache file, the languages (``deu+lat``)."""

    image: Path
    cache: Path
    languages: str


def add_machine_ocr(holdings: Holdings, page_keys: dict[str, list[str]], results: PageResults,
                    settings: Settings, problems: list[Problem], tty: bool = False,
                    tesseract: Tesseract | None = None) -> int:
    """Give every readable page without OCR the ALTO Tesseract reads on it; returns how many pages it OCR'd.

    Pages whose image could not be read (no pyramid) are left alone: that problem is reported
    already. A page Tesseract fails on is reported as a warning and published without text.
    """
    mode = (settings.ocr or "auto").strip().lower()
    if mode not in MODES:
        raise HeritageError(N_("HERITAGE_OCR must be 'auto' or 'off', not %(value)r", value=settings.ocr))
    if mode == "off":
        return 0
    wanting = [(item, n) for item in holdings.items.values() for n in pages_without_ocr(item.pages)
               if _readable(results, page_keys, item, n)]
    if not wanting:
        return 0
    engine = tesseract or find_tesseract()
    if engine is None:
        problems.append(Problem("items", None, Nn_(
            "%(num)s page has no OCR file and Tesseract is not installed: it is published without text "
            "(install Debian's %(packages)s, or set HERITAGE_OCR=off)",
            "%(num)s pages have no OCR file and Tesseract is not installed: they are published without text "
            "(install Debian's %(packages)s, or set HERITAGE_OCR=off)", len(wanting), packages=PACKAGES),
            None, "warning"))
        return 0
    cache_dir = settings.image_cache_dir / "ocr"
    cache_dir.mkdir(parents=True, exist_ok=True)
    for stale in cache_dir.glob(".tmp-*"):  # left by a killed run (ingest holds its lock: none is ours)
        shutil.rmtree(stale, ignore_errors=True)
    jobs: dict[tuple[str, int], OcrJob] = {}
    for item in {id(i): i for i, _ in wanting}.values():
        langs = _item_languages(item, settings.default_language, engine, holdings.root, problems)
        if not langs:
            continue
        for page_item, n in wanting:
            if page_item is item:
                page = item.pages[n]
                key = _cache_key(page.image, page_keys[item.id][n], langs, engine.version)
                jobs[(item.id, n)] = OcrJob(page.image, cache_dir / f"{key}.xml", langs)
    todo = {job.cache: job for job in jobs.values() if not job.cache.is_file()}  # same master twice: once
    failures = _run_all(engine, list(todo.values()), worker_count(settings.workers), tty)
    for (item_id, n), job in jobs.items():
        if job.cache in failures:
            problems.append(Problem(_rel(job.image, holdings.root), None, N_(
                "Tesseract could not read this page, published without text: %(error)s",
                error=failures[job.cache]), item_id, "warning"))
            continue
        item = holdings.items[item_id]
        pages = list(item.pages)
        pages[n] = replace(pages[n], ocr=job.cache, ocr_format="alto", ocr_engine=engine.engine)
        holdings.items[item_id] = replace(item, pages=tuple(pages))
    return len(todo) - len(failures)


def _readable(results: PageResults, page_keys: dict[str, list[str]], item: Item, n: int) -> bool:
    keys = page_keys.get(item.id) or []
    return n < len(keys) and results.readable(keys[n])


def _item_languages(item: Item, default: str, engine: Tesseract, root: Path, problems: list[Problem]) -> str:
    """``deu+lat`` for the item's languages that have a pack; a warning naming each missing package."""
    wanted = list(dict.fromkeys(tesseract_code(lang) for lang in (item.language or (default,)) if lang.strip()))
    missing = [code for code in wanted if code not in engine.languages]
    for code in missing:
        problems.append(Problem(_rel(item.folder, root), None, N_(
            "no Tesseract language pack for %(language)r: install Debian's %(package)s to OCR this language",
            language=code, package=package_name(code)), item.id, "warning"))
    present = [code for code in wanted if code in engine.languages]
    if not present:
        problems.append(Problem(_rel(item.folder, root), None, N_(
            "pages without an OCR file are published without text (no Tesseract language pack for the item's "
            "languages)"), item.id, "warning"))
    return "+".join(present)


def _cache_key(image: Path, pyramid_key: str, languages: str, version: str) -> str:
    """Content hash of the master (the leading hex of its pyramid's key, hashed once by ingest with its
    size-and-mtime shortcut; else read here), the languages and Tesseract's version."""
    content = pyramid_key.split("-", 1)[0]
    if not _HEX32.fullmatch(content):
        digest = hashlib.sha256()
        with open(image, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                digest.update(chunk)
        content = digest.hexdigest()[:32]
    return hashlib.sha256(f"{content}\0{languages}\0{version}\0alto".encode()).hexdigest()[:32]


def _run_all(engine: Tesseract, jobs: list[OcrJob], workers: int, tty: bool) -> dict[Path, str]:
    """OCR the jobs, one Tesseract per core (each single-threaded); failures by cache file."""
    failures: dict[Path, str] = {}
    if not jobs:
        return failures
    progress = _Progress(len(jobs), tty)
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for job, error in zip(jobs, pool.map(lambda j: ocr_page(engine, j), jobs)):
            if error is not None:
                failures[job.cache] = error
            progress.done(job.image.name)
    progress.close()
    return failures


def ocr_page(engine: Tesseract, job: OcrJob) -> str | None:
    """Write the page's ALTO to ``job.cache`` (atomically); None, or why Tesseract failed."""
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}  # the pool runs one Tesseract per core
    with tempfile.TemporaryDirectory(dir=job.cache.parent, prefix=".tmp-") as tmp:
        source = _oriented(job.image, Path(tmp))
        out = Path(tmp) / "page"
        try:  # run from the image's folder: the ALTO names the file, never the holdings' path
            proc = subprocess.run([engine.command, source.name, str(out), "-l", job.languages, "alto"],
                                  check=False, cwd=source.parent, env=env, capture_output=True, text=True, timeout=_TIMEOUT)
        except subprocess.TimeoutExpired:
            return f"timed out after {_TIMEOUT} s"
        except OSError as exc:
            return str(exc)
        produced = out.with_suffix(".xml")
        if proc.returncode != 0 or not produced.is_file():
            lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
            return lines[-1] if lines else f"exit status {proc.returncode}"
        os.replace(produced, job.cache)
    return None


def _oriented(image: Path, tmp: Path) -> Path:
    """The master as the pyramid sees it: an EXIF-rotated JPEG/TIFF is rotated first, so boxes match."""
    import pyvips
    try:
        img = pyvips.Image.new_from_file(str(image))
        if "orientation" not in img.get_fields() or img.get("orientation") in (0, 1):
            return image
        rotated = tmp / "oriented.png"
        img.autorot().write_to_file(str(rotated))
        return rotated
    except pyvips.Error:  # unreadable here: let Tesseract say why
        return image


def _rel(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


class _Progress:
    """``ocr: page 3/40 …`` — a bar on a terminal, else one line per ten pages (and the last)."""

    def __init__(self, total: int, tty: bool, stream: TextIO | None = None) -> None:
        self.total, self.tty, self._stream, self.n = total, tty, stream, 0
        self.start = time.monotonic()

    @property
    def stream(self) -> TextIO:
        return self._stream or (sys.stderr if self.tty else sys.stdout)

    def done(self, name: str) -> None:
        self.n += 1
        if not self.tty and self.n % 10 and self.n != self.total:
            return
        line = render(N_("ocr (Tesseract): page %(n)s/%(total)s %(name)s (%(seconds)s s)", n=self.n,
                         total=self.total, name=name, seconds=int(time.monotonic() - self.start)))
        self.stream.write(f"\r{line} " if self.tty else line + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()

