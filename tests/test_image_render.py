"""Rendering from a real pyramid: pixels, qualities, mirroring, rotation, formats, seamless tiles.

The pyramid is built, with the contract's own tiffsave call, from an odd-sized slice of a real
scan (Kant, Berlinische Monatsschrift 1784), so that every level has a partial edge.
"""
from __future__ import annotations

import io
import math
from pathlib import Path

import pytest
import pyvips
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from server.image.model import Pyramid
from server.image.render import choose_level, render
from server.image.request import ImageRequest, Limits, parse, resolve

KANT = Path(__file__).resolve().parent / "fixtures" / ("holdings-sample/items/periodical-deu-berlinische-monatsschrift-1784-12/INPUT_0017.tif")
LIMITS = Limits(10_000, 10_000, 40_000_000)
SLICE = (150, 420, 1101, 777)  # x, y, w, h in the page: text and margin, odd sizes


def build(image: pyvips.Image, path: Path) -> Pyramid:
    image.tiffsave(str(path), tile=True, tile_width=256, tile_height=256, pyramid=True,
                   compression="jpeg", Q=85, subifd=False, keep=pyvips.enums.ForeignKeep.NONE)
    pages = pyvips.Image.new_from_file(str(path)).get("n-pages")
    levels = []
    for k in range(pages):
        page = pyvips.Image.new_from_file(str(path), page=k)
        levels.append((page.width, page.height))
    return Pyramid(str(path), levels[0][0], levels[0][1], tuple(levels))


@pytest.fixture(scope="module")
def source() -> pyvips.Image:
    page = pyvips.Image.new_from_file(str(KANT))
    crop = page.crop(*SLICE).copy_memory()
    crop.remove("icc-profile-data")
    return crop


@pytest.fixture(scope="module")
def pyramid(tmp_path_factory: pytest.TempPathFactory, source: pyvips.Image) -> Pyramid:
    return build(source, tmp_path_factory.mktemp("pyr") / "kant.tif")


@pytest.fixture(scope="module")
def grey_pyramid(tmp_path_factory: pytest.TempPathFactory, source: pyvips.Image) -> Pyramid:
    return build(source.colourspace("b-w"), tmp_path_factory.mktemp("pyr") / "kant-grey.tif")


def request(pyr: Pyramid, region: str = "full", size: str = "max", rotation: str = "0",
            qf: str = "default.png", version: int = 3) -> ImageRequest:
    return resolve(parse(version, region, size, rotation, qf), pyr.width, pyr.height, LIMITS)


def pixels(data: bytes) -> pyvips.Image:
    return pyvips.Image.new_from_buffer(data, "").copy_memory()


def draw(pyr: Pyramid, *args: str, **kw: str) -> pyvips.Image:
    return pixels(render(pyr, request(pyr, *args, **kw)))


def level(pyr: Pyramid, k: int) -> pyvips.Image:
    return pyvips.Image.new_from_file(pyr.path, page=k).copy_memory()


def shape(image: pyvips.Image) -> tuple[int, int, int]:
    return image.height, image.width, image.bands


def same(a: pyvips.Image, b: pyvips.Image) -> bool:
    """Pixel-identical (same size, bands and values)."""
    return shape(a) == shape(b) and (a == b).min() == 255


def values(image: pyvips.Image) -> set[int]:
    """The distinct values of a uchar image."""
    hist = image.hist_find(band=-1) if image.bands > 1 else image.hist_find()
    return {i for i in range(256) if hist.getpoint(i, 0)[0] > 0}


def pixel(image: pyvips.Image, x: int, y: int) -> list[float]:
    return image.getpoint(x, y)


def test_pyramid_has_partial_edges(pyramid: Pyramid) -> None:
    assert pyramid.levels == ((1101, 777), (550, 388), (275, 194), (137, 97))


def mean_diff(a: pyvips.Image, b: pyvips.Image) -> float:
    return float((a.cast("int") - b.cast("int")).abs().avg())


def assert_aligned(got: pyvips.Image, want: pyvips.Image, tolerance: float) -> None:
    """Close to ``want`` (the pyramid is JPEG Q85, 4:2:0), and closer than any 1 px shift of it."""
    w, h = got.width - 2, got.height - 2
    inner = got.crop(1, 1, w, h)
    centred = mean_diff(inner, want.crop(1, 1, w, h))
    assert centred < tolerance
    for dx, dy in ((1, 0), (0, 1), (-1, 0), (0, -1)):
        assert centred < mean_diff(inner, want.crop(1 + dx, 1 + dy, w, h))


def test_crop_has_the_source_pixels(pyramid: Pyramid, source: pyvips.Image) -> None:
    got = draw(pyramid, "100,200,300,150")
    assert shape(got) == (150, 300, 3)
    assert same(got, level(pyramid, 0).crop(100, 200, 300, 150))  # no resampling at all
    assert_aligned(got, source.crop(100, 200, 300, 150), 4)


def test_crop_at_the_edge_is_clipped(pyramid: Pyramid, source: pyvips.Image) -> None:
    got = draw(pyramid, "1000,700,500,500")
    assert shape(got) == (77, 101, 3)
    assert same(got, level(pyramid, 0).crop(1000, 700, 101, 77))
    assert mean_diff(got, source.crop(1000, 700, 101, 77)) < 7  # dense print: JPEG's worst case


def test_downscaled_region_matches_the_downscaled_source(pyramid: Pyramid, source: pyvips.Image) -> None:
    got = draw(pyramid, "0,0,800,600", "200,")
    assert shape(got) == (150, 200, 3)
    assert_aligned(got, source.crop(0, 0, 800, 600).resize(0.25), 6)


@pytest.mark.parametrize("region, size, expected_level", [
    ("full", "max", 0),
    ("full", "550,", 1),
    ("full", "551,", 1),           # 550.5 px at level 1: within a pixel, no resampling
    ("full", "552,", 0),           # more than level 1 has: decode level 0
    ("full", "275,194", 2),
    ("full", "137,97", 3),
    ("full", "!100,100", 3),
    ("0,0,1024,1024", "256,", 2),  # a grid tile at scale factor 4
    ("1024,0,77,777", "20,195", 2),  # the partial edge tile of that grid: same level
    ("0,0,100,100", "^200,", 0),
    ("0,0,1023,1023", "256,", 1),  # an interior region a little short of level 2: never upscale it
    ("500,300,1,1", "1,1", 0),     # one pixel is one pixel, not the average of a level-3 block
    ("1100,776,1,1", "1,1", 3),    # ... except the partial pixel at the far edge of a grid
])
def test_the_smallest_sufficient_level_is_decoded(pyramid: Pyramid, region: str, size: str,
                                                  expected_level: int) -> None:
    assert choose_level(pyramid, request(pyramid, region, size)) == expected_level


@pytest.mark.parametrize("k", [0, 1, 2, 3])
def test_sizes_entries_are_the_level_images(pyramid: Pyramid, k: int) -> None:
    w, h = pyramid.levels[k]
    assert same(draw(pyramid, "full", f"{w},{h}"), level(pyramid, k))


@pytest.mark.parametrize("tile, factor", [(256, 1), (256, 2), (256, 4), (256, 8), (512, 1), (512, 2)])
def test_grid_tiles_stitch_into_the_level_without_seams(pyramid: Pyramid, tile: int, factor: int) -> None:
    """Tiles computed as the spec's implementation notes describe are exactly the level's pixels
    at their place in the grid, so that stitched together they are the level image."""
    width, height = pyramid.width, pyramid.height
    lvl = level(pyramid, int(math.log2(factor)))
    for y in range(0, height, tile * factor):
        for x in range(0, width, tile * factor):
            rw, rh = min(tile * factor, width - x), min(tile * factor, height - y)
            ws, hs = math.ceil(rw / factor), math.ceil(rh / factor)
            got = draw(pyramid, f"{x},{y},{rw},{rh}", f"{ws},{hs}")
            assert shape(got) == (hs, ws, 3)
            lx, ly = x // factor, y // factor
            cw, ch = min(ws, lvl.width - lx), min(hs, lvl.height - ly)  # the level lacks partial pixels
            assert same(got.crop(0, 0, cw, ch), lvl.crop(lx, ly, cw, ch)), (x, y)


def test_gray_is_one_grey_band(pyramid: Pyramid) -> None:
    for fmt in ("jpg", "png"):
        image = draw(pyramid, "0,0,400,300", "max", "0", f"gray.{fmt}")
        assert image.bands == 1 and image.interpretation == "b-w"
    colour = draw(pyramid, "0,0,400,300").cast("float")
    luma = colour[0] * 0.2126 + colour[1] * 0.7152 + colour[2] * 0.0722
    assert mean_diff(draw(pyramid, "0,0,400,300", qf="gray.png"), luma) < 3


def test_bitonal_is_black_and_white(pyramid: Pyramid) -> None:
    got = draw(pyramid, "0,0,600,400", "300,", qf="bitonal.png")
    assert shape(got) == (200, 300, 1)
    assert values(got) == {0, 255}  # a page of print has both


def test_color_and_default_are_the_colour_image(pyramid: Pyramid) -> None:
    assert same(draw(pyramid, "0,0,300,300", qf="color.png"), draw(pyramid, "0,0,300,300"))


def transformed(plain: pyvips.Image, got: pyvips.Image, where) -> None:  # type: ignore[no-untyped-def]
    """got(x, y) == plain(where(x, y)) at a grid of points (coordinates checked independently)."""
    for gx in range(0, got.width, max(1, got.width // 7)):
        for gy in range(0, got.height, max(1, got.height // 7)):
            assert pixel(got, gx, gy) == pixel(plain, *where(gx, gy)), (gx, gy)


def test_mirroring_mirrors(pyramid: Pyramid) -> None:
    plain = draw(pyramid, "50,60,300,200", "150,")
    got = draw(pyramid, "50,60,300,200", "150,", "!0")
    assert shape(got) == shape(plain)
    transformed(plain, got, lambda x, y: (plain.width - 1 - x, y))


@pytest.mark.parametrize("rotation", ["90", "180", "270", "360", "!90"])
def test_rotation_by_90s_is_clockwise(pyramid: Pyramid, rotation: str) -> None:
    plain = draw(pyramid, "50,60,300,200", "150,")  # 150 x 100
    got = draw(pyramid, "50,60,300,200", "150,", rotation)
    w, h = plain.width, plain.height
    where = {  # output pixel -> input pixel, for a clockwise rotation
        "90": lambda x, y: (y, h - 1 - x),
        "180": lambda x, y: (w - 1 - x, h - 1 - y),
        "270": lambda x, y: (w - 1 - y, x),
        "360": lambda x, y: (x, y),
        "!90": lambda x, y: (w - 1 - y, h - 1 - x),  # mirrored first, then turned
    }[rotation]
    assert (got.width, got.height) == ((h, w) if rotation in ("90", "270", "!90") else (w, h))
    transformed(plain, got, where)


def test_arbitrary_rotation_png_is_transparent_outside(pyramid: Pyramid) -> None:
    got = draw(pyramid, "0,0,400,200", "max", "22.5")
    w = 400 * math.cos(math.radians(22.5)) + 200 * math.sin(math.radians(22.5))
    h = 200 * math.cos(math.radians(22.5)) + 400 * math.sin(math.radians(22.5))
    assert abs(got.width - w) <= 2 and abs(got.height - h) <= 2
    assert got.bands == 4
    for x, y in ((0, 0), (got.width - 1, 0), (0, got.height - 1), (got.width - 1, got.height - 1)):
        assert pixel(got, x, y)[3] == 0
    assert pixel(got, got.width // 2, got.height // 2)[3] == 255


def test_arbitrary_rotation_jpg_has_a_white_background(pyramid: Pyramid) -> None:
    got = draw(pyramid, "0,0,400,200", "max", "!22.5", "default.jpg")
    assert got.bands == 3
    for x, y in ((0, 0), (got.width - 1, 0), (0, got.height - 1), (got.width - 1, got.height - 1)):
        assert min(pixel(got, x, y)) > 235


def test_arbitrary_rotation_bitonal_png_keeps_alpha(pyramid: Pyramid) -> None:
    got = draw(pyramid, "0,0,400,200", "max", "45", "bitonal.png")
    assert got.bands == 2
    assert values(got[0]) == {0, 255}


@pytest.mark.parametrize("fmt, pil", [("jpg", "JPEG"), ("png", "PNG"), ("webp", "WEBP"),
                                      ("tif", "TIFF"), ("gif", "GIF")])
@pytest.mark.parametrize("quality", ["default", "gray", "bitonal"])
def test_every_format_decodes_at_the_requested_size(pyramid: Pyramid, fmt: str, pil: str, quality: str) -> None:
    data = render(pyramid, request(pyramid, "100,100,500,300", "123,77", "0", f"{quality}.{fmt}"))
    with Image.open(io.BytesIO(data)) as im:
        assert im.format == pil and im.size == (123, 77)
        im.load()
    image = pyvips.Image.new_from_buffer(data, "")
    assert (image.width, image.height) == (123, 77)
    assert not {"exif-data", "xmp-data", "icc-profile-data"} & set(image.get_fields())


def test_jpeg_quality_is_used(pyramid: Pyramid) -> None:
    req = request(pyramid, "full", "max", "0", "default.jpg")
    assert len(render(pyramid, req, jpeg_quality=40)) < len(render(pyramid, req, jpeg_quality=95))


@pytest.mark.parametrize("size", ["^2202,", "^300,300", "^pct:150"])
def test_upscaling(pyramid: Pyramid, size: str) -> None:
    req = request(pyramid, "0,0,200,200", size)
    got = draw(pyramid, "0,0,200,200", size)
    assert (got.width, got.height) == req.size


def test_one_pixel_regions(pyramid: Pyramid) -> None:
    got = draw(pyramid, "500,300,1,1")
    assert shape(got) == (1, 1, 3)
    assert pixel(got, 0, 0) == pixel(level(pyramid, 0), 500, 300)
    assert shape(draw(pyramid, "1100,776,1,1", "1,1")) == (1, 1, 3)


def test_distorting_size_is_exact(pyramid: Pyramid) -> None:
    assert shape(draw(pyramid, "full", "50,300")) == (300, 50, 3)


def test_v2_requests_render_the_same(pyramid: Pyramid) -> None:
    assert same(draw(pyramid, "pct:10,10,50,50", "200,", version=2),
                draw(pyramid, "pct:10,10,50,50", "200,", version=3))


def test_grey_pyramid(grey_pyramid: Pyramid) -> None:
    assert shape(draw(grey_pyramid, "0,0,256,256", qf="color.png")) == (256, 256, 1)
    assert shape(draw(grey_pyramid, "0,0,256,256", qf="gray.jpg")) == (256, 256, 1)
    assert values(draw(grey_pyramid, "0,0,300,300", qf="bitonal.png")) == {0, 255}
    assert draw(grey_pyramid, "0,0,256,256", "max", "30", "default.png").bands == 2
    assert draw(grey_pyramid, "0,0,256,256", "max", "!30", "default.jpg").bands == 1


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(x=st.integers(0, 1100), y=st.integers(0, 776), w=st.integers(1, 1200), h=st.integers(1, 900),
       out_w=st.integers(1, 600), out_h=st.integers(1, 600), turn=st.sampled_from(["0", "!90", "180", "270"]),
       quality=st.sampled_from(["default", "gray", "bitonal"]))
def test_any_request_renders_at_exactly_its_size(pyramid: Pyramid, x: int, y: int, w: int, h: int,
                                                 out_w: int, out_h: int, turn: str, quality: str) -> None:
    req = request(pyramid, f"{x},{y},{w},{h}", f"^{out_w},{out_h}", turn, f"{quality}.png")
    got = pixels(render(pyramid, req))
    expected = (out_h, out_w) if turn in ("0", "180") else (out_w, out_h)
    assert (got.height, got.width) == expected
    assert got.bands == (3 if quality == "default" else 1)
