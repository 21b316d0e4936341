"""Search over the real sample holdings: hits against the raw OCR, Content Search 1.0/2.0 JSON,
autocomplete, the HTTP layer and the researchers' search.

The index is built once for the module from the sample's real OCR files (parsed with server.ocr),
in a generation folder published the way ingest publishes one (``manifests/current``).
"""
from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from lxml import etree
from PIL import Image

from server import create_app
from server.ocr import parse_ocr
from server.search import IndexedItem, IndexedPage, SiteQuery, site_search
from server.search.iiif import autocomplete_v1, autocomplete_v2, search_v1, search_v2
from server.search.service import SearchService
from server.search.urls import SearchUrls, search_services
from tests.conftest import SAMPLE
from tests.search_engines import search_engine, solr_url  # noqa: F401
from tests.search_support import index_generation

ITEMS = SAMPLE / "items"
BASE = "http://localhost"
RASSEGNA = "periodical-ita-rassegna-settimanale-1878-10-06"
NORDSTERN = "newspaper-deu-der-nordstern-1878-01-03"
BNF = "document-ita-bnf-it-912"
KANT = "periodical-deu-berlinische-monatsschrift-1784-12"
ENGLISH = "periodical-eng-english-illustrated-magazine-1884-12"

# item id → (metadata, [(image, ocr)])
SAMPLE_ITEMS: dict[str, tuple[IndexedItem, list[tuple[str, str]]]] = {
    RASSEGNA: (IndexedItem(RASSEGNA, {"it": ["La Rassegna Settimanale, 6 ottobre 1878"]}, ["emeroteca", "rassegna"],
                           "periodical", "1878-10-06", 1878, ["it"]),
               [(f"000{n}.png", f"000{n}.hocr") for n in (1, 2, 3)]),
    NORDSTERN: (IndexedItem(NORDSTERN, {"de": ["Der Nordstern, 3. Januar 1878"]}, ["emeroteca", "nordstern"],
                            "newspaper", "1878-01-03", 1878, ["de"]),
                [("0011.jpg", "0011.xml"), ("0012.jpg", "0012.xml")]),
    BNF: (IndexedItem(BNF, {"it": ["Cataloghi di prezzi delle merci"]}, ["archivio"], "document", None, None, ["it"]),
          [(f"btv1b52501692k_f{n}.jpg", f"btv1b52501692k_f{n}.xml") for n in (9, 10, 11)]),
    KANT: (IndexedItem(KANT, {"de": ["Berlinische Monatsschrift, Dezember 1784"]}, ["biblioteca"], "periodical",
                       "1784-12", 1784, ["de"]),
           [("INPUT_0017.tif", "INPUT_0017.xml"), ("INPUT_0020.tif", "INPUT_0020.xml")]),
    ENGLISH: (IndexedItem(ENGLISH, {"en": ["The English Illustrated Magazine, December 1884"]}, ["biblioteca"],
                          "periodical", "1884-12", 1884, ["en"]),
              [("sim_english-illustrated-magazine_1884-12_2_15_0000.jp2",
                "sim_english-illustrated-magazine_1884-12_2_15_0000.hocr")]),
}


def image_size(path: Path) -> tuple[int, int]:
    with Image.open(path) as im:  # reads the header only (JPEG 2000 included, through OpenJPEG)
        return im.size


def sample_pages(item_id: str) -> list[IndexedPage]:
    pages = []
    for n, (image, ocr) in enumerate(SAMPLE_ITEMS[item_id][1], 1):
        w, h = image_size(ITEMS / item_id / image)
        pages.append(IndexedPage(n, f"p. {n}", w, h, parse_ocr(ITEMS / item_id / ocr, w, h)))
    return pages


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory, search_engine: str) -> Path:  # noqa: F811
    data = tmp_path_factory.mktemp("search-data")
    index_generation(data, [(item, sample_pages(item_id)) for item_id, (item, _) in SAMPLE_ITEMS.items()],
                     {"emeroteca": {"it": ["Emeroteca"], "en": ["Newspaper library"]}})
    return data


@pytest.fixture(scope="module")
def gen(data_dir: Path) -> Path:
    return (data_dir / "manifests" / "current").resolve()


@pytest.fixture(scope="module")
def service(gen: Path) -> SearchService:
    return SearchService(gen)


@pytest.fixture(scope="module")
def urls() -> SearchUrls:
    return SearchUrls(BASE)


@pytest.fixture(scope="module")
def app(data_dir: Path) -> Iterator[Flask]:
    app = create_app({"data": data_dir, "base_url": BASE})
    if "search" not in app.blueprints:  # until create_app registers it
        from server.search.views import search
        app.register_blueprint(search)
    app.config["SEARCH_HITS_PER_PAGE"] = 5
    yield app


@pytest.fixture()
def client(app: Flask) -> FlaskClient:
    return app.test_client()


# --------------------------------------------------------------------------- raw OCR, read here
def hocr_words(path: Path) -> list[tuple[str, tuple[int, int, int, int]]]:
    """``(text, (x, y, w, h))`` of every ocrx_word, from the raw hOCR (bbox is x0 y0 x1 y1)."""
    root = etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True)).getroot()
    out = []
    for el in root.iter():
        if isinstance(el.tag, str) and "ocrx_word" in (el.get("class") or "").split():
            x0, y0, x1, y1 = map(int, re.search(r"bbox (\d+) (\d+) (\d+) (\d+)", el.get("title", "")).groups())  # type: ignore[union-attr]
            out.append(("".join(el.itertext()), (x0, y0, x1 - x0, y1 - y0)))
    return out


def alto_strings(path: Path, width: int, height: int) -> list[tuple[str, str | None, tuple[int, int, int, int]]]:
    """``(CONTENT, SUBS_CONTENT, box in canvas pixels)`` of every String, scaled by image ÷ Page size."""
    root = etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True)).getroot()
    page = next(el for el in root.iter() if isinstance(el.tag, str) and etree.QName(el).localname == "Page")
    sx, sy = width / float(page.get("WIDTH")), height / float(page.get("HEIGHT"))  # type: ignore[arg-type]

    def r(v: float) -> int:
        return math.floor(v + 0.5)

    out = []
    for el in root.iter():
        if isinstance(el.tag, str) and etree.QName(el).localname == "String":
            x, y = float(el.get("HPOS")), float(el.get("VPOS"))  # type: ignore[arg-type]
            w, h = float(el.get("WIDTH")), float(el.get("HEIGHT"))  # type: ignore[arg-type]
            x0, y0, x1, y1 = r(x * sx), r(y * sy), r((x + w) * sx), r((y + h) * sy)
            out.append((el.get("CONTENT") or "", el.get("SUBS_CONTENT"), (x0, y0, x1 - x0, y1 - y0)))
    return out


def union(*boxes: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    x0, y0 = min(b[0] for b in boxes), min(b[1] for b in boxes)
    x1, y1 = max(b[0] + b[2] for b in boxes), max(b[1] + b[3] for b in boxes)
    return (x0, y0, x1 - x0, y1 - y0)


def find_sequence(words: list[tuple[str, Any]], texts: list[str]) -> list[Any]:
    for i in range(len(words) - len(texts) + 1):
        if [w[0] for w in words[i:i + len(texts)]] == texts:
            return [w[-1] for w in words[i:i + len(texts)]]
    raise AssertionError(f"{texts} not in the raw OCR")


# --------------------------------------------------------------------------- hits = raw OCR boxes
def test_hyphenated_phrase_across_lines_hocr(service: SearchService) -> None:
    """sull’ Ammini- | strazione del Comune: one hit, one annotation per line, boxes from the raw bboxes."""
    raw = hocr_words(ITEMS / RASSEGNA / "0001.hocr")
    sull, ammini, strazione, del_, comune = find_sequence(raw, ["sull’", "Ammini-", "strazione", "del", "Comune"])
    result = service.search_item(RASSEGNA, '"sull amministrazione del comune"')
    assert result.total_hits == 1 and result.total_annotations == 2
    hit = result.hits[0]
    assert hit.n == 1 and hit.match == "sull’ Amministrazione del Comune"
    assert [p.box for p in hit.parts] == [union(sull, ammini), union(strazione, del_, comune)]


def test_single_hyphenated_word_has_two_boxes_alto_inch1200(service: SearchService) -> None:
    w, h = image_size(ITEMS / NORDSTERN / "0011.jpg")
    raw = alto_strings(ITEMS / NORDSTERN / "0011.xml", w, h)
    part1, part2 = [box for content, subs, box in raw if subs == "Abonnement"][:2]
    whole = next(box for content, subs, box in raw if content == "Abonnement" and subs is None)
    result = service.search_item(NORDSTERN, "Abonnement")
    on_page_1 = [hit for hit in result.hits if hit.n == 1 and hit.match.strip(".,;") == "Abonnement"]
    assert [p.box for p in on_page_1[0].parts] == [part1, part2]  # one hit, two annotations
    assert [p.box for p in on_page_1[1].parts] == [whole]


def test_line_level_alto_gives_the_line_box(service: SearchService) -> None:
    w, h = image_size(ITEMS / BNF / "btv1b52501692k_f9.jpg")
    raw = alto_strings(ITEMS / BNF / "btv1b52501692k_f9.xml", w, h)
    line = next(box for content, _, box in raw if "ſaper" in content)
    result = service.search_item(BNF, "saper")  # ſ folds to s
    assert [p.box for hit in result.hits if hit.n == 1 for p in hit.parts] == [line]


def test_word_level_alto_pixels_fraktur(service: SearchService) -> None:
    w, h = image_size(ITEMS / KANT / "INPUT_0017.tif")
    raw = alto_strings(ITEMS / KANT / "INPUT_0017.xml", w, h)
    expected = [box for content, _, box in raw if content.startswith("Aufkla")]
    result = service.search_item(KANT, "Aufklärung")  # printed "Aufklaͤrung" (a + combining e)
    assert expected and [p.box for hit in result.hits if hit.n == 1 for p in hit.parts] == expected


def test_phrase_across_a_plain_line_break_hocr(service: SearchService, urls: SearchUrls) -> None:
    raw = hocr_words(ITEMS / ENGLISH / "sim_english-illustrated-magazine_1884-12_2_15_0000.hocr")
    accident, of, time_ = find_sequence(raw, ["accident", "of", "time"])
    result = service.search_item(ENGLISH, '"accident of time"')
    assert result.total_hits == 1 and [p.box for p in result.hits[0].parts] == [accident, union(of, time_)]
    doc = search_v1(urls, result, [])
    assert len(doc["hits"]) == 1 and len(doc["resources"]) == 2
    assert doc["hits"][0]["annotations"] == [r["@id"] for r in doc["resources"]]
    canvas = f"{BASE}/iiif/3/{ENGLISH}/canvas/1"
    assert doc["resources"][0]["on"] == canvas + "#xywh=" + ",".join(map(str, accident))


def test_prefix_with_many_expansions_is_exact_within_an_item(service: SearchService, gen: Path) -> None:
    from server.search.analysis import tokens
    from server.search.lexicon import EXPANSIONS
    assert service.vocabulary(RASSEGNA).count_prefix("co") > EXPANSIONS
    expected = sum(1 for n in (1, 2, 3) for word in service.page(RASSEGNA, n).texts  # type: ignore[union-attr]
                   if any(t.startswith("co") for t in tokens(word)))
    assert service.search_item(RASSEGNA, "co*", page_size=10_000).total_hits == expected


def test_every_target_is_an_integer_xywh_string(service: SearchService, urls: SearchUrls) -> None:
    """What Universal Viewer parses: ``canvas#xywh=x,y,w,h`` with integers, inside the canvas."""
    for item_id in SAMPLE_ITEMS:
        result = service.search_item(item_id, "a* OR e* OR d*", page_size=500)
        for resource in search_v1(urls, result, [])["resources"]:
            m = re.fullmatch(rf"{re.escape(BASE)}/iiif/3/{re.escape(item_id)}/canvas/(\d+)#xywh=(\d+),(\d+),(\d+),(\d+)",
                             resource["on"])
            assert m, resource["on"]
            _x, _y, w, h = map(int, m.groups()[1:])
            assert w > 0 and h > 0


# --------------------------------------------------------------------------- Content Search JSON
def test_search_v1_shape(service: SearchService, urls: SearchUrls) -> None:
    doc = search_v1(urls, service.search_item(RASSEGNA, "firenze", page=1, page_size=5), ["user"])
    assert doc["@context"] == ["http://iiif.io/api/presentation/2/context.json", "http://iiif.io/api/search/1/context.json"]
    assert doc["@type"] == "sc:AnnotationList"
    within = doc["within"]
    assert within["@type"] == "sc:Layer" and within["total"] > 5 and within["ignored"] == ["user"]
    assert within["first"].endswith("?q=firenze&page=1") and doc["next"].endswith("?q=firenze&page=2")
    assert "prev" not in doc and doc["startIndex"] == 0
    assert len(doc["hits"]) == 5
    ids = {r["@id"] for r in doc["resources"]}
    for hit in doc["hits"]:
        assert hit["@type"] == "search:Hit" and set(hit["annotations"]) <= ids
        assert hit["match"] and "before" in hit and "after" in hit
    for r in doc["resources"]:
        assert r["@type"] == "oa:Annotation" and r["motivation"] == "sc:painting"
        assert r["resource"]["@type"] == "cnt:ContentAsText" and r["resource"]["chars"]


def test_search_v1_paging_walks_every_hit(service: SearchService, urls: SearchUrls) -> None:
    total = service.search_item(RASSEGNA, "comune").total_hits
    seen, page, last = [], 1, None
    while True:
        doc = search_v1(urls, service.search_item(RASSEGNA, "comune", page=page, page_size=7), [])
        assert doc["startIndex"] == len(seen)
        assert ("prev" in doc) == (page > 1) and doc.get("prev", "page=0").endswith(f"page={page - 1}")
        seen += [tuple(h["annotations"]) for h in doc["hits"]]
        last = doc["within"]["last"]
        if "next" not in doc:
            break
        assert doc["next"].endswith(f"page={page + 1}")
        page += 1
    assert len(seen) == len(set(seen)) == total and last.endswith(f"page={page}")


def test_search_v2_shape(service: SearchService, urls: SearchUrls) -> None:
    result = service.search_item(RASSEGNA, '"sull amministrazione del comune" OR firenze', page=1, page_size=4)
    doc = search_v2(urls, result, ["date"])
    assert doc["@context"] == "http://iiif.io/api/search/2/context.json" and doc["type"] == "AnnotationPage"
    assert doc["partOf"]["type"] == "AnnotationCollection" and doc["partOf"]["total"] == result.total_annotations
    assert doc["partOf"]["first"]["type"] == "AnnotationPage" and doc["next"]["type"] == "AnnotationPage"
    assert doc["ignored"] == ["date"] and doc["startIndex"] == 0
    ids = {a["id"] for a in doc["items"]}
    for a in doc["items"]:
        assert a["type"] == "Annotation" and a["motivation"] == "painting"
        assert a["body"] == {"type": "TextualBody", "value": a["body"]["value"], "format": "text/plain"}
        assert re.fullmatch(r".*/canvas/\d+#xywh=\d+,\d+,\d+,\d+", a["target"])
    extra = doc["annotations"][0]
    assert extra["type"] == "AnnotationPage" and extra["partOf"]["total"] == result.total_hits
    assert extra["partOf"]["id"] != doc["partOf"]["id"]
    assert all(m["motivation"] == "contextualizing" for m in extra["items"])
    phrase = next(m for m in extra["items"] if isinstance(m["target"], list))  # the phrase over two lines
    first, second = phrase["target"]
    assert first["source"] in ids and second["source"] in ids
    assert first["selector"][0]["type"] == "TextQuoteSelector"
    assert first["selector"][0]["exact"] == "sull’ Amministrazione" and "prefix" in first["selector"][0]
    assert second["selector"][0]["exact"] == "del Comune" and "suffix" in second["selector"][0]


def test_search_v2_start_index_counts_annotations(service: SearchService, urls: SearchUrls) -> None:
    q = "amministrazione"  # hyphenated occurrences make some hits two annotations
    everything = service.search_item(RASSEGNA, q, page_size=1000)
    second = search_v2(urls, service.search_item(RASSEGNA, q, page=2, page_size=3), [])
    assert second["startIndex"] == sum(len(h.parts) for h in everything.hits[:3])
    assert second["partOf"]["total"] == sum(len(h.parts) for h in everything.hits)


def test_no_hits_is_an_empty_list(service: SearchService, urls: SearchUrls) -> None:
    doc = search_v1(urls, service.search_item(RASSEGNA, "xylophone"), [])
    assert doc["resources"] == [] and doc["hits"] == [] and doc["within"]["total"] == 0
    assert search_v2(urls, service.search_item(RASSEGNA, ""), [])["items"] == []


def test_autocomplete(service: SearchService, urls: SearchUrls) -> None:
    terms = service.autocomplete(RASSEGNA, "amm")
    values = [t for t, _ in terms]
    assert "amministrazione" in values and all(v.startswith("amm") for v in values)
    assert terms == sorted(terms, key=lambda t: (-t[1], t[0]))
    assert all(c >= 2 for _, c in service.autocomplete(RASSEGNA, "amm", min_count=2))
    assert "città" in [t for t, _ in service.autocomplete(RASSEGNA, "citt")]  # shown with its accent
    assert service.autocomplete(RASSEGNA, "green bir") == []
    doc = autocomplete_v1(urls, RASSEGNA, f"{BASE}/x?q=amm", terms, ["motivation"])
    assert doc["@type"] == "search:TermList" and doc["ignored"] == ["motivation"]
    assert doc["terms"][0]["url"].startswith(f"{BASE}/iiif/search/1/{RASSEGNA}?q=")
    assert isinstance(doc["terms"][0]["count"], int)
    doc2 = autocomplete_v2(f"{BASE}/x?q=amm", terms, [])
    assert doc2["type"] == "TermPage" and doc2["items"][0] == {"value": terms[0][0], "total": terms[0][1]}


def test_service_descriptions_for_the_manifest() -> None:
    s1, s2 = search_services(BASE, RASSEGNA)
    assert s1["profile"] == "http://iiif.io/api/search/1/search" and s1["@type"] == "SearchService1"
    assert s1["@id"] == f"{BASE}/iiif/search/1/{RASSEGNA}"
    assert s1["service"][0]["profile"] == "http://iiif.io/api/search/1/autocomplete"
    assert s2 == {"id": f"{BASE}/iiif/search/2/{RASSEGNA}", "type": "SearchService2",
                  "service": [{"id": f"{BASE}/iiif/search/2/{RASSEGNA}/autocomplete", "type": "AutoCompleteService2"}]}


# --------------------------------------------------------------------------- HTTP
def test_http_search_1_and_2(client: FlaskClient) -> None:
    r = client.get(f"/iiif/search/1/{RASSEGNA}?q=firenze&motivation=painting&user=x")
    assert r.status_code == 200 and r.headers["Access-Control-Allow-Origin"] == "*"
    doc = r.get_json()
    assert doc["within"]["ignored"] == ["motivation", "user"] and len(doc["hits"]) == 5  # SEARCH_HITS_PER_PAGE
    nxt = client.get(doc["next"].replace(BASE, ""))
    assert nxt.status_code == 200 and nxt.get_json()["startIndex"] == 5
    r2 = client.get(f"/iiif/search/2/{RASSEGNA}?q=firenze")
    assert r2.status_code == 200 and r2.get_json()["type"] == "AnnotationPage"
    assert client.get(f"/iiif/search/2/{RASSEGNA}?q=firenze", headers={"If-None-Match": r2.headers["ETag"]}).status_code == 304
    ld = client.get(f"/iiif/search/1/{RASSEGNA}?q=firenze", headers={"Accept": "application/ld+json"})
    assert ld.headers["Content-Type"].startswith("application/ld+json")


def test_http_errors(client: FlaskClient) -> None:
    r = client.get("/iiif/search/1/no-such-item?q=x")
    assert r.status_code == 404 and r.headers["Access-Control-Allow-Origin"] == "*" and r.is_json
    assert client.get("/iiif/search/2/no-such-item/autocomplete?q=x").status_code == 404
    r = client.get(f"/iiif/search/1/{RASSEGNA}/autocomplete")
    assert r.status_code == 400 and r.get_json()["parameter"] == "q"
    assert client.get(f"/iiif/search/2/{RASSEGNA}/autocomplete?q=").status_code == 400
    assert client.get(f"/iiif/search/2/{RASSEGNA}/autocomplete?q=a&min=0").status_code == 400
    assert client.get(f"/iiif/search/1/{RASSEGNA}?q=x&page=0").status_code == 400
    assert client.get(f"/iiif/search/1/{RASSEGNA}?q=x&page=abc").status_code == 400
    r = client.get(f"/iiif/search/1/{RASSEGNA}?q=xylophone")
    assert r.status_code == 200 and r.get_json()["hits"] == []
    r = client.get(f"/iiif/search/1/{RASSEGNA}")
    assert r.status_code == 200 and r.get_json()["within"]["total"] == 0


def test_http_autocomplete(client: FlaskClient) -> None:
    r = client.get(f"/iiif/search/1/{RASSEGNA}/autocomplete?q=amm&min=2&date=x")
    doc = r.get_json()
    assert r.status_code == 200 and doc["@type"] == "search:TermList" and doc["ignored"] == ["date"]
    assert doc["terms"] and all(t["count"] >= 2 for t in doc["terms"])
    assert doc["@id"] == f"{BASE}/iiif/search/1/{RASSEGNA}/autocomplete?q=amm&min=2"
    doc2 = client.get(f"/iiif/search/2/{RASSEGNA}/autocomplete?q=amm").get_json()
    assert doc2["type"] == "TermPage" and doc2["items"][0]["value"].startswith("amm")


def test_site_search_json(client: FlaskClient) -> None:
    doc = client.get("/search.json?q=1878").get_json()
    assert doc["total"] >= 2 and doc["facets"]["language"]
    r = client.get("/search.json?q=comune&sort=bogus")
    assert r.status_code == 400 and r.get_json()["parameter"] == "sort"
    assert client.get("/search.json?q=comune&page=0").status_code == 400
    assert client.get("/search.json?q=comune&from=abc").status_code == 400


def test_search_page_escapes_the_query(client: FlaskClient) -> None:
    # (xylophone: no page matches, so no result can print a "49" of its own)
    r = client.get("/search?q=%3Cscript%3Ealert(1)%3C/script%3E%20%7B%7B7*7%7D%7D%20xylophone")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "{{7*7}}" in html and "49" not in html


def test_search_page_shows_hits(client: FlaskClient) -> None:
    html = client.get("/search?q=firenze").get_data(as_text=True)
    assert "<mark>" in html and f"/item/{RASSEGNA}?iiif-content=" in html and "/iiif/3/image/" in html


# --------------------------------------------------------------------------- researchers' search
def test_site_search_groups_pages_by_item(service: SearchService, urls: SearchUrls) -> None:
    results = site_search(service, urls, SiteQuery("comune"))
    assert results.total == 1 and results.total_pages == 3
    item = results.items[0]
    assert item.item.item_id == RASSEGNA and item.matching_pages == 3 and len(item.pages) == 3
    page = item.pages[0]
    assert page.url.startswith(f"{BASE}/item/{RASSEGNA}?iiif-content=") and page.url.endswith("&q=comune")
    snippet = page.snippets[0]
    assert "<mark>" in snippet.html and snippet.image and snippet.region
    x, y, w, h = snippet.region
    assert snippet.image.startswith(f"{BASE}/iiif/3/image/{RASSEGNA}~{page.n}/{x},{y},{w},{h}/")
    assert item.thumbnail and item.manifest == f"{BASE}/iiif/3/{RASSEGNA}/manifest"


def test_snippet_crop_covers_the_hit_lines(service: SearchService, urls: SearchUrls) -> None:
    """The crop is the full width of the line(s) holding the hit: check it contains the hit's boxes."""
    hit = service.search_item(RASSEGNA, '"sull amministrazione del comune"').hits[0]
    results = site_search(service, urls, SiteQuery('"sull amministrazione del comune"'))
    region = results.items[0].pages[0].snippets[0].region
    assert region is not None
    for part in hit.parts:
        assert part.box is not None
        px, py, pw, ph = part.box
        assert region[0] <= px and region[1] <= py
        assert px + pw <= region[0] + region[2] and py + ph <= region[1] + region[3]


def test_snippets_escape_ocr_text(service: SearchService, urls: SearchUrls) -> None:
    results = site_search(service, urls, SiteQuery("parlamentare"))
    html = results.items[0].pages[0].snippets[0].html
    assert "d&#39;" in html  # the OCR's "d'" escaped
    assert "<mark>parlamentare</mark>" in html


def test_facets_filters_and_sorting(service: SearchService, urls: SearchUrls) -> None:
    everything = site_search(service, urls, SiteQuery("der OR di OR the"))
    assert everything.total == 5
    languages = {v.value: v.count for v in everything.facets["language"]}
    assert languages == {"de": 2, "it": 2, "en": 1}
    emeroteca = next(v for v in everything.facets["collection"] if v.value == "emeroteca")
    assert emeroteca.count == 2 and emeroteca.label == {"it": ["Emeroteca"], "en": ["Newspaper library"]}
    german = site_search(service, urls, SiteQuery("der OR di OR the", filters={"language": ("de",)}))
    assert {r.item.item_id for r in german.items} == {NORDSTERN, KANT}
    # disjunctive: the language facet still counts the other languages; the type facet narrows
    assert {v.value: v.count for v in german.facets["language"]} == languages
    assert {v.value: v.count for v in german.facets["type"]} == {"newspaper": 1, "periodical": 1}
    both = site_search(service, urls, SiteQuery("der OR di OR the", filters={"language": ("de",), "type": ("newspaper",)}))
    assert [r.item.item_id for r in both.items] == [NORDSTERN]
    dated = site_search(service, urls, SiteQuery("der OR di OR the", date_from=1800, date_to=1880, sort="date"))
    assert [r.item.item_id for r in dated.items] == [NORDSTERN, RASSEGNA]  # 1878-01-03 before 1878-10-06
    newest = site_search(service, urls, SiteQuery("der OR di OR the", sort="-date"))
    assert newest.items[0].item.item_id == ENGLISH and newest.items[-1].item.item_id == BNF  # undated last
    decades = {v.value: v.count for v in everything.facets["decade"]}
    assert decades == {"1780": 1, "1870": 2, "1880": 1}
    paged = site_search(service, urls, SiteQuery("der OR di OR the", page=2, page_size=2))
    assert paged.page_count == 3 and len(paged.items) == 2


def test_site_search_json_shape(service: SearchService, urls: SearchUrls) -> None:
    doc = site_search(service, urls, SiteQuery("firenze", page_size=1)).to_json(urls)
    assert doc["id"] == f"{BASE}/search.json?q=firenze&page_size=1" and "next" not in doc
    item = doc["items"][0]
    assert {"id", "label", "manifest", "url", "thumbnail", "pages", "matching_pages"} <= set(item)
    snippet = item["pages"][0]["snippets"][0]
    assert re.fullmatch(r"\d+,\d+,\d+,\d+", snippet["xywh"]) and snippet["image"].endswith("/0/default.jpg")


def test_empty_and_negative_queries(service: SearchService, urls: SearchUrls) -> None:
    assert site_search(service, urls, SiteQuery("")).total == 0
    assert site_search(service, urls, SiteQuery("-comune")).total == 0
    assert site_search(service, urls, SiteQuery("firenze -comune")).total == 0  # every Firenze page has "comune"



def test_punctuation_in_a_query_does_not_hide_the_words(client: FlaskClient) -> None:
    """``a&b Firenze`` found nothing although Firenze occurs: the symbol made "a b" a required phrase."""
    plain = client.get("/search.json?q=Firenze").get_json()
    doc = client.get("/search.json", query_string={"q": "a&b Firenze"}).get_json()
    assert doc["total"] >= 1 and [i["id"] for i in doc["items"]] == [i["id"] for i in plain["items"]]
    for version in (1, 2):
        hits = client.get(f"/iiif/search/{version}/{RASSEGNA}", query_string={"q": "a&b Firenze"}).get_json()
        assert hits["resources" if version == 1 else "items"]
    assert client.get("/search.json", query_string={"q": "Firenze/xylophone"}).get_json()["total"] >= 1


@pytest.mark.parametrize("q", ["a&b Firenze", "&", "a&&b|c", '"Firenze', "title:Firenze^2", "Fir?nze", "*", "~",
                               "-x", "NOT", "(Firenze OR)", "\\", "%00", "\x00", "<b>", "{{7*7}}", "a" * 600])
def test_punctuation_laden_queries_never_fail(client: FlaskClient, q: str) -> None:
    for url in ("/search.json", "/search", f"/iiif/search/1/{RASSEGNA}", f"/iiif/search/2/{RASSEGNA}",
                f"/iiif/search/1/{RASSEGNA}/autocomplete", f"/iiif/search/2/{RASSEGNA}/autocomplete"):
        r = client.get(url, query_string={"q": q})
        assert r.status_code in (200, 400), (url, q, r.status_code)
        if r.status_code == 400:
            assert len(q) > 500 or "autocomplete" in url, (url, q)


def test_facet_values_are_made_once_per_generation(service: SearchService, urls: SearchUrls,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """A query matching most of a large archive must not rebuild every matched item's facet values
    (that was a third of a site-wide query's time at 200,000 pages)."""
    from server.search import site
    calls = []
    real = site.facet_values
    monkeypatch.setattr(site, "facet_values", lambda *a: calls.append(a) or real(*a))
    monkeypatch.setattr(site, "_FACET_TABLES", type(site._FACET_TABLES)())
    first = site_search(service, urls, SiteQuery("der OR di OR the"))
    # the server makes them when it counts the facets (Whoosh); Solr counts them itself: none
    made = 0 if getattr(service.engine, "facets_indexed", False) else len(service.items)
    assert len(calls) == made
    again = site_search(service, urls, SiteQuery("der OR di OR the", filters={"language": ("de",)}))
    assert len(calls) == made  # not once more per query or per matched item
    assert again.facets["language"] == [dataclasses.replace(v, selected=v.value == "de") for v in first.facets["language"]]


def test_a_word_within_an_item_does_not_read_the_items_word_list(gen: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Only prefix and fuzzy terms need the item's vocabulary (a book's is tens of thousands of
    lines: loading it was a third of a within-book query in a 200,000-page archive)."""
    from server.search import service as service_module
    monkeypatch.setattr(service_module, "SCAN_PAGES", 0)  # ask the engine, as for a book
    fresh = SearchService(gen)
    loaded: list[str] = []
    real = SearchService.vocabulary
    monkeypatch.setattr(SearchService, "vocabulary", lambda self, item_id: loaded.append(item_id) or real(self, item_id))
    assert fresh.search_item(RASSEGNA, "comune").total_hits > 0
    assert fresh.search_item(RASSEGNA, '"del comune"').total_hits >= 0
    assert loaded == []
    assert fresh.search_item(RASSEGNA, "comun*").total_hits > 0
    assert loaded == [RASSEGNA]
