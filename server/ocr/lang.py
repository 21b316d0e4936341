"""OCR language codes (ISO 639-2 from ALTO, Tesseract model names from hOCR) → ISO 639-1.

The search analyzer picks stemmers by ISO 639-1 code (``it``, ``de``, ``en``); OCR files say
``ita``, ``ger``, ``deu``, ``deu_frak``, ``it-IT``. Codes with no 639-1 form (``grc``, ``enm``)
are kept as written, lower-cased.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

# ISO 639-2 bibliographic and terminology codes of the languages a European archive meets,
# plus Tesseract's own model names that are not ISO codes.
_TO_639_1: dict[str, str] = {
    "ita": "it", "ger": "de", "deu": "de", "eng": "en", "fre": "fr", "fra": "fr",
    "spa": "es", "por": "pt", "lat": "la", "dut": "nl", "nld": "nl", "gre": "el", "ell": "el",
    "pol": "pl", "cze": "cs", "ces": "cs", "slo": "sk", "slk": "sk", "slv": "sl", "hrv": "hr",
    "srp": "sr", "bos": "bs", "rus": "ru", "ukr": "uk", "bel": "be", "bul": "bg", "mac": "mk",
    "mkd": "mk", "rum": "ro", "ron": "ro", "hun": "hu", "fin": "fi", "est": "et", "lav": "lv",
    "lit": "lt", "swe": "sv", "dan": "da", "nor": "no", "nob": "nb", "nno": "nn", "ice": "is",
    "isl": "is", "cat": "ca", "glg": "gl", "baq": "eu", "eus": "eu", "wel": "cy", "cym": "cy",
    "gle": "ga", "gla": "gd", "bre": "br", "alb": "sq", "sqi": "sq", "mlt": "mt", "ltz": "lb",
    "fry": "fy", "roh": "rm", "epo": "eo", "tur": "tr", "ara": "ar", "heb": "he", "yid": "yi",
    "per": "fa", "fas": "fa", "arm": "hy", "hye": "hy", "geo": "ka", "kat": "ka", "hin": "hi",
    "chi": "zh", "zho": "zh", "jpn": "ja", "kor": "ko", "oci": "oc", "cos": "co", "srd": "sc",
    # Tesseract: "frk" is its German Fraktur model (not ISO "Frankish").
    "frk": "de",
}


def to_iso639_1(code: str | None) -> str | None:
    """Normalise one language code; ``None`` for empty values.

    Only the primary part counts: ``deu_frak`` → ``de``, ``it-IT`` → ``it``, ``deu+eng`` → ``de``.
    """
    if not code:
        return None
    primary = code.strip().lower().replace("-", "_").split("+")[0].split("_")[0]
    if not primary:
        return None
    if len(primary) == 2 and primary.isalpha():
        return primary
    return _TO_639_1.get(primary, primary)


def dominant(codes: Iterable[str | None]) -> str | None:
    """The most frequent code among words that have one (ties: the first seen); ``None`` if none."""
    counts = Counter(c for c in codes if c)
    if not counts:
        return None
    return counts.most_common(1)[0][0]  # Counter keeps insertion order among equal counts
