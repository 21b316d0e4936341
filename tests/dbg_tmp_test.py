import time, pytest
from urllib.parse import quote
@pytest.mark.parametrize("version", ["3", "2"])
def test_dbg(page, viewer_server, live_server, version):
    t = time.monotonic()
    prefix = f"{live_server}/iiif/{version}/image/"
    info = f"{prefix}periodical-ita-rassegna-settimanale-1878-10-06~1/info.json"
    page.goto(viewer_server.url("/harness/openseadragon.html?info=" + quote(info, safe="")))
    print("goto", time.monotonic() - t)
    page.wait_for_function("() => window.harness && harness.opened && harness.fullyLoaded")
    print("loaded", time.monotonic() - t, len(page.image_hits(prefix)))
    c = page.evaluate("() => harness.zoomIn(4)")
    page.wait_for_function("count => harness.fullyLoaded && harness.fullyLoadedCount > count", arg=c)
    print("zoomed", time.monotonic() - t, len(page.image_hits(prefix)))
    page.wait_for_quiet()
    print("quiet", time.monotonic() - t, len(page.image_hits(prefix)))

    print(page.problems())
