"""The ingest's pyramid stage: each worker task parses its page's OCR too, and masters reach the
pool as they are hashed (``server/ingest/images.py``, ``run.py``, ``ocrparse.py``)."""
from __future__ import annotations

from pathlib import Path

from server.image.pyramid import master_key
from server.ingest.images import PageTask, process_page
from server.ingest.ocrparse import OCRResult, OCRTask, parse_all
from server.ingest.run import PageBuilds
from server.ocr import parse_ocr
from tests.conftest import SAMPLE

NORDSTERN = SAMPLE / "items" / "newspaper-deu-der-nordstern-1878-01-03"


def task(cache: Path, n: int, ocr: bool = True) -> PageTask:
    master = NORDSTERN / f"{n:04d}.jpg"
    return PageTask(str(master), master_key(master), str(cache), 256, 85, False,
                    str(master.with_suffix(".xml")) if ocr else None)


def test_the_worker_parses_the_page_ocr_at_the_pyramid_size(tmp_path: Path) -> None:
    result = process_page(task(tmp_path, 11))
    assert result.pyramid is not None and result.text is not None
    ocr, parsed = result.text
    assert (ocr.width, ocr.height) == (result.pyramid.width, result.pyramid.height) == (2146, 3038)
    expected = parse_ocr(Path(ocr.path), ocr.width, ocr.height)
    assert parsed.text is not None and len(parsed.text.words) == len(expected.words) > 1000
    assert process_page(task(tmp_path, 12, ocr=False)).text is None


def test_parse_all_keeps_what_the_workers_parsed_and_parses_the_rest(tmp_path: Path) -> None:
    gone = OCRTask(str(tmp_path / "deleted.xml"), 100, 100)  # parsing it now would fail
    worker_result = OCRResult(None, "parsed by a worker")
    real = OCRTask(str(NORDSTERN / "0013.xml"), 2146, 3038)
    texts = parse_all([gone, real, gone], workers=1, parsed={gone: worker_result})
    assert texts[gone] is worker_result
    assert texts[real].text is not None and texts[real].text.words


def test_pages_go_to_a_pool_in_order_and_a_single_page_starts_none(tmp_path: Path) -> None:
    tasks = [task(tmp_path, n) for n in (11, 12, 13)]
    with PageBuilds(2) as builds:
        for t in tasks:
            builds.add(t)
        assert builds.pool is not None
        results = list(builds.results())
    assert [r.key for r in results] == [t.key for t in tasks]
    assert all(r.pyramid is not None and r.text is not None for r in results)
    with PageBuilds(2) as single:
        single.add(task(tmp_path / "one", 14))
        assert single.pool is None
        (only,) = single.results()
    assert only.built and only.pyramid is not None
