"""Manifests and collections built from the sample holdings, validated against the official IIIF 3.0 schema."""
from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from server.config import Settings
from server.errors import NotFound
from server.holdings import Holdings, Item, read_holdings
from server.holdings.model import DateValue, Page, Range
from server.presentation import ChildRef, PageInfo, Urls, build_collection, build_manifest
from server.presentation.paging import PageSpan

SHARED = Path(__file__).resolve().parent / "fixtures"
SAMPLE = SHARED / "holdings-sample"
BASE = "https://heritage.example.org/lab"
DOC = "document-ita-bnf-it-912"
NORD = "newspaper-deu-der-nordstern-1878-01-03"
RASS = "periodical-ita-rassegna-settimanale-1878-10-06"
KANT = "periodical-deu-berlinische-monatsschrift-1784-12"
EIM = "periodical-eng-english-illustrated-magazine-1884-12"


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft7Validator:
    with open(SHARED / "schemas" / "iiif_3_0.json", encoding="utf-8") as f:
        return jsonschema.Draft7Validator(json.load(f))


@pytest.fixture(scope="module")
def holdings() -> Holdings:
    return read_holdings(SAMPLE)


@pytest.fixture(scope="module")
def urls() -> Urls:
    return Urls(BASE)


SETTINGS = Settings()


def fake_pages(item: Item) -> list[PageInfo]:
    """Sizes as ingest would measure them (made up), image ids from the file names."""
    return [PageInfo(f"{item.id}-{p.image.stem}", 2000 + n, 3000 - n, ocr_format=p.ocr_format)
            for n, p in enumerate(item.pages)]


def errors(validator: jsonschema.Draft7Validator, doc: dict[str, Any]) -> list[str]:
    return [f"{list(e.absolute_path)}: {e.message[:300]}" for e in validator.iter_errors(doc)]


def walk(value: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield k, v
            yield from walk(v)
    elif isinstance(value, list):
        for v in value:
            yield from walk(v)


# --- manifests ------------------------------------------------------------------------------------

@pytest.mark.parametrize("item_id", [DOC, KANT, NORD, EIM, RASS])
def test_sample_manifests_validate(holdings: Holdings, urls: Urls, validator: jsonschema.Draft7Validator,
                                   item_id: str) -> None:
    item = holdings.items[item_id]
    manifest = build_manifest(item, fake_pages(item), urls, SETTINGS)
    assert errors(validator, manifest) == []
    assert manifest["@context"] == "http://iiif.io/api/presentation/3/context.json"
    assert manifest["id"] == f"{BASE}/iiif/3/{item_id}/manifest"
    assert manifest["label"] == item.title
    assert len(manifest["items"]) == len(item.pages)
    # every language map uses real languages: iiif-prezi3's "none" default never leaks in
    keys = {k for key, value in walk(manifest) if key in ("label", "value", "summary") for k in value}
    assert "none" not in keys and keys <= {"it", "en"}
    # every id is ours: no auto-generated example.org ids
    assert all(v.startswith(BASE) for key, v in walk(manifest) if key == "id")


def test_manifest_properties(holdings: Holdings, urls: Urls) -> None:
    item = holdings.items[NORD]
    m = build_manifest(item, fake_pages(item), urls, SETTINGS)
    assert m["navDate"] == "1878-01-03T00:00:00Z"
    assert m["rights"] == "http://creativecommons.org/publicdomain/mark/1.0/"
    assert m["behavior"] == ["paged"] and m["viewingDirection"] == "left-to-right"
    assert m["partOf"] == [{"id": f"{BASE}/iiif/3/collection/der-nordstern", "type": "Collection"},
                           {"id": f"{BASE}/iiif/3/collection/der-nordstern/1878", "type": "Collection"}]
    assert m["requiredStatement"] == {
        "label": {"it": ["Attribuzione"], "en": ["Attribution"]},
        "value": {"it": ["Library of Congress, Chronicling America; Minnesota Historical Society"]}}
    assert m["homepage"] == [{"id": f"{BASE}/item/{NORD}", "type": "Text", "label": item.title,
                              "format": "text/html", "language": ["it", "en"]}]
    assert m["provider"][0]["type"] == "Agent" and m["provider"][0]["label"] == {"it": ["Heritage Lab"]}
    assert m["provider"][0]["homepage"][0]["id"] == f"{BASE}/"
    assert m["rendering"] == [{"id": f"{BASE}/iiif/3/{NORD}/text.txt", "type": "Text",
                               "label": {"it": ["Testo (OCR)"], "en": ["Text (OCR)"]}, "format": "text/plain"},
                              {"id": f"{BASE}/iiif/3/{NORD}/item.pdf", "type": "Text",
                               "label": {"it": ["PDF (immagini e testo)"], "en": ["PDF (images and text)"]},
                               "format": "application/pdf"}]
    assert "summary" not in m and "structures" not in m
    meta = {entry["label"]["en"][0]: entry["value"] for entry in m["metadata"]}
    assert list(meta) == ["Type", "Date", "Place", "Language", "Extent", "Reference code"]
    assert meta["Date"] == {"it": ["3 gennaio 1878"], "en": ["3 January 1878"]}
    assert meta["Language"] == {"it": ["tedesco"], "en": ["German"]}
    assert meta["Type"] == {"it": ["giornale"], "en": ["newspaper"]}
    assert m["metadata"][1]["label"] == {"it": ["Data"], "en": ["Date"]}
    thumb = m["thumbnail"][0]
    assert thumb["service"] == [{"id": f"{BASE}/iiif/3/image/{NORD}-0011", "type": "ImageService3",
                                 "profile": "level2"}]


def test_canvases(holdings: Holdings, urls: Urls) -> None:
    item = holdings.items[DOC]
    m = build_manifest(item, fake_pages(item), urls, SETTINGS)
    canvases = m["items"]
    # natural order of the file names: f9 is page 1, f10 page 2
    assert [c["items"][0]["items"][0]["body"]["service"][0]["id"].rsplit("_", 1)[1] for c in canvases] == [
        f"f{n}" for n in range(9, 15)]
    c = canvases[0]
    canvas_id = f"{BASE}/iiif/3/{DOC}/canvas/1"
    service = f"{BASE}/iiif/3/image/{DOC}-btv1b52501692k_f9"
    assert (c["id"], c["type"], c["width"], c["height"]) == (canvas_id, "Canvas", 2000, 3000)
    assert c["label"] == {"it": ["p. 1"], "en": ["p. 1"]}
    page = c["items"][0]
    assert page["id"] == f"{canvas_id}/page/1" and page["type"] == "AnnotationPage"
    anno = page["items"][0]
    assert (anno["id"], anno["motivation"], anno["target"]) == (f"{canvas_id}/annotation/1", "painting", canvas_id)
    assert anno["body"] == {"id": f"{service}/full/max/0/default.jpg", "type": "Image", "height": 3000, "width": 2000,
                            "service": [{"id": service, "type": "ImageService3", "profile": "level2"}],
                            "format": "image/jpeg"}
    # thumbnail: the pyramid level (power-of-two reduction) that fits 400×400
    assert c["thumbnail"][0]["id"] == f"{service}/full/250,375/0/default.jpg"
    assert (c["thumbnail"][0]["width"], c["thumbnail"][0]["height"]) == (250, 375)
    assert c["seeAlso"] == [{"id": f"{BASE}/iiif/3/{DOC}/ocr/1", "type": "Dataset",
                             "label": {"it": ["Testo OCR (ALTO XML)"], "en": ["OCR text (ALTO XML)"]},
                             "format": "application/xml", "profile": "http://www.loc.gov/standards/alto/"}]
    assert m["behavior"] == ["individuals"]
    assert m["navDate"] == "1300-01-01T00:00:00Z"
    assert m["metadata"][1]["value"] == {"it": ["1300–1399"], "en": ["1300–1399"]}


def test_hocr_see_also_and_page_labels(holdings: Holdings, urls: Urls) -> None:
    item = holdings.items[EIM]
    pages = [replace(fake_pages(item)[0], label="1", ocr_url="https://ocr.example.org/p1.hocr")]
    c = build_manifest(item, pages, urls, SETTINGS)["items"][0]
    assert c["label"] == {"it": ["1"]}  # given labels are in the publication's language
    assert c["seeAlso"][0]["id"] == "https://ocr.example.org/p1.hocr"
    assert c["seeAlso"][0]["format"] == "text/vnd.hocr+html"
    assert c["seeAlso"][0]["profile"] == "http://kba.github.io/hocr-spec/1.2/"


def test_ranges_nest(holdings: Holdings, urls: Urls) -> None:
    item = holdings.items[DOC]
    structures = build_manifest(item, fake_pages(item), urls, SETTINGS)["structures"]
    canvas = f"{BASE}/iiif/3/{DOC}/canvas/"
    assert len(structures) == 1
    top = structures[0]
    assert top["id"] == f"{BASE}/iiif/3/{DOC}/range/cataloghi" and top["type"] == "Range"
    assert top["label"] == {"it": ["Cataloghi di prezzi"], "en": ["Price lists"]}
    assert [r["id"].rsplit("/", 1)[1] for r in top["items"]] == ["parte-1", "parte-2"]
    assert [c["id"] for c in top["items"][1]["items"]] == [f"{canvas}{n}" for n in (4, 5, 6)]
    assert {c["type"] for c in top["items"][1]["items"]} == {"Canvas"}
    rass = holdings.items[RASS]
    structures = build_manifest(rass, fake_pages(rass), urls, SETTINGS)["structures"]
    assert [[c["id"].rsplit("/", 1)[1] for c in r["items"]] for r in structures] == [["1", "2", "3"], ["3"]]


def test_ranges_interleave_canvases_and_sub_ranges(holdings: Holdings, urls: Urls,
                                                   validator: jsonschema.Draft7Validator) -> None:
    item = replace(holdings.items[DOC], ranges=(
        Range("all", {"it": ["Tutto"]}, 1, 6), Range("b", {"it": ["B"]}, 4, 5, "all"),
        Range("a", {"it": ["A"]}, 2, 3, "all"), Range("a1", {"it": ["A1"]}, 3, 3, "a"),
        Range("beyond", {"it": ["Oltre"]}, 7, 9)))  # pages this publication does not have
    m = build_manifest(item, fake_pages(item), urls, SETTINGS)
    assert errors(validator, m) == []

    def shape(r: dict[str, Any]) -> list[Any]:
        return [shape(x) if x["type"] == "Range" else int(x["id"].rsplit("/", 1)[1]) for x in r["items"]]

    assert [shape(r) for r in m["structures"]] == [[1, [2, [3]], [4, 5], 6]]


def test_ranges_follow_page_numbers_when_pages_are_left_out(holdings: Holdings, urls: Urls,
                                                            validator: jsonschema.Draft7Validator) -> None:
    item = holdings.items[DOC]
    pages = [replace(p, page=n) for n, p in enumerate(fake_pages(item), 1) if n not in (2, 4, 5, 6)]  # 1 and 3 left
    m = build_manifest(item, pages, urls, SETTINGS)
    assert errors(validator, m) == []
    assert [c["id"].rsplit("/", 1)[1] for c in m["items"]] == ["1", "2"]
    top = m["structures"][0]
    assert [r["id"].rsplit("/", 1)[1] for r in top["items"]] == ["parte-1"]  # parte-2 has no page left
    assert [c["id"].rsplit("/", 1)[1] for c in top["items"][0]["items"]] == ["1", "2"]  # pages 1 and 3


def test_no_ocr_only_the_pdf_rendering_no_date(holdings: Holdings, urls: Urls, validator: jsonschema.Draft7Validator) -> None:
    item = replace(holdings.items[NORD], date=None, rights=None, attribution={}, type="photograph", description={})
    pages = [replace(p, ocr_format=None) for p in fake_pages(item)]
    m = build_manifest(item, pages, urls, SETTINGS)
    assert errors(validator, m) == []
    assert [r["format"] for r in m["rendering"]] == ["application/pdf"]  # the images, without a text layer
    assert "navDate" not in m and "seeAlso" not in m["items"][0]
    assert m["behavior"] == ["individuals"]
    assert m["rights"] == SETTINGS.default_rights
    assert m["requiredStatement"]["value"] == {"it": [SETTINGS.default_attribution]}


def test_settings_languages(holdings: Holdings, urls: Urls, validator: jsonschema.Draft7Validator) -> None:
    settings = replace(SETTINGS, default_language="en", languages=("en", "de"), provider_label="Archive",
                       provider_homepage="https://archive.example.org/")
    item = holdings.items[KANT]
    m = build_manifest(item, fake_pages(item), urls, settings)
    assert errors(validator, m) == []
    assert m["items"][0]["label"] == {"en": ["p. 1"], "de": ["S. 1"]}
    assert m["metadata"][0]["label"] == {"en": ["Type"], "de": ["Typ"]}
    assert m["provider"][0]["id"] == "https://archive.example.org/"
    assert m["provider"][0]["label"] == {"en": ["Archive"]}


def test_search_services_and_contexts(holdings: Holdings, urls: Urls, validator: jsonschema.Draft7Validator) -> None:
    item = holdings.items[RASS]
    services = [
        {"id": f"{BASE}/iiif/search/2/{RASS}", "type": "SearchService2",
         "service": [{"id": f"{BASE}/iiif/search/2/{RASS}/autocomplete", "type": "AutoCompleteService2"}]},
        {"@id": f"{BASE}/iiif/search/1/{RASS}", "@type": "SearchService1",
         "profile": "http://iiif.io/api/search/1/search"},
    ]
    m = build_manifest(item, fake_pages(item), urls, SETTINGS, services=services,
                       contexts=["http://iiif.io/api/search/2/context.json"])
    assert errors(validator, m) == []
    assert m["service"] == services
    assert m["@context"] == ["http://iiif.io/api/search/2/context.json",
                             "http://iiif.io/api/presentation/3/context.json"]


def test_thousand_pages_is_fast(urls: Urls) -> None:
    """Ingest rebuilds manifests of big items often; CPU time is asserted, wall time depends on the machine's load."""
    n = 1000
    item = Item(id="big", collection="c", type="book", title={"it": ["Mille pagine"]}, folder=Path("/nowhere"),
                pages=tuple(Page(Path(f"/nowhere/{i:04d}.tif")) for i in range(1, n + 1)),
                date=DateValue.parse("1900"),
                ranges=(Range("all", {"it": ["Tutto"]}, 1, n), Range("one", {"it": ["Uno"]}, 1, 500, "all")))
    pages = [PageInfo(f"big-{i:04d}", 2000, 3000, ocr_format="alto") for i in range(1, n + 1)]
    timings = []
    for _ in range(3):
        wall, cpu = time.perf_counter(), time.process_time()
        m = build_manifest(item, pages, urls, SETTINGS)
        timings.append((time.perf_counter() - wall, time.process_time() - cpu))
    print(f"\nbuild_manifest, 1,000 pages: best wall {min(t[0] for t in timings):.3f} s, "
          f"best CPU {min(t[1] for t in timings):.3f} s")
    assert len(m["items"]) == n
    assert min(t[1] for t in timings) < 1.0
    assert len(m["structures"][0]["items"]) == 501  # the sub-range, then canvases 501-1000


# --- collections ----------------------------------------------------------------------------------

def child_refs(holdings: Holdings, coll_id: str | None) -> list[ChildRef]:
    """What ingest would pass: sub-collections, then the collection's items, with thumbnails and dates."""
    refs = [ChildRef("Collection", c.id, c.title) for c in holdings.child_collections(coll_id)]
    if coll_id is not None:
        for item in holdings.items_in(coll_id):
            refs.append(ChildRef("Manifest", item.id, item.title, thumbnail=fake_pages(item)[0],
                                 nav_date=item.date.nav_date if item.date else None))
    return refs


def test_sample_collections_validate(holdings: Holdings, urls: Urls, validator: jsonschema.Draft7Validator) -> None:
    top = build_collection("top", {"it": ["Heritage Lab"], "en": ["Heritage Lab"]}, None,
                           child_refs(holdings, None), urls)
    assert errors(validator, top) == []
    assert top["id"] == f"{BASE}/iiif/3/collection/top" and top["type"] == "Collection"
    assert [c["id"] for c in top["items"]] == [f"{BASE}/iiif/3/collection/archivio",
                                               f"{BASE}/iiif/3/collection/emeroteca"]
    assert "partOf" not in top
    for coll in holdings.collections.values():
        doc = build_collection(coll.id, coll.title, coll.description or None, child_refs(holdings, coll.id), urls,
                               parent=coll.parent or "top")
        assert errors(validator, doc) == [], coll.id
        assert doc["partOf"] == [{"id": f"{BASE}/iiif/3/collection/{coll.parent or 'top'}", "type": "Collection"}]
    coll = holdings.collections["der-nordstern"]
    nord = build_collection(coll.id, coll.title, coll.description, child_refs(holdings, coll.id), urls)
    ref = nord["items"][0]
    assert (ref["id"], ref["type"]) == (f"{BASE}/iiif/3/{NORD}/manifest", "Manifest")
    assert ref["navDate"] == "1878-01-03T00:00:00Z"
    assert ref["thumbnail"][0]["service"][0]["type"] == "ImageService3"
    assert nord["summary"] == {"it": ["Settimanale in lingua tedesca."], "en": ["German-language weekly newspaper."]}


def test_restricted_item_absent_from_collection(tmp_path: Path, urls: Urls) -> None:
    root = tmp_path / "h"
    (root / "items" / NORD).mkdir(parents=True)
    (root / "items" / NORD / "0011.jpg").touch()
    (root / "collections.csv").write_bytes((SAMPLE / "collections.csv").read_bytes())
    text = (SAMPLE / "items.csv").read_text(encoding="utf-8-sig").splitlines()
    header = text[0] + ";access"
    nord = next(line for line in text if line.startswith(NORD)) + ";restricted"
    (root / "items.csv").write_text(f"{header}\n{nord}\n", encoding="utf-8")
    h = read_holdings(root)
    assert h.items == {} and h.restricted == {NORD}
    coll = h.collections["der-nordstern"]
    doc = build_collection(coll.id, coll.title, None, child_refs(h, coll.id), urls)
    assert doc["items"] == []


def test_collection_paging(urls: Urls, validator: jsonschema.Draft7Validator) -> None:
    children = [ChildRef("Manifest", f"issue-{i:03d}", {"it": [f"Numero {i}"]},
                         thumbnail=PageInfo(f"img-{i}", 1000, 1500) if i % 2 else None)
                for i in range(1, 251)]
    label = {"it": ["Giornale"], "en": ["Newspaper"]}
    index = build_collection("giornale", label, None, children, urls, page_size=100)
    assert errors(validator, index) == []
    assert [c["id"] for c in index["items"]] == [f"{BASE}/iiif/3/collection/giornale/page/{p}" for p in (1, 2, 3)]
    assert index["items"][2]["label"] == {"it": ["Parte 3 di 3 (201–250)"], "en": ["Part 3 of 3 (201–250)"]}
    assert index["items"][0]["thumbnail"][0]["id"].startswith(f"{BASE}/iiif/3/image/img-1/")
    page2 = build_collection("giornale", label, None, children, urls, page=2, page_size=100)
    assert errors(validator, page2) == []
    assert page2["id"] == f"{BASE}/iiif/3/collection/giornale/page/2"
    # what the page holds, not its place (which a later ingest may change, server/presentation/paging.py)
    assert page2["label"] == {"it": ["Giornale: Numero 101 – Numero 200"], "en": ["Newspaper: Numero 101 – Numero 200"]}
    assert page2["partOf"] == [{"id": f"{BASE}/iiif/3/collection/giornale", "type": "Collection", "label": label}]
    assert [c["id"].split("/")[-2] for c in page2["items"]] == [f"issue-{i:03d}" for i in range(101, 201)]
    last = build_collection("giornale", label, None, children, urls, page=3, page_size=100)
    assert len(last["items"]) == 50
    with pytest.raises(NotFound):
        build_collection("giornale", label, None, children, urls, page=4, page_size=100)
    with pytest.raises(NotFound):
        build_collection("giornale", label, None, children[:10], urls, page=1, page_size=100)
    # a layout kept from an earlier ingest: page numbers are not places; the parent lists the pages in order
    layout = [PageSpan(1, 0, 120), PageSpan(4, 120, 130), PageSpan(2, 130, 250)]
    index = build_collection("giornale", label, None, children, urls, page_size=100, layout=layout)
    assert [c["id"].rsplit("/", 1)[1] for c in index["items"]] == ["1", "4", "2"]
    assert index["items"][1]["label"]["en"] == ["Part 2 of 3 (121–130)"]
    four = build_collection("giornale", label, None, children, urls, page=4, page_size=100, layout=layout)
    assert [c["id"].split("/")[-2] for c in four["items"]] == [f"issue-{i:03d}" for i in range(121, 131)]
    assert errors(validator, four) == []
    with pytest.raises(NotFound):
        build_collection("giornale", label, None, children, urls, page=3, page_size=100, layout=layout)
    year = build_collection("giornale/1878", {"none": ["1878"]}, None, children, urls, page=1, page_size=100)
    # a year's words: the publication's languages, each member's label in it when it has one
    assert year["label"] == {"it": ["1878: Numero 1 – Numero 100"], "en": ["1878: Numero 1 – Numero 100"]}
    mixed = [replace(c, label={"it": ["Numero 1"], "en": ["Issue 1"]}) if n == 0 else c for n, c in enumerate(children)]
    year = build_collection("giornale/1878", {"none": ["1878"]}, None, mixed, urls, page=1, page_size=100)
    assert year["label"] == {"it": ["1878: Numero 1 – Numero 100"], "en": ["1878: Issue 1 – Numero 100"]}
    whole = build_collection("giornale", label, None, children, urls, page_size=0)  # 0: never page
    assert len(whole["items"]) == 250 and errors(validator, whole) == []


def test_urls() -> None:
    urls = Urls("https://example.org/base/")
    assert urls.manifest("a") == "https://example.org/base/iiif/3/a/manifest"
    assert urls.image_service("x/y z") == "https://example.org/base/iiif/3/image/x%2Fy%20z"
    assert urls.thumbnail_size(2146, 3038) == (269, 380)
    assert urls.thumbnail_size(300, 200) == (300, 200)  # never upscaled
    assert Urls("http://h", thumbnail_box=200).thumbnail_size(2414, 3560) == (76, 112)  # 3560/16 > 200
    for bad in ("", "/relative", "ftp://host"):
        with pytest.raises(ValueError):
            Urls(bad)
