"""PDF benchmark: which library builds the item PDF (page JPEGs + invisible OCR text layer).

    python bench/pdf_bench.py [--pages 100] [--repeats 5]

The pages are the demo holdings' pages that have OCR, encoded once as the Image API's
``full/max/0/default.jpg`` would be (pyvips, Q85), with their OCR words parsed as the server does;
they are repeated to make a ``--pages`` page document (each copy made distinct by a JPEG comment,
so that no library can store a repeated image once). For each candidate it prints the median
build time (wall clock and CPU time of this process) and the PDF size against the sum of the page JPEGs:

- ``img2pdf`` alone: the JPEGs wrapped without re-encoding, no text (the floor);
- ``img2pdf+pikepdf``: what the server does (``server/presentation/pdf.py``);
- ``fpdf2``: images (also embedded as they are) and one ``text()`` call per word in text mode
  INVISIBLE with horizontal stretching, core font Helvetica (Latin-1 only: a real rendering would
  also need an embedded Unicode TrueType font, which only adds size and time).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from server.holdings import read_holdings
from server.ocr import parse_ocr
from server.presentation.pdf import PdfPage, build_pdf


def demo_pages() -> list[PdfPage]:
    import pyvips
    holdings = read_holdings(ROOT / "examples" / "holdings", "it")
    pages = []
    for item in holdings.items.values():
        for page in item.pages:
            if page.ocr is None:
                continue
            try:
                image = pyvips.Image.new_from_file(str(page.image))
            except pyvips.Error:
                continue  # e.g. JPEG 2000 without openjpeg in this libvips: ingest has its own loader
            jpeg = image.jpegsave_buffer(Q=85, strip=True)
            words = parse_ocr(page.ocr, image.width, image.height).words
            pages.append(PdfPage(jpeg, image.width, image.height, words))
    return pages


def distinct(page: PdfPage, n: int) -> PdfPage:
    """The page with a JPEG comment naming its number, so no library can share repeated images."""
    comment = f"page {n}".encode()
    jpeg = page.jpeg[:2] + b"\xff\xfe" + (len(comment) + 2).to_bytes(2, "big") + comment + page.jpeg[2:]
    return PdfPage(jpeg, page.canvas_width, page.canvas_height, page.words)


def with_img2pdf(pages: list[PdfPage]) -> bytes:
    import img2pdf
    return img2pdf.convert([p.jpeg for p in pages], layout_fun=img2pdf.get_fixed_dpi_layout_fun((72, 72)))


def with_fpdf2(pages: list[PdfPage]) -> bytes:
    from fpdf import FPDF
    from fpdf.enums import TextMode
    pdf = FPDF(unit="pt")
    pdf.set_font("helvetica", size=10)
    pdf.text_mode = TextMode.INVISIBLE
    for page in pages:
        pdf.add_page(format=(page.canvas_width, page.canvas_height))
        pdf.image(BytesIO(page.jpeg), x=0, y=0, w=page.canvas_width, h=page.canvas_height)
        for word in page.words:
            text = word.text.encode("latin-1", "replace").decode("latin-1")
            x, y, w, h = word.boxes[0] if word.boxes else (word.x, word.y, word.w, word.h)
            if w <= 0 or h <= 0:
                continue
            pdf.set_font_size(h)
            natural = pdf.get_string_width(text) or 1
            pdf.set_stretching(100 * w / natural)
            pdf.text(x, y + h * 0.8, text)
    return bytes(pdf.output())


def measure(name: str, build: Callable[[list[PdfPage]], bytes], pages: list[PdfPage], repeats: int,
            jpegs: int) -> None:
    times, cpu = [], []
    size = 0
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        size = len(build(pages))
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    print(f"| {name} | {statistics.median(times) * 1000:,.0f} ms | {statistics.median(cpu) * 1000:,.0f} ms "
          f"| {size / 1e6:,.1f} MB | {size / jpegs:.3f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    source = demo_pages()
    pages = [distinct(source[i % len(source)], i) for i in range(args.pages)]
    jpegs = sum(len(p.jpeg) for p in pages)
    words = sum(len(p.words) for p in pages)
    print(f"{len(pages)} pages ({len(source)} distinct), {words:,} words, JPEGs {jpegs / 1e6:,.1f} MB; "
          f"median of {args.repeats}")
    print("| library | build (wall) | build (CPU) | PDF | PDF / JPEGs |\n| --- | ---: | ---: | ---: | ---: |")
    measure("img2pdf (images only)", with_img2pdf, pages, args.repeats, jpegs)
    measure("img2pdf+pikepdf (chosen)", build_pdf, pages, args.repeats, jpegs)
    measure("fpdf2", with_fpdf2, pages, args.repeats, jpegs)


if __name__ == "__main__":
    main()
