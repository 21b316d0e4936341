"""The pure parts of the image benchmark: OpenSeadragon's tile arithmetic, the mixes, the checks.

Run with ``python -m pytest bench/tests -q`` (they are outside the project's ``tests/``, which
CI runs; they need no server and take about a second).
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from imgbench import load, report, tiles

W, H = 11007, 9060
FACTORS = [1, 2, 4, 8, 16, 32, 64]


@pytest.mark.parametrize("tile,sf,x,y,v,expected", [
    (256, 1, 0, 0, 3, "0,0,256,256/256,256/0/default.jpg"),
    (256, 1, 42, 35, 3, "10752,8960,255,100/255,100/0/default.jpg"),  # the bottom-right corner
    (256, 4, 10, 8, 3, "10240,8192,767,868/192,217/0/default.jpg"),  # ceil(11007/4)=2752 → 2752-2560
    (512, 2, 0, 0, 3, "0,0,1024,1024/512,512/0/default.jpg"),
    (512, 8, 2, 2, 3, "8192,8192,2815,868/352,109/0/default.jpg"),
    (256, 64, 0, 0, 3, "full/172,142/0/default.jpg"),  # a level smaller than one tile
    (256, 64, 0, 0, 2, "full/172,/0/default.jpg"),  # OpenSeadragon's 2.x form for that case
    (512, 32, 0, 0, 3, "full/344,284/0/default.jpg"),
])
def test_tile_path_matches_openseadragon(tile, sf, x, y, v, expected):
    assert tiles.tile_path(W, H, tile, sf, x, y, version=v) == expected


@pytest.mark.parametrize("tile", [256, 512])
@pytest.mark.parametrize("sf", [1, 2, 4, 8, 16])
def test_level_regions_tile_the_image_exactly(tile, sf):
    area = 0
    for t in tiles.level_tiles(W, H, tile, sf):
        region, size = t.path.split("/")[:2]
        x, y, w, h = (int(v) for v in region.split(","))
        assert 0 <= x < W and 0 <= y < H and x + w <= W and y + h <= H
        sw, sh = (int(v) for v in size.split(","))
        assert sw <= tile and sh <= tile
        assert abs(sw - w / sf) < 1 and abs(sh - h / sf) < 1  # the size is the region at 1/sf
        area += w * h
    assert area == W * H


def test_advertised_and_common_scale_factors():
    v3 = {"tiles": [{"width": 256, "scaleFactors": [1, 2, 4, 8, 16, 32, 64]},
                    {"width": 512, "scaleFactors": [1, 2, 4, 8, 16, 32]}]}
    v2 = {"tiles": [{"width": 256, "height": 256, "scaleFactors": [1, 2, 4, 8, 16, 32, 64]}]}
    assert tiles.advertised_tiles(v3) == {256: FACTORS, 512: FACTORS[:-1]}
    assert tiles.common_scale_factors(v3, v2) == FACTORS


def test_tile_mix_is_seeded_and_shared_as_asked():
    spec = tiles.MixSpec(requests=5000, seed=7)
    a = tiles.tile_mix(W, H, FACTORS, spec)
    b = tiles.tile_mix(W, H, FACTORS, spec)
    assert [t.path for t in a] == [t.path for t in b]
    assert len(a) == 5000
    share_256 = sum(t.tile_width == 256 for t in a) / len(a)
    assert share_256 == pytest.approx(0.8, abs=0.01)
    assert {t.scale_factor for t in a} == set(FACTORS)
    assert [t.path for t in tiles.tile_mix(W, H, FACTORS, tiles.MixSpec(requests=5000, seed=8))] != [t.path for t in a]


def test_a_session_asks_for_each_tile_once():
    import random
    s = tiles.session(W, H, 256, FACTORS, random.Random(1))
    assert len({t.path for t in s}) == len(s)
    assert s[0].path == "full/172,142/0/default.jpg"  # the home view starts at the coarsest level


def test_thumbnail_mix_uses_the_listed_sizes():
    mix = tiles.thumbnail_mix(500, seed=1)
    assert set(mix) <= {p for p, _ in tiles.THUMBNAILS}
    assert tiles.thumbnail_mix(500, seed=1) == mix


@pytest.mark.parametrize("path,expected", [
    ("full/200,/0/default.jpg", (200, 165)),
    ("full/,150/0/default.jpg", (182, 150)),
    ("full/!400,400/0/default.jpg", (400, 329)),
    ("0,0,512,512/256,256/0/default.jpg", (256, 256)),
    ("10752,8960,255,100/max/0/default.jpg", (255, 100)),
])
def test_expected_size(path, expected):
    assert load.expected_size(path, W, H) == expected


def test_jpeg_size_reads_the_frame_header():
    import pyvips
    data = pyvips.Image.black(123, 45, bands=3).jpegsave_buffer(Q=85)
    assert load.jpeg_size(data) == (123, 45)
    assert load.jpeg_size(b"GIF89a") is None


def _run(server, rps, p99, mix="tiles", c=4, rnd=1):
    return load.RunResult(server=server, mix=mix, concurrency=c, round=rnd, duration_s=10, requests=int(rps * 10),
                          rps=rps, p50_ms=1.0, p90_ms=2.0, p99_ms=p99, max_ms=p99, mean_ms=1.0, errors={},
                          mb_per_s=1.0, client_cpu_pct=1.0, server_cpu_pct=100.0, other_cpu_pct=0.0)


def test_summary_takes_medians_and_ratios_to_iipsrv():
    runs = [_run("iipsrv", r, 50, rnd=i) for i, r in enumerate([500, 520, 900])] + \
           [_run("heritage", r, 40, rnd=i) for i, r in enumerate([1000, 1100, 1200])]
    rows = report.summarize(runs)
    her = next(r for r in rows if r["server"] == "heritage")
    assert her["rps"] == 1100 and her["rps_ratio"] == pytest.approx(1100 / 520, abs=0.01)
    assert her["p99_ratio"] == 0.8
    assert "NOT MET" in report.verdict(rows)  # 2.1× is short of the 4× target


def test_verdict_applies_the_targets_and_the_ceiling_share():
    runs = [_run("iipsrv", 500, 50), _run("heritage-granian", 2500, 20), _run("heritage-gunicorn-sync", 1500, 10),
            _run("nginx-static", 5000, 5), _run("iipsrv", 100, 50, mix="thumbs"),
            _run("heritage-granian", 400, 20, mix="thumbs")]
    lines = report.verdict(report.summarize(runs)).splitlines()
    assert any(line.startswith("target MET: tiles c=4 heritage-granian 2500 req/s = 5.00×") for line in lines)
    assert any(line.startswith("target NOT MET: tiles c=4 heritage-gunicorn-sync") for line in lines)  # 3×
    assert any(line.startswith("target MET: thumbs c=4 heritage-granian 400 req/s = 4.00×") for line in lines)
    assert "ceiling: tiles c=4 heritage-granian 2500 req/s = 50 % of nginx serving the same files (5000 req/s)" in lines


@pytest.mark.parametrize("tile", [256, 512])
def test_openseadragon_tiles_are_the_grid_heritage_prerenders(tile):
    """What a viewer asks for is what ingest pre-renders (server/image/grid.py), level by level."""
    from server.image import grid
    for sf in grid.scale_factors(W, H, tile):
        ours = [t.path for t in tiles.level_tiles(W, H, tile, sf)]
        if ours[0].startswith("full/"):
            continue  # a level inside one tile: OpenSeadragon asks for "full", the grid has one region
        theirs = [f"{x},{y},{w},{h}/{sw},{sh}/0/default.jpg" for (x, y, w, h), (sw, sh) in grid.grid(W, H, tile, sf)]
        assert ours == theirs
