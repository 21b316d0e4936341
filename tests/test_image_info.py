"""info.json for Image API 3.0 and 2.1: required properties, level 2 extras, limits respected."""
from __future__ import annotations

import json

import pytest

from server.image.info import info_json_v2, info_json_v3
from server.image.model import Pyramid
from server.image.request import Limits, parse, resolve

PYR = Pyramid("/nonexistent/kant.tif", 1457, 2083, ((1457, 2083), (728, 1041), (364, 520), (182, 260), (91, 130)))
LIMITS = Limits(10_000, 10_000, 40_000_000)
BASE = "https://heritage.example.org/iiif/3/image/kant-0017"


def test_v3_document() -> None:
    doc = info_json_v3(BASE, PYR, LIMITS, 256)
    assert next(iter(doc)) == "@context"  # "SHOULD appear as the very first key-value pair"
    assert doc["@context"] == "http://iiif.io/api/image/3/context.json"
    assert doc["id"] == BASE and doc["type"] == "ImageService3"
    assert doc["protocol"] == "http://iiif.io/api/image" and doc["profile"] == "level2"
    assert (doc["width"], doc["height"]) == (1457, 2083)
    assert (doc["maxWidth"], doc["maxHeight"], doc["maxArea"]) == (10_000, 10_000, 40_000_000)
    assert doc["sizes"] == [{"width": w, "height": h} for w, h in reversed(PYR.levels)]
    # one tile size, the pyramid's own: each scale factor is listed once (§5.4)
    assert doc["tiles"] == [{"width": 256, "height": 256, "scaleFactors": [1, 2, 4, 8, 16]}]
    assert info_json_v3(BASE, PYR, LIMITS, 512)["tiles"] == [{"width": 512, "height": 512,
                                                              "scaleFactors": [1, 2, 4, 8]}]
    assert doc["extraFormats"] == ["webp", "tif", "gif"]
    assert doc["extraQualities"] == ["color", "gray", "bitonal"]
    assert doc["extraFeatures"] == [
        "baseUriRedirect", "canonicalLinkHeader", "cors", "jsonldMediaType", "mirroring",
        "profileLinkHeader", "regionByPct", "regionByPx", "regionSquare", "rotationArbitrary",
        "rotationBy90s", "sizeByConfinedWh", "sizeByH", "sizeByPct", "sizeByW", "sizeByWh",
        "sizeUpscaling"]
    json.dumps(doc)  # plain JSON types only


def test_v2_document() -> None:
    doc = info_json_v2(BASE.replace("/3/", "/2/"), PYR, LIMITS, 256)
    assert next(iter(doc)) == "@context"
    assert doc["@context"] == "http://iiif.io/api/image/2/context.json"
    assert doc["@id"] == BASE.replace("/3/", "/2/") and "id" not in doc and "type" not in doc
    assert doc["protocol"] == "http://iiif.io/api/image"
    assert (doc["width"], doc["height"]) == (1457, 2083)
    level, profile = doc["profile"]
    assert level == "http://iiif.io/api/image/2/level2.json"
    assert set(profile["formats"]) == {"jpg", "png", "webp", "tif", "gif"}
    assert set(profile["qualities"]) == {"default", "color", "gray", "bitonal"}
    assert {"sizeAboveFull", "mirroring", "rotationArbitrary", "regionSquare", "sizeByDistortedWh",
            "canonicalLinkHeader", "profileLinkHeader"} <= set(profile["supports"])
    assert "sizeUpscaling" not in profile["supports"]  # a 3.0 name
    assert (profile["maxWidth"], profile["maxHeight"], profile["maxArea"]) == (10_000, 10_000, 40_000_000)
    assert doc["tiles"] == [{"width": 256, "height": 256, "scaleFactors": [1, 2, 4, 8, 16]}]
    assert doc["sizes"][0] == {"width": 91, "height": 130}
    json.dumps(doc)


@pytest.mark.parametrize("make", [info_json_v3, info_json_v2])
def test_sizes_and_tiles_stay_within_the_limits(make) -> None:  # type: ignore[no-untyped-def]
    small = Limits(800, 800, 300_000)
    doc = make(BASE, PYR, small, 256)
    assert doc["sizes"] == [{"width": 91, "height": 130}, {"width": 182, "height": 260},
                            {"width": 364, "height": 520}]
    assert [t["width"] for t in doc["tiles"]] == [256]
    assert "tiles" not in make(BASE, PYR, small, 1024)


@pytest.mark.parametrize("tile", [256, 512])
@pytest.mark.parametrize("version, make", [(3, info_json_v3), (2, info_json_v2)])
def test_advertised_sizes_and_tiles_are_servable(version: int, make, tile: int) -> None:  # type: ignore[no-untyped-def]
    """Every size and every tile the document advertises resolves to exactly that size."""
    doc = make(BASE, PYR, LIMITS, tile)
    for s in doc["sizes"]:
        r = resolve(parse(version, "full", f"{s['width']},{s['height']}", "0", "default.jpg"),
                    PYR.width, PYR.height, LIMITS)
        assert r.size == (s["width"], s["height"])
    for t in doc["tiles"]:
        for f in t["scaleFactors"]:
            step = t["width"] * f
            for x in range(0, PYR.width, step):
                rw = min(step, PYR.width - x)
                rh = min(step, PYR.height)
                size = (-(-rw // f), -(-rh // f))
                r = resolve(parse(version, f"{x},0,{rw},{rh}", f"{size[0]},{size[1]}", "0", "default.jpg"),
                            PYR.width, PYR.height, LIMITS)
                assert r.size == size

