"""IIIF Content State on the public pages, over the Flask test client: the item page and /embed
open every form at its canvas and region, refuse bad values with a 400 that says why, share the
view; search hits link with the content state of their words; the per-page text.
(In Chromium with Mirador 4 and UV: test_web_contentstate_browser.py.)"""
from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from server.web import contentstate as cs

BASE = "http://heritage.test"
ITEM = "periodical-ita-rassegna-settimanale-1878-10-06"  # 3 pages with hOCR
CANVAS = f"{BASE}/iiif/3/{ITEM}/canvas/2"


def config(html: str, name: str = "viewer-config") -> dict[str, Any]:
    m = re.search(rf'<script type="application/json" id="{name}">(.*?)</script>', html, re.DOTALL)
    assert m, f"no {name}"
    return json.loads(m[1])  # type: ignore[no-any-return]


def site() -> cs.Site:
    return cs.Site(BASE, lambda item: {n: (10**5, 10**5) for n in (1, 2, 3)} if item == ITEM else None)


def big_canvas(n: int) -> cs.Site:
    """A site whose canvas ``n`` of any item is large (to read back a hit's state without the catalog)."""
    sizes = {n: (10**5, 10**5)}
    return cs.Site(BASE, lambda _item: sizes)


FORMS = {
    "annotation": cs.encode({"type": "Annotation", "motivation": ["contentState"],
                             "target": {"id": CANVAS + "#xywh=100,200,300,40", "type": "Canvas",
                                        "partOf": [{"id": f"{BASE}/iiif/3/{ITEM}/manifest", "type": "Manifest"}]}}),
    "annotation URI": f"{BASE}/iiif/content-state/{ITEM}/2/100,200,300,40",
    "target body": cs.encode({"id": CANVAS + "#xywh=100,200,300,40", "type": "Canvas"}),
    "target URI": CANVAS + "#xywh=100,200,300,40",
}


@pytest.mark.parametrize("path", ["/item", "/embed"])
@pytest.mark.parametrize("form", sorted(FORMS))
def test_every_form_opens_canvas_and_region(client: Any, path: str, form: str) -> None:
    r = client.get(f"{path}/{ITEM}", query_string={"iiif-content": FORMS[form]})
    assert r.status_code == 200, r.data[:300]
    viewer = config(r.get_data(as_text=True))
    assert viewer["options"]["windows"][0]["canvasId"] == CANVAS
    assert viewer["region"] == [100, 200, 300, 40]


def test_uv_gets_the_region_as_xywh(demo_data: Any) -> None:
    from server import create_app
    app = create_app({"data": demo_data, "base_url": BASE, "viewer": "uv"})
    html = app.test_client().get(f"/item/{ITEM}", query_string={"iiif-content": FORMS["target URI"]}).get_data(as_text=True)
    options = config(html)["options"]
    assert options["canvasIndex"] == 1 and options["xywh"] == "100,200,300,40"
    # page 3 is the right-hand page of the spread 2|3, where UV would measure xywh on page 2: no zoom
    right = app.test_client().get(f"/item/{ITEM}", query_string={"iiif-content": f"{BASE}/iiif/3/{ITEM}/canvas/3#xywh=1,2,3,4"})
    options = config(right.get_data(as_text=True))["options"]
    assert options["canvasIndex"] == 2 and "xywh" not in options


@pytest.mark.parametrize("value, reason", [
    ("%%%", "neither a URI nor base64url"),
    (f"{BASE}/iiif/3/{ITEM}/canvas/9", "has no canvas 9"),
    (f"{BASE}/iiif/3/nowhere/canvas/1", "publishes no item"),
    ("https://evil.test/iiif/3/x/canvas/1", "another site"),
    (cs.encode({"type": "Annotation", "motivation": ["painting"], "target": CANVAS}), "motivation"),
    (CANVAS + "#xywh=9000,9000,5,5", "outside the canvas"),
    (f"{BASE}/iiif/3/{ITEM}/canvas/2/../../../../etc/passwd", "nothing this site publishes"),
    ("<script>alert(1)</script>", "neither"),
])
def test_bad_values_are_a_400_that_says_why(client: Any, value: str, reason: str) -> None:
    for path in ("/item", "/embed"):
        r = client.get(f"{path}/{ITEM}", query_string={"iiif-content": value}, headers={"Accept-Language": "en"})
        html = r.get_data(as_text=True)
        assert r.status_code == 400 and reason in html and "iiif-content" in html
        assert "<script>alert" not in html


def test_another_items_canvas_goes_to_that_item(client: Any) -> None:
    other = "periodical-deu-berlinische-monatsschrift-1784-12"
    value = f"{BASE}/iiif/3/{other}/canvas/2"
    r = client.get(f"/item/{ITEM}", query_string={"iiif-content": value, "q": "x"})
    assert r.status_code == 302
    target = urlsplit(r.headers["Location"])
    assert target.path == f"/item/{other}" and parse_qs(target.query) == {"iiif-content": [value], "q": ["x"]}
    assert client.get(f"/embed/{ITEM}", query_string={"iiif-content": value}).headers["Location"].startswith(f"/embed/{other}?")


def test_share_and_drag_links_round_trip(client: Any) -> None:
    html = client.get(f"/item/{ITEM}", query_string={"iiif-content": FORMS["target URI"]}).get_data(as_text=True)
    share = re.search(r'id="share-url" type="text" readonly value="([^"]+)"', html)
    assert share
    url = share[1].replace("&amp;", "&")
    assert url.startswith(f"{BASE}/item/{ITEM}?iiif-content=")
    value = parse_qs(urlsplit(url).query)["iiif-content"][0]
    assert cs.read(value, site()) == cs.View(ITEM, 2, (100, 200, 300, 40))
    drag = re.search(r'id="iiif-drag" href="([^"]+)"', html)
    assert drag
    params = parse_qs(urlsplit(drag[1].replace("&amp;", "&")).query)
    assert params["manifest"] == [f"{BASE}/iiif/3/{ITEM}/manifest"] and params["iiif-content"] == [value]
    page = config(html, "page-config")
    assert page["share"]["manifest"] == f"{BASE}/iiif/3/{ITEM}/manifest" and page["numbers"] == [1, 2, 3]


def test_content_state_annotation_uri_is_served(client: Any) -> None:
    r = client.get(f"/iiif/content-state/{ITEM}/2/100,200,300,40")
    assert r.status_code == 200 and r.headers["Access-Control-Allow-Origin"] == "*"
    doc = r.get_json()
    assert doc["motivation"] == ["contentState"] and doc["id"] == FORMS["annotation URI"]
    assert doc["target"]["id"] == CANVAS + "#xywh=100,200,300,40"
    assert client.get(f"/iiif/content-state/{ITEM}/9").status_code == 404
    assert client.get(f"/iiif/content-state/{ITEM}/2/0,0,0,0").status_code == 404


def test_search_hits_link_with_the_content_state_of_their_words(client: Any) -> None:
    doc = client.get("/search.json", query_string={"q": "firenze"}).get_json()
    snippets = [(p, s) for item in doc["items"] for p in item["pages"] for s in p["snippets"]]
    assert snippets
    for page, snippet in snippets:
        view = cs.read(snippet["content_state"], big_canvas(page["n"]))
        assert view.canvas == page["n"] and view.region is not None
        assert snippet["words"] == ",".join(map(str, view.region))
        x, y, w, h = view.region
        lx, ly, lw, lh = map(int, snippet["xywh"].split(","))  # the crop: the hit's lines, padded
        assert lx <= x and ly <= y and x + w <= lx + lw and y + h <= ly + lh
        assert parse_qs(urlsplit(snippet["url"]).query) == {"iiif-content": [snippet["content_state"]], "q": ["firenze"]}
    first_page, first = snippets[0]
    assert first_page["url"] == first["url"]
    html = client.get("/search", query_string={"q": "firenze"}).get_data(as_text=True)
    assert first["url"].replace("&", "&amp;") in html


def test_page_text_in_reading_order(client: Any) -> None:
    html = client.get(f"/item/{ITEM}/text/1", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "LA RASSEGNA\nSETTIMANALE\nDI POLITICA, SCIENZE, LETTERE ED ARTI." in html
    assert 'lang="it"' in html and f"/iiif/3/image/{ITEM}~1/full/" in html and "<h1>" in html
    doc = client.get(f"/item/{ITEM}/text/1.json").get_json()
    assert doc["lines"][:2] == ["LA RASSEGNA", "SETTIMANALE"] and doc["language"] == "it"
    assert client.get(f"/item/{ITEM}/text/9").status_code == 404
    assert client.get(f"/item/{ITEM}/text/9.json").status_code == 404
    assert client.get("/item/nowhere/text/1").status_code == 404
    assert client.get("/item/..%2F..%2Fetc/text/1").status_code == 404
    item = client.get(f"/item/{ITEM}?canvas=1").get_data(as_text=True)
    assert 'id="text-panel"' in item and "LA RASSEGNA\nSETTIMANALE" in item and 'id="text-toggle"' in item
    assert f'href="/item/{ITEM}/text/1"' in item  # the no-JavaScript way to the text
