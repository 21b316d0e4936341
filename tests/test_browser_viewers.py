"""The IIIF viewers people will embed — Mirador 3, Mirador 4, Universal Viewer 4 — open every
published manifest in Chromium and show its first canvas without a single error.

Each viewer runs from its npm ``dist/`` bundle, served on loopback; the manifest, info.json and
tiles come cross-origin from the live ``heritage serve``. A viewer that rejects our JSON usually
says so only in the console, so console errors count as failures, as do uncaught exceptions,
requests answered with >= 400 and any request that tries to leave 127.0.0.1.
"""
from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

import pytest

pytestmark = pytest.mark.browser

# harness page per viewer (tests/browser/harness/)
VIEWERS = {
    "mirador3": "mirador3.html",
    "mirador4": "mirador4.html",
    "universalviewer": "universalviewer.html",
}
LOAD_TIMEOUT_MS = 20_000


def known_viewer_defects(viewer: str, viewer_base: str) -> list[re.Pattern[str]]:
    """Upstream defects of these exact viewer versions that show with any manifest (or none).

    Matched narrowly, and only on the viewer's own origin or bundle: nothing the live server
    answers is ever excused. Re-check each one when the viewer's version changes.
    """
    own = re.escape(viewer_base)
    return {
        # mirador 4.0.0's UMD bundle carries React 19's development JSX runtime, which warns
        # about a dependency's element.ref once per page, also with no manifest at all.
        "mirador4": [
            re.compile(r"^console error: Accessing element\.ref was removed in React 19\. .*"
                       + own + r"/node_modules/mirador4/dist/mirador\.min\.js\)$"),
        ],
        # UV 4 gives OpenSeadragon its button images as data: URIs but leaves prefixUrl at
        # OpenSeadragon's default "/images/", so the browser asks the page's own origin for
        # "/images/data:image/gif;base64,…" (404 on every site that embeds UV).
        "universalviewer": [
            re.compile(r"^failed request: 404 GET " + own + r"/images/data:image/"),
            re.compile(r"^console error: Failed to load resource: .*\(" + own + r"/images/data:image/"),
        ],
    }.get(viewer, [])


def _open_manifest(
    page: Any, viewer_server: Any, viewer: str, manifest: str, images: str
) -> list[str]:
    """Load ``manifest`` in the viewer until an info.json and a region tile under ``images`` have
    answered 200 (every demo page is larger than one tile) and the network is quiet; returns what
    went wrong, as soon as anything does."""
    ignore = known_viewer_defects(viewer, viewer_server.base_url)
    steps = [
        (f"the manifest {manifest}", lambda: bool(page.hits(lambda url: url == manifest))),
        ("an info.json with 200", lambda: bool(page.info_hits(images))),
        ("a region tile with 200", lambda: bool(page.tile_hits(images))),
    ]
    page.reset()
    page.goto(viewer_server.url(f"/harness/{VIEWERS[viewer]}?manifest=" + quote(manifest, safe="")))
    try:
        for what, ready in steps:
            # the lambda is called only within this iteration (wait_until returns before the next one)
            page.wait_until(lambda: ready() or bool(page.problems(ignore)), LOAD_TIMEOUT_MS, what)  # noqa: B023
            if not ready():
                page.wait_for_quiet()  # let the rest of the failure show
                return [f"never got {what}", *page.problems(ignore)]
        page.wait_for_quiet()
    except AssertionError as timeout:
        return [str(timeout), *page.problems(ignore)]
    return page.problems(ignore)


@pytest.mark.parametrize("viewer", sorted(VIEWERS))
def test_viewer_opens_every_manifest(
    page: Any, viewer_server: Any, live_server: str, live_items: list[str], viewer: str
) -> None:
    assert live_items, "the live server publishes no items"
    failures: dict[str, list[str]] = {}
    for item in live_items:
        manifest = f"{live_server}/iiif/3/{item}/manifest"
        images = f"{live_server}/iiif/3/image/{item}~"  # the item's page images: {item}~{page}
        problems = _open_manifest(page, viewer_server, viewer, manifest, images)
        page.save_screenshot(f"{viewer}-{item}")
        if problems:
            failures[item] = problems
    assert not failures, f"{viewer}: " + "\n".join(
        f"{item}:\n  " + "\n  ".join(problems) for item, problems in failures.items()
    )


def test_watched_page_reports_every_kind_of_problem(page: Any, viewer_server: Any) -> None:
    """The viewer tests pass only because nothing went wrong, not because nothing was seen."""
    page.goto(viewer_server.url("/harness/openseadragon.html"))
    page.evaluate(
        """async (missing) => {
            console.error("a console error");
            await fetch(missing).then((response) => response.text());
            await fetch("https://example.org/beacon").catch(() => {});
            setTimeout(() => { throw new Error("an uncaught error"); });
        }""",
        viewer_server.url("/harness/no-such-file.js"),
    )
    page.wait_until(lambda: bool(page.page_errors), what="the uncaught error")
    page.wait_for_quiet()
    problems = "\n".join(page.problems())
    assert "console error: a console error" in problems
    assert "page error: an uncaught error" in problems
    assert f"failed request: 404 GET {viewer_server.url('/harness/no-such-file.js')}" in problems
    assert "request left loopback: https://example.org/beacon" in problems


def test_a_request_given_up_counts_unless_the_page_moved_on(page: Any, viewer_server: Any) -> None:
    """A request the current document aborts is a problem; one the browser cancels because the
    visitor left the page (a thumbnail still loading when the search box is submitted) is not."""
    held = viewer_server.url("/harness/held.jpg")
    page.route(held, lambda route: None)  # never answered: still loading when it is given up
    page.goto(viewer_server.url("/harness/openseadragon.html"))
    page.evaluate("""(url) => { const c = new AbortController(); fetch(url, {signal: c.signal}).catch(() => {});
                               setTimeout(() => c.abort(), 50); }""", held)
    page.wait_until(lambda: bool(page.abandoned), what="the aborted fetch")
    assert [line for line in page.problems() if "ERR_ABORTED" in line and line.endswith(held)]
    page.reset()
    page.evaluate("(url) => { const img = new Image(); img.src = url; document.body.append(img); }", held)
    page.wait_until(lambda: any(r.url == held for r in page.in_flight), what="the image request")
    page.goto(viewer_server.url("/harness/openseadragon.html"))  # the visitor moves on
    page.wait_for_quiet()
    assert not [line for line in page.problems() if line.endswith(held)], page.problems()


def test_axe_runs_offline(page: Any) -> None:
    """axe-core comes from node_modules, so accessibility checks need no network either."""
    page.set_content('<html lang="en"><title>t</title><main><img src="data:,"></main></html>')
    rules = {violation["id"] for violation in page.axe_violations()}
    assert "image-alt" in rules
    assert page.problems() == []
