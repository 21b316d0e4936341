"""Grid tiles read straight from the pyramid (server/image/tiles.py), checked tile by tile.

Every tile OpenSeadragon derives from our info.json (every scale factor, every edge, Image API 3.0
and 2.1 spellings) must be a valid JPEG of exactly the requested size whose pixels match a fresh
render (PSNR >= 40 dB), for grey and RGB pyramids and both tile sizes; whole tiles must come from
the pyramid's bytes (pixel-identical to libvips' own decode of that tile), and no response may
carry a byte that is not the tile's.
"""
from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import pytest
import pyvips

from server import create_app
from server.image import tiles
from server.image.info import info_json_v3
from server.image.model import Pyramid
from server.image.pyramid import build_pyramid, pyramid_key
from server.image.render import render
from server.image.request import ImageRequest, Limits, parse, resolve

from .conftest import FIXTURES, ingest, write_holdings

KANT = FIXTURES / "holdings-sample/items/periodical-deu-berlinische-monatsschrift-1784-12/INPUT_0017.tif"
LIMITS = Limits(10_000, 10_000, 40_000_000)
GREY_ID = "periodical-ita-rassegna-settimanale-1878-10-06~1"
RGB_ID = "periodical-deu-berlinische-monatsschrift-1784-12~1"


# --- helpers -------------------------------------------------------------------------------------

def osd_paths(width: int, height: int, tile: int, factors: list[int], version: int,
              short_v2: bool = False) -> Iterator[str]:
    """The ``region/size/0/default.jpg`` of every tile OpenSeadragon's IIIFTileSource asks for:
    level ``ceil(W/sf)``, tiles of ``tile * sf`` full-resolution pixels cut at the edges, size
    ``min(tile, level - x*tile)``; a level within one tile is asked for as ``full``. 2.1 clients
    before OpenSeadragon 4 sent ``w,`` (``short_v2``)."""
    for sf in factors:
        lw, lh = math.ceil(width / sf), math.ceil(height / sf)
        if lw < tile and lh < tile:
            yield f"full/{lw},{lh}/0/default.jpg" if version == 3 or not short_v2 else f"full/{lw},/0/default.jpg"
            continue
        span = tile * sf
        for row in range(math.ceil(lh / tile)):
            for col in range(math.ceil(lw / tile)):
                x, y = col * span, row * span
                rw, rh = min(span, width - x), min(span, height - y)
                sw, sh = min(tile, lw - col * tile), min(tile, lh - row * tile)
                size = f"{sw}," if version == 2 and short_v2 else f"{sw},{sh}"
                yield f"{x},{y},{rw},{rh}/{size}/0/default.jpg"


def req_for(pyr: Pyramid, path: str, version: int) -> ImageRequest:
    region, size, rotation, qf = path.split("/")
    return resolve(parse(version, region, size, rotation, qf), pyr.width, pyr.height, LIMITS)


def decode(data: bytes) -> pyvips.Image:
    """Decode strictly: a damaged or truncated JPEG raises instead of coming back grey."""
    assert data[:2] == b"\xff\xd8" and data[-2:] == b"\xff\xd9"
    image = pyvips.Image.new_from_buffer(data, "", fail_on="warning")
    assert image.get("vips-loader") == "jpegload_buffer"
    return image.copy_memory()


def psnr(a: pyvips.Image, b: pyvips.Image) -> float:
    assert (a.width, a.height, a.bands) == (b.width, b.height, b.bands)
    diff = a.cast("float") - b.cast("float")
    mse = (diff * diff).avg()
    return math.inf if mse == 0 else 10 * math.log10(255 ** 2 / mse)


def whole_tiles(pyr: Pyramid, tile: int) -> int:
    """How many tiles of the grid are whole tiles of a pyramid level (the ones read from its bytes)."""
    count = 0
    for k, (lw, lh) in enumerate(pyr.levels):
        if (lw, lh) == (pyr.width >> k, pyr.height >> k):
            count += (lw // tile) * (lh // tile)
    return count


# --- pyramids ------------------------------------------------------------------------------------

PYRAMIDS = {  # name: (slice of the Kant page x, y, w, h; grey?; tile size)
    "rgb-256": ((150, 420, 1101, 777), False, 256),
    "grey-256": ((150, 420, 1101, 777), True, 256),
    "rgb-512": ((0, 0, 1457, 2083), False, 512),
    "grey-512-odd": ((3, 5, 1025, 1537), True, 512),
}


@pytest.fixture(scope="module", params=sorted(PYRAMIDS))
def pyr(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[Pyramid, int]:
    box, grey, tile = PYRAMIDS[request.param]
    page = pyvips.Image.new_from_file(str(KANT))
    image = page.crop(*box)
    if grey:
        image = image.colourspace("b-w")
    folder = tmp_path_factory.mktemp(request.param)
    master = folder / "master.png"
    image.pngsave(str(master))
    return build_pyramid(master, folder / "p.tif", tile=tile), tile


def test_index_reads_every_level_of_the_pyramid(pyr: tuple[Pyramid, int]) -> None:
    pyramid, tile = pyr
    index = tiles.TileIndex(pyramid.path)
    assert index.tile == tile
    assert tuple((lv.width, lv.height) for lv in index.levels) == pyramid.levels
    assert tiles.tile_size(pyramid, 999) == tile


def test_stored_tiles_are_the_pyramids_own_pixels(pyr: tuple[Pyramid, int]) -> None:
    """SOI + JPEGTables + tile stream decodes exactly as libvips decodes that tile of the level."""
    pyramid, tile = pyr
    index = tiles.TileIndex(pyramid.path)
    for k in range(len(index.levels)):
        level = pyvips.Image.new_from_file(pyramid.path, page=k).copy_memory()
        lv = index.levels[k]
        for row in range(math.ceil(lv.height / tile)):
            for col in range(lv.across):
                data = index.read(k, col, row)
                assert data is not None
                got = decode(data)
                w, h = min(tile, lv.width - col * tile), min(tile, lv.height - row * tile)
                assert (got.width, got.height) == (tile, tile)  # TIFF pads edge tiles
                assert psnr(got.crop(0, 0, w, h), level.crop(col * tile, row * tile, w, h)) == math.inf


@pytest.mark.parametrize("version, short_v2", [(3, False), (2, False), (2, True)])
def test_every_grid_tile_is_exact(pyr: tuple[Pyramid, int], version: int, short_v2: bool) -> None:
    """What the Image API view sends for each tile (stored bytes, else a render) is a valid JPEG of
    exactly the requested size, close to a fresh render; the whole tiles come from the pyramid."""
    pyramid, tile = pyr
    factors = info_json_v3("x", pyramid, LIMITS, tile)["tiles"][0]["scaleFactors"]
    stored = 0
    for path in osd_paths(pyramid.width, pyramid.height, tile, factors, version, short_v2):
        req = req_for(pyramid, path, version)
        fresh = decode(render(pyramid, req))
        body = tiles.stored_tile(pyramid, req)
        if body is not None:
            stored += 1
            assert req.size == (tile, tile), path
        got = decode(body if body is not None else render(pyramid, req))
        assert (got.width, got.height) == req.size == (fresh.width, fresh.height), path
        assert got.bands == fresh.bands == pyvips.Image.new_from_file(pyramid.path).bands
        assert psnr(got, fresh) >= 40, path
    assert stored == whole_tiles(pyramid, tile) > 0


def test_only_whole_default_jpeg_tiles_are_stored(pyr: tuple[Pyramid, int]) -> None:
    pyramid, t = pyr
    assert tiles.stored_tile(pyramid, req_for(pyramid, f"0,0,{t},{t}/{t},{t}/0/default.jpg", 3))
    for path in (f"0,0,{t},{t}/{t},{t}/0/gray.jpg", f"0,0,{t},{t}/{t},{t}/0/color.jpg",
                 f"0,0,{t},{t}/{t},{t}/0/default.png", f"0,0,{t},{t}/{t},{t}/90/default.jpg",
                 f"0,0,{t},{t}/{t},{t}/!0/default.jpg", f"0,0,{t},{t}/{t - 1},{t}/0/default.jpg",
                 f"1,0,{t},{t}/{t},{t}/0/default.jpg", f"{t // 2},0,{t},{t}/{t},{t}/0/default.jpg",
                 f"0,0,{3 * t},{3 * t}/{t},{t}/0/default.jpg",       # scale factor 3: no such level
                 f"0,0,{2 * t},{t}/{t},{t // 2}/0/default.jpg",      # not square
                 f"0,0,{t // 2},{t // 2}/^{t},{t}/0/default.jpg"):   # upscaled
        assert tiles.stored_tile(pyramid, req_for(pyramid, path, 3)) is None, path


def test_edge_tiles_rendered_at_ingest_are_the_renderers_bytes(pyr: tuple[Pyramid, int], tmp_path: Path) -> None:
    """With ``<pyramid>.edges`` written, every tile of the advertised grid is read from disk: the whole
    ones from the pyramid as before, the edge ones byte for byte what the renderer makes of them."""
    original, tile = pyr
    path = tmp_path / "copy.tif"  # the fixture's pyramid stays without an edge file for the other tests
    path.write_bytes(Path(original.path).read_bytes())
    pyramid = Pyramid(str(path), original.width, original.height, original.levels)
    count = tiles.write_edges(pyramid, 85)
    factors = info_json_v3("x", pyramid, LIMITS, tile)["tiles"][0]["scaleFactors"]
    paths = list(osd_paths(pyramid.width, pyramid.height, tile, factors, 3))
    assert count == len(paths) - whole_tiles(pyramid, tile) > 0
    edges = 0
    for osd in paths:
        req = req_for(pyramid, osd, 3)
        body = tiles.stored_tile(pyramid, req)
        assert body is not None, osd
        if req.size != (tile, tile):
            edges += 1
            assert body == render(pyramid, req, 85), osd
        region, size, _, _ = osd.split("/")
        for other in ("gray.jpg", "default.png"):  # only what was rendered: the default JPEG
            assert tiles.stored_tile(pyramid, req_for(pyramid, f"{region}/{size}/0/{other}", 3)) is None
        assert tiles.stored_tile(pyramid, req_for(pyramid, f"{region}/{size}/90/default.jpg", 3)) is None
    assert edges == count


def test_foreign_or_damaged_edge_files_are_ignored(tmp_path: Path) -> None:
    master = tmp_path / "m.png"
    pyvips.Image.new_from_file(str(KANT)).crop(0, 0, 900, 700).pngsave(str(master))
    a = build_pyramid(master, tmp_path / "a.tif")
    pyvips.Image.new_from_file(str(KANT)).crop(0, 0, 901, 700).pngsave(str(master))
    b = build_pyramid(master, tmp_path / "b.tif")
    assert tiles.write_edges(b, 85) > 0
    edge = req_for(a, "768,512,132,188/132,188/0/default.jpg", 3)
    assert tiles.TileIndex(b.path).edge(req_for(b, "768,512,133,188/133,188/0/default.jpg", 3)) is not None
    Path(a.path + tiles.EDGES).write_bytes(Path(b.path + tiles.EDGES).read_bytes())  # another image's
    assert tiles.TileIndex(a.path).edges == {} and tiles.TileIndex(a.path).edge(edge) is None
    tiles.write_edges(a, 85)
    whole = Path(a.path + tiles.EDGES).read_bytes()
    for cut in (len(whole) - 10, 40, 3):  # data, entries, header cut short
        Path(a.path + tiles.EDGES).write_bytes(whole[:cut])
        index = tiles.TileIndex(a.path)
        data = index.edge(edge)
        assert data is None or data == render(a, edge, 85)  # a tile whose bytes are all there, or none
        if cut <= 40:  # no whole index: no edge tile at all
            assert index.edges == {} and data is None


# --- unusual files -------------------------------------------------------------------------------

def test_bigtiff_pyramids_are_indexed(tmp_path: Path) -> None:
    image = pyvips.Image.new_from_file(str(KANT)).crop(0, 0, 700, 600)
    path = tmp_path / "big.tif"
    image.tiffsave(str(path), tile=True, tile_width=256, tile_height=256, pyramid=True, subifd=False,
                   compression="jpeg", Q=85, bigtiff=True, keep=pyvips.enums.ForeignKeep.NONE)
    assert path.read_bytes()[2:4] == b"+\x00"  # BigTIFF magic 43
    index = tiles.TileIndex(str(path))
    level0 = pyvips.Image.new_from_file(str(path), page=0)
    data = index.read(0, 1, 1)
    assert data is not None
    assert psnr(decode(data), level0.crop(256, 256, 256, 256)) == math.inf


def test_unusable_files_are_rendered_not_read(tmp_path: Path) -> None:
    junk = tmp_path / "junk.tif"
    junk.write_bytes(b"II*\x00" + b"\xff" * 100)
    assert tiles.index_for(str(junk)) is None
    assert tiles.index_for(str(tmp_path / "missing.tif")) is None
    strips = tmp_path / "strips.tif"
    pyvips.Image.black(300, 300).tiffsave(str(strips), compression="jpeg")  # not tiled
    assert tiles.index_for(str(strips)) is None
    assert tiles.tile_size(Pyramid(str(strips), 300, 300, ((300, 300),)), 256) == 256


def test_truncated_pyramids_never_yield_foreign_bytes(tmp_path: Path) -> None:
    master = tmp_path / "m.png"
    pyvips.Image.new_from_file(str(KANT)).crop(0, 0, 900, 700).pngsave(str(master))
    pyramid = build_pyramid(master, tmp_path / "p.tif")
    whole = Path(pyramid.path).read_bytes()
    cut = tmp_path / "cut.tif"
    cut.write_bytes(whole[: len(whole) * 2 // 3])
    index = tiles.index_for(str(cut))
    if index is None:
        return  # the directory itself was cut off: everything renders (and fails cleanly)
    good = tiles.TileIndex(pyramid.path)
    for k, lv in enumerate(index.levels):
        for i in range(len(lv.offsets)):
            data = index.read(k, i % lv.across, i // lv.across)
            assert data is None or data == good.read(k, i % lv.across, i // lv.across)


# --- over HTTP, on the ingested demo --------------------------------------------------------------

@pytest.mark.parametrize("image_id", [GREY_ID, RGB_ID])
@pytest.mark.parametrize("version", [3, 2])
def test_every_advertised_tile_over_http(client, image_id: str, version: int) -> None:  # type: ignore[no-untyped-def]
    info = client.get(f"/iiif/{version}/image/{image_id}/info.json").get_json()
    assert len(info["tiles"]) == 1  # one tile size: each scale factor once (§5.4)
    tile, factors = info["tiles"][0]["width"], info["tiles"][0]["scaleFactors"]
    record = client.application.extensions["heritage.store"].current().image(image_id)
    pyramid = record.pyramid
    assert tile == tiles.TileIndex(pyramid.path).tile
    bands = pyvips.Image.new_from_file(pyramid.path).bands
    assert bands == (1 if image_id == GREY_ID else 3)
    for path in osd_paths(info["width"], info["height"], tile, factors, version, short_v2=version == 2):
        r = client.get(f"/iiif/{version}/image/{image_id}/{path}")
        assert r.status_code == 200 and r.content_type == "image/jpeg", path
        assert int(r.headers["Content-Length"]) == len(r.data)
        got = decode(r.data)
        req = req_for(pyramid, path, version)
        assert (got.width, got.height) == req.size and got.bands == bands, path
        assert psnr(got, decode(render(pyramid, req))) >= 40, path


@pytest.mark.parametrize("path", ["512,1024,512,512/512,512/0/default.jpg",    # read from the pyramid
                                  "2048,3072,249,305/249,305/0/default.jpg"])  # an edge tile: rendered
@pytest.mark.parametrize("version", [3, 2])
def test_head_304_and_ranges_stay_inside_the_tile(client, path: str, version: int) -> None:  # type: ignore[no-untyped-def]
    url = f"/iiif/{version}/image/{GREY_ID}/{path}"
    full = client.get(url)
    assert full.status_code == 200
    body = full.data
    decode(body)
    head = client.head(url)
    assert head.status_code == 200 and head.data == b""
    assert head.headers["Content-Length"] == str(len(body)) and head.headers["ETag"] == full.headers["ETag"]
    again = client.get(url, headers={"If-None-Match": full.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    since = client.get(url, headers={"If-Modified-Since": full.headers["Last-Modified"]})
    assert since.status_code == 304 and since.data == b""
    for spec in ("bytes=0-99", "bytes=-100", f"bytes={len(body) - 10}-{len(body) + 5000}",
                 f"bytes=0-{len(body) * 4}", f"bytes={len(body)}-"):
        r = client.get(url, headers={"Range": spec})
        assert r.status_code in (200, 206, 416), spec
        assert len(r.data) <= len(body) and r.data in body, spec
        if r.status_code == 200:
            assert r.data == body
        assert int(r.headers.get("Content-Length", len(r.data))) == len(r.data)


# --- ingest --------------------------------------------------------------------------------------

def test_ingest_builds_256_pyramids_and_drops_the_old_tile_tree(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    holdings = write_holdings(tmp_path / "holdings", [{"id": "one", "collection": "test", "type": "object",
                                                       "title": "One"}], {"one": [KANT]})
    data = tmp_path / "data"
    old = data / "image_cache" / "tiles" / "abc"
    old.mkdir(parents=True)
    (old / "0,0,256,256%2F256,256%2F0%2Fdefault.jpg").write_bytes(b"\xff\xd8old")
    monkeypatch.setenv("HERITAGE_TILE_SIZE", "256")
    result = ingest(holdings, data)
    assert result.returncode == 0, result.stdout + result.stderr
    assert not (data / "image_cache" / "tiles").exists()
    pyramids = list((data / "image_cache" / "pyramids").rglob("*.tif"))
    assert len(pyramids) == 1 and pyramids[0].stem.endswith("-p1")  # the name earlier versions gave it
    assert tiles.TileIndex(str(pyramids[0])).tile == 256
    client = create_app({"data": data, "base_url": "http://h.test"}).test_client()
    info = client.get("/iiif/3/image/one~1/info.json").get_json()
    assert [(t["width"], t["height"]) for t in info["tiles"]] == [(256, 256)]
    r = client.get("/iiif/3/image/one~1/256,512,256,256/256,256/0/default.jpg")
    assert r.status_code == 200 and (decode(r.data).width, decode(r.data).height) == (256, 256)
    monkeypatch.setenv("HERITAGE_TILE_SIZE", "300")
    bad = ingest(holdings, data)
    assert bad.returncode != 0 and "HERITAGE_TILE_SIZE" in bad.stdout + bad.stderr
    assert "Traceback" not in bad.stdout + bad.stderr


def test_pyramid_keys_keep_the_default_size_unchanged() -> None:
    assert pyramid_key("0123abcd-p1", 256) == "0123abcd-p1"
    assert pyramid_key("0123abcd-p1", 512) == "0123abcd-p1t512"
    with pytest.raises(ValueError):
        pyramid_key("0123abcd-p1", 300)


def test_ingest_writes_no_tile_files(demo_data: Path) -> None:
    cache = demo_data / "image_cache"
    assert not (cache / "tiles").exists()
    pyramids = list((cache / "pyramids").rglob("*.tif"))
    assert pyramids and all(p.stem.endswith("-p1t512") for p in pyramids)  # the default tile size
    assert {tiles.TileIndex(str(p)).tile for p in pyramids} == {512}
    assert all(tiles.TileIndex(str(p)).edges for p in pyramids)  # and one file of edge tiles beside each
