"""Hypothesis over parse + resolve: hostile strings only ever give BadRequest, and whatever
resolves is inside the image, at least one pixel, within the limits and round-trips through its
canonical form in both API versions."""
from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.errors import BadRequest
from server.image.request import Limits, parse, resolve

FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

versions = st.sampled_from([2, 3])
images = st.tuples(st.integers(1, 6000), st.integers(1, 6000))
limits = st.builds(Limits, st.integers(1, 8000), st.integers(1, 8000), st.integers(1, 40_000_000))

# near-valid pieces, so that most examples get past parse() into resolve()
ints = st.one_of(st.integers(0, 7000).map(str), st.sampled_from(["0", "1", "00", "999999999", "1234567890"]))
decimals = st.one_of(
    ints,
    st.builds(lambda a, b: f"{a}.{b}", st.integers(0, 150), st.integers(0, 10**11)),
    st.sampled_from(["0.5", "99.9", "100", "100.0", "1e2", "nan", "inf", "-1", ".5", "5."]),
)
noise = st.text(alphabet=st.characters(codec="utf-8"), max_size=12)
regions = st.one_of(
    st.sampled_from(["full", "square"]),
    st.builds(lambda *p: ",".join(p), ints, ints, ints, ints),
    st.builds(lambda *p: "pct:" + ",".join(p), decimals, decimals, decimals, decimals),
    noise,
)
sizes = st.one_of(
    st.sampled_from(["max", "^max", "full", ",", "!,", "^"]),
    st.builds(lambda c, b, w, h: f"{c}{b}{w},{h}", st.sampled_from(["", "^"]), st.sampled_from(["", "", "!"]),
              st.one_of(st.just(""), ints), st.one_of(st.just(""), ints)),
    st.builds(lambda c, n: f"{c}pct:{n}", st.sampled_from(["", "^"]), decimals),
    noise,
)
rotations = st.one_of(st.builds(lambda m, n: f"{m}{n}", st.sampled_from(["", "!"]), decimals), noise)
quality_formats = st.one_of(
    st.builds(lambda q, f: f"{q}.{f}", st.sampled_from(["default", "color", "gray", "bitonal", "grey"]),
              st.sampled_from(["jpg", "png", "webp", "tif", "gif", "jp2", "jpeg"])),
    noise,
)


@st.composite
def valid_ish(draw: st.DrawFn) -> tuple:
    """Requests drawn relative to the image, so that most of them resolve."""
    version = draw(versions)
    width, height = draw(images)
    lim = draw(limits)
    pct = st.builds(lambda a, b: f"{a}.{b}" if b else str(a), st.integers(0, 110), st.integers(0, 99999))
    region = draw(st.one_of(
        st.sampled_from(["full", "square"]),
        st.builds(lambda x, y, w, h: f"{x},{y},{w},{h}", st.integers(0, width), st.integers(0, height),
                  st.integers(1, width + 10), st.integers(1, height + 10)),
        st.builds(lambda *p: "pct:" + ",".join(p), pct, pct, pct, pct),
    ))
    n = st.integers(1, 2 * max(width, height)).map(str)
    caret = st.sampled_from(["", "^"]) if version == 3 else st.just("")
    size = draw(st.one_of(
        st.sampled_from(["max", "^max"] if version == 3 else ["max", "full"]),
        st.builds(lambda c, w: f"{c}{w},", caret, n),
        st.builds(lambda c, h: f"{c},{h}", caret, n),
        st.builds(lambda c, w, h: f"{c}{w},{h}", caret, n, n),
        st.builds(lambda c, w, h: f"{c}!{w},{h}", caret, n, n),
        st.builds(lambda c, p: f"{c}pct:{p}", caret, pct),
    ))
    rotation = draw(st.builds(lambda m, a, b: f"{m}{a}.{b}" if b else f"{m}{a}",
                              st.sampled_from(["", "!"]), st.integers(0, 360), st.integers(0, 999)))
    qf = draw(st.builds(lambda q, f: f"{q}.{f}", st.sampled_from(["default", "color", "gray", "bitonal"]),
                        st.sampled_from(["jpg", "png", "webp", "tif", "gif"])))
    return version, region, size, rotation, qf, (width, height), lim


def check(version: int, region: str, size: str, rotation: str, qf: str, image: tuple[int, int],
          lim: Limits) -> None:
    width, height = image
    try:
        parsed = parse(version, region, size, rotation, qf)
        r = resolve(parsed, width, height, lim)
    except BadRequest as e:
        assert e.status == 400 and e.parameter in {"region", "size", "rotation", "quality", "format"}
        return
    x, y, w, h = r.region
    assert 0 <= x and 0 <= y and 1 <= w and 1 <= h and x + w <= width and y + h <= height
    ow, oh = r.size
    assert 1 <= ow <= lim.max_width and 1 <= oh <= lim.max_height
    assert 1 <= ow * oh <= lim.max_area
    if version == 3 and not parsed.upscale:
        assert ow <= w and oh <= h
    assert 0 <= r.rotation <= 360
    for v in (2, 3):
        parts = r.canonical(v).split("/")
        assert len(parts) == 4
        assert resolve(parse(v, *parts), width, height, lim) == r, (v, parts)


@FAST
@given(versions, regions, sizes, rotations, quality_formats, images, limits)
def test_near_valid_requests(version: int, region: str, size: str, rotation: str, qf: str,
                             image: tuple[int, int], lim: Limits) -> None:
    check(version, region, size, rotation, qf, image, lim)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(valid_ish())
def test_valid_ish_requests(args: tuple) -> None:
    check(*args)


@FAST
@given(versions, st.text(max_size=40), st.text(max_size=40), st.text(max_size=40), st.text(max_size=40),
       images, limits)
def test_arbitrary_strings(version: int, region: str, size: str, rotation: str, qf: str,
                           image: tuple[int, int], lim: Limits) -> None:
    check(version, region, size, rotation, qf, image, lim)


@FAST
@given(versions, st.binary(max_size=30).map(lambda b: b.decode("latin-1")), sizes, images, limits)
def test_latin1_bytes_as_region(version: int, region: str, size: str, image: tuple[int, int], lim: Limits) -> None:
    check(version, region, size, "0", "default.jpg", image, lim)


@FAST
@given(images, limits, st.integers(0, 3), st.integers(64, 1024))
def test_every_grid_tile_resolves_to_itself(image: tuple[int, int], lim: Limits, k: int, tile: int) -> None:
    """Tile requests computed as the spec's implementation notes describe are served as asked."""
    width, height = image
    s = 2 ** k
    if tile > min(lim.max_width, lim.max_height) or tile * tile > lim.max_area:
        return
    for y in range(0, height, tile * s)[:3]:
        for x in range(0, width, tile * s)[:3]:
            rw, rh = min(tile * s, width - x), min(tile * s, height - y)
            ws, hs = -(-rw // s), -(-rh // s)
            r = resolve(parse(3, f"{x},{y},{rw},{rh}", f"{ws},{hs}", "0", "default.jpg"), width, height, lim)
            assert r.region == (x, y, rw, rh) and r.size == (ws, hs)
