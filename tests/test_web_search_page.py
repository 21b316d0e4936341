"""The researchers' search page and search.json over the demo, as a new user met them (issue 8):
plurals, facets in words, page labels, browsing everything with ``q=*``, the query syntax
explained, a search without hits that says so; and the IIIF top collection's label.
"""
from __future__ import annotations

import re
from html import unescape
from typing import Any

import pytest

ITEM = "periodical-ita-rassegna-settimanale-1878-10-06"  # the only demo item with "comune", on its 3 pages


def page(client: Any, url: str, lang: str) -> str:
    r = client.get(url + ("&" if "?" in url else "?") + f"lang={lang}")
    assert r.status_code == 200, url
    return unescape(r.get_data(as_text=True))


def text(html: str) -> str:
    """The visible text, one space between words."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def facet_entries(html: str, name: str) -> list[str]:
    """The link texts of one facet (by its heading)."""
    section = re.search(rf"<h2>{name}</h2>\s*<ul>(.*?)</ul>", html, re.DOTALL)
    assert section, name
    return [t.strip() for t in re.findall(r"<a [^>]*>(.*?)</a>", section[1], re.DOTALL)]


@pytest.mark.parametrize("lang,expected", [("it", "1 documento, 3 pagine"), ("en", "1 document, 3 pages")])
def test_result_counts_use_plural_forms(client: Any, lang: str, expected: str) -> None:
    assert expected in text(page(client, "/search?q=comune", lang))


@pytest.mark.parametrize("lang,kind,language", [("it", "Periodico", "italiano"), ("en", "Periodical", "Italian")])
def test_facets_and_results_name_types_and_languages_in_words(client: Any, lang: str, kind: str, language: str) -> None:
    html = page(client, "/search?q=comune", lang)
    assert facet_entries(html, {"it": "Tipologia", "en": "Type"}[lang]) == [kind]
    assert facet_entries(html, {"it": "Lingua", "en": "Language"}[lang]) == [language]
    meta = re.search(r'class="search-result__meta">(.*?)</p>', html, re.DOTALL)
    assert meta and meta[1].startswith(kind)
    # the same words as the item page
    assert f"<span>{kind}</span>" in page(client, f"/item/{ITEM}", lang)


def test_search_json_pages_carry_the_canvas_label(client: Any) -> None:
    doc = client.get("/search.json?q=comune").get_json()
    manifest = client.get(f"/iiif/3/{ITEM}/manifest").get_json()
    canvas_labels = {c["id"]: c["label"] for c in manifest["items"]}
    pages = [p for item in doc["items"] for p in item["pages"]]
    assert pages and all(p["label"] == f"p. {p['n']}" for p in pages)
    assert all(p["label"] in canvas_labels[p["canvas"]]["it"] for p in pages)


def test_star_browses_everything(client: Any) -> None:
    doc = client.get("/search.json?q=*").get_json()
    assert doc["total"] == 4 and doc["total_pages"] == 8  # the demo: 4 items with OCR, 8 pages
    years = [item["year"] for item in doc["items"]]
    assert years == sorted(years)  # browsing lists by date
    assert all(p["snippets"] == [] and p["url"].endswith(f"canvas={p['n']}") for i in doc["items"] for p in i["pages"])
    assert {f["value"] for f in doc["facets"]["type"]} == {"periodical", "newspaper"}
    html = page(client, "/search?q=*", "it")
    assert "4 documenti, 8 pagine" in text(html) and "Quotidiano" in facet_entries(html, "Tipologia")


def test_an_empty_query_with_a_filter_browses_that_filter(client: Any) -> None:
    doc = client.get("/search.json?type=newspaper").get_json()
    assert doc["total"] == 1 and doc["items"][0]["type"] == "newspaper"
    dated = client.get("/search.json?q=&from=1880&to=1890").get_json()
    assert [i["year"] for i in dated["items"]] == [1884]
    assert "1 document, 2 pages" in text(page(client, "/search?type=newspaper", "en"))


def test_an_empty_query_lists_nothing_and_explains_the_syntax(client: Any) -> None:
    assert client.get("/search.json?q=").get_json()["total"] == 0
    for lang, words in (("en", ["How to search", "the exact phrase", "words beginning with", "either word",
                                "Browse all documents"]),
                        ("it", ["Come cercare", "la frase esatta", "le parole che cominciano", "l'una o l'altra parola",
                                "Sfoglia tutti i documenti"])):
        html = page(client, "/search", lang)
        assert re.search(r'<details class="search-help" open>', html)
        for example in ('"questione di firenze"', "amministra*", "finanze~", "comune OR municipio", "-milano"):
            assert f"<code>{example}</code>" in html
        shown = text(html)
        assert all(w in shown for w in words), lang
        assert "search-summary" not in html
        assert "q=%2A" in html or "q=*" in html


@pytest.mark.parametrize("lang,says,suggests", [
    ("en", "No page contains “zzyzx quux”.", ["fewer words", "other language", "browse all documents"]),
    ("it", "Nessuna pagina contiene «zzyzx quux».", ["meno parole", "altra lingua", "sfogliare tutti i documenti"]),
])
def test_no_hits_says_so_and_suggests_what_to_try(client: Any, lang: str, says: str, suggests: list[str]) -> None:
    shown = text(page(client, "/search?q=zzyzx+quux", lang))
    assert says in shown and all(s in shown for s in suggests)
    assert "quotation marks" not in shown and "virgolette" not in shown
    quoted = text(page(client, '/search?q="zzyzx+quux"', lang))
    assert ("quotation marks" if lang == "en" else "virgolette") in quoted


def test_no_hits_with_filters_offers_to_drop_them(client: Any) -> None:
    html = page(client, "/search?q=comune&type=newspaper", "en")
    assert "No page contains “comune” within these filters." in text(html) and "without the filters" in text(html)
    link = re.search(r'<a href="([^"]+)">search again without the filters', html)
    assert link and "type=" not in link[1] and "q=comune" in link[1]
    assert "No document matches these filters." in text(page(client, "/search?q=*&type=map", "en"))


def test_top_collection_is_labelled_in_italian_and_english(client: Any) -> None:
    top = client.get("/iiif/3/collection/top").get_json()
    assert set(top["label"]) == {"it", "en"}
    assert top["label"]["it"] != top["label"]["en"]
