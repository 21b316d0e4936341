"""OpenSeadragon, a real deep-zoom client, reads our info.json and pulls tiles in Chromium.

What a unit test cannot show: that the tiles the client computes from our info.json (sizes,
scale factors, tile width, edge tiles) are all answered with 200, cross-origin (CORS), without a
single console error, for both Image API versions.
"""
from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest

pytestmark = pytest.mark.browser

# A page of the bundled demo holdings (examples/holdings), 2297 x 3377 px.
IMAGE_ID = "periodical-ita-rassegna-settimanale-1878-10-06~1"
# Tiles to expect at least: a few for the home view, then more after zooming in.
MIN_TILES = 6


def _open_and_zoom(page: Any, viewer_server: Any, info_url: str, image_prefix: str) -> tuple[int, int]:
    """Open ``info_url`` in OpenSeadragon, wait until fully loaded, zoom in, wait again.

    Returns the number of successful tile requests before and after the zoom.
    """
    page.goto(viewer_server.url("/harness/openseadragon.html?info=" + quote(info_url, safe="")))
    page.wait_for_function("() => window.harness && harness.opened && harness.fullyLoaded")
    before = len(page.tile_hits(image_prefix))
    loaded_count = page.evaluate("() => harness.zoomIn(2)")
    page.wait_for_function(
        "count => harness.fullyLoaded && harness.fullyLoadedCount > count", arg=loaded_count
    )
    page.wait_for_quiet()
    return before, len(page.tile_hits(image_prefix))


@pytest.mark.parametrize("version", ["3", "2"])
def test_openseadragon_loads_and_zooms(page: Any, viewer_server: Any, live_server: str, version: str) -> None:
    prefix = f"{live_server}/iiif/{version}/image/"
    info_url = f"{prefix}{IMAGE_ID}/info.json"

    before, after = _open_and_zoom(page, viewer_server, info_url, prefix)
    page.save_screenshot(f"openseadragon-iiif{version}")

    assert page.info_hits(prefix), f"no successful info.json request for {info_url}"
    assert before > 0, "no tile loaded for the home view"
    assert after > before, "zooming in fetched no deeper tiles"
    assert after >= MIN_TILES, f"only {after} tiles fetched"
    assert page.problems() == []
