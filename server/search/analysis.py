"""Text analysis for search: one chain, used identically at ingest and at query time.

Why not Whoosh's ``LanguageAnalyzer('it')``: its stop list drops words and renumbers positions,
so phrases match across the dropped words and a hit no longer maps back to the OCR word it came
from. Here every token keeps its place, and nothing is dropped but punctuation.

The chain, per piece of text:

1. Unicode NFKC (ligatures ``ﬁ`` → ``fi``, long ``ſ`` → ``s``, full-width forms, superscripts);
   soft hyphens and zero-width characters are removed, every apostrophe-like mark becomes ``'``.
2. Tokenize: a token is a run of letters, digits and combining marks. Everything else separates,
   the apostrophe too, so elisions split (``dell'assemblea`` → ``dell`` + ``assemblea``) and an
   apostrophe written for an accent disappears (``perche'`` → ``perche``).
3. Case-fold (``ß`` → ``ss``), then fold accents (NFD, drop combining marks): ``città`` = ``citta``,
   ``perché`` = ``perchè`` = ``perche``; historic ``aͤ`` (a + combining e) → ``a``.
   The result is the **folded** form, stored unstemmed for autocomplete, prefix and fuzzy queries.
4. Stem the folded form with the Snowball stemmer of the page's language (Italian for Italian
   pages; German, English … when Whoosh has one; none for unknown languages).

Positions are never renumbered: token *i* of a page is the *i*-th token of its words in reading
order, which is what lets :mod:`server.search.match` map a hit back to word boxes.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache

from whoosh.lang import NoStemmer, stemmer_for_language

from server.ocr.lang import to_iso639_1

ANALYSIS_VERSION = 1
"""Bump when the chain changes: an index built by another version is rebuilt, not reused."""

_APOSTROPHES = dict.fromkeys(map(ord, "\u2019\u2018\u02bc\u02b9\u2032\u0060\u00b4\uff07\u201b"), "'")
_REMOVE = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\u2060\ufeff"), None)
# letters/digits (not "_"), followed by letters, digits and combining marks
_TOKEN = re.compile(r"[^\W_][^\W_\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]*"
                    r"(?:[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]+[^\W_]*)*")


def normalize(text: str) -> str:
    """Step 1: NFKC, apostrophes unified, invisible characters removed."""
    return unicodedata.normalize("NFKC", text).translate(_REMOVE).translate(_APOSTROPHES)


@lru_cache(maxsize=200_000)
def fold(token: str) -> str:
    """Step 3 for one raw token: case-fold and strip accents (combining marks)."""
    decomposed = unicodedata.normalize("NFD", token.casefold())
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return unicodedata.normalize("NFC", stripped)


def raw_tokens(text: str) -> list[str]:
    """Steps 1–2: the tokens of ``text`` as printed (normalized, not yet folded)."""
    return _TOKEN.findall(normalize(text))


def tokens(text: str) -> list[str]:
    """Steps 1–3: folded tokens, in order; empty for punctuation-only text."""
    return [f for f in (fold(t) for t in raw_tokens(text)) if f]


def language_key(language: str | None) -> str | None:
    """The stemmer key for a language code (ISO 639-1/2, Tesseract names), or None without a stemmer."""
    code = to_iso639_1(language)
    if not code:
        return None
    return code if _stemmer(code) is not None else None


@lru_cache(maxsize=64)
def _stemmer(code: str) -> Callable[[str], str] | None:
    try:
        return stemmer_for_language(code)
    except (NoStemmer, KeyError):
        return None


@lru_cache(maxsize=400_000)
def stem(folded: str, language: str | None) -> str:
    """Step 4: the stem of a folded token in ``language`` (a :func:`language_key`), never empty."""
    if language is None:
        return folded
    stemmer = _stemmer(language)
    if stemmer is None:
        return folded
    result = stemmer(folded)
    return result or folded


STEM_CACHE = 200_000
"""Stems kept per language at ingest (:func:`stemmer`)."""


class _Stems(dict[str, str]):
    """Folded token → stem in one language; a miss stems (and is kept until the cache is full,
    then the cache starts again: a plain dict's lookup costs half an ``lru_cache`` one's)."""

    def __init__(self, language: str | None) -> None:
        super().__init__()
        self.language = language

    def __missing__(self, folded: str) -> str:
        if len(self) >= STEM_CACHE:
            self.clear()
        result = self[folded] = stem(folded, self.language)
        return result


@lru_cache(maxsize=64)
def stemmer(language: str | None) -> Callable[[str], str]:
    """:func:`stem` for one language, as a one-argument cached function: ingest stems every token
    of every page (``map(stemmer(lang), tokens)``), and a dictionary lookup is the cheapest cache."""
    return _Stems(language).__getitem__


@lru_cache(maxsize=200_000)
def word_tokens(word: str) -> tuple[tuple[str, str], ...]:
    """``(folded, display form)`` of each token of one OCR word (cached: words repeat a lot)."""
    return tuple((f, display_form(t)) for t in raw_tokens(word) if (f := fold(t)))


@lru_cache(maxsize=200_000)
def word_folds(word: str) -> tuple[str, ...]:
    """The folded tokens of one OCR word: the first halves of :func:`word_tokens`."""
    return tuple(f for f, _ in word_tokens(word))


def display_form(token: str) -> str:
    """How autocomplete shows a token: lower case, accents kept, NFC (``Città`` → ``città``)."""
    return unicodedata.normalize("NFC", token.casefold())
