"""Encoding pages in worker processes: the same generation as encoding them here, errors that
reach the ingest, and an abort after which no worker writes."""
from __future__ import annotations

import multiprocessing
import os
import time
from pathlib import Path

import pytest

from server.ocr.model import PageText, Word
from server.search import IndexedPage, SearchIndexWriter, SearchService
from server.search.encoding import POOL_FROM, encoding_workers
from server.search.lexicon import counts_of
from server.search.lexicon_files import load_lexicon
from server.search.meta import read_meta
from server.search.site import SiteQuery, site_search
from server.search.store import encode_columns, encode_page, page_columns
from server.search.urls import SearchUrls
from tests.search_engines import search_engine, solr_url  # noqa: F401
from tests.test_search_writer import item, page

ENGINES = pytest.mark.usefixtures("search_engine")

WORDS = ["la", "questione", "di", "Firenze", "dell'Arno", "è", "città", "già", "l'unità", "nazionale", "Torino", "Genova", "Milano", "ferrovia", "del", "Moncenisio", "società", "anonima", "sſ", "ﬁne", "perché"]


def corpus(items: int = 12, pages: int = 5) -> dict[str, list[IndexedPage]]:
    """Items of a few pages of varied words, one page without text, one in English."""
    out: dict[str, list[IndexedPage]] = {}
    for i in range(items):
        out[f"item-{i:02d}"] = [
            page(n, [WORDS[(i * 7 + n * 3 + k) % len(WORDS)] for k in range(20 + n)],
                 "en" if n == 2 else "it")
            for n in range(1, pages + 1)]
        out[f"item-{i:02d}"].append(page(pages + 1, []))
    return out


def words_tree(gen: Path) -> dict[str, bytes]:
    """Every word-store file of a generation by its path under ``words/`` (links followed)."""
    root = gen / "words"
    return {os.path.relpath(os.path.join(folder, name), root): Path(folder, name).read_bytes()
            for folder, _, names in os.walk(root, followlinks=True) for name in names}


def write(gen: Path, items: dict[str, list[IndexedPage]], workers: int) -> SearchIndexWriter:
    gen.mkdir(parents=True)
    writer = SearchIndexWriter(gen, None, workers=workers)
    for item_id, pages in items.items():
        writer.add_item(item(item_id), pages)
    writer.commit()
    return writer


@ENGINES
def test_a_pool_writes_the_generation_encoding_here_writes(tmp_path: Path) -> None:
    items = corpus()
    here = write(tmp_path / "a" / "gen-1", items, workers=0)
    pool = write(tmp_path / "b" / "gen-1", items, workers=2)
    a, b = tmp_path / "a" / "gen-1", tmp_path / "b" / "gen-1"
    assert words_tree(a) == words_tree(b) and len(words_tree(a)) == 12 * 7
    assert here.pages_added == pool.pages_added == 12 * 5
    meta_a, meta_b = read_meta(a), read_meta(b)
    assert meta_a is not None and meta_b is not None
    assert list(meta_a["items"]) == list(meta_b["items"])  # the order items were given
    for item_id in items:
        for key in ("label", "page_languages", "page_count"):
            assert meta_a["items"][item_id].get(key) == meta_b["items"][item_id].get(key)
        assert meta_b["items"][item_id]["page_languages"] == ["en", "it"]
    assert meta_a["languages"] == meta_b["languages"] == ["en", "it"]
    assert counts_of(load_lexicon(a / "index")) == counts_of(load_lexicon(b / "index"))
    sa, sb = SearchService(a), SearchService(b)
    for q in ("firenze", '"questione di"', "citta", "torin*"):
        assert sa.search_item("item-03", q).total_hits == sb.search_item("item-03", q).total_hits > 0
        ra, rb = (site_search(s, SearchUrls("http://x"), SiteQuery(q)) for s in (sa, sb))
        assert (ra.total, ra.total_pages) == (rb.total, rb.total_pages) and ra.total > 0
    assert not multiprocessing.active_children()  # commit stopped the workers


@ENGINES
def test_a_worker_error_reaches_the_ingest_and_abort_stops_every_worker(tmp_path: Path) -> None:
    gen = tmp_path / "gen-1"
    gen.mkdir()
    writer = SearchIndexWriter(gen, None, workers=2)
    items = corpus(items=20)
    for item_id, pages in list(items.items())[:10]:
        writer.add_item(item(item_id), pages)
    broken = Word(None, 0, 0, 10, 10, 0, 0, ((0, 0, 10, 10),))  # type: ignore[arg-type]
    writer.add_item(item("broken"), [IndexedPage(1, "p. 1", 1000, 2000, PageText([broken], 1000, 2000, "it", "alto"))])
    with pytest.raises(TypeError):  # the worker's error, from a later add_item or from commit
        for item_id, pages in list(items.items())[10:]:
            writer.add_item(item(item_id), pages)
        writer.commit()
    writer.abort()
    assert not multiprocessing.active_children()
    files = sorted(str(p) for p in gen.parent.rglob("*"))
    time.sleep(0.3)
    assert sorted(str(p) for p in gen.parent.rglob("*")) == files  # no worker writes after abort


@ENGINES
def test_abort_with_items_in_flight_cancels_them(tmp_path: Path) -> None:
    gen = tmp_path / "gen-1"
    gen.mkdir()
    writer = SearchIndexWriter(gen, None, workers=2)
    for item_id, pages in corpus(items=30, pages=30).items():
        writer.add_item(item(item_id), pages)
    writer.abort()
    assert not multiprocessing.active_children()
    files = sorted(str(p) for p in gen.parent.rglob("*"))
    time.sleep(0.3)
    assert sorted(str(p) for p in gen.parent.rglob("*")) == files


def test_columns_are_what_the_page_encoder_reads() -> None:
    words = [("Città", 0, ((10, 20, 30, 40),)), ("dell'", 1, ((1, 2, 3, 4), (5, 6, 7, 8))),
             ("x", 70000, ()), ("neg", 2, ((-5, 3, 2_000_000, 9),)), ("many", 3, tuple((k, k, 1, 1) for k in range(20)))]
    cols = page_columns(1, "it", "p. 1", 100, 200, words)  # type: ignore[arg-type]
    assert cols[7] == bytes([1, 2, 0, 1, 15])  # at most 15 boxes a word
    assert encode_columns(cols) == encode_page(1, "it", "p. 1", 100, 200, words)  # type: ignore[arg-type]
    huge = [("big", 0, ((2**40, 0, 1, 1),))]
    assert page_columns(1, None, "", 1, 1, huge)[8].typecode == "q"  # type: ignore[arg-type]
    assert encode_page(1, None, "", 1, 1, huge)[0].startswith(b"HLS4")  # type: ignore[arg-type]


def test_a_pool_only_for_batches_that_pay_for_it() -> None:
    assert encoding_workers(POOL_FROM - 1, 4) == 0
    assert encoding_workers(POOL_FROM, 4) == 4
    assert encoding_workers(POOL_FROM, 1) == 0  # one process: encode here


def test_an_ingest_with_the_pool_publishes_the_word_store_of_one_without(
        tmp_path: Path, demo_data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The demo holdings (a few pages: encoded in the ingest process by the session's ingest) again,
    with the pool forced on: the same word store, page for page."""
    from server.config import Settings
    from server.ingest.run import run_ingest
    from server.search import encoding, writer
    from tests.conftest import DEMO
    monkeypatch.setattr(encoding, "POOL_FROM", 1)
    used: list[int] = []

    class Watched(encoding.Encoder):
        def add(self, *args, **kw):  # type: ignore[no-untyped-def]
            used.append(self.workers)
            super().add(*args, **kw)

    monkeypatch.setattr(writer, "Encoder", Watched)
    monkeypatch.setenv("HERITAGE_SEARCH", "whoosh")
    settings = Settings.load({"data": tmp_path / "data", "workers": 2})
    report = run_ingest(DEMO, settings)
    assert not report.errors, [str(p) for p in report.problems]
    pooled = words_tree(settings.manifests_dir / "current")
    assert pooled and pooled == words_tree(demo_data / "manifests" / "current")
    assert used and set(used) == {2}  # every item went through a pool of two
    assert any(name.endswith(".page") for name in pooled) and not multiprocessing.active_children()
