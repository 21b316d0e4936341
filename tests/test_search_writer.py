"""The index builder: incremental generations that never touch the one being served."""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from server.ocr.model import PageText, Word
from server.search import IndexedItem, IndexedPage, SearchIndexWriter, SearchService
from server.search.lexicon_files import load_lexicon
from server.search.meta import INDEX_DIR, META_FILE, PARTS, read_meta
from server.search.store import read_page
from tests.search_engines import search_engine, solr_url  # noqa: F401

pytestmark = pytest.mark.usefixtures("search_engine")


def page(n: int, text: str | list[str], language: str | None = "it") -> IndexedPage:
    """A page whose words (``text`` split on spaces) sit on lines of five, with simple boxes."""
    texts = text.split(" ") if isinstance(text, str) else text
    words = [Word(w, 100 * (i % 5), 40 * (i // 5), 90, 30, i // 5, 0, ((100 * (i % 5), 40 * (i // 5), 90, 30),))
             for i, w in enumerate(texts)]
    return IndexedPage(n, f"p. {n}", 1000, 2000, PageText(words, 1000, 2000, language, "alto"))


def item(item_id: str, year: int = 1900, **kw: object) -> IndexedItem:
    return IndexedItem(item_id, {"it": [item_id]}, ["top", "series"], "book", str(year), year, ["it"], **kw)  # type: ignore[arg-type]


def snapshot(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def build(gen: Path, previous: Path | None, items: dict[str, list[IndexedPage]], keep: tuple[str, ...] = ()) -> SearchIndexWriter:
    gen.mkdir(parents=True, exist_ok=True)
    writer = SearchIndexWriter(gen, previous)
    for item_id in keep:
        assert writer.keep_item(item_id)
    for item_id, pages in items.items():
        writer.add_item(item(item_id), pages)
    writer.commit()
    return writer


def hits(gen: Path, item_id: str, q: str) -> int:
    return SearchService(gen).search_item(item_id, q).total_hits


def test_incremental_generation_leaves_the_previous_one_untouched(tmp_path: Path) -> None:
    g1, g2 = tmp_path / "gen-1", tmp_path / "gen-2"
    build(g1, None, {"a": [page(1, "la questione di Firenze"), page(2, "il comune di Firenze")],
                     "b": [page(1, "Milano e Torino")],
                     "c": [page(1, "Roma capitale")]})
    old = SearchService(g1)  # being served while the next ingest runs
    assert old.search_item("a", "firenze").total_hits == 2
    before = snapshot(g1)

    writer = build(g2, g1, {"b": [page(1, "Milano, Torino e Genova")]}, keep=("a",))  # c is gone
    assert writer.pages_added == 1
    assert snapshot(g1) == before  # not one byte of the served generation changed
    assert old.search_item("a", "firenze").total_hits == 2 and old.search_item("c", "roma").total_hits == 1

    new = SearchService(g2)
    assert new.search_item("a", "firenze").total_hits == 2  # kept: documents and words reused
    assert new.search_item("b", "genova").total_hits == 1 and new.search_item("b", "milano").total_hits == 1
    assert not new.has_item("c") and new.search_item("c", "roma").total_hits == 0
    assert (g2 / "words" / "a" / "1.page").stat().st_ino == (g1 / "words" / "a" / "1.page").stat().st_ino  # hard link
    assert new.lexicon.prefix_terms("geno") == ["genova"] and new.lexicon.prefix_terms("rom") == []


def test_replaced_items_do_not_leave_old_documents(tmp_path: Path) -> None:
    g1, g2, g3 = tmp_path / "gen-1", tmp_path / "gen-2", tmp_path / "gen-3"
    build(g1, None, {"a": [page(1, "vecchio testo"), page(2, "vecchio testo")]})
    build(g2, g1, {"a": [page(1, "nuovo testo")]})
    build(g3, g2, {}, keep=("a",))
    for gen in (g2, g3):
        service = SearchService(gen)
        assert service.search_item("a", "vecchio").total_hits == 0
        assert service.search_item("a", "nuovo").total_hits == 1
        assert read_page(gen, "a", 2) is None


def test_keep_item_with_new_metadata_updates_facets(tmp_path: Path) -> None:
    g1, g2 = tmp_path / "gen-1", tmp_path / "gen-2"
    build(g1, None, {"a": [page(1, "testo")]})
    g2.mkdir()
    writer = SearchIndexWriter(g2, g1)
    assert writer.keep_item(item("a", year=1950))
    assert not writer.keep_item("unknown")
    writer.commit()
    assert SearchService(g2).items["a"].year == 1950


def test_an_index_of_another_format_is_rebuilt_not_reused(tmp_path: Path) -> None:
    g1, g2 = tmp_path / "gen-1", tmp_path / "gen-2"
    build(g1, None, {"a": [page(1, "testo")]})
    meta_path = g1 / INDEX_DIR / META_FILE
    meta = json.loads(meta_path.read_text())
    meta_path.write_text(json.dumps({**meta, "format": -1}))
    g2.mkdir()
    writer = SearchIndexWriter(g2, g1)
    assert not writer.can_keep("a") and not writer.keep_item("a")
    writer.add_item(item("a"), [page(1, "testo")])
    writer.commit()
    assert hits(g2, "a", "testo") == 1


def test_a_one_item_change_rewrites_one_part_of_the_items(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The items' entries are kept in parts: those of unchanged items are the previous generation's
    files (hard links), so a one-item change does not write every item's entry again."""
    from server.search import meta as meta_module
    monkeypatch.setattr(meta_module, "PART_SIZE", 8)
    g1, g2, g3 = tmp_path / "gen-1", tmp_path / "gen-2", tmp_path / "gen-3"
    ids = [f"i{n:03d}" for n in range(300)]
    build(g1, None, {i: [page(1, f"testo {i}")] for i in ids[:200]} | {i: [] for i in ids[200:]})
    parts = sorted((g1 / INDEX_DIR).glob("heritage-items-*.json"))
    assert len(parts) == 64 and meta_module.part_count(300, 64) == 64
    before = snapshot(g1)
    g2.mkdir()
    with SearchIndexWriter(g2, g1) as writer:
        for i in ids:
            if i != "i250":  # withdrawn; i005 gets another year
                assert writer.keep_item(item(i, year=1950) if i == "i005" else item(i))
        writer.add_item(item("new"), [page(1, "nuovo testo")])
    assert snapshot(g1) == before
    touched = {meta_module.part_of(i, 64) for i in ("i005", "i250", "new")}
    for n in range(64):
        name = meta_module.PART_FILE.format(n)
        shared = (g1 / INDEX_DIR / name).stat().st_ino == (g2 / INDEX_DIR / name).stat().st_ino
        assert shared == (n not in touched), n
    described = meta_module.read_meta(g2)
    assert described is not None and set(described["items"]) == set(ids) - {"i250"} | {"new"}
    assert described["items"]["i005"]["year"] == 1950 and described["items"]["i006"]["year"] == 1900
    service = SearchService(g2)
    assert service.items["i005"].year == 1950 and "i250" not in service.items
    assert hits(g2, "i007", "testo") == 1 and hits(g2, "new", "nuovo") == 1
    # an archive grown fourfold: every part is written again, in more parts
    build(g3, g2, {f"more{n}": [] for n in range(2200)}, keep=tuple(described["items"]))
    grown = meta_module.read_meta(g3)
    assert grown is not None and len(grown["items"]) == 2500 and grown[meta_module.PARTS] == 512
    assert not any((g3 / INDEX_DIR / meta_module.PART_FILE.format(n)).stat().st_ino
                   == (g2 / INDEX_DIR / meta_module.PART_FILE.format(n)).stat().st_ino for n in range(64))


def test_the_lexicon_is_linked_while_no_word_count_changes(tmp_path: Path) -> None:
    """The lexicon holds every word of the archive: an item indexed again with the same words (its
    title changed) leaves it as it was, linked; a change of words adds what changed (a delta, or a
    new base when the deltas have grown to half of it), with the counts a generation built from
    nothing has."""
    g1, g2, g3, fresh = (tmp_path / n for n in ("gen-1", "gen-2", "gen-3", "fresh"))
    pages = {"a": [page(1, "la questione di Firenze"), page(2, "il comune di Firenze")], "b": [page(1, "Milano e Torino")]}
    build(g1, None, pages)
    build(g2, g1, {"a": pages["a"]}, keep=("b",))  # indexed again, same words
    lexicon = INDEX_DIR + "/lexicon.tsv"
    lexicon_files = [n for n in sorted(os.listdir(g2 / INDEX_DIR)) if "lexicon" in n]
    assert lexicon_files == [n for n in sorted(os.listdir(g1 / INDEX_DIR)) if "lexicon" in n] == ["lexicon.tsv"]
    assert (g2 / lexicon).stat().st_ino == (g1 / lexicon).stat().st_ino
    build(g3, g2, {"a": [page(1, "la questione di Genova")], "c": [page(1, "Torino Torino")]})  # b removed
    build(fresh, None, {"a": [page(1, "la questione di Genova")], "c": [page(1, "Torino Torino")]})
    got, want = load_lexicon(g3 / INDEX_DIR), load_lexicon(fresh / INDEX_DIR)
    assert (got.keys, got.counts) == (want.keys, want.counts)
    assert got.counts[got.keys.index("torino")] == 2 and "firenze" not in got.keys
    assert "firenze" in (g1 / lexicon).read_text()  # the served generation's, untouched


def test_a_description_with_its_items_inside_is_read(tmp_path: Path) -> None:
    """Generations written before the parts keep being served, and the next one reuses their index."""
    g1, g2 = tmp_path / "gen-1", tmp_path / "gen-2"
    build(g1, None, {"a": [page(1, "la questione di Firenze")], "b": [page(1, "Milano")]})
    described = read_meta(g1)
    assert described is not None
    for part in (g1 / INDEX_DIR).glob("heritage-items-*.json"):
        part.unlink()
    assert read_meta(g1) is None  # a part missing: not a complete description
    described.pop(PARTS)
    (g1 / INDEX_DIR / META_FILE).write_text(json.dumps(described))
    assert SearchService(g1).items["a"].label == {"it": ["a"]} and hits(g1, "a", "firenze") == 1
    build(g2, g1, {"c": [page(1, "Torino")]}, keep=("a", "b"))
    assert hits(g2, "a", "firenze") == 1 and set(SearchService(g2).items) == {"a", "b", "c"}


def test_writer_refuses_misuse(tmp_path: Path) -> None:
    gen = tmp_path / "gen"
    gen.mkdir()
    writer = SearchIndexWriter(gen, None)
    writer.add_item(item("a"), [page(1, "testo")])
    with pytest.raises(ValueError):
        writer.add_item(item("a"), [page(1, "testo")])
    with pytest.raises(ValueError):
        writer.add_item(item("../evil"), [page(1, "testo")])
    writer.commit()
    with pytest.raises(RuntimeError):
        writer.add_item(item("b"), [])
    with pytest.raises(FileExistsError):
        SearchIndexWriter(gen, None)


def test_abort_leaves_nothing_served(tmp_path: Path) -> None:
    gen = tmp_path / "gen"
    gen.mkdir()
    with pytest.raises(KeyError), SearchIndexWriter(gen, None) as writer:
        writer.add_item(item("a"), [page(1, "testo")])
        raise KeyError("ingest failed")
    assert not SearchService(gen).available  # no description written: nothing to serve


def test_items_without_ocr_and_pages_without_language(tmp_path: Path) -> None:
    gen = tmp_path / "gen"
    gen.mkdir()
    writer = SearchIndexWriter(gen, None)
    writer.add_item(item("empty"), [])
    writer.add_item(IndexedItem("latin", {"none": ["Latin"]}, ["top"], "document", languages=["la"]),
                    [page(1, "Gallia est omnis divisa in partes tres", language=None)])
    writer.commit()
    service = SearchService(gen)
    assert service.has_item("empty") and service.search_item("empty", "x").total_hits == 0
    assert service.search_item("latin", "partes").total_hits == 1
    assert service.search_item("latin", "parte").total_hits == 0  # no Latin stemmer: folded forms only
    assert service.search_item("latin", '"omnis divisa"').total_hits == 1  # phrases without common grams


def test_stored_page_round_trip(tmp_path: Path) -> None:
    gen = tmp_path / "gen"
    weird = "a\x1fb"  # the store's own separator inside OCR text
    build(gen, None, {"a": [page(1, ["Città", "dell’assemblea", weird, "fine"])]})
    stored = read_page(gen, "a", 1)
    assert stored is not None
    assert stored.texts == ["Città", "dell’assemblea", "a b", "fine"]
    assert stored.tokens == ["citta", "dell", "assemblea", "a", "b", "fine"]
    assert [stored.word_of(i) for i in range(6)] == [0, 1, 1, 2, 2, 3]
    assert stored.boxes(1) == [(100, 0, 90, 30)] and stored.line(1) == 0
    assert (stored.width, stored.height, stored.label, stored.language) == (1000, 2000, "p. 1", "it")


def test_indexed_item_from_the_sample_holdings() -> None:
    from server.holdings import read_holdings
    from server.search.ingest import collection_labels, collection_path, indexed_item
    from tests.conftest import SAMPLE

    holdings = read_holdings(SAMPLE, "it")
    rassegna = indexed_item(holdings.items["periodical-ita-rassegna-settimanale-1878-10-06"], holdings.collections)
    assert rassegna.collection_path == ["emeroteca", "rassegna-settimanale"]
    assert (rassegna.type, rassegna.date, rassegna.year) == ("periodical", "1878-10-06", 1878)
    assert rassegna.languages == ["it"] and rassegna.label["it"]
    bnf = indexed_item(holdings.items["document-ita-bnf-it-912"], holdings.collections)
    assert bnf.collection_path == ["archivio", "manoscritti"] and bnf.year == 1300  # a range: its start
    assert collection_labels(holdings.collections)["emeroteca"]["en"] == ["Newspapers and periodicals"]
    assert collection_path("missing", holdings.collections) == ["missing"]


def test_exclusions_and_prefixes_within_an_item(tmp_path: Path) -> None:
    gen = tmp_path / "gen"
    build(gen, None, {"a": [page(1, "amministrazione del comune"), page(2, "amministrazione di Milano"),
                            page(3, "il comune di Milano")]})
    assert hits(gen, "a", "amministra* -milano") == 1
    assert hits(gen, "a", "comune -mil*") == 1
    assert hits(gen, "a", "mil* -amministra*") == 1
    assert hits(gen, "a", "amministra*") == 2


def test_within_item_the_engine_and_the_word_store_alone_find_the_same_hits(tmp_path: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """Small items are searched on the word store alone (no engine round trip), larger ones through
    the engine's candidates (Whoosh: every page of the item when skipping to it would cost more):
    all three must give the same hits, whatever the query."""
    from server.search import service as service_module
    from server.search.whoosh import reader as whoosh_reader
    texts = ["la questione di Firenze e del comune", "il comune di Genova", "Firenze, città e comune",
             "nessuna delle parole", "l'amministrazione del comune di Firenze"]
    pages = [page(n, texts[n % len(texts)]) for n in range(1, service_module.SCAN_PAGES + 10)]
    gen = tmp_path / "manifests" / "gen-1"
    build(gen, None, {"big": pages})
    queries = ["firenze", "comune", '"comune di firenze"', "amministra*", "firenz~1", "comune -genova",
               "genova OR citta", "assente", "questione firenze"]

    def answers() -> dict[str, tuple[object, ...]]:
        service = SearchService(gen)
        assert len(service.page_numbers("big")) == len(pages)
        return {q: (r.total_hits, r.total_annotations, r.hits) for q in queries
                if (r := service.search_item("big", q))}

    through_engine = answers()
    monkeypatch.setattr(whoosh_reader, "BLOCKS_PER_PAGE", -1)
    every_page = answers()
    monkeypatch.setattr(service_module, "SCAN_PAGES", 10_000)
    alone = answers()
    assert through_engine == every_page == alone
    assert through_engine["firenze"][0] == 15 and through_engine["assente"][0] == 0
