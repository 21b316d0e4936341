"""Browser-test fixtures: Debian's headless Chromium, a watched page, a loopback static server.

Loaded as a pytest plugin by the root ``tests/conftest.py``
(``pytest_plugins = ["tests.browser.support"]``). The real IIIF clients come from the
``dist/`` bundles in ``tests/browser/node_modules`` (``scripts/install-browser-deps``), served by
:class:`StaticServer` on 127.0.0.1 so that no test depends on a CDN. Every page is fenced to
loopback: any other request is aborted and counted as a problem.

Why not pytest-playwright: it downloads its own browser builds, which this environment cannot;
we drive the distribution's Chromium through plain playwright instead.
"""
from __future__ import annotations

import json
import os
import posixpath
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest

BROWSER_DIR = Path(__file__).resolve().parent
REPO_ROOT = BROWSER_DIR.parent.parent
NODE_MODULES = BROWSER_DIR / "node_modules"
HARNESS_DIR = BROWSER_DIR / "harness"
ARTIFACTS_DIR = REPO_ROOT / "test-artifacts" / "browser"

CHROMIUM = Path(os.environ.get("BROWSER_TEST_CHROMIUM", "/usr/bin/chromium"))
# The flags the environment needs: as root (no sandbox), no GPU, and no calls home (the closed
# network refuses them, noisily). Playwright adds a fresh temporary --user-data-dir per launch.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# The files the harness pages load, relative to node_modules; package.json's "bundles" field is
# the one list (scripts/install-browser-deps checks it too). Missing = the npm install did not run.
BUNDLES: dict[str, str] = json.loads((BROWSER_DIR / "package.json").read_text(encoding="utf-8"))["bundles"]

DEFAULT_TIMEOUT_MS = 20_000
# Playwright matches this on the driver side, so loopback traffic never detours through Python.
NOT_LOOPBACK = re.compile(r"^(?!(?:https?|wss?)://(?:127\.0\.0\.1|localhost|\[::1\])(?::\d+)?(?:/|$))")


def missing_requirements() -> list[str]:
    """What the browser suite needs and does not find on this machine (empty = all there)."""
    missing = []
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("the Python package playwright (pip install -e '.[test]')")
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        missing.append(f"Chromium at {CHROMIUM}")
    for name, rel in BUNDLES.items():
        if not (NODE_MODULES / rel).is_file():
            missing.append(f"the {name} bundle node_modules/{rel}")
    return missing


def _require_browser_environment() -> None:
    """Skip on a developer machine without the tools; fail on CI, where a skip would hide them."""
    missing = missing_requirements()
    if not missing:
        return
    message = "browser tests need " + "; ".join(missing) + ": run scripts/install-browser-deps"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


# --------------------------------------------------------------------------- static server


class _Handler(SimpleHTTPRequestHandler):
    """Serves the server's mounts only (never the whole tree), with CORS, quietly."""

    server: StaticServer
    protocol_version = "HTTP/1.1"
    extensions_map = {  # noqa: RUF012 - the stdlib API: a class attribute the handler reads
        **SimpleHTTPRequestHandler.extensions_map,
        ".js": "text/javascript",
        ".mjs": "text/javascript",
        ".json": "application/json",
        ".css": "text/css",
        ".svg": "image/svg+xml",
        ".woff": "font/woff",
        ".woff2": "font/woff2",
        ".wasm": "application/wasm",
    }

    def translate_path(self, path: str) -> str:
        """Map ``/<mount>/rest`` into that mount's folder; anything else maps to nothing."""
        clean = posixpath.normpath(unquote(urlsplit(path).path))
        for prefix, root in self.server.mounts.items():
            if clean == prefix or clean.startswith(prefix + "/"):
                target = (root / clean[len(prefix) :].lstrip("/")).resolve()
                if target == root or root in target.parents:
                    return str(target)
        return str(BROWSER_DIR / "does-not-exist")

    def list_directory(self, path: Any) -> None:  # type: ignore[override]
        self.send_error(404)

    def end_headers(self) -> None:
        self.send_header("Access-Control-Allow-Origin", "*")
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


class StaticServer(ThreadingHTTPServer):
    """A loopback HTTP server for the harness pages and the viewers' bundles."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.mounts: dict[str, Path] = {}
        self._thread = threading.Thread(target=self.serve_forever, name="viewer-server", daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def mount(self, prefix: str, directory: Path) -> str:
        """Serve ``directory`` under ``/prefix``; returns the mount's base URL."""
        prefix = "/" + prefix.strip("/")
        self.mounts[prefix] = Path(directory).resolve()
        return self.base_url + prefix

    def url(self, path: str) -> str:
        return self.base_url + "/" + path.lstrip("/")

    def start(self) -> StaticServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


@pytest.fixture(scope="session")
def viewer_server() -> Iterator[StaticServer]:
    """Serves ``/harness/*.html`` and ``/node_modules/…`` on 127.0.0.1 (random port)."""
    server = StaticServer()
    server.mount("harness", HARNESS_DIR)
    server.mount("node_modules", NODE_MODULES)
    server.start()
    yield server
    server.stop()


# --------------------------------------------------------------------------- browser and page


@pytest.fixture(scope="session")
def chromium_browser() -> Iterator[Any]:
    """One headless Debian Chromium for the whole session (a fresh profile per launch)."""
    _require_browser_environment()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


def _path_under(url: str, prefix: str) -> bool:
    """``prefix`` is a whole URL prefix (``http://…/iiif/3/image/``) or a path prefix."""
    return url.startswith(prefix) if "://" in prefix else urlsplit(url).path.startswith(prefix)


def _is_info(url: str) -> bool:
    return urlsplit(url).path.endswith("/info.json")


def _region(url: str) -> str:
    """The region segment of an Image API URL ({id}/{region}/{size}/{rotation}/{quality}.{format})."""
    parts = urlsplit(url).path.rsplit("/", 4)
    return unquote(parts[1]) if len(parts) == 5 else ""


@dataclass
class Hit:
    """One HTTP response the page received (recorded when its headers arrived)."""

    url: str
    status: int
    method: str = "GET"


@dataclass
class WatchedPage:
    """A playwright Page plus everything that went wrong on it.

    Attribute access falls through to the Page (``watched.goto(...)``, ``watched.evaluate(...)``).
    ``problems()`` lists console errors, uncaught page errors, requests that failed or answered
    >= 400, and requests that tried to leave loopback.
    """

    page: Any
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    blocked_requests: list[str] = field(default_factory=list)
    responses: list[Hit] = field(default_factory=list)
    in_flight: set[Any] = field(default_factory=set)
    navigations: int = 0  # documents loaded in the page (domcontentloaded: not the same document's pushState)
    issued: dict[Any, int] = field(default_factory=dict)  # request → the document that made it
    abandoned: list[tuple[int, str]] = field(default_factory=list)  # aborted requests: (document, line)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.page, name)

    # recording ------------------------------------------------------------
    def attach(self, context: Any) -> WatchedPage:
        self.page.on("console", self._on_console)
        self.page.on("pageerror", lambda error: self.page_errors.append(str(error)))
        self.page.on("domcontentloaded", self._on_document)
        context.on("request", self._on_request)
        context.on("response", self._on_response)
        context.on("requestfinished", self._on_finished)
        context.on("requestfailed", self._on_failed)
        context.route(NOT_LOOPBACK, self._block)
        return self

    def _on_console(self, message: Any) -> None:
        if message.type == "error":
            location = message.location or {}
            where = location.get("url", "")
            self.console_errors.append(f"{message.text} ({where})" if where else message.text)

    def _on_document(self, _: Any) -> None:
        self.navigations += 1

    def _on_request(self, request: Any) -> None:
        self.in_flight.add(request)
        self.issued[request] = self.navigations

    def _on_response(self, response: Any) -> None:
        # Recorded, and no longer waited for, when the headers arrive: a body that nobody reads
        # (a viewer dropping an error response) may never "finish". A body that breaks later
        # still shows up through requestfailed.
        request = response.request
        self.in_flight.discard(request)
        self.responses.append(Hit(request.url, response.status, request.method))
        if response.status >= 400:
            self.failed_requests.append(f"{response.status} {request.method} {request.url}")

    def _on_finished(self, request: Any) -> None:
        self.in_flight.discard(request)

    def _on_failed(self, request: Any) -> None:
        self.in_flight.discard(request)
        if request.url in self.blocked_requests:
            return
        line = f"{request.failure} {request.method} {request.url}"
        if "ERR_ABORTED" in str(request.failure):  # decided in problems(): events may come in either order
            self.abandoned.append((self.issued.get(request, self.navigations), line))
        else:
            self.failed_requests.append(line)

    def _block(self, route: Any) -> None:
        url = route.request.url
        if urlsplit(url).scheme in {"http", "https", "ws", "wss"}:
            self.blocked_requests.append(url)
            route.abort("blockedbyclient")
        else:  # data:, blob: … never reach the network
            route.continue_()

    def reset(self) -> None:
        """Forget what was recorded (before loading the next document in the same page)."""
        self.console_errors.clear()
        self.page_errors.clear()
        self.failed_requests.clear()
        self.blocked_requests.clear()
        self.responses.clear()
        self.abandoned.clear()

    # querying -------------------------------------------------------------
    def hits(self, predicate: Callable[[str], bool], status: int | None = 200) -> list[Hit]:
        """Responses whose URL satisfies ``predicate`` (and has ``status``, if given)."""
        return [hit for hit in self.responses if predicate(hit.url) and (status is None or hit.status == status)]

    def image_hits(self, prefix: str, status: int | None = 200) -> list[Hit]:
        """Image API requests (not info.json) under ``prefix``, e.g. ``f"{base}/iiif/3/image/"``."""
        return self.hits(lambda url: _path_under(url, prefix) and not _is_info(url), status)

    def tile_hits(self, prefix: str, status: int | None = 200) -> list[Hit]:
        """Image API requests under ``prefix`` for a region (``x,y,w,h`` or ``pct:``), not the
        full image: what a deep-zoom client asks for once it has read the info.json."""
        return [hit for hit in self.image_hits(prefix, status) if _region(hit.url) not in {"full", "square", ""}]

    def info_hits(self, prefix: str, status: int | None = 200) -> list[Hit]:
        """``info.json`` requests under ``prefix``."""
        return self.hits(lambda url: _path_under(url, prefix) and _is_info(url), status)

    def problems(self, ignore: Iterable[re.Pattern[str]] = ()) -> list[str]:
        """Everything that went wrong, one line each, less the lines an ``ignore`` pattern
        ``search``es (for upstream viewer defects that no server can fix; keep them narrow)."""
        lines = (
            [f"console error: {text}" for text in self.console_errors]
            + [f"page error: {text}" for text in self.page_errors]
            + [f"failed request: {text}" for text in self.failed_requests]
            # the browser cancels what a document was still loading when the page moves on (a
            # visitor submitting the search box before every thumbnail arrived): not a failure of
            # the site; a request the current document gave up is one
            + [f"failed request: {text}" for document, text in self.abandoned if document >= self.navigations]
            + [f"request left loopback: {url}" for url in self.blocked_requests]
        )
        patterns = list(ignore)
        return [line for line in lines if not any(pattern.search(line) for pattern in patterns)]

    # waiting --------------------------------------------------------------
    def wait_until(
        self, condition: Callable[[], bool], timeout_ms: int = DEFAULT_TIMEOUT_MS, what: str = "condition"
    ) -> None:
        """Let the page run until ``condition()`` (evaluated in Python on the recorded events)."""
        deadline = time.monotonic() + timeout_ms / 1000
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"timed out after {timeout_ms} ms waiting for {what}; problems: {self.problems()}"
                )
            self.page.wait_for_timeout(50)

    def wait_for_quiet(self, quiet_ms: int = 400, timeout_ms: int = DEFAULT_TIMEOUT_MS) -> None:
        """Wait until no request has awaited its response for ``quiet_ms`` (late errors show up)."""
        deadline = time.monotonic() + timeout_ms / 1000
        quiet_since = time.monotonic()
        seen = len(self.responses)
        while True:
            self.page.wait_for_timeout(50)
            now = time.monotonic()
            if self.in_flight or len(self.responses) != seen:
                seen = len(self.responses)
                quiet_since = now
            elif now - quiet_since >= quiet_ms / 1000:
                return
            if now > deadline:
                pending = sorted(request.url for request in self.in_flight)[:5]
                raise AssertionError(f"network never went quiet in {timeout_ms} ms: {pending}")

    # evidence -------------------------------------------------------------
    def save_screenshot(self, name: str) -> Path:
        """Write ``test-artifacts/browser/<name>.png`` (git-ignored) and return its path."""
        ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS_DIR / (re.sub(r"[^A-Za-z0-9._-]+", "_", name) + ".png")
        self.page.screenshot(path=str(path))
        return path

    def axe_violations(self, options: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Run axe-core (from node_modules, injected: no network) and return its violations."""
        inject_axe(self.page)
        result = self.page.evaluate("options => axe.run(document, options || {})", options)
        return list(result["violations"])


def inject_axe(page: Any) -> None:
    """Load axe-core into the page by evaluation: a ``<script>`` tag (``add_script_tag``) would be
    an inline script, which the site's Content-Security-Policy rightly refuses."""
    page.evaluate((NODE_MODULES / BUNDLES["axe-core"]).read_text(encoding="utf-8") + "\n;0")


@pytest.fixture
def page(chromium_browser: Any) -> Iterator[WatchedPage]:
    """A new page in its own browser context (own cache, own storage), watched for problems."""
    context = chromium_browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    watched = WatchedPage(context.new_page()).attach(context)
    try:
        yield watched
    finally:
        context.close()


__all__ = [
    "ARTIFACTS_DIR",
    "BUNDLES",
    "CHROMIUM",
    "CHROMIUM_ARGS",
    "Hit",
    "StaticServer",
    "WatchedPage",
    "chromium_browser",
    "inject_axe",
    "missing_requirements",
    "page",
    "viewer_server",
]
