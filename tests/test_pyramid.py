"""Masters -> pyramidal TIFFs: real sample pages, plus awkward masters made from a real crop."""
from __future__ import annotations

import glob
import math
import struct
from pathlib import Path

import pytest
import pyvips
from PIL import Image, ImageStat

from server.errors import HeritageError
from server.image.model import Pyramid
from server.image.pyramid import PYRAMID_FORMAT, build_pyramid, master_key, open_pyramid, pyramid_path

ITEMS = Path(__file__).resolve().parent / "fixtures" / "holdings-sample" / "items"
KANT_TIF = ITEMS / "periodical-deu-berlinische-monatsschrift-1784-12/INPUT_0017.tif"
NORDSTERN_JPG = ITEMS / "newspaper-deu-der-nordstern-1878-01-03/0011.jpg"
RASSEGNA_PNG = ITEMS / "periodical-ita-rassegna-settimanale-1878-10-06/0001.png"
JP2 = Path(min(glob.glob(str(ITEMS / "periodical-eng-english-illustrated-magazine-1884-12/*.jp2"))))
BNF_JPG = ITEMS / "document-ita-bnf-it-912/btv1b52501692k_f9.jpg"

# TIFF tags that carry metadata the pyramid must not keep
METADATA_TAGS = {700: "XMP", 33723: "IPTC", 34377: "Photoshop", 34665: "EXIF IFD", 34675: "ICC profile"}


def inspect(path: Path) -> list[dict]:
    """Per page: the TIFF tags that make the output contract, read with Pillow (not libvips)."""
    pages = []
    with Image.open(path) as tif:
        for page in range(tif.n_frames):
            tif.seek(page)
            tags = tif.tag_v2
            pages.append({
                "size": tif.size,
                "tile": (tags.get(322), tags.get(323)),
                "compression": tags.get(259),
                "bits": tuple(tags.get(258)) if isinstance(tags.get(258), tuple) else (tags.get(258),),
                "bands": tags.get(277, 1),
                "metadata": sorted(name for tag, name in METADATA_TAGS.items() if tag in tags),
            })
    return pages


def check_contract(pyr: Pyramid, size: tuple[int, int], bands: int) -> list[dict]:
    pages = inspect(Path(pyr.path))
    assert (pyr.width, pyr.height) == size == pyr.levels[0]
    assert len(pages) == len(pyr.levels) >= 2
    for page, level in zip(pages, pyr.levels):
        assert page["size"] == level
        assert page["tile"] == (256, 256)
        assert page["compression"] == 7  # JPEG
        assert page["bits"] == (8,) * bands and page["bands"] == bands
        assert page["metadata"] == []
    for big, small in zip(pyr.levels, pyr.levels[1:]):  # each level halves the one above
        assert all(abs(s - b / 2) <= 1 for b, s in zip(big, small))
    assert max(pyr.levels[-1]) <= 256 < max(pyr.levels[-2])  # stops once it fits in one tile
    assert open_pyramid(Path(pyr.path)) == pyr
    return pages


def means(image: pyvips.Image) -> list[float]:
    return [image.extract_band(b).avg() for b in range(image.bands)]


def output(pyr: Pyramid) -> pyvips.Image:
    return pyvips.Image.new_from_file(pyr.path)


@pytest.fixture(scope="module")
def truth() -> pyvips.Image:
    """A real 600×400 crop of the BnF manuscript (ink and paper), in sRGB, no profile."""
    page = pyvips.Image.new_from_file(str(BNF_JPG))
    crop = page.icc_transform("srgb", embedded=True, depth=8).crop(200, 300, 600, 400).copy_memory()
    crop.remove("icc-profile-data")
    return crop


# --- the real sample masters ----------------------------------------------------------------------

@pytest.mark.parametrize("master, size, bands", [
    (KANT_TIF, (1457, 2083), 3),        # JPEG-in-TIFF with a scanner ICC profile
    (NORDSTERN_JPG, (2146, 3038), 1),   # grey JPEG
    (RASSEGNA_PNG, (2297, 3377), 1),    # 1-bit PNG
    (JP2, (2414, 3560), 1),             # JPEG 2000, decoded by Pillow
    (BNF_JPG, (1235, 1833), 3),         # RGB JPEG with an Adobe RGB-like profile
], ids=lambda v: v.name if isinstance(v, Path) else None)
def test_real_masters(tmp_path: Path, master: Path, size: tuple[int, int], bands: int) -> None:
    pyr = build_pyramid(master, tmp_path / "out.tif")
    check_contract(pyr, size, bands)
    out = output(pyr)
    assert out.interpretation == ("b-w" if bands == 1 else "srgb")
    if master.suffix == ".jp2":
        with Image.open(master) as pil:
            pil.reduce = 2  # OpenJPEG decodes at 1/4 size: same mean, a fraction of the time
            reference = ImageStat.Stat(pil.convert("L")).mean[0]
    else:
        master_image = pyvips.Image.new_from_file(str(master))
        if master_image.get_typeof("icc-profile-data"):
            master_image = master_image.icc_transform("srgb", embedded=True, depth=8)
        reference = master_image.avg()
    assert out.avg() == pytest.approx(reference, abs=1.5)


def test_scanner_profile_is_applied(tmp_path: Path) -> None:
    master = pyvips.Image.new_from_file(str(KANT_TIF))
    expected = means(master.icc_transform("srgb", embedded=True, depth=8))
    got = means(output(build_pyramid(KANT_TIF, tmp_path / "k.tif")))
    assert got == pytest.approx(expected, abs=1)
    assert abs(got[0] - means(master)[0]) > 4  # the profile matters for this page: not a no-op


# --- masters made from a real crop --------------------------------------------------------------

def test_16_bit_lzw_tiff_is_scaled_not_clipped(tmp_path: Path, truth: pyvips.Image) -> None:
    master = tmp_path / "rgb16.tif"
    truth.colourspace("rgb16").tiffsave(str(master), compression="lzw")
    assert pyvips.Image.new_from_file(str(master)).format == "ushort"
    pyr = build_pyramid(master, tmp_path / "out.tif")
    check_contract(pyr, (600, 400), 3)
    out = output(pyr)
    assert means(out) == pytest.approx(means(truth), abs=1.5)


def test_16_bit_grey_png(tmp_path: Path, truth: pyvips.Image) -> None:
    master = tmp_path / "grey16.png"
    grey = truth.colourspace("b-w")
    grey.colourspace("grey16").pngsave(str(master))
    out = output(build_pyramid(master, tmp_path / "out.tif"))
    assert (out.bands, out.format) == (1, "uchar")
    assert out.avg() == pytest.approx(grey.avg(), abs=1.5)


def test_embedded_p3_profile_is_converted_to_srgb(tmp_path: Path, truth: pyvips.Image) -> None:
    master = tmp_path / "p3.tif"
    p3 = truth.icc_transform("p3", input_profile="srgb", depth=8)  # attaches the P3 profile
    p3.tiffsave(str(master))
    assert pyvips.Image.new_from_file(str(master)).get_typeof("icc-profile-data")
    out = output(build_pyramid(master, tmp_path / "out.tif"))
    assert means(out) == pytest.approx(means(truth), abs=1.0)
    assert abs(means(p3)[2] - means(truth)[2]) > 3  # ignoring the profile would have been visible


def gray_icc_profile(gamma: float) -> bytes:
    """A minimal ICC v2 grey display profile (white point + one gamma curve); lcms accepts it."""
    def s15(v: float) -> bytes:
        return struct.pack(">i", round(v * 65536))
    d50 = s15(0.9642) + s15(1.0) + s15(0.8249)
    tags = [(b"wtpt", b"XYZ \0\0\0\0" + d50),
            (b"kTRC", b"curv\0\0\0\0" + struct.pack(">IH", 1, round(gamma * 256)) + b"\0\0")]
    offset = 128 + 4 + 12 * len(tags)
    table = data = b""
    for signature, body in tags:
        table += signature + struct.pack(">II", offset + len(data), len(body))
        data += body + b"\0" * (-len(body) % 4)
    header = (struct.pack(">I", offset + len(data)) + b"\0" * 4 + struct.pack(">I", 0x02100000)
              + b"mntrGRAYXYZ " + b"\0" * 12 + b"acsp" + b"\0" * 28 + d50 + b"\0" * 48)
    return header + struct.pack(">I", len(tags)) + table + data


def test_grey_with_a_grey_profile_stays_grey(tmp_path: Path) -> None:
    master = tmp_path / "linear-grey.tif"
    grey = pyvips.Image.new_from_file(str(NORDSTERN_JPG)).crop(300, 300, 600, 400).copy_memory()
    tagged = grey.copy()
    tagged.set_type(pyvips.GValue.blob_type, "icc-profile-data", gray_icc_profile(1.0))  # linear light
    tagged.tiffsave(str(master))
    out = output(build_pyramid(master, tmp_path / "out.tif"))
    assert (out.bands, out.interpretation) == (1, "b-w")
    linear = grey / 255.0
    srgb = (linear <= 0.0031308).ifthenelse(linear * 12.92, linear ** (1 / 2.4) * 1.055 - 0.055) * 255
    assert out.avg() == pytest.approx(srgb.avg(), abs=1.5)
    assert out.avg() - grey.avg() > 5  # the profile changed the tones, as it should


def test_grey_with_a_mismatched_rgb_profile_still_builds(tmp_path: Path) -> None:
    master = tmp_path / "odd.tif"
    grey = pyvips.Image.new_from_file(str(NORDSTERN_JPG)).crop(0, 0, 300, 300).copy_memory()
    tagged = grey.copy()
    tagged.set_type(pyvips.GValue.blob_type, "icc-profile-data",
                    pyvips.Image.new_from_file(str(BNF_JPG)).get("icc-profile-data"))
    tagged.tiffsave(str(master))
    out = output(build_pyramid(master, tmp_path / "out.tif"))
    assert out.bands == 1 and out.avg() == pytest.approx(grey.avg(), abs=1.5)


@pytest.mark.parametrize("with_profile", [True, False])
def test_cmyk_jpeg(tmp_path: Path, truth: pyvips.Image, with_profile: bool) -> None:
    master = tmp_path / "cmyk.jpg"
    cmyk = truth.icc_transform("cmyk", input_profile="srgb", depth=8)
    assert cmyk.interpretation == "cmyk" and cmyk.bands == 4
    keep = pyvips.enums.ForeignKeep.ALL if with_profile else pyvips.enums.ForeignKeep.NONE
    cmyk.jpegsave(str(master), Q=95, keep=keep)
    assert bool(pyvips.Image.new_from_file(str(master)).get_typeof("icc-profile-data")) == with_profile
    out = output(build_pyramid(master, tmp_path / "out.tif"))
    assert (out.bands, out.interpretation) == (3, "srgb")
    assert means(out) == pytest.approx(means(truth), abs=3)  # CMYK round trip loses a little gamut


@pytest.mark.parametrize("depth", ["srgb", "rgb16"])
def test_alpha_is_flattened_on_white(tmp_path: Path, truth: pyvips.Image, depth: str) -> None:
    master = tmp_path / f"alpha-{depth}.png"
    opaque = 65535 if depth == "rgb16" else 255
    # left half fully transparent, right half opaque
    alpha = pyvips.Image.black(600, 400).cast("ushort" if depth == "rgb16" else "uchar")
    alpha = alpha.draw_rect(opaque, 300, 0, 300, 400, fill=True)
    truth.colourspace(depth).bandjoin(alpha).pngsave(str(master))
    out = output(build_pyramid(master, tmp_path / "out.tif"))
    assert out.bands == 3
    assert out.crop(0, 0, 290, 400).min() >= 250  # transparent half: paper white
    assert means(out.crop(310, 0, 290, 400)) == pytest.approx(means(truth.crop(310, 0, 290, 400)), abs=1.5)


def test_exif_orientation_applied_and_metadata_stripped(tmp_path: Path, truth: pyvips.Image) -> None:
    master = tmp_path / "rotated.jpg"
    tagged = truth.copy()
    tagged.set_type(pyvips.GValue.gint_type, "orientation", 6)  # "rotate 90° clockwise to display"
    xmp = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/">'
           b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/></x:xmpmeta>')
    tagged.set_type(pyvips.GValue.blob_type, "xmp-data", xmp)
    tagged.jpegsave(str(master), Q=95)
    loaded = pyvips.Image.new_from_file(str(master))
    assert loaded.get("orientation") == 6 and loaded.get_typeof("xmp-data") and loaded.get_typeof("exif-data")
    pyr = build_pyramid(master, tmp_path / "out.tif")
    out = output(pyr)
    assert (out.width, out.height) == (400, 600)
    assert means(out.crop(0, 0, 400, 300)) == pytest.approx(means(truth.rot90().crop(0, 0, 400, 300)), abs=2)
    fields = set(out.get_fields())
    assert not fields & {"xmp-data", "exif-data", "icc-profile-data", "iptc-data"}
    assert inspect(Path(pyr.path))[0]["metadata"] == []


def test_multi_page_tiff_takes_page_zero(tmp_path: Path, truth: pyvips.Image) -> None:
    master = tmp_path / "two-pages.tif"
    first, second = truth.crop(0, 0, 600, 200), truth.crop(0, 200, 600, 200).invert()
    stack = first.join(second, "vertical").copy()
    stack.set_type(pyvips.GValue.gint_type, "page-height", 200)
    stack.tiffsave(str(master), compression="lzw")
    assert pyvips.Image.new_from_file(str(master)).get("n-pages") == 2
    out = output(build_pyramid(master, tmp_path / "out.tif"))
    assert (out.width, out.height) == (600, 200)
    assert out.avg() == pytest.approx(first.avg(), abs=1.5)


# --- failures ------------------------------------------------------------------------------------

def assert_clean_failure(tmp_path: Path, master: Path, *words: str) -> None:
    out = tmp_path / "out" / "page.tif"
    with pytest.raises(HeritageError) as caught:
        build_pyramid(master, out)
    message = str(caught.value)
    assert message.startswith(f"{master.name}: ") and "\n" not in message and len(message) < 300
    assert all(word in message for word in words), message
    assert not out.exists()
    assert not out.parent.exists() or list(out.parent.iterdir()) == []  # no temp file left behind


def test_truncated_jpeg_is_reported(tmp_path: Path) -> None:
    master = tmp_path / "0011.jpg"
    data = NORDSTERN_JPG.read_bytes()
    master.write_bytes(data[: len(data) // 2])
    assert_clean_failure(tmp_path, master, "truncated")


def test_random_bytes_tif_is_reported(tmp_path: Path) -> None:
    master = tmp_path / "noise.tif"
    master.write_bytes(bytes(range(256)) * 40)
    assert_clean_failure(tmp_path, master, "not a recognised image format")


def test_truncated_jp2_is_reported(tmp_path: Path) -> None:
    master = tmp_path / "cut.jp2"
    data = JP2.read_bytes()
    master.write_bytes(data[: len(data) // 3])
    assert_clean_failure(tmp_path, master, "JPEG 2000")


@pytest.mark.parametrize("content", [None, b""], ids=["missing", "empty"])
def test_missing_or_empty_master(tmp_path: Path, content: bytes | None) -> None:
    master = tmp_path / "0001.tif"
    if content is not None:
        master.write_bytes(content)
    assert_clean_failure(tmp_path, master, "not found" if content is None else "empty")


def test_failed_rebuild_keeps_the_previous_pyramid(tmp_path: Path, truth: pyvips.Image) -> None:
    good, bad = tmp_path / "good.png", tmp_path / "bad.jpg"
    truth.pngsave(str(good))
    bad.write_bytes(NORDSTERN_JPG.read_bytes()[:50_000])
    out = tmp_path / "page.tif"
    build_pyramid(good, out)
    before = out.read_bytes()
    with pytest.raises(HeritageError):
        build_pyramid(bad, out)
    assert out.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.jpg", "good.png", "page.tif"]


def test_open_pyramid_rejects_garbage(tmp_path: Path) -> None:
    junk = tmp_path / "junk.tif"
    junk.write_bytes(b"\0" * 100)
    with pytest.raises(HeritageError, match="junk.tif"):
        open_pyramid(junk)
    with pytest.raises(HeritageError):
        open_pyramid(tmp_path / "missing.tif")


# --- keys and paths ------------------------------------------------------------------------------

def test_master_key_is_a_content_hash(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a.jpg", tmp_path / "b.jpg", tmp_path / "c.jpg"
    data = BNF_JPG.read_bytes()
    a.write_bytes(data)
    b.write_bytes(data)
    c.write_bytes(data[:-1] + b"\0")
    key = master_key(a)
    assert key == master_key(b) != master_key(c)
    digest, version = key.split("-")
    assert len(digest) == 32 and int(digest, 16) >= 0 and version == PYRAMID_FORMAT
    assert pyramid_path(tmp_path, key) == tmp_path / "pyramids" / key[:2] / f"{key}.tif"
    with pytest.raises(HeritageError, match="missing.jpg: cannot read the file"):
        master_key(tmp_path / "missing.jpg")


@pytest.mark.parametrize("key", ["../../etc/passwd", "a/b", "", "x" * 200, "..", "abc\0def"])
def test_pyramid_path_rejects_non_keys(tmp_path: Path, key: str) -> None:
    with pytest.raises(ValueError):
        pyramid_path(tmp_path, key)


def test_levels_math_matches_file(tmp_path: Path) -> None:
    pyr = build_pyramid(NORDSTERN_JPG, tmp_path / "n.tif")
    assert len(pyr.levels) == math.ceil(math.log2(max(pyr.width, pyr.height) / 256)) + 1
