"""The pure pieces of the public site: rights badges, contents from ranges, viewer options, dates."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from server.web import describe, viewer
from server.web.i18n import load_catalogs


@pytest.mark.parametrize("uri, code, family, is_open", [
    ("http://creativecommons.org/publicdomain/mark/1.0/", "PDM 1.0", "pd", True),
    ("https://creativecommons.org/publicdomain/zero/1.0/", "CC0 1.0", "pd", True),
    ("https://creativecommons.org/licenses/by-sa/4.0/", "CC BY-SA 4.0", "cc", True),
    ("http://creativecommons.org/licenses/by-nc-nd/3.0/", "CC BY-NC-ND 3.0", "cc", True),
    ("http://rightsstatements.org/vocab/InC/1.0/", "InC 1.0", "rs", False),
    ("http://rightsstatements.org/vocab/NoC-US/1.0/", "NoC-US 1.0", "rs", True),
    ("http://rightsstatements.org/vocab/CNE/1.0/", "CNE 1.0", "rs", False),
    ("https://example.org/our-licence", "", "other", False),
])
def test_rights(uri: str, code: str, family: str, is_open: bool) -> None:
    r = describe.rights(uri)
    assert r is not None and (r.code, r.family, r.open) == (code, family, is_open)
    assert r.uri == uri and (r.name != "") == (family != "other")


def test_no_rights() -> None:
    assert describe.rights(None) is None and describe.rights("") is None


def canvas(n: int) -> dict[str, Any]:
    return {"id": f"http://x/iiif/3/item/canvas/{n}", "type": "Canvas"}


def test_table_of_contents_nested_with_page_spans() -> None:
    manifest = {"structures": [
        {"type": "Range", "label": {"en": ["Front"]}, "items": [canvas(1)]},
        {"type": "Range", "label": {"en": ["Body"]}, "items": [
            {"type": "Range", "label": {"en": ["Chapter 1"]}, "items": [canvas(2), canvas(3)]},
            {"type": "Range", "label": {"en": ["Chapter 2"]}, "items": [
                {"type": "SpecificResource", "source": "http://x/iiif/3/item/canvas/5#xywh=0,0,10,10"}]},
        ]},
        {"type": "Range", "label": {"en": ["Empty"]}, "items": []},
        "junk", {"type": "Canvas"},
    ]}
    toc = describe.table_of_contents(manifest)
    assert [(e.label["en"][0], e.first, e.last) for e in toc] == [("Front", 1, 1), ("Body", 2, 5), ("Empty", None, None)]
    assert [(c.label["en"][0], c.first, c.last) for c in toc[1].children] == [("Chapter 1", 2, 3), ("Chapter 2", 5, 5)]


def test_table_of_contents_depth_is_bounded() -> None:
    deep: dict[str, Any] = {"type": "Range", "label": {}, "items": [canvas(1)]}
    for _ in range(50):
        deep = {"type": "Range", "label": {}, "items": [deep]}
    assert describe.table_of_contents({"structures": [deep]})[0].first is None  # cut, no recursion error


def test_canvas_number() -> None:
    assert describe.canvas_number("http://x/iiif/3/a/canvas/12") == 12
    assert describe.canvas_number("http://x/iiif/3/a/canvas/12#xywh=1,2,3,4") == 12
    assert describe.canvas_number("http://x/iiif/3/a/range/r1") is None


def test_viewer_assets() -> None:
    mirador = viewer.assets("mirador", "", "")
    assert mirador.script == "https://cdn.jsdelivr.net/npm/mirador@4.0.0/dist/mirador.min.js" and mirador.stylesheet is None
    uv = viewer.assets("UV", "", "")
    assert uv.kind == "uv" and uv.stylesheet == "https://cdn.jsdelivr.net/npm/universalviewer@4.4.0/dist/uv.css"
    local = viewer.assets("uv", "/viewer/dist/umd/UV.js", "", "/museo")
    assert (local.script, local.stylesheet) == ("/museo/viewer/dist/umd/UV.js", "/museo/viewer/dist/uv.css")
    assert viewer.assets("uv", "//cdn.example/uv/UV.js", "/my.css").stylesheet == "/my.css"
    assert viewer.assets("mirador", "//cdn.example/m.js", "").script == "//cdn.example/m.js"
    with pytest.raises(ValueError):
        viewer.assets("osd", "", "")


def test_viewer_options() -> None:
    m = viewer.options("mirador", "http://x/m", "http://x/c/2", 1, "", "xx")
    assert m["options"]["windows"] == [{"manifestId": "http://x/m", "canvasId": "http://x/c/2"}]
    assert m["options"]["language"] == "en" and m["options"]["window"]["sideBarOpenByDefault"] is False
    q = viewer.options("mirador", "http://x/m", "http://x/c/2", 1, "Firenze", "it")
    assert q["search"] == "Firenze" and q["options"]["window"]["sideBarOpenByDefault"] is True
    assert viewer.options("mirador", "http://x/m", None, 0, "Firenze", "it", embedded=True)["options"]["window"]["sideBarOpenByDefault"] is False
    # viewer.js runs the search, not Mirador 4.0.0's defaultSearchQuery; the window keeps its canvas
    assert q["options"]["windows"] == [{"manifestId": "http://x/m", "canvasId": "http://x/c/2", "switchCanvasOnSearch": False}]
    assert "search" not in m and "defaultSearchQuery" not in str(q)
    assert viewer.options("uv", "http://x/m", None, 0, "", "it")["options"] == {"manifest": "http://x/m", "canvasIndex": 0, "embedded": True}


def test_catalogs_compile() -> None:
    catalogs = load_catalogs()
    assert set(catalogs) >= {"en", "it"}
    assert catalogs["it"].gettext("Page not found") == "Pagina non trovata"
    assert catalogs["it"].ngettext("%(num)s page", "%(num)s pages", 2) == "%(num)s pagine"


@pytest.mark.parametrize("lang, iso, words", [
    ("it", "1878-10-06", "6 ottobre 1878"),
    ("en", "1878-10-06", "October 6, 1878"),
    ("it", "1784-12", "dicembre 1784"),
    ("en", "1784-12", "December 1784"),
    ("en", "1921/1925", "1921 – 1925"),
    ("it", "not a date", "not a date"),
    ("it", "", ""),
])
def test_dates_per_locale(demo_data: Path, lang: str, iso: str, words: str) -> None:
    from server import create_app
    from server.web.i18n import format_iso_date
    app = create_app({"data": demo_data})
    with app.test_request_context(f"/?lang={lang}"):
        assert format_iso_date(iso) == words


def test_still_sizes_never_ask_for_more_than_the_image() -> None:
    """``!1200,1200`` on a 1000 px scan is a 400 under Image API 3.0 (no upscaling without ``^``)."""
    from server.errors import HeritageError
    from server.image.request import Limits, parse, resolve
    from server.web.describe import fit_size
    limits = Limits(10000, 10000, 40_000_000)
    for width, height in [(1000, 800), (800, 1000), (3000, 2000), (1200, 1200), (1, 5000)]:
        size = fit_size(width, height, 1200)
        req = resolve(parse(3, "full", size, "0", "default.jpg"), width, height, limits)  # raises on a 400
        w, h = req.size
        assert w <= min(1200, width) and h <= min(1200, height)
        assert w == min(width, 1200) or h == min(height, 1200)  # as large as the box allows
    with pytest.raises(HeritageError):  # what the pages asked for before
        resolve(parse(3, "full", "!1200,1200", "0", "default.jpg"), 1000, 800, limits)
