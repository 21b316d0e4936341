"""Image API over HTTP (Flask test client on the ingested demo): headers, negotiation, caching, errors."""
from __future__ import annotations

import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

IMG = "periodical-ita-rassegna-settimanale-1878-10-06~1"
V3 = f"/iiif/3/image/{IMG}"
V2 = f"/iiif/2/image/{IMG}"


def test_base_uri_redirects_to_info_json(client) -> None:
    for base in (V3, V2):
        r = client.get(base)
        assert r.status_code == 303
        assert r.headers["Location"] == f"http://heritage.test{base}/info.json"
        assert r.headers["Access-Control-Allow-Origin"] == "*"


def test_info_json_v3(client) -> None:
    r = client.get(f"{V3}/info.json")
    assert r.status_code == 200
    assert r.content_type == "application/json"
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    assert r.headers["Link"] == '<http://iiif.io/api/image/3/level2.json>;rel="profile"'
    info = r.get_json()
    assert info["id"] == f"http://heritage.test{V3}"
    assert info["type"] == "ImageService3" and info["profile"] == "level2"
    assert (info["width"], info["height"]) == (2297, 3377)
    assert [(t["width"], t["height"]) for t in info["tiles"]] == [(512, 512)]  # the pyramid's own tiles
    assert info["maxArea"] == 40_000_000
    assert set(info["extraFeatures"]) == {
        "baseUriRedirect", "canonicalLinkHeader", "cors", "jsonldMediaType", "mirroring", "profileLinkHeader",
        "regionByPct", "regionByPx", "regionSquare", "rotationArbitrary", "rotationBy90s", "sizeByConfinedWh",
        "sizeByH", "sizeByPct", "sizeByW", "sizeByWh", "sizeUpscaling"}
    assert info["sizes"] == sorted(info["sizes"], key=lambda s: s["width"])


def test_info_json_ld_when_asked(client) -> None:
    r = client.get(f"{V3}/info.json", headers={"Accept": "application/ld+json"})
    assert r.headers["Content-Type"] == 'application/ld+json;profile="http://iiif.io/api/image/3/context.json"'
    r2 = client.get(f"{V2}/info.json", headers={"Accept": "application/ld+json"})
    assert r2.headers["Content-Type"] == 'application/ld+json;profile="http://iiif.io/api/image/2/context.json"'
    assert r2.get_json()["@id"] == f"http://heritage.test{V2}"
    assert "Accept" in r.headers["Vary"]


def test_image_headers_and_canonical_link(client) -> None:
    r = client.get(f"{V3}/0,0,1024,1024/256,/0/default.jpg")
    assert r.status_code == 200 and r.content_type == "image/jpeg"
    assert f'<http://heritage.test{V3}/0,0,1024,1024/256,256/0/default.jpg>;rel="canonical"' in r.headers["Link"]
    assert '<http://iiif.io/api/image/3/level2.json>;rel="profile"' in r.headers["Link"]
    assert r.headers["Cache-Control"].startswith("public, max-age=")
    assert r.headers["ETag"] and r.headers["Last-Modified"]
    r2 = client.get(f"{V2}/0,0,1024,1024/256,256/0/default.jpg")
    assert f'<http://heritage.test{V2}/0,0,1024,1024/256,/0/default.jpg>;rel="canonical"' in r2.headers["Link"]
    assert r2.data == r.data  # one rendering serves both versions


def test_conditional_requests_get_304(client) -> None:
    url = f"{V3}/full/200,/0/default.jpg"
    first = client.get(url)
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert client.get(url, headers={"If-None-Match": etag}).status_code == 304
    assert client.get(url, headers={"If-Modified-Since": modified}).status_code == 304
    info = client.get(f"{V3}/info.json")
    assert client.get(f"{V3}/info.json", headers={"If-None-Match": info.headers["ETag"]}).status_code == 304


@pytest.mark.parametrize("fmt, pil", [("jpg", "JPEG"), ("png", "PNG"), ("webp", "WEBP"), ("tif", "TIFF"),
                                      ("gif", "GIF")])
def test_every_format_decodes(client, fmt: str, pil: str) -> None:
    r = client.get(f"{V3}/full/300,/0/default.{fmt}")
    assert r.status_code == 200
    im = Image.open(io.BytesIO(r.data))
    assert im.format == pil and im.width == 300


def test_pixels_gray_bitonal_mirror(client) -> None:
    color = Image.open(io.BytesIO(client.get(f"{V3}/0,0,600,400/300,/0/color.png").data))
    gray = Image.open(io.BytesIO(client.get(f"{V3}/0,0,600,400/300,/0/gray.png").data))
    bitonal = Image.open(io.BytesIO(client.get(f"{V3}/0,0,600,400/300,/0/bitonal.png").data))
    mirrored = Image.open(io.BytesIO(client.get(f"{V3}/0,0,600,400/300,/!0/color.png").data))
    assert gray.mode in ("L", "LA") and gray.size == (300, 200)
    assert set(bitonal.convert("L").getdata()) <= {0, 255}
    assert mirrored.transpose(Image.Transpose.FLIP_LEFT_RIGHT).tobytes() == color.tobytes()
    rotated = Image.open(io.BytesIO(client.get(f"{V3}/0,0,600,400/300,/90/default.png").data))
    assert rotated.size == (200, 300)


@pytest.mark.parametrize("path, parameter", [
    ("full/max/0/default.bmp", "format"),
    ("full/max/0/sepia.jpg", "quality"),
    ("full/max/45x/default.jpg", "rotation"),
    ("full/max/361/default.jpg", "rotation"),
    ("full/abc/0/default.jpg", "size"),
    ("full/5000,/0/default.jpg", "size"),          # upscaling without ^
    ("full/0,/0/default.jpg", "size"),
    ("full/^20000,20000/0/default.jpg", "size"),   # over maxWidth / maxArea: refused, not allocated
    ("9000,9000,10,10/max/0/default.jpg", "region"),
    ("0,0,0,10/max/0/default.jpg", "region"),
    ("pct:0,0,0,10/max/0/default.jpg", "region"),
    ("1,2,3/max/0/default.jpg", "region"),
])
def test_errors_are_400_naming_the_parameter(client, path: str, parameter: str) -> None:
    r = client.get(f"{V3}/{path}")
    assert r.status_code == 400, (path, r.data)
    body = r.get_json()
    assert body["parameter"] == parameter and body["message"]
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    assert b"Traceback" not in r.data


def test_unknown_identifier_is_404(client) -> None:
    for url in ("/iiif/3/image/nope/info.json", "/iiif/3/image/nope/full/max/0/default.jpg",
                "/iiif/2/image/nope/info.json", "/iiif/3/image/nope"):
        r = client.get(url)
        assert r.status_code == 404
        assert r.headers["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize("ident", [
    "..%2F..%2Fetc%2Fpasswd", "..%252F..%252Fetc%252Fpasswd", "%2e%2e%2f%2e%2e%2fetc%2fpasswd", "..", "%2e%2e",
    "....//....//etc//passwd", "..\\..\\etc\\passwd", "%00", "~1", "catalog.sqlite", "..%2Fcatalog.sqlite",
    "%2Fetc%2Fpasswd", "periodical-ita-rassegna-settimanale-1878-10-06~1%2F..%2F..",
])
def test_traversal_attempts_never_read_files(client, ident: str) -> None:
    for tail in ("info.json", "full/max/0/default.jpg"):
        r = client.get(f"/iiif/3/image/{ident}/{tail}")
        assert r.status_code in (400, 404), (ident, r.status_code)
        assert b"root:" not in r.data


def test_cors_preflight(client) -> None:
    r = client.options(f"{V3}/info.json", headers={"Origin": "http://example.org",
                                                   "Access-Control-Request-Method": "GET"})
    assert r.status_code in (200, 204)
    assert r.headers["Access-Control-Allow-Origin"] == "*"


segment = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="/?#"), max_size=24)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(region=segment, size=segment, rotation=segment, quality=segment)
def test_no_url_yields_a_500(client, region: str, size: str, rotation: str, quality: str) -> None:
    from urllib.parse import quote
    parts = [quote(p, safe="") or "x" for p in (region, size, rotation, quality)]
    r = client.get(f"{V3}/{parts[0]}/{parts[1]}/{parts[2]}/{parts[3]}")
    assert r.status_code in (200, 400, 404), r.data
    assert b"Traceback" not in r.data


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(x=st.integers(-5, 2400), y=st.integers(-5, 3400), w=st.integers(-1, 3000), h=st.integers(-1, 3000),
       sw=st.integers(0, 700), up=st.booleans())
def test_pixel_regions_answer_200_or_400(client, x: int, y: int, w: int, h: int, sw: int, up: bool) -> None:
    r = client.get(f"{V3}/{x},{y},{w},{h}/{'^' if up else ''}{sw},/0/default.jpg")
    assert r.status_code in (200, 400)
    if r.status_code == 200:
        assert Image.open(io.BytesIO(r.data)).width == sw
