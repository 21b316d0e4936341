"""``heritage export``: the museum as static files, checked as a static host serves them.

The demo publication is exported for ``python -m http.server`` on a loopback port; a crawler
follows every link of every page and every dereferenceable IIIF id from the home pages and
the sitemap, and none may be broken. The official Image API validator checks level 0 against
the same kind of server, and a re-export after an ingest writes only what changed.
"""
from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
from collections import deque
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.error import HTTPError
from urllib.parse import urljoin, urlsplit
from urllib.request import urlopen

import pytest

from server.errors import BadRequest
from server.export.level0 import image_paths, level0_info
from server.export.site import Key, Site

from .conftest import DEMO, free_port, ingest
from .export_support import StaticSite, demo_export, export  # noqa: F401  (a fixture)
from .test_image_validator import IDENTIFIER, _validator, ingest_validator_image

DEREFERENCEABLE = {"Collection", "Manifest", "Canvas", "Range", "Image", "Text", "Dataset", "Sound", "Video"}


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.lang = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "html":
            self.lang = a.get("lang") or ""
        for name in ("href", "src", "action"):
            value = a.get(name)
            if value and not value.startswith(("#", "data:", "mailto:")):
                self.links.append(value)


def _json_refs(doc: Any) -> Iterator[str]:
    if isinstance(doc, dict):
        kind = doc.get("type")
        if isinstance(doc.get("id"), str):
            if kind in DEREFERENCEABLE:
                yield doc["id"]
            elif kind == "ImageService3":
                yield doc["id"] + "/info.json"
        for value in doc.values():
            yield from _json_refs(value)
    elif isinstance(doc, list):
        for value in doc:
            yield from _json_refs(value)


def crawl(site: StaticSite) -> tuple[dict[str, bytes], list[str]]:
    """Everything reachable from the home pages and the sitemap: {url: body}, and the broken links."""
    seen: dict[str, bytes] = {}
    broken: list[str] = []
    queue = deque([(site.url + "/index.html", "start"), (site.url + "/en/index.html", "start"),
                   (site.url + "/sitemap.xml", "start")])
    queued = {u for u, _ in queue}
    while queue:
        url, referrer = queue.popleft()
        try:
            with urlopen(url, timeout=10) as response:
                body = response.read()
                media = response.headers.get_content_type()
        except HTTPError as exc:
            broken.append(f"{url} ({exc.code}, linked from {referrer})")
            continue
        seen[url] = body
        if url.endswith(".jpg"):
            continue
        links: list[str] = []
        if media == "text/html":
            parser = _Links()
            parser.feed(body.decode("utf-8"))
            links = [urljoin(url, link) for link in parser.links]
        elif url.endswith(".json") and "/pagefind/" not in url:
            links = list(_json_refs(json.loads(body)))
        elif url.endswith("sitemap.xml"):
            links = [part.split("</loc>")[0] for part in body.decode().split("<loc>")[1:]]
        for link in links:
            link = link.split("#")[0]
            if link.startswith(site.url + "/") and link not in queued:
                queued.add(link)
                queue.append((link, url))
    return seen, broken


def test_static_site_has_no_broken_links(demo_export: StaticSite) -> None:  # noqa: F811
    seen, broken = crawl(demo_export)
    assert broken == []
    paths = {urlsplit(u).path for u in seen}
    items = sorted(p.name for p in (DEMO / "items").iterdir() if p.is_dir())
    for item in items:  # every item page in both languages, its manifest and its text
        assert f"/item/{item}/index.html" in paths and f"/en/item/{item}/index.html" in paths
        assert f"/iiif/3/{item}/manifest.json" in paths
        assert f"/iiif/3/{item}/text.txt" in paths
    assert {"/index.html", "/en/index.html", "/collections/index.html", "/en/collections/index.html",
            "/search/index.html", "/en/search/index.html", "/iiif/3/collection/top.json"} <= paths
    assert any(p.startswith("/item/") and "/canvas/" in p for p in paths)  # pages turn as files


def test_pages_are_in_their_language_and_link_within_it(demo_export: StaticSite) -> None:  # noqa: F811
    for path, lang in (("index.html", "it"), ("en/index.html", "en"), ("en/collections/index.html", "en")):
        parser = _Links()
        parser.feed((demo_export.out / path).read_text(encoding="utf-8"))
        assert parser.lang == lang
        internal = [link for link in parser.links if link.startswith("/") and link.endswith(".html")]
        assert internal
        # the language switcher leads to the other language; every other page link stays in this one
        others = [link for link in internal if not link.startswith("/en/")]
        assert (others == ["/" + path.removeprefix("en/")]) if lang == "en" else \
            all(not link.startswith("/en/") for link in internal if link != "/en/" + path)


def test_iiif_is_static_and_level0(demo_export: StaticSite) -> None:  # noqa: F811
    out, base = demo_export.out, demo_export.url
    manifests = sorted(out.glob("iiif/3/*/manifest.json"))
    assert manifests
    for path in manifests:
        text = path.read_text(encoding="utf-8")
        doc = json.loads(text)
        assert doc["id"] == f"{base}/{path.relative_to(out).as_posix()}"
        assert "SearchService" not in text and "AutoComplete" not in text  # needs a server: left out
        services = [s for c in doc["items"] for p in c["items"] for a in p["items"]
                    for s in a["body"].get("service", [])]
        assert services and all(s["type"] == "ImageService3" and s["profile"] == "level0" for s in services)
        for service in services:
            info_path = out / urlsplit(service["id"]).path.lstrip("/") / "info.json"
            info = json.loads(info_path.read_text(encoding="utf-8"))
            assert info["id"] == service["id"] and info["profile"] == "level0"
            assert "extraFeatures" not in info and "maxWidth" not in info
            assert info["tiles"] and info["sizes"]
            for file in image_paths(info):  # every tile under every spelling, every size
                assert (info_path.parent / file).is_file(), file


def test_exported_presentation_documents_validate(demo_export: StaticSite) -> None:  # noqa: F811
    """Rewriting ids and removing services keeps manifests and collections valid Presentation 3.0."""
    import jsonschema

    from .conftest import SCHEMA
    validator = jsonschema.Draft7Validator(json.loads(SCHEMA.read_text(encoding="utf-8")))
    documents = [*demo_export.out.glob("iiif/3/*/manifest.json"), *demo_export.out.glob("iiif/3/collection/*.json")]
    assert len(documents) > 4
    for path in documents:
        problems = [f"{list(e.absolute_path)}: {e.message[:200]}"
                    for e in validator.iter_errors(json.loads(path.read_text(encoding="utf-8")))]
        assert problems == [], path


def test_restricted_and_server_only_urls_are_absent(demo_export: StaticSite) -> None:  # noqa: F811
    out = demo_export.out
    assert not (out / "iiif" / "search").exists() and not (out / "iiif" / "2").exists()
    assert not any(out.glob("search.json*"))
    state = json.loads((out / ".heritage-export.json").read_text(encoding="utf-8"))
    assert all((out / rel).is_file() for rel in state["files"])
    sitemap = (out / "sitemap.xml").read_text(encoding="utf-8")
    assert f"{demo_export.url}/en/item/" in sitemap and "?lang=" not in sitemap


def test_search_index_has_both_languages(demo_export: StaticSite) -> None:  # noqa: F811
    entry = json.loads((demo_export.out / "pagefind" / "pagefind-entry.json").read_text(encoding="utf-8"))
    assert {"it", "en"} <= set(entry["languages"])
    assert all(v["page_count"] > 0 for k, v in entry["languages"].items() if k in ("it", "en"))


# --------------------------------------------------------------------------- level 0, by the validator


@pytest.fixture(scope="module")
def validator_export(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StaticSite]:
    root = tmp_path_factory.mktemp("validator-export")
    data = ingest_validator_image(root)
    port = free_port()
    result = export(data, root / "site", f"http://127.0.0.1:{port}")
    assert result.returncode == 0, result.stdout + result.stderr
    site = StaticSite(root / "site", port)
    yield site
    site.stop()


def test_official_validator_level0(validator_export: StaticSite) -> None:
    result = subprocess.run([_validator(), "-s", f"127.0.0.1:{validator_export.port}", "-p", "iiif/3/image",
                             "-i", IDENTIFIER, "--version=3.0", "--level=0"],
                            capture_output=True, text=True, timeout=300, check=False)
    output = result.stdout + result.stderr
    assert "0 failures" in output and result.returncode == 0, output
    assert "FAIL" not in output, output


# --------------------------------------------------------------------------- incremental


def _holdings(root: Path, titles: dict[str, str], restricted: set[str]) -> Path:
    """Two demo items with their first page each (their images, their CSV rows), titles changeable."""
    if (root / "items").exists():
        shutil.rmtree(root / "items")
    with open(DEMO / "items.csv", newline="", encoding="utf-8-sig") as f:
        rows = [r for r in csv.DictReader(f, delimiter=";") if r["id"] in titles]
    with open(DEMO / "collections.csv", newline="", encoding="utf-8-sig") as f:
        collections = list(csv.DictReader(f))
    for row in rows:
        row["title"] = titles[row["id"]]
        row["access"] = "restricted" if row["id"] in restricted else "public"
        folder = root / "items" / row["id"]
        folder.mkdir(parents=True)
        files = sorted((DEMO / "items" / row["id"]).iterdir())
        first = files[0].stem
        for src in files:
            if src.stem == first:  # the first page: its image and its OCR
                os.symlink(src, folder / src.name)
    for name, table in (("items.csv", rows), ("collections.csv", collections)):
        with open(root / name, "w", newline="", encoding="utf-8") as f:
            w = csv.DictWriter(f, fieldnames=sorted({k for r in table for k in r}))
            w.writeheader()
            w.writerows(table)
    return root


def _mtimes(out: Path) -> dict[str, int]:
    return {p.relative_to(out).as_posix(): p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()}


def test_reexport_writes_only_what_changed_and_removes_withdrawn(tmp_path: Path) -> None:
    ids = sorted(p.name for p in (DEMO / "items").iterdir() if p.is_dir())[:2]
    changed, withdrawn = ids
    titles = {i: f"Title of {i}" for i in ids}
    data, out, base = tmp_path / "data", tmp_path / "site", "https://museo.example.org/heritage"

    def run(titles: dict[str, str], restricted: set[str]) -> str:
        result = ingest(_holdings(tmp_path / "holdings", titles, restricted), data)
        assert result.returncode == 0, result.stdout + result.stderr
        result = export(data, out, base)
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    run(titles, set())
    assert (out / "item" / withdrawn / "index.html").is_file()
    home = json.loads((out / "iiif/3/collection/top.json").read_text(encoding="utf-8"))
    assert home["id"] == f"{base}/iiif/3/collection/top.json"
    before = _mtimes(out)

    summary = run(titles, set())  # nothing changed: nothing written
    assert " 0 written" in summary and " 0 removed" in summary, summary
    assert _mtimes(out) == before

    summary = run({**titles, changed: "A new title"}, {withdrawn})
    after = _mtimes(out)
    assert "A new title" in (out / "item" / changed / "index.html").read_text(encoding="utf-8")
    assert "A new title" in (out / "iiif/3" / changed / "manifest.json").read_text(encoding="utf-8")
    assert not (out / "item" / withdrawn).exists() and not (out / "iiif/3" / withdrawn).exists()
    assert not list((out / "iiif/3/image").glob(f"{withdrawn}~*"))
    assert withdrawn not in (out / "sitemap.xml").read_text(encoding="utf-8")
    images = [f for f in before if f.startswith(f"iiif/3/image/{changed}~")]
    assert images and all(after[f] == before[f] for f in images)  # the same pixels: not rewritten
    rewritten = {f for f in after if after[f] != before.get(f)}
    assert rewritten and all(not f.startswith("iiif/3/image/") for f in rewritten)
    state = json.loads((out / ".heritage-export.json").read_text(encoding="utf-8"))
    assert set(state["files"]) == set(after) - {".heritage-export.json"}


# --------------------------------------------------------------------------- units and the command


def test_site_layout() -> None:
    site = Site("https://museo.example.org/heritage/", ("it", "en"), "it")
    assert site.key("https://museo.example.org/heritage/item/x?canvas=3&lang=en", "it") == \
        Key("/item/x", (("canvas", 3),), "en")
    assert site.page_file(Key("/item/x", (("canvas", 3),), "en")) == "en/item/x/canvas/3/index.html"
    assert site.page_file(Key("/", (), "it")) == "index.html"
    assert site.key("/heritage/collection/c?year=1878&month=10&q=x", "en") == \
        Key("/collection/c", (("year", 1878), ("month", 10)), "en")
    assert site.key("/heritage/iiif/search/1/x?q=a", "it") is None      # needs a server
    assert site.key("https://elsewhere.org/heritage/item/x", "it") is None
    assert site.key("/other/item/x", "it") is None
    assert site.key("/heritage/item/../../etc/passwd", "it") is None
    assert site.asset_file(Key("/iiif/3/x/manifest"), "application/ld+json") == "iiif/3/x/manifest.json"
    assert site.asset_file(Key("/iiif/3/x/ocr/1"), "text/vnd.hocr+html") == "iiif/3/x/ocr/1.hocr"
    with pytest.raises(BadRequest):
        Site("museo.example.org", ("it",), "it")


def test_level0_spells_edge_tiles_as_viewers_do() -> None:
    info = {"id": "x", "profile": "level2", "width": 300, "height": 200, "maxWidth": 9, "extraFeatures": [],
            "sizes": [{"width": 75, "height": 50}], "tiles": [{"width": 256, "height": 256, "scaleFactors": [1, 2]}]}
    doc = level0_info(info)
    assert doc["profile"] == "level0" and "maxWidth" not in doc and "extraFeatures" not in doc
    paths = set(image_paths(doc))
    assert {"full/max/0/default.jpg", "full/75,50/0/default.jpg",
            "0,0,256,200/256,200/0/default.jpg", "256,0,44,200/44,200/0/default.jpg",
            "256,0,44,200/44,/0/default.jpg",       # the w, form
            "full/150,100/0/default.jpg"} <= paths  # scale 2: the whole image in one tile
    odd = set(image_paths({"width": 301, "height": 201, "tiles": [{"width": 256, "scaleFactors": [2]}]}))
    assert {"full/151,101/0/default.jpg", "full/150,100/0/default.jpg"} <= odd  # ceil, and floor


def test_export_command_refuses_bad_input(tmp_path: Path, demo_data: Path) -> None:
    result = export(demo_data, tmp_path / "out", "museo.example.org")
    assert result.returncode == 2 and "base-url" in result.stderr and "Traceback" not in result.stderr
    result = export(tmp_path / "empty", tmp_path / "out", "https://museo.example.org")
    assert result.returncode == 2 and "nothing is published" in result.stderr and "Traceback" not in result.stderr


def test_links_are_found_and_rewritten_in_every_form() -> None:
    from server.export import rewrite
    base = "https://m.org/h"
    page = ('<img srcset="/s/a.jpg 2x, /iiif/3/image/x~1/full/!1600,1600/0/default.jpg 1x" src="b.png">'
            '<a href="/item/a?canvas=2&amp;lang=en#top">x</a><a href="https://elsewhere.org/">y</a>'
            '<meta content="not a link"><textarea>&lt;iframe src=&#34;https://m.org/h/embed/a&#34;&gt;</textarea>'
            '<script type="application/json">{"manifestId": "https://m.org/h/iiif/3/a/manifest"}</script>')
    links = list(rewrite.html_links(page, f"{base}/item/a", base))
    assert links == [f"{base}/s/a.jpg", f"{base}/iiif/3/image/x~1/full/!1600,1600/0/default.jpg", f"{base}/item/b.png",
                     f"{base}/item/a?canvas=2&lang=en", "https://elsewhere.org/", f"{base}/embed/a",
                     f"{base}/iiif/3/a/manifest"]
    out = rewrite.rewrite_html(page, f"{base}/item/a", base,
                               lambda u, absolute: None if "elsewhere" in u else ("A:" if absolute else "R:") + u[len(base):])
    assert 'srcset="R:/s/a.jpg 2x, R:/iiif/3/image/x~1/full/!1600,1600/0/default.jpg 1x"' in out
    assert 'href="R:/item/a?canvas=2&amp;lang=en#top"' in out  # re-escaped, fragment kept
    assert 'href="https://elsewhere.org/"' in out and 'content="not a link"' in out
    assert "src=&#34;A:/embed/a&#34;" in out and '"manifestId": "A:/iiif/3/a/manifest"' in out


def test_writer_stays_inside_out_dir(tmp_path: Path) -> None:
    from server.export.writer import ExportWriter
    writer = ExportWriter(tmp_path / "out")
    for bad in ("../x", "a/../../x", "/etc/passwd", ".hidden", "a//b", "a\\b", ""):
        with pytest.raises(ValueError):
            writer.write(bad, b"x")
    writer.write("a/b.txt", b"x")
    assert (tmp_path / "out" / "a" / "b.txt").read_bytes() == b"x" and not (tmp_path / "x").exists()
