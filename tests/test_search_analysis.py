"""The analysis chain, one requirement per test (issue: full-text search, section 2)."""
from __future__ import annotations

import pytest

from server.search.analysis import display_form, fold, language_key, raw_tokens, stem, tokens
from server.search.whoosh.schema import common_grams, common_words


def test_elisions_split_on_every_apostrophe_form() -> None:
    assert tokens("dell'assemblea") == ["dell", "assemblea"]
    assert tokens("dell’assemblea") == ["dell", "assemblea"]  # U+2019, as OCR writes it
    assert tokens("l‘uomo") == ["l", "uomo"]
    assert tokens("sull’ Amministrazione") == ["sull", "amministrazione"]


def test_apostrophe_for_an_accent_disappears() -> None:
    assert tokens("perche'") == ["perche"]
    assert tokens("d’'") == ["d"]  # a Tesseract slip in the sample


@pytest.mark.parametrize("variant", ["perché", "perchè", "perche'", "PERCHÉ", "Perche"])
def test_accent_folding_makes_spellings_equal(variant: str) -> None:
    assert tokens(variant) == ["perche"]


def test_folding_examples() -> None:
    assert tokens("città Città CITTÀ citta") == ["citta"] * 4
    assert fold("Zwoͤlftes") == "zwolftes"  # o + combining small e (Fraktur ground truth)
    assert fold("Straße") == "strasse"


def test_long_s_and_nfkc() -> None:
    assert tokens("caſtrõ") == ["castro"]  # ſ → s (NFKC), combining tilde folded
    assert tokens("ﬁne") == ["fine"]  # ligature
    assert tokens("ＡＢＣ") == ["abc"]  # full-width
    assert tokens("x²") == ["x2"]


def test_invisible_characters_do_not_split_words() -> None:
    assert tokens("Ammini\u00adstrazione") == ["amministrazione"]  # soft hyphen
    assert tokens("comu\u200bne") == ["comune"]


def test_combining_marks_stay_inside_the_token() -> None:
    assert raw_tokens("Zwoͤlftes Stuͤk") == ["Zwoͤlftes", "Stuͤk"]


def test_punctuation_separates_and_is_dropped() -> None:
    assert tokens("Vol, 2°.") == ["vol", "2"]
    assert tokens("Nord-Amerika") == ["nord", "amerika"]
    assert tokens("«Firenze»;") == ["firenze"]
    assert tokens("— ; …") == []
    assert tokens("snake_case") == ["snake", "case"]


def test_italian_stemming_conflates_inflections() -> None:
    stems = {stem(fold(w), "it") for w in ("amministrazione", "amministrazioni")}
    assert len(stems) == 1
    assert stem("comune", "it") == stem("comuni", "it")
    assert stem("finanza", "it") == stem("finanze", "it")


def test_stemming_follows_the_page_language() -> None:
    assert stem("comuni", None) == "comuni"  # unknown language: folded form only
    assert stem("houses", "en") == stem("house", "en")
    assert stem("häuser", "de") != "" and stem("a", "it") == "a"  # never empty


@pytest.mark.parametrize(("code", "key"), [("it", "it"), ("ita", "it"), ("it-IT", "it"), ("deu_frak", "de"),
                                           ("ger", "de"), ("eng", "en"), ("la", None), (None, None), ("", None)])
def test_language_keys(code: str | None, key: str | None) -> None:
    assert language_key(code) == key


def test_no_stop_words_are_dropped_and_positions_are_kept() -> None:
    # LanguageAnalyzer('it') would drop "di", "la", "e": here every word keeps its position
    assert tokens("la questione di Firenze e gli studi") == ["la", "questione", "di", "firenze", "e", "gli", "studi"]


def test_display_form_keeps_accents() -> None:
    assert display_form("Città") == "città"


def test_common_grams_pair_stop_words_only() -> None:
    toks = ["la", "questione", "di", "firenze", "finanze", "comunali"]
    stems = [stem(t, "it") for t in toks]
    grams = common_grams(toks, stems, "it")
    assert f"{stems[0]} {stems[1]}" in grams and f"{stems[2]} {stems[3]}" in grams
    assert f"{stems[4]} {stems[5]}" not in grams  # two content words: answered by the terms
    assert "di" in common_words("it") and "perche" in common_words("it")  # folded stop words
    assert common_grams(toks, toks, None) == []
