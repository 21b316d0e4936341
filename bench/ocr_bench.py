"""OCR benchmark: Tesseract at ingest, its speed and its quality against ground-truth ALTO.

    python bench/ocr_bench.py [--langs deu,deu+frk,frk] [--repeats 1]

The pages are the sample's two 1784 Berlinische Monatsschrift pages (Kant, "Beantwortung der
Frage: Was ist Aufklärung?", Fraktur), whose ALTO in the sample is a corrected ground truth. Each
page is read as ingest reads it (``server.ingest.ocr.ocr_page``: one single-threaded Tesseract,
ALTO output) and both ALTO files go through the server's parser (``server.ocr.parse_ocr``, line-end
hyphens joined), so the figures are about the words the index and the hit boxes get. Per language
setting it prints:

- pages/min/core: 60 / (median seconds per page), Tesseract limited to one thread: by the wall
  clock, and by the CPU time Tesseract used (the figure that holds on a busy machine);
- WER: word error rate, the word-level edit distance between the ground truth's words and ours
  over the ground truth's word count. Words are compared after NFC, long s → s, the combining
  small e (``uͤ``) → umlaut, and punctuation trimmed from both ends (punctuation-only tokens
  dropped); case counts;
- boxes: of the words the alignment matches (same text), the share whose box has IoU ≥ 0.5 with
  the ground truth's box.
"""
from __future__ import annotations

import argparse
import resource
import statistics
import sys
import tempfile
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from server.ingest.ocr import OcrJob, Tesseract, find_tesseract, ocr_page
from server.ocr import parse_ocr
from server.ocr.model import Word

KANT = ROOT / "tests" / "fixtures" / "holdings-sample" / "items" / "periodical-deu-berlinische-monatsschrift-1784-12"
PAGES = ("INPUT_0017", "INPUT_0020")
Box = tuple[int, int, int, int]


@dataclass
class Score:
    errors: int = 0
    reference: int = 0
    matched: int = 0
    boxes_ok: int = 0


def normalize(text: str) -> str:
    text = unicodedata.normalize("NFD", text.replace("ſ", "s")).replace("\u0364", "\u0308")
    text = unicodedata.normalize("NFC", text)
    return text.strip(".,;:!?()[]{}«»\"'„“”‚‘’-—–/*")


def tokens(words: list[Word]) -> list[tuple[str, Box]]:
    out = []
    for w in words:
        t = normalize(w.text)
        if t:
            out.append((t, (w.x, w.y, w.w, w.h)))
    return out


def align(ref: list[str], hyp: list[str]) -> tuple[int, list[tuple[int, int]]]:
    """Word edit distance, and the (ref, hyp) index pairs the cheapest alignment matches exactly."""
    n, m = len(ref), len(hyp)
    d = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n + 1):
        d[i][0] = i
    for j in range(m + 1):
        d[0][j] = j
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (ref[i - 1] != hyp[j - 1]))
    pairs = []
    i, j = n, m
    while i > 0 and j > 0:  # among equally cheap paths: a match, else a gap, a substitution last
        if ref[i - 1] == hyp[j - 1] and d[i][j] == d[i - 1][j - 1]:
            pairs.append((i - 1, j - 1))
            i, j = i - 1, j - 1
        elif d[i][j] == d[i - 1][j] + 1:
            i -= 1
        elif d[i][j] == d[i][j - 1] + 1:
            j -= 1
        else:
            i, j = i - 1, j - 1
    return d[n][m], pairs[::-1]


def iou(a: Box, b: Box) -> float:
    ix = max(0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union else 0.0


def image_size(path: Path) -> tuple[int, int]:
    import pyvips
    img = pyvips.Image.new_from_file(str(path))
    return img.width, img.height


def child_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(engine: Tesseract, languages: str, repeats: int, tmp: Path) -> tuple[float, float, Score]:
    seconds: list[float] = []
    cpu: list[float] = []
    score = Score()
    for name in PAGES:
        image = KANT / f"{name}.tif"
        width, height = image_size(image)
        out = tmp / f"{name}-{languages}.xml"
        for _ in range(repeats):
            start, start_cpu = time.perf_counter(), child_cpu()
            error = ocr_page(engine, OcrJob(image, out, languages))
            seconds.append(time.perf_counter() - start)
            cpu.append(child_cpu() - start_cpu)
            if error:
                raise SystemExit(f"tesseract failed on {image.name} with -l {languages}: {error}")
        ref = tokens(parse_ocr(KANT / f"{name}.xml", width, height).words)
        hyp = tokens(parse_ocr(out, width, height).words)
        errors, pairs = align([t for t, _ in ref], [t for t, _ in hyp])
        score.errors += errors
        score.reference += len(ref)
        score.matched += len(pairs)
        score.boxes_ok += sum(1 for i, j in pairs if iou(ref[i][1], hyp[j][1]) >= 0.5)
    return 60 / statistics.median(seconds), 60 / statistics.median(cpu), score


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--langs", default="deu,deu+frk,frk", help="Tesseract language settings, comma-separated")
    parser.add_argument("--repeats", type=int, default=1, help="OCR runs per page (the median time counts)")
    args = parser.parse_args()
    engine = find_tesseract()
    if engine is None:
        raise SystemExit("tesseract is not installed (scripts/install-ocr-deps)")
    print(f"{engine.engine}; pages: {', '.join(PAGES)} ({KANT.name}); one thread per Tesseract\n")
    print("| -l | pages/min/core (wall) | pages/min/core (CPU) | WER | matched words | boxes IoU ≥ 0.5 |")
    print("|---|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        for languages in args.langs.split(","):
            missing = [code for code in languages.split("+") if code not in engine.languages]
            if missing:
                print(f"| {languages} | (no language pack: {', '.join(missing)}) | | | | |")
                continue
            speed, cpu_speed, s = run(engine, languages, args.repeats, Path(tmp))
            print(f"| {languages} | {speed:.1f} | {cpu_speed:.1f} | {s.errors / s.reference:.1%} | {s.matched}/{s.reference} | "
                  f"{s.boxes_ok / max(s.matched, 1):.1%} |", flush=True)


if __name__ == "__main__":
    main()
