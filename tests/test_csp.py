"""Pages pin the CDN viewer with Subresource Integrity and send a Content-Security-Policy that the
viewers live with: Mirador and UV load their tiles under it with no violation in Chromium.
"""
from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from server import create_app
from server.web import viewer

from .browser.support import BUNDLES, NODE_MODULES, missing_requirements
from .conftest import IN_CI, LiveServer

ITEM = "periodical-ita-rassegna-settimanale-1878-10-06"
HTML_PAGES = ["/", "/collections", "/collection/emeroteca", f"/item/{ITEM}", f"/embed/{ITEM}", "/search?q=Firenze",
              "/no/such/page"]
# the npm package folder in tests/browser/node_modules for each viewer, and the pinned CDN file's path in it
NPM = {"mirador": ("mirador4", "dist/mirador.min.js", viewer.MIRADOR_VERSION),
       "uv": ("universalviewer", "dist/umd/UV.js", viewer.UV_VERSION)}


def directives(response: Any) -> dict[str, list[str]]:
    header = response.headers.get("Content-Security-Policy", "")
    assert header, "no Content-Security-Policy"
    parsed = {}
    for part in header.split(";"):
        name, *values = part.split()
        parsed[name] = values
    return parsed


class _Scripts(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[dict[str, str | None]] = []
        self.links: list[dict[str, str | None]] = []
        self.handlers: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handlers += [f"{tag} {name}" for name, _ in attrs if name.startswith("on")]
        if tag == "script":
            self.scripts.append(dict(attrs))
        if tag == "link" and dict(attrs).get("rel") == "stylesheet":
            self.links.append(dict(attrs))


def parse(body: str) -> _Scripts:
    parser = _Scripts()
    parser.feed(body)
    return parser


def _client(demo_data: Path, **config: Any) -> Any:
    return create_app({"data": demo_data, **config}).test_client()


# --------------------------------------------------------------------------- the header


@pytest.mark.parametrize("path", HTML_PAGES)
def test_html_pages_send_a_policy_without_inline_script(demo_data: Path, path: str) -> None:
    response = _client(demo_data).get(path)
    assert response.mimetype == "text/html"
    csp = directives(response)
    assert csp["script-src"] == ["'self'", f"https://cdn.jsdelivr.net/npm/mirador@{viewer.MIRADOR_VERSION}/dist/"]
    assert csp["default-src"] == ["'self'"] and csp["object-src"] == ["'none'"] and csp["base-uri"] == ["'self'"]
    assert set(csp["img-src"]) >= {"'self'", "data:", "blob:"} and "'self'" in csp["connect-src"]
    if path.startswith("/embed/"):
        assert "frame-ancestors" not in csp  # made to be framed by other sites
    else:
        assert csp["frame-ancestors"] == ["'none'"]
    # what the policy forbids is not in the page either: every script is a file or inert JSON
    page = parse(response.get_data(as_text=True))
    assert page.handlers == []
    for script in page.scripts:
        assert script.get("src") or script.get("type") == "application/json", script


def test_policy_follows_the_configured_viewer_and_base(demo_data: Path) -> None:
    client = _client(demo_data, viewer="uv", viewer_url="https://static.example/uv/dist/umd/UV.js",
                     viewer_css_url="https://css.example/uv/uv.css", base_url="https://iiif.example/heritage")
    csp = directives(client.get(f"/item/{ITEM}"))
    assert csp["script-src"] == ["'self'", "https://static.example/uv/dist/"]
    assert "https://css.example/uv/" in csp["style-src"] and "https://css.example/uv/" not in csp["script-src"]
    assert "https://iiif.example" in csp["connect-src"] and "https://iiif.example" in csp["img-src"]
    local = _client(demo_data, viewer_url="/viewer/dist/mirador.min.js")
    assert directives(local.get(f"/item/{ITEM}"))["script-src"] == ["'self'"]


def test_json_responses_carry_no_page_policy(demo_data: Path) -> None:
    response = _client(demo_data).get("/iiif/3/collection/top")
    assert response.status_code == 200 and "Content-Security-Policy" not in response.headers


# --------------------------------------------------------------------------- subresource integrity


def _sri(path: Path) -> str:
    return "sha384-" + base64.b64encode(hashlib.sha384(path.read_bytes()).digest()).decode()


def _npm_file(package: str, rel: str, version: str) -> Path:
    folder = NODE_MODULES / package
    if not (folder / rel).is_file():
        message = f"{package} is not installed in tests/browser/node_modules: run scripts/install-browser-deps"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    installed = json.loads((folder / "package.json").read_text(encoding="utf-8"))["version"]
    assert installed == version, f"node_modules has {package} {installed}, the pinned CDN URL {version}"
    return folder / rel


@pytest.mark.parametrize("kind", sorted(NPM))
def test_integrity_is_the_hash_of_the_pinned_npm_file(kind: str) -> None:
    package, rel, version = NPM[kind]
    url = viewer.DEFAULT_URLS[kind]
    # jsDelivr's /npm/<name>@<version>/<file> serves that file of the npm package unchanged
    assert url.endswith(f"@{version}/{rel}") and f"{package}/{rel}" in BUNDLES.values()
    assert viewer.INTEGRITY[url] == _sri(_npm_file(package, rel, version))
    if kind == "uv":
        css = viewer.assets("uv", "", "").stylesheet
        assert css is not None and css.endswith(f"@{version}/dist/uv.css")
        assert viewer.INTEGRITY[css] == _sri(_npm_file(package, "dist/uv.css", version))


@pytest.mark.parametrize("kind", sorted(NPM))
def test_pages_pin_the_cdn_bundle(demo_data: Path, kind: str) -> None:
    for path in (f"/item/{ITEM}", f"/embed/{ITEM}"):
        page = parse(_client(demo_data, viewer=kind).get(path).get_data(as_text=True))
        bundle = [s for s in page.scripts if s.get("src") == viewer.DEFAULT_URLS[kind]]
        assert len(bundle) == 1, path
        assert bundle[0]["integrity"] == viewer.INTEGRITY[viewer.DEFAULT_URLS[kind]]
        assert bundle[0]["crossorigin"] == "anonymous"
        for link in page.links:
            if link.get("href", "").startswith("https://"):  # type: ignore[union-attr]
                assert link.get("integrity") == viewer.INTEGRITY[str(link["href"])] and link["crossorigin"] == "anonymous"


def test_a_self_chosen_bundle_has_no_pinned_hash(demo_data: Path) -> None:
    page = parse(_client(demo_data, viewer_url="https://static.example/mirador.js").get(f"/item/{ITEM}")
                 .get_data(as_text=True))
    bundle = [s for s in page.scripts if s.get("src") == "https://static.example/mirador.js"]
    assert len(bundle) == 1 and "integrity" not in bundle[0]


# --------------------------------------------------------------------------- in Chromium

VIOLATIONS = """
window.__csp = [];
document.addEventListener("securitypolicyviolation",
  e => window.__csp.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " " + e.sourceFile + ":" + e.lineNumber));
"""


@pytest.fixture(scope="module")
def viewer_sites(demo_data: Path, viewer_server: Any) -> Iterator[dict[str, str]]:
    """Live servers whose pages load Mirador / UV from the loopback static server (policy on)."""
    if missing_requirements():
        pytest.skip("browser requirements missing")  # the page fixture words it (and fails on CI)
    servers = {
        "mirador": LiveServer(demo_data, env={"HERITAGE_VIEWER": "mirador",
                                              "HERITAGE_VIEWER_URL": viewer_server.url("/node_modules/" + BUNDLES["mirador4"])}),
        "uv": LiveServer(demo_data, env={"HERITAGE_VIEWER": "uv",
                                         "HERITAGE_VIEWER_URL": viewer_server.url("/node_modules/" + BUNDLES["universalviewer"])}),
    }
    yield {kind: server.url for kind, server in servers.items()}
    for server in servers.values():
        server.stop()


@pytest.mark.browser
@pytest.mark.parametrize("kind, path", [("mirador", f"/item/{ITEM}?canvas=2"), ("mirador", f"/embed/{ITEM}"),
                                        ("uv", f"/item/{ITEM}?canvas=2"), ("uv", f"/embed/{ITEM}")])
def test_viewers_load_tiles_under_the_policy(page: Any, viewer_sites: dict[str, str], kind: str, path: str) -> None:
    site = viewer_sites[kind]
    page.add_init_script(VIOLATIONS)
    response = page.goto(site + path, wait_until="load")
    assert response is not None and response.status == 200
    assert "script-src 'self' http://127.0.0.1:" in (response.headers.get("content-security-policy") or "")
    image = f"{ITEM}~{2 if 'canvas=2' in path else 1}"
    prefix = f"{site}/iiif/3/image/{image}/"
    page.wait_until(lambda: bool(page.info_hits(prefix)), 30_000, f"info.json of {image}")
    # tiles or, for UV at this window size, a whole pyramid level (full/w,h): image data arrived
    page.wait_until(lambda: bool(page.image_hits(prefix)), 30_000, f"image data of {image}")
    page.wait_for_quiet()
    assert page.evaluate("() => window.__csp") == []
    assert [c for c in page.console_errors if "Content Security Policy" in c] == []
    assert not re.search(r"Refused to (load|execute|apply|connect|evaluate)", " ".join(page.console_errors))


@pytest.mark.browser
def test_only_the_embed_page_can_be_framed_by_another_site(page: Any, viewer_sites: dict[str, str],
                                                            viewer_server: Any, tmp_path: Path) -> None:
    site = viewer_sites["mirador"]
    (tmp_path / "frames.html").write_text(
        f'<!doctype html><title>frames</title><iframe id="embed" src="{site}/embed/{ITEM}"></iframe>'
        f'<iframe id="item" src="{site}/item/{ITEM}"></iframe>', encoding="utf-8")
    host = viewer_server.mount(f"frames-{tmp_path.name}", tmp_path)  # another origin (port) than the site
    page.goto(f"{host}/frames.html", wait_until="load")
    embed = page.frame_locator("#embed")
    embed.locator("#viewer").wait_for(state="attached")
    assert embed.locator(".page-embed").count() == 1
    page.wait_until(lambda: any("frame-ancestors" in c for c in page.console_errors), 10_000, "the item frame refused")
    assert len([c for c in page.console_errors if "frame-ancestors 'none'" in c]) == 1  # the item page's
    assert page.frame_locator("#item").locator("#main").count() == 0
