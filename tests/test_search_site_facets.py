"""Site-wide search over many items, on both engines: totals, facet counts, filters and ordering
checked against what the items' metadata says, across result pages.

On Solr the facets, totals and ordering are computed by Solr (:mod:`server.search.solr.site`):
they must equal what the server computes from a count per matching item (the path of Whoosh, and
of Solr generations indexed before the documents carried facet values), and what is asked of Solr
must not grow with the number of matching items.
"""
from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from server.search import IndexedItem, IndexedPage, SearchService, SiteQuery, site_search
from server.search import site as site_module
from server.search.meta import INDEX_DIR, read_meta, write_meta
from server.search.site import SiteResults
from server.search.urls import SearchUrls
from tests.search_engines import search_engine, solr_url  # noqa: F401
from tests.search_support import index_generation
from tests.test_search_writer import page

URLS = SearchUrls("http://localhost")
N_ITEMS = 48
TYPES = ("book", "newspaper", "periodical")
LANGUAGES: tuple[tuple[list[str], str], ...] = ((["it"], "it"), (["deu"], "de"), ([], "en"))
"""An item's metadata languages, and the facet value they give (none: its pages' OCR language)."""


def year_of(i: int) -> int | None:
    return None if i % 11 == 5 else 1850 + (i * 7) % 13  # repeated years, and undated items


def date_of(i: int) -> str | None:
    year = year_of(i)
    return None if year is None else (f"{year}-{1 + i % 12:02d}-01" if i % 4 else str(year))


def pages_of(i: int) -> int:
    return 1 + i % 4


def meta(i: int) -> IndexedItem:
    return IndexedItem(f"item-{i:02d}", {"it": [f"Documento {i}"]}, ["archivio", f"fondo-{i % 4}"],
                       TYPES[i % 3], date_of(i), year_of(i), LANGUAGES[(i // 2) % 3][0])


def item_pages(i: int) -> list[IndexedPage]:
    ocr_language = "en" if not LANGUAGES[(i // 2) % 3][0] else "it"
    out = []
    for n in range(1, pages_of(i) + 1):
        words = ["comune"] * (1 + (i * n) % 5) + ["della", "città"] + (["raro"] if (i + n) % 6 == 0 else [])
        out.append(page(n, words, ocr_language))
    return out


def facets_of(i: int) -> dict[str, tuple[str, ...]]:
    """What the results page counts for item ``i``, written out independently of the code."""
    year = year_of(i)
    return {"collection": ("archivio", f"fondo-{i % 4}"), "type": (TYPES[i % 3],),
            "decade": () if year is None else (str(year // 10 * 10),),
            "year": () if year is None else (str(year),), "language": (LANGUAGES[(i // 2) % 3][1],)}


def expected_facets(matching: list[int], filters: dict[str, tuple[str, ...]],
                    years: tuple[int, int] | None = None) -> dict[str, dict[str, int]]:
    def kept(i: int, skip: str) -> bool:
        if years is not None and not ((y := year_of(i)) is not None and years[0] <= y <= years[1]):
            return False
        return all(name == skip or set(values) & set(facets_of(i)[name]) for name, values in filters.items())
    return {name: dict(Counter(v for i in matching if kept(i, name) for v in facets_of(i)[name]))
            for name in ("collection", "type", "decade", "year", "language")}


def date_order(matching: dict[int, int], sign: int) -> list[str]:
    def key(i: int) -> tuple[Any, ...]:
        year = year_of(i)
        return (year is None, sign * (year or 0), date_of(i) or "", -matching[i], f"item-{i:02d}")
    return [f"item-{i:02d}" for i in sorted(matching, key=key)]


@pytest.fixture(scope="module")
def gen(tmp_path_factory: pytest.TempPathFactory, search_engine: str) -> Path:  # noqa: F811
    data = tmp_path_factory.mktemp("site-facets")
    return index_generation(data, [(meta(i), item_pages(i)) for i in range(N_ITEMS)])


@pytest.fixture(scope="module")
def service(gen: Path) -> SearchService:
    return SearchService(gen)


def all_pages(service: SearchService, query: SiteQuery) -> Iterator[SiteResults]:
    first = site_search(service, URLS, query)
    yield first
    for number in range(2, first.page_count + 1):
        yield site_search(service, URLS, SiteQuery(query.q, query.filters, query.date_from, query.date_to,
                                                   query.sort, number, query.page_size))


def counted(results: SiteResults) -> dict[str, dict[str, int]]:
    return {name: {v.value: v.count for v in values if v.count} for name, values in results.facets.items()}


def test_a_word_on_every_item_counts_every_item_and_page(service: SearchService) -> None:
    results = site_search(service, URLS, SiteQuery("comune"))
    assert results.total == N_ITEMS
    assert results.total_pages == sum(pages_of(i) for i in range(N_ITEMS))
    assert counted(results) == expected_facets(list(range(N_ITEMS)), {})


@pytest.mark.parametrize("filters, years", [
    ({"language": ("de",)}, None),
    ({"language": ("de", "en"), "type": ("book",)}, None),
    ({"collection": ("fondo-1",), "decade": ("1850",)}, None),
    ({"year": ("1853", "1855")}, (1852, 1860)),
    ({}, (1851, 1856)),
    ({"type": ("nothing-of-the-kind",)}, None),
    ({"year": ("not-a-year",), "language": ("it",)}, None),
])
def test_filters_and_disjunctive_facets(service: SearchService, filters: dict[str, tuple[str, ...]],
                                        years: tuple[int, int] | None) -> None:
    query = SiteQuery("comune", filters, *(years or (None, None)), page_size=5)
    pages = list(all_pages(service, query))
    expected = [i for i in range(N_ITEMS)
                if (years is None or ((y := year_of(i)) is not None and years[0] <= y <= years[1]))
                and all(set(values) & set(facets_of(i)[name]) for name, values in filters.items())]
    assert pages[0].total == len(expected)
    assert pages[0].total_pages == sum(pages_of(i) for i in expected)
    assert sorted(r.item.item_id for p in pages for r in p.items) == [f"item-{i:02d}" for i in expected]
    assert counted(pages[0]) == expected_facets(list(range(N_ITEMS)), filters, years)
    for name, values in filters.items():  # a chosen value stays listed, even with no item
        assert {v.value for v in pages[0].facets[name] if v.selected} == set(values)


@pytest.mark.parametrize("q, matching", [
    ("comune", {i: pages_of(i) for i in range(N_ITEMS)}),
    ("*", {i: pages_of(i) for i in range(N_ITEMS)}),
    ("raro", {i: k for i in range(N_ITEMS) if (k := sum((i + n) % 6 == 0 for n in range(1, pages_of(i) + 1)))}),
])
@pytest.mark.parametrize("sort", ["date", "-date"])
def test_date_order_across_result_pages(service: SearchService, q: str, matching: dict[int, int], sort: str) -> None:
    pages = list(all_pages(service, SiteQuery(q, sort=sort, page_size=7)))
    shown = [r.item.item_id for p in pages for r in p.items]
    assert shown == date_order(matching, -1 if sort == "-date" else 1)
    assert {r.item.item_id: r.matching_pages for p in pages for r in p.items} == \
        {f"item-{i:02d}": k for i, k in matching.items()}
    for p in pages:
        for r in p.items:
            assert [x.n for x in r.pages] == list(range(1, min(3, r.matching_pages) + 1)) or q == "raro"


@pytest.mark.parametrize("top", [200, 5])
def test_relevance_pages_show_every_item_once(service: SearchService, monkeypatch: pytest.MonkeyPatch, top: int) -> None:
    """With few pages scored (``top``), most items are ordered by their number of matching pages."""
    monkeypatch.setattr(site_module, "TOP_PAGES", top)
    pages = list(all_pages(service, SiteQuery("comune", page_size=9)))
    shown = [r for p in pages for r in p.items]
    assert sorted(r.item.item_id for r in shown) == [f"item-{i:02d}" for i in range(N_ITEMS)]
    assert all(r.matching_pages == pages_of(int(r.item.item_id[5:])) and r.pages for r in shown)
    unranked = [r for r in shown if r.score == 0.0]
    assert [(-r.matching_pages, r.item.item_id) for r in unranked] == \
        sorted((-r.matching_pages, r.item.item_id) for r in unranked)
    if top == 5:
        assert len(unranked) >= N_ITEMS - 5


# ---------------------------------------------------------------------------- Solr only
QUERIES = [
    SiteQuery("comune"), SiteQuery("comune", page=3, page_size=7), SiteQuery("raro", page_size=4),
    SiteQuery("comune raro"), SiteQuery('"della città"', sort="-date", page=2, page_size=6),
    SiteQuery("com*", filters={"language": ("de", "en")}, page_size=5),
    SiteQuery("comune", filters={"type": ("book", "periodical"), "collection": ("fondo-2",)}),
    SiteQuery("comune", date_from=1852, date_to=1858, sort="date", page=2, page_size=5),
    SiteQuery("*", sort="date", page=4, page_size=5), SiteQuery("*", sort="-date", page=7, page_size=7),
    SiteQuery("", filters={"year": ("1851",)}), SiteQuery("comune", filters={"year": ("1851", "1999")}, sort="date"),
    SiteQuery("comune", filters={"language": ("xx",)}), SiteQuery("assente"), SiteQuery("comune", page=99),
]


def answer(results: SiteResults) -> dict[str, Any]:
    doc = results.to_json(URLS)
    doc.pop("elapsed_ms")
    for item in doc["items"]:  # Solr's scores are the same; rounding aside
        item["score"] = round(item["score"], 2)
    return doc


@pytest.mark.parametrize("top", [200, 4])
def test_solr_answers_what_the_server_computes_from_counts(gen: Path, search_engine: str,  # noqa: F811
                                                          monkeypatch: pytest.MonkeyPatch, top: int) -> None:
    if search_engine != "solr":
        pytest.skip("Solr's own facets and ordering")
    monkeypatch.setattr(site_module, "TOP_PAGES", top)
    native = SearchService(gen)
    counted_in_server = SearchService(gen)
    assert native.engine.facets_indexed  # type: ignore[union-attr]
    counted_in_server.engine.facets_indexed = False  # type: ignore[union-attr]
    for query in QUERIES:
        assert answer(site_search(native, URLS, query)) == answer(site_search(counted_in_server, URLS, query)), query


def solr_traffic(service: SearchService, monkeypatch: pytest.MonkeyPatch) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    client = service.engine.client  # type: ignore[union-attr]
    seen: list[tuple[dict[str, Any], dict[str, Any]]] = []
    real = client.select

    def select(params: dict[str, Any]) -> dict[str, Any]:
        found = real(params)
        seen.append((params, found))
        return found
    monkeypatch.setattr(client, "select", select)
    return seen


def item_buckets(seen: list[tuple[dict[str, Any], dict[str, Any]]]) -> int:
    """Buckets of terms facets on ``item`` that Solr returned, and documents (pages) listed."""
    total = 0
    for params, found in seen:
        total += len(found.get("response", {}).get("docs") or [])
        for key, spec in json.loads(params.get("json.facet") or "{}").items():
            if isinstance(spec, dict) and spec.get("field") == "item":
                total += len(((found.get("facets") or {}).get(key) or {}).get("buckets") or [])
    return total


@pytest.mark.parametrize("sort", ["relevance", "date"])
def test_what_solr_returns_does_not_grow_with_the_matching_items(gen: Path, search_engine: str,  # noqa: F811
                                                                 monkeypatch: pytest.MonkeyPatch, sort: str) -> None:
    """A word on every item: Solr returns the facet values, the scored pages (``TOP_PAGES``) and
    the result page's items — not a bucket per matching item (48 here)."""
    if search_engine != "solr":
        pytest.skip("what is asked of Solr")
    monkeypatch.setattr(site_module, "TOP_PAGES", 6)
    service = SearchService(gen)
    seen = solr_traffic(service, monkeypatch)
    results = site_search(service, URLS, SiteQuery("comune", sort=sort, page=2, page_size=4))
    assert results.total == N_ITEMS and len(results.items) == 4
    assert len(seen) <= 3
    years = Counter(year_of(i) for i in range(N_ITEMS))
    bound = 6 + 4 if sort == "relevance" else 3 * max(years.values()) + 4  # the years the page touches
    assert item_buckets(seen) <= bound < N_ITEMS


def test_kept_items_with_new_metadata_are_counted_by_it(tmp_path: Path, search_engine: str) -> None:  # noqa: F811
    """Metadata changed while the OCR did not: the item is kept, its facets follow the metadata
    (Solr: its pages are indexed again from the word store, under a new version)."""
    from server.search import SearchIndexWriter
    first = index_generation(tmp_path, [(meta(i), item_pages(i)) for i in range(4)])
    changed = IndexedItem("item-01", {"it": ["Documento 1"]}, ["archivio", "fondo-9"], "map", "1999", 1999, ["fr"])
    second = tmp_path / "manifests" / "gen-2"
    second.mkdir()
    with SearchIndexWriter(second, first) as writer:
        for i in range(4):
            assert writer.keep_item(changed if i == 1 else meta(i))
    results = site_search(SearchService(second), URLS, SiteQuery("comune", filters={"type": ("map",)}))
    assert [r.item.item_id for r in results.items] == ["item-01"]
    assert counted(results)["year"] == {"1999": 1} and counted(results)["language"] == {"fr": 1}
    assert counted(results)["type"] == {"map": 1, "book": 2, "periodical": 1}  # its own filter not applied
    assert results.items[0].pages and SearchService(second).search_item("item-01", "comune").total_hits
    if search_engine == "solr":
        old, new = read_meta(first), read_meta(second)
        assert old and new and old["items"]["item-01"]["solr"] != new["items"]["item-01"]["solr"]
        assert old["items"]["item-02"]["solr"] == new["items"]["item-02"]["solr"]  # unchanged: kept as it was


def test_a_generation_without_facets_in_solr_is_answered_and_upgraded(tmp_path: Path,
                                                                      search_engine: str) -> None:  # noqa: F811
    """Generations indexed before the documents carried facet values: the server counts them, and
    the next ingest indexes the kept items' pages again (from the word store) so Solr can."""
    if search_engine != "solr":
        pytest.skip("Solr's documents")
    from server.search import SearchIndexWriter
    first = index_generation(tmp_path, [(meta(i), item_pages(i)) for i in range(6)])
    description = read_meta(first)
    assert description is not None
    for entry in description["items"].values():
        entry.pop("solr_facets")
    for part in (first / INDEX_DIR).glob("heritage-*.json"):
        part.unlink()
    write_meta(first / INDEX_DIR, description, description["items"])
    old = SearchService(first)
    assert not old.engine.facets_indexed  # type: ignore[union-attr]
    before = answer(site_search(old, URLS, SiteQuery("comune", sort="date")))
    second = tmp_path / "manifests" / "gen-2"
    second.mkdir()
    with SearchIndexWriter(second, first) as writer:
        for i in range(6):
            assert writer.keep_item(meta(i))
    new = SearchService(second)
    assert new.engine.facets_indexed  # type: ignore[union-attr]
    after = answer(site_search(new, URLS, SiteQuery("comune", sort="date")))
    assert after["total"] == before["total"] == 6
    assert after["facets"] == before["facets"] and [i["id"] for i in after["items"]] == [i["id"] for i in before["items"]]


def test_a_value_repeated_in_a_collection_path_counts_the_item_once() -> None:
    """Solr counts distinct items per value (``unique(item)``); the server path does the same."""
    from server.search.facets import facet_values
    item = IndexedItem("x", {"it": ["X"]}, ["fondo", "fondo/serie", "fondo"], "document", None, 1901, ["it", "it"])
    values = facet_values(item)
    assert values["collection"] == ("fondo", "fondo/serie")
    assert values["language"] == ("it",) and values["year"] == ("1901",) and values["decade"] == ("1900",)
