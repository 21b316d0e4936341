"""The public pages over the Flask test client: every page answers, in Italian and English, with
the viewer opened where asked, and hostile metadata stays text.

Two publications: the bundled demo (``demo_data``) and a small one written here (``web_data``)
with a fonds → series → items tree, a newspaper with issues over two years, and an item whose
metadata tries script and template injection.
"""
from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from PIL import Image

from .conftest import DEMO, ingest, write_holdings

BASE = "http://heritage.test"
HOSTILE_TITLE = '<script>alert("x")</script>{{7*7}}'
HOSTILE_DESC = "{% for x in range(3) %}boom{% endfor %} <img src=x onerror=alert(1)> ${7*7}"
HOSTILE_ID = "evil"
DEMO_ITEMS = sorted(p.name for p in (DEMO / "items").iterdir() if p.is_dir())
DEMO_COLLECTIONS = ["emeroteca", "der-nordstern", "berlinische-monatsschrift", "english-illustrated-magazine",
                    "rassegna-settimanale"]


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def web_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small publication built for these tests (tiny generated page images: ingest is quick)."""
    root = tmp_path_factory.mktemp("web")
    images = []
    for i, colour in enumerate(["#d8cfc0", "#c9b8a0", "#b9a58a"]):
        path = root / f"page{i}.png"
        Image.new("RGB", (300, 420), colour).save(path)
        images.append(path)
    collections = [
        {"id": "fondo", "parent": "", "title": "Fondo Rossi", "title_en": "Rossi fonds",
         "description": "Carte di famiglia.", "description_en": "Family papers."},
        {"id": "lettere", "parent": "fondo", "title": "Lettere", "title_en": "Letters"},
        {"id": "gazzetta", "parent": "", "title": "La Gazzetta", "title_en": "The Gazette"},
        {"id": "nasty", "parent": "", "title": "<b>Nasty</b> {{ config }}", "title_en": "<i>Nasty</i> {{ config }}"},
    ]
    items = [
        {"id": "lettera-1", "collection": "lettere", "type": "document", "title": "Lettera al fratello",
         "title_en": "Letter to his brother", "date": "1860-05-02", "creator": "Mario Rossi", "place": "Firenze"},
        {"id": "lettera-2", "collection": "lettere", "type": "document", "title": "Lettera alla madre",
         "title_en": "Letter to his mother", "date": "1861"},
        {"id": "lettera-3", "collection": "lettere", "type": "document", "title": "Lettera senza data",
         "title_en": "Undated letter"},
        {"id": "gazzetta-1878-01-03", "collection": "gazzetta", "type": "newspaper", "title": "La Gazzetta, 3 gennaio 1878",
         "title_en": "The Gazette, 3 January 1878", "date": "1878-01-03"},
        {"id": "gazzetta-1878-02-10", "collection": "gazzetta", "type": "newspaper", "title": "La Gazzetta, 10 febbraio 1878",
         "title_en": "The Gazette, 10 February 1878", "date": "1878-02-10"},
        {"id": "gazzetta-1879-05-01", "collection": "gazzetta", "type": "newspaper", "title": "La Gazzetta, 1 maggio 1879",
         "title_en": "The Gazette, 1 May 1879", "date": "1879-05-01"},
        {"id": HOSTILE_ID, "collection": "nasty", "type": "object", "title": HOSTILE_TITLE, "title_en": HOSTILE_TITLE,
         "description": HOSTILE_DESC, "description_en": HOSTILE_DESC, "creator": "{{ request.environ }}",
         "attribution": "<a href=javascript:alert(1)>click</a>", "<svg onload=alert(1)>": "{{7*7}}"},
    ]
    pages = {row["id"]: images[: 3 if row["id"] == "lettera-1" else 1] for row in items}
    holdings = write_holdings(root / "holdings", items, pages, collections)
    (holdings / "items" / "lettera-1" / "structure.csv").write_text(
        "id,parent,title,title_en,first_page,last_page\n"
        "intro,,Saluti,Greetings,1,1\n"
        "corpo,,Il racconto,The story,2,3\n"
        "dettaglio,corpo,<script>toc()</script>,<script>toc()</script>,3,3\n", encoding="utf-8")
    data = root / "data"
    result = ingest(holdings, data)
    assert result.returncode == 0, result.stdout + result.stderr
    return data


@pytest.fixture()
def web_app(web_data: Path):  # type: ignore[no-untyped-def]
    from server import create_app
    return create_app({"data": web_data, "base_url": BASE, "web_page_size": 2})


@pytest.fixture()
def web_client(web_app):  # type: ignore[no-untyped-def]
    return web_app.test_client()


def get(client: Any, url: str, lang: str | None = None, status: int = 200, **kw: Any) -> str:
    headers = {"Accept-Language": lang} if lang else {}
    response = client.get(url, headers=headers, **kw)
    assert response.status_code == status, (url, response.status_code, response.data[:500])
    return response.get_data(as_text=True)


class Page(HTMLParser):
    """The bits of a page the tests look at: tags with attributes, and the visible text."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self._skip = 0
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag in ("script", "style"):
            self._skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.text.append(data)

    def all(self, tag: str, **match: str) -> list[dict[str, str | None]]:
        return [a for t, a in self.tags if t == tag and all(a.get(k) == v for k, v in match.items())]

    def links(self) -> list[str]:
        return [a["href"] or "" for a in self.all("a") if a.get("href")]

    @property
    def visible(self) -> str:
        return re.sub(r"\s+", " ", " ".join(self.text))


# --------------------------------------------------------------------------- every page answers


def demo_pages() -> list[str]:
    pages = ["/", "/collections", *(f"/collection/{c}" for c in DEMO_COLLECTIONS)]
    pages += [f"/item/{i}" for i in DEMO_ITEMS] + [f"/embed/{i}" for i in DEMO_ITEMS]
    pages += ["/item/periodical-ita-rassegna-settimanale-1878-10-06?canvas=3&q=Firenze",
              "/collection/rassegna-settimanale?year=1878", "/collection/rassegna-settimanale?year=1878&month=10"]
    return pages


@pytest.mark.parametrize("lang", ["it", "en"])
@pytest.mark.parametrize("url", demo_pages())
def test_every_demo_page_answers_in_both_languages(client: Any, url: str, lang: str) -> None:
    html = get(client, url, lang)
    page = Page(html)
    assert page.all("html")[0]["lang"] == lang
    assert page.all("main"), "a <main> landmark"
    for img in page.all("img"):
        assert img.get("alt") is not None, f"an <img> without alt on {url}: {img}"


@pytest.mark.parametrize("url", ["/", "/collections", "/collection/emeroteca", f"/item/{DEMO_ITEMS[0]}", "/nope"])
def test_landmarks_skip_link_and_language_switcher(client: Any, url: str) -> None:
    html = get(client, url, status=404 if url == "/nope" else 200)
    page = Page(html)
    assert page.all("header") and page.all("footer") and page.all("main", id="main")
    assert page.all("a", href="#main", **{"class": "skip-link"}), "a skip link to the main content"
    navs = {a.get("aria-label") for a in page.all("nav")}
    assert {"Principale", "Lingua"} <= navs
    switch = [a for a in page.all("a") if a.get("hreflang")]
    assert {a["hreflang"] for a in switch} == {"it", "en"}
    assert all("lang=" in (a["href"] or "") for a in switch)


def test_static_files(client: Any) -> None:
    for name, kind in [("site.css", "text/css"), ("site.js", "javascript"), ("viewer.js", "javascript"),
                       ("iiif.svg", "image/svg+xml"), ("favicon.svg", "image/svg+xml")]:
        response = client.get(f"/static/{name}")
        assert response.status_code == 200 and kind in response.content_type, name


# --------------------------------------------------------------------------- language


def test_default_language_is_the_publications(client: Any) -> None:
    html = get(client, "/")
    assert '<html lang="it">' in html and "Collezioni" in html


def test_accept_language_picks_english(client: Any) -> None:
    html = get(client, "/", "en-GB,en;q=0.9,it;q=0.5")
    assert '<html lang="en">' in html and "Recent additions" in html
    html = get(client, "/", "fr-FR,fr;q=0.9")  # neither: the default
    assert '<html lang="it">' in html


def test_lang_parameter_wins_and_is_remembered(client: Any) -> None:
    response = client.get("/?lang=en", headers={"Accept-Language": "it"})
    assert '<html lang="en">' in response.get_data(as_text=True)
    cookie = response.headers.get("Set-Cookie", "")
    assert cookie.startswith("lang=en") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "private" in response.headers["Cache-Control"]
    html = get(client, "/collections", "it")  # the test client keeps the cookie
    assert '<html lang="en">' in html
    html = get(client, "/collections?lang=it")
    assert '<html lang="it">' in html
    assert '<html lang="it">' in get(client, "/collections", "en")


def test_unknown_lang_parameter_is_ignored(client: Any) -> None:
    response = client.get("/?lang=xx", headers={"Accept-Language": "en"})
    assert '<html lang="en">' in response.get_data(as_text=True)
    assert "Set-Cookie" not in response.headers


def test_language_switch_keeps_the_query(client: Any) -> None:
    item = "periodical-ita-rassegna-settimanale-1878-10-06"
    page = Page(get(client, f"/item/{item}?canvas=2&q=Firenze", "it"))
    english = next(a["href"] for a in page.all("a") if a.get("hreflang") == "en")
    assert parse_qs(urlsplit(english or "").query) == {"canvas": ["2"], "q": ["Firenze"], "lang": ["en"]}
    alternates = [a["href"] for a in page.all("link", rel="alternate") if a.get("hreflang")]
    assert all((h or "").startswith(BASE + "/item/") for h in alternates)


def test_pages_vary_on_language(client: Any) -> None:
    response = client.get("/")
    assert {"Accept-Language", "Cookie"} <= set(response.vary)


def test_metadata_in_the_visitors_language_with_fallback(client: Any) -> None:
    item = "periodical-ita-rassegna-settimanale-1878-10-06"
    it = Page(get(client, f"/item/{item}", "it")).visible
    en = Page(get(client, f"/item/{item}", "en")).visible
    assert "Tipologia periodico" in it and "Type periodical" in en
    assert "Luogo Firenze" in it and "Place Firenze" in en  # only in Italian: the fallback
    assert "Lingua italiano" in it and "Language Italian" in en


def test_fallback_value_carries_its_language(client: Any) -> None:
    html = get(client, "/item/periodical-ita-rassegna-settimanale-1878-10-06", "en")
    assert '<dd lang="it">Firenze</dd>' in html


def test_dates_per_locale(web_client: Any) -> None:
    assert "2 maggio 1860" in get(web_client, "/item/lettera-1", "it")
    assert "May 2, 1860" in get(web_client, "/item/lettera-1", "en")
    it = get(web_client, "/collection/gazzetta?year=1878", "it")
    en = get(web_client, "/collection/gazzetta?year=1878", "en")
    assert "Gennaio" in it and "Febbraio" in it and "January" in en
    assert "3 gennaio 1878" in it and "January 3, 1878" in en


# --------------------------------------------------------------------------- error pages


def test_404_is_a_localized_page(client: Any) -> None:
    it = client.get("/no/such/page", headers={"Accept-Language": "it"})
    assert it.status_code == 404 and it.content_type.startswith("text/html")
    html = it.get_data(as_text=True)
    assert '<html lang="it">' in html and "Pagina non trovata" in html and 'href="/"' in html
    en = get(client, "/no/such/page", "en", status=404)
    assert "Page not found" in en and '<html lang="en">' in en
    assert "Page not found" in get(client, "/item/nope", "en", status=404)
    assert "Page not found" in get(client, "/collection/nope", "en", status=404)
    assert "Page not found" in get(client, "/embed/nope", "en", status=404)


def test_api_errors_stay_json(client: Any) -> None:
    response = client.get("/iiif/3/nope/manifest")
    assert response.status_code == 404 and response.is_json


def test_400_is_a_localized_page(client: Any) -> None:
    item = DEMO_ITEMS[0]
    html = get(client, f"/item/{item}?canvas=abc", "it", status=400)
    assert "Richiesta non comprensibile" in html and "canvas" in html
    assert "cannot be understood" in get(client, f"/item/{item}?canvas=0", "en", status=400)
    assert "Page not found" in get(client, f"/item/{item}?canvas=99", "en", status=404)
    assert "Page not found" in get(client, "/collection/emeroteca?page=2", "en", status=404)
    assert "cannot be understood" in get(client, "/collection/rassegna-settimanale?month=13&year=1878", "en", status=400)


def test_500_is_a_localized_page_without_a_trace(demo_data: Path) -> None:
    from server import create_app
    app = create_app({"data": demo_data, "base_url": BASE})

    def boom() -> str:
        raise RuntimeError("secret detail")
    app.add_url_rule("/boom", view_func=boom)
    client = app.test_client()
    html = get(client, "/boom", "it", status=500)
    assert "Qualcosa è andato storto" in html and "secret detail" not in html and "Traceback" not in html


def test_an_empty_data_folder_still_has_a_home_page(tmp_path: Path) -> None:
    from server import create_app
    client = create_app({"data": tmp_path, "base_url": BASE}).test_client()
    assert "Non è ancora stato pubblicato nulla" in get(client, "/", "it")
    assert "Page not found" in get(client, "/collections", "en", status=404)
    assert "<urlset" in get(client, "/sitemap.xml")


# --------------------------------------------------------------------------- browsing


def test_home_shows_collections_recent_items_and_counts(client: Any) -> None:
    page = Page(get(client, "/", "en"))
    links = page.links()
    assert "/collection/rassegna-settimanale" in links  # a single fonds: its series are featured
    assert sum(1 for i in DEMO_ITEMS if f"/item/{i}" in links) == len(DEMO_ITEMS)
    assert "4 items online" in page.visible


def test_collection_tree_page(web_client: Any) -> None:
    page = Page(get(web_client, "/collections", "en"))
    assert page.visible.count("Rossi fonds") == 1 and "Letters 3 items" in page.visible
    assert "/collection/lettere" in page.links()


def test_collection_breadcrumb_children_and_counts(web_client: Any) -> None:
    page = Page(get(web_client, "/collection/fondo", "en"))
    assert "Family papers." in page.visible and "3 items" in page.visible
    assert "/collection/lettere" in page.links()
    crumbs = Page(get(web_client, "/collection/lettere", "en"))
    assert "/collection/fondo" in crumbs.links() and "/collections" in crumbs.links()


def test_collection_paging(web_client: Any) -> None:
    first = Page(get(web_client, "/collection/lettere", "en"))
    assert [link for link in first.links() if link.startswith("/item/")] == ["/item/lettera-1", "/item/lettera-2"]
    assert "/collection/lettere?page=2" in first.links()
    second = Page(get(web_client, "/collection/lettere?page=2", "en"))
    assert [link for link in second.links() if link.startswith("/item/")] == ["/item/lettera-3"]
    assert "Page 2 of 2" in second.visible
    get(web_client, "/collection/lettere?page=3", status=404)
    get(web_client, "/collection/lettere?page=0", status=400)


def test_newspapers_browse_by_year_and_month(web_client: Any) -> None:
    page = Page(get(web_client, "/collection/gazzetta", "en"))
    links = page.links()
    assert "/collection/gazzetta?year=1878" in links and "/collection/gazzetta?year=1879" in links
    year = Page(get(web_client, "/collection/gazzetta?year=1878", "en"))
    # the issue list, then the year's calendar links the same issues again
    assert [link for link in year.links() if link.startswith("/item/")] == ["/item/gazzetta-1878-01-03", "/item/gazzetta-1878-02-10"] * 2
    assert "/collection/gazzetta?year=1878&month=2" in year.links()
    month = Page(get(web_client, "/collection/gazzetta?year=1878&month=2", "en"))
    assert [link for link in month.links() if link.startswith("/item/")][:1] == ["/item/gazzetta-1878-02-10"]
    assert "Issues of February 1878" in month.visible
    assert "Fascicoli di Febbraio 1878" in Page(get(web_client, "/collection/gazzetta?year=1878&month=2", "it")).visible


def test_documents_are_not_browsed_by_year(web_client: Any) -> None:
    page = Page(get(web_client, "/collection/lettere?year=1860", "en"))
    assert not any("year=" in link for link in page.links() if "lang=" not in link)
    assert "/item/lettera-2" in page.links()  # the year is ignored, not applied


# --------------------------------------------------------------------------- item page


def test_item_page_tools(client: Any) -> None:
    item = "periodical-ita-rassegna-settimanale-1878-10-06"
    html = get(client, f"/item/{item}?canvas=2", "en")
    page = Page(html)
    manifest = f"{BASE}/iiif/3/{item}/manifest"
    links = page.links()
    drag = [link for link in links if link.startswith(f"{manifest}?manifest={manifest}&iiif-content=")]
    assert drag  # IIIF drag and drop, with a content state of the page (tests/test_web_contentstate.py)
    assert page.all("input", id="manifest-url")[0]["value"] == manifest
    assert f"{BASE}/iiif/3/{item}/text.txt" in links
    assert f"{BASE}/iiif/3/image/{item}~2/full/max/0/default.jpg" in links
    assert f"{BASE}/iiif/3/image/{item}~2/full/!1600,1600/0/default.jpg" in links
    assert f"/item/{item}?canvas=1" in links and f"/item/{item}?canvas=3" in links  # previous, next
    embed = page.all("textarea", id="embed-code")
    assert embed and f'&lt;iframe src=&#34;{BASE}/embed/{item}&#34;' in html
    assert "Public Domain Mark" in page.visible and "http://creativecommons.org/publicdomain/mark/1.0/" in links
    assert "Archivio elettronico" in page.visible  # the attribution


def test_table_of_contents_links_to_canvases(client: Any) -> None:
    item = "periodical-ita-rassegna-settimanale-1878-10-06"
    page = Page(get(client, f"/item/{item}", "en"))
    assert "The Florence question" in page.visible and "pages 1–3" in page.visible
    assert f"/item/{item}?canvas=3" in page.links()


def test_nested_table_of_contents(web_client: Any) -> None:
    html = get(web_client, "/item/lettera-1", "en")
    page = Page(html)
    assert "Greetings" in page.visible and "The story" in page.visible and "pages 2–3" in page.visible
    assert "&lt;script&gt;toc()&lt;/script&gt;" in html and "<script>toc()" not in html


def test_no_text_download_without_ocr(web_client: Any) -> None:
    page = Page(get(web_client, "/item/lettera-1", "en"))
    assert not any(link.endswith("/text.txt") for link in page.links())


def test_opengraph_and_twitter_cards(client: Any) -> None:
    item = "periodical-ita-rassegna-settimanale-1878-10-06"
    page = Page(get(client, f"/item/{item}", "en"))
    meta = {(m.get("property") or m.get("name")): m.get("content") for m in page.all("meta")}
    assert meta["og:title"] and meta["og:title"].startswith("La Rassegna Settimanale, 6 October 1878")
    assert (meta["og:image"] or "").startswith(f"{BASE}/iiif/3/image/{item}~1/full/")
    assert meta["og:url"] == f"{BASE}/item/{item}"
    assert meta["twitter:card"] == "summary_large_image"
    assert page.all("link", rel="canonical")[0]["href"] == f"{BASE}/item/{item}"
    assert (meta["og:description"] or "").startswith("First three pages")


def test_og_image_is_served(client: Any) -> None:
    item = "periodical-ita-rassegna-settimanale-1878-10-06"
    meta = {m.get("property"): m.get("content") for m in Page(get(client, f"/item/{item}")).all("meta")}
    image = client.get((meta["og:image"] or "").replace(BASE, ""))
    assert image.status_code == 200 and image.content_type == "image/jpeg"


def viewer_config(html: str) -> dict[str, Any]:
    m = re.search(r'<script type="application/json" id="viewer-config">(.*?)</script>', html, re.DOTALL)
    assert m, "no viewer configuration"
    return json.loads(m[1])  # type: ignore[no-any-return]


def test_mirador_opens_the_canvas_with_the_query(client: Any) -> None:
    item = "periodical-ita-rassegna-settimanale-1878-10-06"
    html = get(client, f"/item/{item}?canvas=3&q=Firenze", "it")
    config = viewer_config(html)
    assert config["kind"] == "mirador"
    window = config["options"]["windows"][0]
    assert window == {"manifestId": f"{BASE}/iiif/3/{item}/manifest", "canvasId": f"{BASE}/iiif/3/{item}/canvas/3",
                      "switchCanvasOnSearch": False}
    assert config["search"] == "Firenze"  # viewer.js runs it (not Mirador's defaultSearchQuery)
    assert config["options"]["language"] == "it" and config["options"]["window"]["panels"]["search"]
    assert 'src="https://cdn.jsdelivr.net/npm/mirador@4.0.0/dist/mirador.min.js"' in html
    assert "search" not in viewer_config(get(client, f"/item/{item}"))


def test_universal_viewer_on_request(demo_data: Path) -> None:
    from server import create_app
    client = create_app({"data": demo_data, "base_url": BASE, "viewer": "uv"}).test_client()
    item = "periodical-ita-rassegna-settimanale-1878-10-06"
    html = get(client, f"/item/{item}?canvas=2&q=Firenze")
    assert viewer_config(html) == {"kind": "uv", "options": {
        "manifest": f"{BASE}/iiif/3/{item}/manifest", "canvasIndex": 1, "embedded": True, "highlight": "Firenze"}}
    assert 'src="https://cdn.jsdelivr.net/npm/universalviewer@4.4.0/dist/umd/UV.js"' in html
    assert 'href="https://cdn.jsdelivr.net/npm/universalviewer@4.4.0/dist/uv.css"' in html


def test_viewer_url_is_configurable(demo_data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from server import create_app
    monkeypatch.setenv("HERITAGE_VIEWER_URL", "http://127.0.0.1:9/node_modules/mirador4/dist/mirador.min.js")
    html = get(create_app({"data": demo_data}).test_client(), f"/item/{DEMO_ITEMS[0]}")
    assert 'src="http://127.0.0.1:9/node_modules/mirador4/dist/mirador.min.js"' in html
    monkeypatch.setenv("HERITAGE_VIEWER_URL", "/viewer/dist/mirador.min.js")
    html = get(create_app({"data": demo_data}).test_client(), f"/item/{DEMO_ITEMS[0]}",
               environ_overrides={"SCRIPT_NAME": "/museo"})
    assert 'src="/museo/viewer/dist/mirador.min.js"' in html


def test_a_bad_viewer_name_stops_the_start(demo_data: Path) -> None:
    from server import create_app
    with pytest.raises(ValueError, match="HERITAGE_VIEWER"):
        create_app({"data": demo_data, "viewer": "openseadragon"})


def test_viewer_folder_for_offline_installations(demo_data: Path, tmp_path: Path) -> None:
    from server import create_app
    (tmp_path / "dist").mkdir()
    (tmp_path / "dist" / "mirador.min.js").write_text("window.Mirador = {};", encoding="utf-8")
    client = create_app({"data": demo_data, "viewer_dir": str(tmp_path)}).test_client()
    response = client.get("/viewer/dist/mirador.min.js")
    assert response.status_code == 200 and b"Mirador" in response.data
    assert client.get("/viewer/../../etc/passwd").status_code == 404
    assert create_app({"data": demo_data}).test_client().get("/viewer/dist/mirador.min.js").status_code == 404


def test_embed_page_is_minimal_and_frameable(client: Any) -> None:
    item = DEMO_ITEMS[0]
    response = client.get(f"/embed/{item}?canvas=2")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "X-Frame-Options" not in response.headers
    assert viewer_config(html)["options"]["windows"][0]["canvasId"].endswith("/canvas/2")
    page = Page(html)
    assert page.all("meta", name="robots")[0]["content"] == "noindex"
    assert not page.all("nav") and f"{BASE}/item/{item}" in page.links()


def test_item_under_a_prefix(client: Any) -> None:
    html = get(client, f"/item/{DEMO_ITEMS[0]}", environ_overrides={"SCRIPT_NAME": "/museo"})
    page = Page(html)
    assert all(link.startswith(("/museo/", "#", "http")) for link in page.links()), page.links()
    assert page.all("link", rel="stylesheet")[0]["href"] == "/museo/static/site.css"
    # absolute URLs start at the public base (configured: it already names the mount point), never
    # base + the mount point again: canonical, the embed code
    assert page.all("link", rel="canonical")[0]["href"] == f"{BASE}/item/{DEMO_ITEMS[0]}"
    assert f"{BASE}/embed/{DEMO_ITEMS[0]}" in html and f"{BASE}/museo/" not in html


def test_collection_and_sitemap_under_a_prefix(client: Any) -> None:
    html = get(client, f"/collection/{DEMO_COLLECTIONS[0]}", environ_overrides={"SCRIPT_NAME": "/museo"})
    assert Page(html).all("link", rel="canonical")[0]["href"] == f"{BASE}/collection/{DEMO_COLLECTIONS[0]}"
    xml = client.get("/sitemap.xml", environ_overrides={"SCRIPT_NAME": "/museo"}).get_data(as_text=True)
    assert f"{BASE}/collections<" in xml and f"{BASE}/museo/" not in xml


def test_absolute_urls_without_a_configured_base(demo_data: Path) -> None:
    """Without HERITAGE_BASE_URL the base is the request's host and mount point: named once."""
    from server import create_app
    client = create_app({"data": demo_data}).test_client()
    html = get(client, f"/item/{DEMO_ITEMS[0]}", environ_overrides={"SCRIPT_NAME": "/museo"})
    assert Page(html).all("link", rel="canonical")[0]["href"] == f"http://localhost/museo/item/{DEMO_ITEMS[0]}"
    assert f"http://localhost/museo/embed/{DEMO_ITEMS[0]}" in html and "/museo/museo/" not in html


# --------------------------------------------------------------------------- for machines


def test_sitemap_lists_every_item_and_collection(client: Any) -> None:
    response = client.get("/sitemap.xml")
    assert response.status_code == 200 and response.content_type.startswith("application/xml")
    from xml.etree import ElementTree
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    locs = {e.text for e in ElementTree.fromstring(response.data).findall("s:url/s:loc", ns)}
    assert f"{BASE}/" in locs and f"{BASE}/collections" in locs
    assert {f"{BASE}/item/{i}" for i in DEMO_ITEMS} <= locs
    assert {f"{BASE}/collection/{c}" for c in DEMO_COLLECTIONS} <= locs


def test_robots_txt(client: Any) -> None:
    text = get(client, "/robots.txt")
    assert f"Sitemap: {BASE}/sitemap.xml" in text and "Disallow: /search" in text and "Disallow: /embed/" in text


# --------------------------------------------------------------------------- hostile metadata


HOSTILE_PAGES = ["/", "/collections", "/collection/nasty", f"/item/{HOSTILE_ID}", f"/embed/{HOSTILE_ID}", "/sitemap.xml"]


@pytest.mark.parametrize("lang", ["it", "en"])
@pytest.mark.parametrize("url", HOSTILE_PAGES)
def test_hostile_metadata_renders_as_text(web_client: Any, url: str, lang: str) -> None:
    html = get(web_client, url, lang)
    for raw in ("<script>alert", "<img src=x", "<svg onload", "<b>Nasty", "<i>Nasty", "<a href=javascript"):
        assert raw not in html, f"{raw!r} reached {url} unescaped"
    assert "SECRET_KEY" not in html and "wsgi." not in html  # no template evaluation of {{ config }} / {{ request.environ }}
    assert "boomboomboom" not in html


def test_hostile_values_are_shown_literally(web_client: Any) -> None:
    html = get(web_client, f"/item/{HOSTILE_ID}", "en")
    visible = Page(html).visible
    assert '<script>alert("x")</script>{{7*7}}' in visible  # the title, as text
    assert "{% for x in range(3) %}boom{% endfor %}" in visible
    assert "{{ request.environ }}" in visible and "<a href=javascript:alert(1)>click</a>" in visible
    assert "<svg onload=alert(1)>" in visible
    assert '&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;{{7*7}}' in html
    assert "<b>Nasty</b> {{ config }}" in Page(get(web_client, "/collections", "it")).visible


def test_hostile_query_cannot_break_out_of_the_viewer_config(web_client: Any) -> None:
    q = '</script><script>alert(1)</script>{{7*7}}'
    html = get(web_client, "/item/lettera-1", query_string={"q": q})
    assert "<script>alert(1)" not in html
    assert viewer_config(html)["search"] == q
    page = Page(html)
    assert page.all("input", name="q")[0]["value"] == q


def test_hostile_lang_parameter(client: Any) -> None:
    html = get(client, '/?lang="><script>alert(1)</script>')
    assert "<script>alert(1)" not in html


# --------------------------------------------------------------------------- catalogs and templates


def test_every_string_is_translated_into_italian() -> None:
    from server.web.messages import untranslated
    assert untranslated("it") == []


TEXT_ATTRS = ("alt", "title", "aria-label", "placeholder", "content", "data-error", "data-copied", "label")
ALLOWED_LITERALS = re.compile(r"^[\s·|/…–—:,.()\-&;#0-9]*$|^IIIF$")


def template_literals(source: str) -> list[str]:
    """Human text written straight into a template (outside {{ }}/{% %}): it would not be translated."""
    from jinja2 import Environment
    env = Environment(extensions=["jinja2.ext.i18n"])
    parts = []
    for _, token, value in env.lex(source):
        if token == "data":
            parts.append(value)
        elif token in ("variable_begin", "block_begin"):
            parts.append("§")  # an expression or a statement: translated, or not text at all
    markup = re.sub(r"<!--.*?-->", " ", "".join(parts), flags=re.DOTALL)
    found = []
    for attr, text in re.findall(r"\b(" + "|".join(TEXT_ATTRS) + r')="([^"]*)"', markup):
        if attr != "content" and re.search(r"[A-Za-zÀ-ÿ]{3,}", text.replace("§", "")):
            found.append(f'{attr}="{text}"')
    for text in re.split(r"<[^>]*>|\n", markup):
        text = text.replace("§", " ").strip()
        if text and not ALLOWED_LITERALS.match(text) and re.search(r"[A-Za-zÀ-ÿ]{2,}", text):
            found.append(text)
    return found


@pytest.mark.parametrize("name", sorted(p.name for p in (Path(__file__).resolve().parent.parent / "templates").glob("*.html")
                                        if p.name != "search.html"))
def test_templates_have_no_untranslated_text(name: str) -> None:
    source = (Path(__file__).resolve().parent.parent / "templates" / name).read_text(encoding="utf-8")
    assert template_literals(source) == []


def test_the_literal_check_catches_text() -> None:
    assert template_literals('<p>Hello world</p>{{ _("fine") }}<img alt="A picture">') == ['alt="A picture"', "Hello world"]


def test_content_state_opens_its_canvas(client: Any) -> None:
    import base64
    item = "periodical-ita-rassegna-settimanale-1878-10-06"
    state = {"type": "Annotation", "motivation": ["contentState"],
             "target": {"id": f"{BASE}/iiif/3/{item}/canvas/3", "type": "Canvas"}}
    value = base64.urlsafe_b64encode(json.dumps(state).encode()).decode().rstrip("=")
    html = get(client, f"/item/{item}", query_string={"iiif-content": value})
    assert viewer_config(html)["options"]["windows"][0]["canvasId"].endswith("/canvas/3")
    other = client.get(f"/item/{item}", query_string={"iiif-content": f"{BASE}/iiif/3/other/canvas/2"})
    assert other.status_code == 400  # not published here (more in tests/test_web_contentstate.py)
    clash = get(client, f"/item/{item}", query_string={"iiif-content": value, "canvas": "2"})
    assert viewer_config(clash)["options"]["windows"][0]["canvasId"].endswith("/canvas/2")  # canvas= wins
