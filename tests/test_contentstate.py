"""The IIIF Content State decoder and encoder (server/web/contentstate.py), from the spec's forms
(Content State API 1.0 §2.2, encoding §6) and hostile values. The pages that use it are tested in
test_web_pages.py and, in Chromium, test_web_contentstate_browser.py."""
from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import quote

import pytest

from server.web import contentstate as cs

BASE = "https://museo.test/heritage"
SITE = cs.Site(BASE, lambda item: {1: (1000, 1500), 2: (1200, 1600)} if item in ("libro", "a b") else None)
CANVAS = f"{BASE}/iiif/3/libro/canvas/2"
MANIFEST = f"{BASE}/iiif/3/libro/manifest"


def spec_encode(doc: object) -> str:
    """§6 literally: base64url(encodeURIComponent(JSON)), padding removed."""
    text = quote(doc if isinstance(doc, str) else json.dumps(doc), safe="-_.!~*'()")
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


FULL: dict[str, Any] = {"@context": cs.CONTEXT, "id": "https://elsewhere.test/state/1", "type": "Annotation",
        "motivation": ["contentState"],
        "target": {"id": CANVAS + "#xywh=100,200,300,40", "type": "Canvas",
                   "partOf": [{"id": MANIFEST, "type": "Manifest"}]}}
REGION = cs.View("libro", 2, (100, 200, 300, 40))


@pytest.mark.parametrize("value", [
    spec_encode(FULL),                                                    # full annotation, §6 encoding
    spec_encode(FULL) + "==",                                             # with padding
    base64.urlsafe_b64encode(json.dumps(FULL).encode()).decode(),         # not URI-encoded first
    json.dumps(FULL),                                                     # bare JSON
    spec_encode(FULL["target"]),                                          # target body
    CANVAS + "#xywh=100,200,300,40",                                      # target URI
    spec_encode(CANVAS + "#xywh=100,200,300,40"),                         # target URI, encoded
    f"{BASE}/iiif/content-state/libro/2/100,200,300,40",                  # our annotation URI
    spec_encode({"type": "SpecificResource", "source": {"id": CANVAS, "type": "Canvas", "partOf": MANIFEST},
                 "selector": {"type": "FragmentSelector", "value": "xywh=100,200,300,40"}}),
    spec_encode({"type": "Annotation", "motivation": "contentState",
                 "target": {"type": "SpecificResource", "source": CANVAS,
                            "selector": [{"type": "FragmentSelector", "value": "xywh=pixel:100,200,300,40"}]}}),
    spec_encode({**FULL, "target": [FULL["target"], {"id": MANIFEST, "type": "Manifest"}]}),
])
def test_every_form_opens_the_region(value: str) -> None:
    assert cs.read(value, SITE) == REGION


def test_canvas_manifest_and_point_forms() -> None:
    assert cs.read(CANVAS, SITE) == cs.View("libro", 2)
    assert cs.read(MANIFEST, SITE) == cs.View("libro", 1)
    assert cs.read(spec_encode({"id": MANIFEST, "type": "Manifest"}), SITE) == cs.View("libro", 1)
    assert cs.read(f"{BASE}/iiif/content-state/libro/1", SITE) == cs.View("libro", 1)
    assert cs.read(CANVAS + "#xywh=percent:50,50,10,10", SITE) == cs.View("libro", 2, (600, 800, 120, 160))
    point = {"type": "SpecificResource", "source": CANVAS, "selector": {"type": "PointSelector", "x": 5, "y": 6}}
    assert cs.read(spec_encode(point), SITE) == cs.View("libro", 2, (5, 6, 1, 1))
    assert cs.read(f"{BASE}/iiif/3/a%20b/canvas/1", SITE) == cs.View("a b", 1)


def test_region_is_clipped_to_the_canvas() -> None:
    assert cs.read(CANVAS + "#xywh=1100,1500,500,500", SITE).region == (1100, 1500, 100, 100)


def test_round_trip() -> None:
    for view in (cs.View("libro", 2), REGION, cs.View("a b", 1, (0, 0, 10, 10))):
        assert cs.read(cs.encoded(SITE, view), SITE) == view
        doc = cs.annotation(SITE, view)
        assert cs.read(doc["id"], SITE) == view
        assert doc["motivation"] == ["contentState"] and doc["target"]["partOf"][0]["type"] == "Manifest"
    assert "=" not in cs.encoded(SITE, REGION) and "+" not in cs.encoded(SITE, REGION)


def test_encoding_is_the_specs() -> None:
    """§6: what JavaScript's btoa(encodeURIComponent(JSON.stringify(doc))) gives, made URL-safe."""
    doc = {"id": CANVAS + "#xywh=1,2,3,4", "type": "Canvas", "label": {"it": ["Città è più (sì)!"]}}
    text = quote(json.dumps(doc, separators=(",", ":"), ensure_ascii=False), safe="-_.!~*'()")
    assert cs.encode(doc) == base64.b64encode(text.encode()).decode().replace("+", "-").replace("/", "_").rstrip("=")


@pytest.mark.parametrize("value, reason", [
    ("", "empty"),
    ("x" * 9000, "longer"),
    ("not base64!", "neither"),
    ("%%%", "neither"),
    (base64.urlsafe_b64encode(b"\xff\xfe").decode(), "base64url"),
    (base64.urlsafe_b64encode(b"%ff%fe").decode(), "URI-encoded"),
    (spec_encode([]), "empty target"),
    (base64.urlsafe_b64encode(b"12").decode(), "JSON"),
    (base64.urlsafe_b64encode(b"{nope").decode(), "JSON"),
    ("[" * 2000 + "]" * 2000, "neither"),
    (base64.urlsafe_b64encode(b"[" * 2000 + b"]" * 2000).decode(), "JSON"),
    (spec_encode(json.loads("[" * 900 + "]" * 900)), "deeply"),
    ("{" + '"a":{' * 1200 + "}" * 1201, "JSON"),
    (spec_encode({**FULL, "motivation": ["painting"]}), "motivation"),
    (spec_encode({"type": "Annotation", "motivation": "contentState"}), "no target"),
    (spec_encode({"type": "Collection", "id": f"{BASE}/iiif/3/collection/top"}), "type"),
    (spec_encode({"type": "Canvas"}), "no id"),
    ("https://evil.test/iiif/3/libro/canvas/2", "another site"),
    (BASE + "evil.test/iiif/3/libro/canvas/2", "another site"),
    ("https://elsewhere.test/state/1", "another site"),
    (f"{BASE}/iiif/3/libro/canvas/9", "no canvas 9"),
    (f"{BASE}/iiif/3/nessuno/canvas/1", "no item"),
    (f"{BASE}/iiif/3/../../etc/passwd", "nothing this site"),
    (f"{BASE}/iiif/3/libro/canvas/2/../../../x", "nothing this site"),
    (f"{BASE}/iiif/3/libro/canvas/2#xywh=a,b,c,d", "xywh"),
    (f"{BASE}/iiif/3/libro/canvas/2#xywh=10,10,0,5", "no area"),
    (f"{BASE}/iiif/3/libro/canvas/2#xywh=5000,5000,10,10", "outside"),
    (f"{BASE}/iiif/3/libro/canvas/2#xywh=1,1,1,1e308", "xywh"),
    (spec_encode({**FULL, "target": {**FULL["target"], "partOf": [{"id": f"{BASE}/iiif/3/altro/manifest"}]}}), "partOf"),
    (spec_encode({**FULL, "target": {**FULL["target"], "partOf": "https://evil.test/m"}}), "another site"),
    (spec_encode({**FULL, "target": {**FULL["target"], "partOf": f"{BASE}/iiif/3/collection/x"}}), "partOf"),
    (spec_encode("javascript:alert(1)"), "JSON"),
    (spec_encode('"http://x"'), "not an object"),
])
def test_hostile_and_malformed_values_say_why(value: str, reason: str) -> None:
    with pytest.raises(cs.ContentStateError) as caught:
        cs.read(value, SITE)
    assert reason in str(caught.value)
