"""Masters become tiled, JPEG-compressed, pyramidal TIFFs, once, at ingest.

Whatever the scanner wrote (TIFF, JPEG, PNG, JPEG 2000; grey, RGB or CMYK; 1, 8 or 16 bits;
with or without an ICC profile, alpha or an EXIF orientation), the pyramid is always 8-bit
grey (1 band) or 8-bit sRGB (3 bands) with no metadata, so the request-time renderer never has
to think about colour. Pyramids are content addressed (``master_key``), so re-ingest skips
unchanged masters and a half-written pyramid is never visible (temp file + ``os.replace``).
"""
from __future__ import annotations

import hashlib
import logging
import os
import re
import secrets
import warnings
from pathlib import Path

import pyvips

from ..errors import HeritageError
from ..ids import CONTENT_KEY
from .model import Pyramid

log = logging.getLogger(__name__)

# Bump when the output contract changes (colour handling …): every master gets a new key, so
# re-ingest rebuilds every pyramid instead of serving old ones. The tile size has its own suffix
# (pyramid_key).
PYRAMID_FORMAT = "p1"
TILE = 256
TILE_SIZES = (256, 512)

_LOADERS = {"jpegload", "pngload", "tiffload", "webpload", "heifload", "gifload"}
_JP2_MAGIC = (b"\x00\x00\x00\x0cjP  \r\n\x87\n", b"\xff\x4f\xff\x51")
# interpretations libvips converts to sRGB by formula (no ICC profile involved)
_COLOUR_SPACES = {"lab", "labq", "labs", "lch", "cmc", "xyz", "yxy", "scrgb", "hsv", "oklab", "oklch"}


def master_key(master: Path) -> str:
    """Content hash of the master plus the pyramid format version: same bytes, same pyramid."""
    digest = hashlib.sha256()
    try:
        with open(master, "rb") as f:
            while chunk := f.read(1 << 20):
                digest.update(chunk)
    except OSError as exc:
        raise HeritageError(f"{Path(master).name}: cannot read the file ({exc.strerror or exc})") from None
    return f"{digest.hexdigest()[:32]}-{PYRAMID_FORMAT}"


def pyramid_key(content_key: str, tile: int = TILE) -> str:
    """The pyramid key of a master's content key at a tile size: 256 px, the only size of earlier
    versions, keeps the bare content key, so their pyramids are still found; 512 adds ``t512``."""
    _check_tile(tile)
    return content_key if tile == TILE else f"{content_key}t{tile}"


def _check_tile(tile: int) -> None:
    if tile not in TILE_SIZES:
        raise ValueError(f"tile size must be one of {TILE_SIZES}, not {tile}")


def pyramid_path(cache_dir: Path, key: str) -> Path:
    """Where the pyramid of ``key`` lives: sharded by the first two hex digits."""
    return Path(pyramid_file(str(cache_dir), key))


def pyramid_file(cache_dir: str, key: str) -> str:
    """:func:`pyramid_path` as a string, made without path objects (ingest asks it of every page);
    ``cache_dir`` as ``str(Path(...))`` spells it."""
    if not CONTENT_KEY.fullmatch(key):
        raise ValueError(f"not a pyramid key: {key!r}")
    sep = "" if cache_dir.endswith(os.sep) else os.sep
    return f"{cache_dir}{sep}pyramids{os.sep}{key[:2]}{os.sep}{key}.tif"


def open_pyramid(path: Path) -> Pyramid:
    """Read the level sizes of an existing pyramid (headers only, no pixels decoded)."""
    try:
        levels = _levels(Path(path))
    except pyvips.Error as exc:
        raise HeritageError(f"{Path(path).name}: not a readable pyramid ({_reason(exc) or 'unreadable'})") from None
    width, height = levels[0]
    return Pyramid(path=str(path), width=width, height=height, levels=levels)


def build_pyramid(master: Path, out: Path, jpeg_quality: int = 85, tile: int = TILE) -> Pyramid:
    """Convert ``master`` into the pyramidal TIFF ``out``; a bad master raises HeritageError."""
    if not 1 <= jpeg_quality <= 100:
        raise ValueError(f"jpeg_quality must be 1–100, not {jpeg_quality}")
    _check_tile(tile)
    master, out = Path(master), Path(out)
    name = master.name
    try:
        image = _normalise(_load(master), name)
    except pyvips.Error as exc:
        raise HeritageError(f"{name}: {_pixel_reason(exc)}") from None
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.parent / f".{out.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    try:
        image.tiffsave(
            str(tmp), tile=True, tile_width=tile, tile_height=tile, pyramid=True, subifd=False,
            compression="jpeg", Q=jpeg_quality, keep=pyvips.enums.ForeignKeep.NONE,
            # classic TIFF stops at 4 GiB; JPEG makes it smaller, but do not bet on the ratio
            bigtiff=image.width * image.height * image.bands > 2**32,
        )
        with open(tmp, "rb+") as f:  # the bytes must be on disk before the name points at them
            os.fsync(f.fileno())
        os.replace(tmp, out)
    except pyvips.Error as exc:
        raise HeritageError(f"{name}: {_pixel_reason(exc)}") from None
    except OSError as exc:
        raise HeritageError(f"{name}: cannot write the pyramid {out} ({exc.strerror or exc})") from None
    finally:
        tmp.unlink(missing_ok=True)
    return open_pyramid(out)


# --- reading -------------------------------------------------------------------------------------

def is_jp2(master: Path) -> bool:
    """Whether ``master`` is JPEG 2000 (which libvips here cannot read); HeritageError if unreadable or empty."""
    name = master.name
    try:
        with open(master, "rb") as f:
            head = f.read(16)
    except FileNotFoundError:
        raise HeritageError(f"{name}: file not found") from None
    except OSError as exc:
        raise HeritageError(f"{name}: cannot read the file ({exc.strerror or exc})") from None
    if not head:
        raise HeritageError(f"{name}: the file is empty")
    return head.startswith(_JP2_MAGIC)


def _load(master: Path) -> pyvips.Image:
    """Open page 0 of any supported master, lazily, EXIF orientation applied."""
    name = master.name
    if is_jp2(master):
        return _load_jp2(master)
    try:
        # sequential: a 10,000-pixel master streams through in strips instead of sitting in memory;
        # fail_on="truncated": a cut-off master fails instead of being published half grey;
        # revalidate: a master replaced in place must not come back from libvips' operation cache.
        image = pyvips.Image.new_from_file(str(master), access="sequential", fail_on="truncated", revalidate=True)
        loader = image.get("vips-loader") if image.get_typeof("vips-loader") else "?"
        if loader not in _LOADERS:
            raise HeritageError(f"{name}: unsupported image format ({loader})")
        orientation = image.get("orientation") if image.get_typeof("orientation") else 1
        if 2 <= orientation <= 8:
            # rotating needs the whole image: a sequential read would fail "out of order"
            image = pyvips.Image.new_from_file(str(master), access="random", fail_on="truncated", revalidate=True)
            image = image.autorot()
    except pyvips.Error as exc:
        raise HeritageError(f"{name}: {_open_reason(exc)}") from None
    return image


def _load_jp2(master: Path) -> pyvips.Image:
    """pyvips-binary has no JPEG 2000 loader: decode with Pillow (OpenJPEG), hand the pixels over."""
    from PIL import Image

    modes = {  # Pillow mode -> (bands, vips format, interpretation)
        "L": (1, "uchar", "b-w"), "LA": (2, "uchar", "b-w"), "RGB": (3, "uchar", "srgb"),
        "RGBA": (4, "uchar", "srgb"), "I;16": (1, "ushort", "grey16"), "CMYK": (4, "uchar", "cmyk"),
    }
    try:
        with warnings.catch_warnings():
            # archive masters are legitimately large; Pillow still refuses > 2x its limit (DecompressionBombError)
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(master) as pil:
                pil.load()
                if pil.mode not in modes:
                    pil = pil.convert("RGBA" if "A" in pil.mode else "RGB")
                bands, fmt, interpretation = modes[pil.mode]
                width, height = pil.size
                icc = pil.info.get("icc_profile")
                data = pil.tobytes()
    except Image.DecompressionBombError as exc:
        raise HeritageError(f"{master.name}: too large to decode as JPEG 2000 ({exc})") from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise HeritageError(f"{master.name}: unreadable JPEG 2000 ({exc})") from None
    image = pyvips.Image.new_from_memory(data, width, height, bands, fmt).copy(interpretation=interpretation)
    if icc:
        image.set_type(pyvips.GValue.blob_type, "icc-profile-data", icc)
    return image


# --- colour --------------------------------------------------------------------------------------

def _normalise(image: pyvips.Image, name: str) -> pyvips.Image:
    """Any master -> 8-bit grey (1 band) or 8-bit sRGB (3 bands), alpha flattened on white."""
    if image.interpretation in _COLOUR_SPACES:
        image = image.colourspace("srgb")  # Lab/XYZ/scRGB TIFFs: exact formulas, keeps alpha
    if image.format not in ("uchar", "ushort", "uint"):
        raise HeritageError(f"{name}: unsupported sample format {image.format} (expected 8 or 16 bits)")
    image = _flatten(image)
    if image.get_typeof("icc-profile-data"):
        try:
            return _finish(_from_profile(image), name)
        except pyvips.Error as exc:
            log.warning("%s: ignoring an unusable ICC profile (%s)", name, _reason(exc) or "lcms refused it")
    return _finish(_without_profile(image), name)


def _flatten(image: pyvips.Image) -> pyvips.Image:
    """Composite on paper white, in the master's own colour space (white for CMYK is no ink)."""
    if not image.hasalpha():
        return image
    max_alpha = {"uchar": 255, "ushort": 65535}.get(image.format, 2**32 - 1)
    white = 0 if image.interpretation == "cmyk" else max_alpha
    return image.flatten(background=[white] * (image.bands - 1), max_alpha=max_alpha)


def _from_profile(image: pyvips.Image) -> pyvips.Image:
    """Embedded profile -> sRGB with lcms; 16 bits go to 8 inside the transform. Grey stays grey."""
    out = image.icc_transform("srgb", embedded=True, intent="relative", depth=8)
    return out.colourspace("b-w") if image.bands == 1 else out


def _without_profile(image: pyvips.Image) -> pyvips.Image:
    """No profile: assume sRGB/grey, CMYK through libvips' built-in CMYK profile."""
    interpretation = image.interpretation
    if interpretation == "cmyk" and image.bands >= 4:
        return image.icc_transform("srgb", input_profile="cmyk", intent="relative", depth=8)
    if interpretation == "rgb16" and image.bands >= 3:
        return image.colourspace("srgb")  # scales 0–65535 onto 0–255 (a shift, not a clip)
    if interpretation == "grey16":
        return image.colourspace("b-w")
    return image


def _finish(image: pyvips.Image, name: str) -> pyvips.Image:
    """Exactly 1 or 3 uchar bands with the interpretation the TIFF writer needs."""
    if image.format != "uchar":
        if image.format not in ("ushort", "uint"):
            raise HeritageError(f"{name}: unsupported sample format {image.format}")
        image = image.cast("uchar", shift=True)  # 16 -> 8 bits: >> 8, not a clip at 255
    if image.bands == 2:
        image = image.extract_band(0)
    elif image.bands > 3:
        image = image.extract_band(0, n=3)
    return image.copy(interpretation="b-w" if image.bands == 1 else "srgb")


# --- pyramid files -------------------------------------------------------------------------------

def _levels(path: Path) -> tuple[tuple[int, int], ...]:
    first = pyvips.Image.new_from_file(str(path), page=0, access="sequential", revalidate=True)
    if first.get("vips-loader") != "tiffload":
        raise HeritageError(f"{path.name}: not a TIFF pyramid")
    pages = first.get("n-pages") if first.get_typeof("n-pages") else 1
    levels = [(first.width, first.height)]
    for page in range(1, pages):
        level = pyvips.Image.new_from_file(str(path), page=page, access="sequential", revalidate=True)
        levels.append((level.width, level.height))
    return tuple(levels)


# --- error messages: one line, no libvips dumps --------------------------------------------------

def _reason(exc: pyvips.Error) -> str:
    """The first informative line of libvips' error, without the file name it repeats ("" if none)."""
    text = f"{exc.detail or ''}\n{exc.message or ''}"
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("unable to ")]
    return re.sub(r'"[^"]*"\s*', "", lines[0])[:200] if lines else ""


def _open_reason(exc: pyvips.Error) -> str:
    reason = _reason(exc)
    if "not a known file format" in reason:
        return "not a recognised image format (or its header is damaged)"
    return f"cannot open the image ({reason or 'damaged or unsupported header'})"


def _pixel_reason(exc: pyvips.Error) -> str:
    reason = _reason(exc)
    lowered = reason.lower()
    if any(word in lowered for word in ("premature end", "truncat", "read error", "unexpected end", "eof")):
        return f"image data truncated or corrupt ({reason})"
    return f"cannot convert the image ({reason or 'libvips gave no reason'})"
