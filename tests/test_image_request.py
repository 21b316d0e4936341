"""Image API request parsing, resolution and canonical forms: the specifications' own tables.

The examples of Image API 3.0 sections 4.1-4.3 and 2.1 sections 4.1-4.3 use a 300x200 image; the
expected pixel results below are the ones the specs print ("N.B. Returned image is 175,185 px").
"""
from __future__ import annotations

import pytest

from server.errors import BadRequest
from server.image.request import MEDIA_TYPES, ImageRequest, Limits, ParsedRequest, parse, resolve

W, H = 300, 200
BIG = Limits(100_000, 100_000, 10**10)


def req(version: int, region: str = "full", size: str = "max", rotation: str = "0",
        qf: str = "default.jpg", limits: Limits = BIG, width: int = W, height: int = H) -> ImageRequest:
    return resolve(parse(version, region, size, rotation, qf), width, height, limits)


def bad(parameter: str, version: int, region: str = "full", size: str = "max", rotation: str = "0",
        qf: str = "default.jpg", limits: Limits = BIG, width: int = W, height: int = H) -> BadRequest:
    with pytest.raises(BadRequest) as info:
        req(version, region, size, rotation, qf, limits, width, height)
    assert info.value.parameter == parameter, info.value
    assert info.value.status == 400
    assert info.value.message and "\n" not in info.value.message
    return info.value


def default_size(version: int) -> str:
    return "max" if version == 3 else "full"


# --- region (3.0 §4.1, 2.1 §4.1) --------------------------------------------------------------

REGIONS = [
    ("full", (0, 0, 300, 200)),
    ("square", (50, 0, 200, 200)),
    ("125,15,120,140", (125, 15, 120, 140)),
    ("pct:41.6,7.5,40,70", (125, 15, 120, 140)),
    ("125,15,200,200", (125, 15, 175, 185)),          # "Returned image is 175,185 px"
    ("pct:41.6,7.5,66.6,100", (125, 15, 175, 185)),   # idem
    ("0,0,300,200", (0, 0, 300, 200)),
    ("299,199,1,1", (299, 199, 1, 1)),
    ("0,0,999999999,999999999", (0, 0, 300, 200)),
    ("pct:0,0,100,100", (0, 0, 300, 200)),
    ("pct:99.9,0,10,10", (299, 0, 1, 20)),             # overlaps the last column: not "outside"
    ("pct:0.0000000001,0,0.0000000001,100", (0, 0, 1, 200)),  # less than a pixel is still a pixel
]


@pytest.mark.parametrize("version", [3, 2])
@pytest.mark.parametrize("region, expected", REGIONS)
def test_region(version: int, region: str, expected: tuple[int, int, int, int]) -> None:
    r = req(version, region, default_size(version))
    assert r.region == expected
    assert r.size == expected[2:]


@pytest.mark.parametrize("version", [3, 2])
def test_square_of_a_portrait_image_is_centred(version: int) -> None:
    assert req(version, "square", default_size(version), width=200, height=301).region == (0, 50, 200, 200)


def test_adjacent_percentage_regions_share_their_edges() -> None:
    left = req(3, "pct:0,0,33.3,100").region
    right = req(3, "pct:33.3,0,66.7,100").region
    assert left[0] + left[2] == right[0] and left[2] + right[2] == W


BAD_REGION_SYNTAX = [
    "", "Full", "FULL", "full ", " full", "squares", "1,2,3", "1,2,3,4,5", "-1,0,5,5", "0,-0,5,5",
    "+1,0,5,5", "1.5,0,5,5", "01.5.5", "0,0,5,5,", ",0,0,5,5", "0,,5,5", "0 ,0,5,5", "0x1,0,5,5",
    "1234567890,0,5,5", "0,0,0,5", "0,0,5,0", "pct:", "pct:1,2,3", "pct:1,2,3,4,5", "pct:-1,0,5,5",
    "pct:.5,0,5,5", "pct:5.,0,5,5", "pct:1e2,0,5,5", "pct:nan,0,5,5", "pct:inf,0,5,5",
    "pct:0,0,0,5", "pct:0,0,5,0.0", "pct:0.00000000001,0,5,5", "PCT:0,0,5,5", "pct :0,0,5,5",
    "１,2,3,4", "٣,2,3,4", "0,0,5,5\n", "x" * 10_000, "0,0,5,5\x00",
]


@pytest.mark.parametrize("version", [3, 2])
@pytest.mark.parametrize("region", BAD_REGION_SYNTAX)
def test_bad_region_syntax(version: int, region: str) -> None:
    with pytest.raises(BadRequest) as info:
        parse(version, region, default_size(version), "0", "default.jpg")
    assert info.value.parameter == "region"


@pytest.mark.parametrize("version", [3, 2])
@pytest.mark.parametrize("region", ["300,0,10,10", "0,200,10,10", "1000,1000,5,5", "pct:100,0,10,10",
                                    "pct:0,100,10,10", "pct:150,150,10,10"])
def test_region_entirely_outside_is_400(version: int, region: str) -> None:
    bad("region", version, region, default_size(version))


# --- size (3.0 §4.2) --------------------------------------------------------------------------

SIZES_V3 = [
    ("max", Limits(200, 200, 10**9), (200, 133)),       # "assuming a maxWidth of 200px"
    ("^max", Limits(360, 360, 10**9), (360, 240)),      # "assuming a maxWidth of 360px"
    ("max", BIG, (300, 200)),
    ("150,", BIG, (150, 100)),
    ("^360,", BIG, (360, 240)),
    (",150", BIG, (225, 150)),
    ("^,240", BIG, (360, 240)),
    ("pct:50", BIG, (150, 100)),
    ("^pct:120", BIG, (360, 240)),
    ("225,100", BIG, (225, 100)),
    ("^360,360", BIG, (360, 360)),
    ("!225,100", BIG, (150, 100)),                       # "Returned image is 150,100 px"
    ("^!360,360", BIG, (360, 240)),                      # "Returned image is 360,240 px"
    ("^150,", BIG, (150, 100)),                          # ^ allows, does not require, upscaling
    ("^pct:50", BIG, (150, 100)),
    ("!300,1000", BIG, (300, 200)),                      # the fit equals the region: fine
    ("pct:100", BIG, (300, 200)),
    ("pct:0.5", BIG, (2, 1)),
    ("^!1000,1000", Limits(400, 400, 10**9), (400, 267)),  # the box is confined by the limits too
    ("!300,200", Limits(150, 150, 10**9), (150, 100)),
    ("max", Limits(1000, 1000, 24_000), (189, 126)),       # maxArea: 189*126 <= 24000 < 190*127
    ("^max", Limits(10_000, 10_000, 60_000), (300, 200)),
]


@pytest.mark.parametrize("size, limits, expected", SIZES_V3)
def test_size_v3(size: str, limits: Limits, expected: tuple[int, int]) -> None:
    assert req(3, "full", size, limits=limits).size == expected


def test_size_validator_upscaling_examples() -> None:
    """The IIIF validator's size_up/size_noup expectations on its 1000x1000 test image."""
    big = Limits(10_000, 10_000, 10**9)
    s = 1500
    for size, expected in [(f"^{s},{s}", (s, s)), (f"^,{s}", (s, s)), (f"^{s},", (s, s)),
                           ("^pct:200", (2000, 2000)), ("^!2000,500", (500, 500)),
                           ("^!2000,3000", (2000, 2000)), ("!500,700", (500, 500))]:
        assert req(3, "full", size, limits=big, width=1000, height=1000).size == expected, size
    for size in [f"{s},{s}", f",{s}", f"{s},", "pct:200", "!2000,3000"]:
        bad("size", 3, "full", size, limits=big, width=1000, height=1000)


@pytest.mark.parametrize("size", ["pct:120", "360,", ",240", "360,360", "301,200", "300,201", "!360,360"])
def test_upscaling_without_caret_is_400_in_v3(size: str) -> None:
    e = bad("size", 3, "full", size)
    assert "^" in e.message or "100" in e.message


@pytest.mark.parametrize("size, limits", [
    ("^360,", Limits(300, 300, 10**9)),
    ("300,200", Limits(299, 1000, 10**9)),
    ("300,200", Limits(1000, 199, 10**9)),
    ("300,200", Limits(1000, 1000, 59_999)),
    ("^10000,10000", Limits(10_000, 10_000, 40_000_000)),
    ("^pct:100000", BIG),
])
def test_over_the_limits_is_400(size: str, limits: Limits) -> None:
    bad("size", 3, "full", size, limits=limits)


def test_size_smaller_than_a_pixel_is_400() -> None:
    bad("size", 3, "full", "1,", width=1000, height=1)    # 1 x 0.001
    bad("size", 3, "full", ",1", width=1, height=1000)    # 0.001 x 1
    bad("size", 3, "full", "pct:0.1")                     # 0.3 x 0.2


BAD_SIZE_SYNTAX_V3 = [
    "", "full", "Max", "MAX", "max ", "^^max", "^", "!", "!^10,10", "^!", ",", "^,", "!,", "!10,",
    "!,10", "0,", ",0", "0,0", "0,10", "10,0", "pct:", "pct:0", "pct:0.0", "pct:-5", "pct:+5",
    "pct:nan", "pct:inf", "pct:1e2", "pct:50.", "pct:.5", "pct:101", "pct:100.0000000001",
    "pct:1,2", "10", "10,10,", "10,,10", "1234567890,", "１０,", "10 ,", "w,h", "-10,",
    "^-10,", "!!10,10", "^pct:", "pct:0.00000000001",
]


@pytest.mark.parametrize("size", BAD_SIZE_SYNTAX_V3)
def test_bad_size_syntax_v3(size: str) -> None:
    with pytest.raises(BadRequest) as info:
        parse(3, "full", size, "0", "default.jpg")
    assert info.value.parameter == "size"


# --- size (2.1 §4.2) --------------------------------------------------------------------------

SIZES_V2 = [
    ("full", BIG, (300, 200)),
    ("max", BIG, (300, 200)),                     # "the same as full if none of these [limits]"
    ("max", Limits(200, 200, 10**9), (200, 133)),
    ("150,", BIG, (150, 100)),
    (",150", BIG, (225, 150)),
    ("pct:50", BIG, (150, 100)),
    ("225,100", BIG, (225, 100)),
    ("!225,100", BIG, (150, 100)),                # "Returned image is 150,100 px"
    # sizeAboveFull: 2.1 has no ^, so these may upscale (up to the limits)
    ("600,", BIG, (600, 400)),
    (",400", BIG, (600, 400)),
    ("pct:200", BIG, (600, 400)),
    ("600,600", BIG, (600, 600)),
    ("!600,600", BIG, (600, 400)),
    ("!600,600", Limits(450, 450, 10**9), (450, 300)),
]


@pytest.mark.parametrize("size, limits, expected", SIZES_V2)
def test_size_v2(size: str, limits: Limits, expected: tuple[int, int]) -> None:
    assert req(2, "full", size, limits=limits).size == expected


@pytest.mark.parametrize("size", ["^max", "^150,", "^pct:50", "^!100,100", "^,100", "^100,100"])
def test_caret_is_not_2_1_syntax(size: str) -> None:
    bad("size", 2, "full", size)


@pytest.mark.parametrize("size, limits", [("full", Limits(299, 1000, 10**9)), ("600,", Limits(500, 500, 10**9)),
                                          ("pct:1000", Limits(2000, 2000, 10**9))])
def test_over_the_limits_is_400_v2(size: str, limits: Limits) -> None:
    bad("size", 2, "full", size, limits=limits)


# --- rotation (§4.3 of both) ------------------------------------------------------------------

ROTATIONS = [
    ("0", False, 0.0), ("180", False, 180.0), ("90", False, 90.0), ("22.5", False, 22.5),
    ("!0", True, 0.0), ("!180", True, 180.0), ("360", False, 360.0), ("!345", True, 345.0),
    ("0.5", False, 0.5), ("090.0", False, 90.0), ("359.9999999999", False, 359.9999999999),
    ("360.0000000000", False, 360.0),
]


@pytest.mark.parametrize("version", [3, 2])
@pytest.mark.parametrize("rotation, mirror, degrees", ROTATIONS)
def test_rotation(version: int, rotation: str, mirror: bool, degrees: float) -> None:
    p = parse(version, "full", default_size(version), rotation, "default.jpg")
    assert (p.mirror, p.rotation) == (mirror, degrees)


BAD_ROTATIONS = [
    "", "360.5", "361", "360.0000000001", "1000", "-90", "+90", "-0", "90.", ".5", "1e2", "nan",
    "inf", "NaN", "９０", "٩٠", "!!90", "90!", "! 90", " 90", "90 ", "0.12345678901", "!", "90,",
    "ninety", "0x5A", "90°", "1_0",
]


@pytest.mark.parametrize("version", [3, 2])
@pytest.mark.parametrize("rotation", BAD_ROTATIONS)
def test_bad_rotation(version: int, rotation: str) -> None:
    bad("rotation", version, "full", default_size(version), rotation)


# --- quality and format (§4.4, §4.5) ----------------------------------------------------------

@pytest.mark.parametrize("version", [3, 2])
@pytest.mark.parametrize("quality", ["default", "color", "gray", "bitonal"])
@pytest.mark.parametrize("fmt", ["jpg", "png", "webp", "tif", "gif"])
def test_quality_and_format(version: int, quality: str, fmt: str) -> None:
    r = req(version, "full", default_size(version), "0", f"{quality}.{fmt}")
    assert (r.quality, r.format) == (quality, fmt)
    assert r.media_type == MEDIA_TYPES[fmt]


def test_media_types() -> None:
    assert MEDIA_TYPES == {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp",
                           "tif": "image/tiff", "gif": "image/gif"}


@pytest.mark.parametrize("version", [3, 2])
@pytest.mark.parametrize("qf", ["grey.jpg", "Default.jpg", "native.jpg", ".jpg", "default.jpg.jpg",
                                "colour.png", "gray .png", "bitonal..png", "x" * 1000 + ".jpg"])
def test_bad_quality(version: int, qf: str) -> None:
    bad("quality", version, "full", default_size(version), "0", qf)


@pytest.mark.parametrize("version", [3, 2])
@pytest.mark.parametrize("qf", ["default", "default.", "default.jpeg", "default.JPG", "default.jp2",
                                "default.pdf", "default.tiff", "default.jpg ", "default.bmp", "gray"])
def test_bad_format(version: int, qf: str) -> None:
    bad("format", version, "full", default_size(version), "0", qf)


def test_quality_is_checked_before_format() -> None:
    bad("quality", 3, "full", "max", "0", "grey.jpeg")


def test_errors_name_the_first_bad_parameter_in_url_order() -> None:
    assert bad("region", 3, "nope", "nope", "nope", "nope").parameter == "region"
    assert bad("size", 3, "full", "nope", "nope", "nope").parameter == "size"
    assert bad("rotation", 3, "full", "max", "nope", "nope").parameter == "rotation"
    assert bad("format", 3, "full", "max", "0", "nope").parameter == "format"  # no dot at all
    assert bad("quality", 3, "full", "max", "0", "nope.jpg").parameter == "quality"


def test_unknown_version_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        parse(1, "full", "full", "0", "default.jpg")


def test_limits_must_be_positive() -> None:
    with pytest.raises(ValueError):
        Limits(0, 10, 10)


def test_parsed_request_is_immutable() -> None:
    p = parse(3, "full", "max", "0", "default.jpg")
    assert isinstance(p, ParsedRequest)
    with pytest.raises(AttributeError):
        p.quality = "gray"  # type: ignore[misc]


# --- canonical forms (3.0 §4.8, 2.1 §4.7) ----------------------------------------------------

CANONICAL_V3 = [
    (("full", "max", "0", "default.jpg"), BIG, "full/max/0/default.jpg"),
    (("0,0,300,200", "300,200", "0", "default.jpg"), BIG, "full/max/0/default.jpg"),
    (("pct:0,0,100,100", "pct:100", "360", "color.png"), BIG, "full/max/360/color.png"),
    (("square", "max", "!0", "gray.jpg"), BIG, "50,0,200,200/max/!0/gray.jpg"),
    (("125,15,200,200", "max", "90", "default.png"), BIG, "125,15,175,185/max/90/default.png"),
    (("pct:41.6,7.5,40,70", "max", "0", "default.jpg"), BIG, "125,15,120,140/max/0/default.jpg"),
    (("full", "150,", "22.50", "default.jpg"), BIG, "full/150,100/22.5/default.jpg"),
    (("full", ",150", "!090.0", "bitonal.webp"), BIG, "full/225,150/!90/bitonal.webp"),
    (("full", "!225,100", "0", "default.jpg"), BIG, "full/150,100/0/default.jpg"),
    (("full", "pct:50", "0.5000", "default.tif"), BIG, "full/150,100/0.5/default.tif"),
    (("full", "^pct:120", "0", "default.jpg"), BIG, "full/^360,240/0/default.jpg"),
    (("full", "^300,201", "0", "default.jpg"), BIG, "full/^300,201/0/default.jpg"),
    (("full", "^300,200", "0", "default.jpg"), BIG, "full/max/0/default.jpg"),
    (("full", "^max", "0", "default.jpg"), Limits(360, 360, 10**9), "full/^max/0/default.jpg"),
    (("full", "^360,240", "0", "default.jpg"), Limits(360, 360, 10**9), "full/^max/0/default.jpg"),
    (("full", "max", "0", "default.jpg"), Limits(200, 200, 10**9), "full/max/0/default.jpg"),
    (("full", "200,133", "0", "default.jpg"), Limits(200, 200, 10**9), "full/max/0/default.jpg"),
    (("full", "^max", "0", "default.jpg"), Limits(200, 200, 10**9), "full/max/0/default.jpg"),
    # the URI-encoding table of §9
    (("0,10,100,200", "pct:50", "90", "default.png"), BIG, "0,10,100,190/50,95/90/default.png"),
    (("pct:10,10,80,80", "50,", "22.5", "color.jpg"), BIG, "30,20,240,160/50,33/22.5/color.jpg"),
    (("full", "max", "270", "gray.jpg"), BIG, "full/max/270/gray.jpg"),
]


@pytest.mark.parametrize("args, limits, canonical", CANONICAL_V3)
def test_canonical_v3(args: tuple[str, str, str, str], limits: Limits, canonical: str) -> None:
    assert req(3, *args, limits=limits).canonical(3) == canonical


CANONICAL_V2 = [
    (("full", "full", "0", "default.jpg"), BIG, "full/full/0/default.jpg"),
    (("full", "max", "0", "default.jpg"), BIG, "full/full/0/default.jpg"),
    (("full", "max", "0", "default.jpg"), Limits(200, 200, 10**9), "full/200,/0/default.jpg"),
    (("0,0,300,200", "300,200", "0", "default.jpg"), BIG, "full/full/0/default.jpg"),
    (("square", "full", "0", "default.jpg"), BIG, "50,0,200,200/full/0/default.jpg"),
    (("full", "150,", "0", "default.jpg"), BIG, "full/150,/0/default.jpg"),
    (("full", ",150", "0", "default.jpg"), BIG, "full/225,/0/default.jpg"),
    (("full", "225,100", "0", "default.jpg"), BIG, "full/225,100/0/default.jpg"),
    (("full", "225,150", "0", "default.jpg"), BIG, "full/225,/0/default.jpg"),
    (("full", "!225,100", "0", "default.jpg"), BIG, "full/150,/0/default.jpg"),
    (("full", "pct:50", "!22.50", "gray.png"), BIG, "full/150,/!22.5/gray.png"),
    (("pct:41.6,7.5,40,70", "full", "0", "default.jpg"), BIG, "125,15,120,140/full/0/default.jpg"),
    (("full", "600,", "0", "default.jpg"), BIG, "full/600,/0/default.jpg"),
    # the URI-encoding table of §9
    (("0,10,100,200", "pct:50", "90", "default.png"), BIG, "0,10,100,190/50,/90/default.png"),
    (("pct:10,10,80,80", "50,", "22.5", "color.jpg"), BIG, "30,20,240,160/50,/22.5/color.jpg"),
    (("full", "full", "270", "gray.jpg"), BIG, "full/full/270/gray.jpg"),
]


@pytest.mark.parametrize("args, limits, canonical", CANONICAL_V2)
def test_canonical_v2(args: tuple[str, str, str, str], limits: Limits, canonical: str) -> None:
    assert req(2, *args, limits=limits).canonical(2) == canonical


def test_square_of_a_square_image_is_full() -> None:
    assert req(2, "square", "full", width=200, height=200).canonical(2) == "full/full/0/default.jpg"
    assert req(3, "square", "max", width=200, height=200).canonical(3) == "full/max/0/default.jpg"


@pytest.mark.parametrize("version", [3, 2])
@pytest.mark.parametrize("args, limits", [(a, lim) for a, lim, _ in CANONICAL_V3 + CANONICAL_V2])
def test_canonical_round_trips_across_versions(version: int, args: tuple[str, ...], limits: Limits) -> None:
    """A request, canonicalised in either version, resolves back to the same request."""
    try:
        r = req(3, *args, limits=limits)
    except BadRequest:  # 2.1-only syntax (size full, upscaling without ^)
        r = req(2, *args, limits=limits)
    region, size, rotation, qf = r.canonical(version).split("/")
    assert resolve(parse(version, region, size, rotation, qf), W, H, limits) == r
