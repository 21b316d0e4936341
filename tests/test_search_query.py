"""Query parsing, and where a query matches on a page's tokens."""
from __future__ import annotations

import pytest

from server.errors import BadRequest
from server.search.analysis import stem, tokens
from server.search.match import PageMatcher, levenshtein
from server.search.query import MAX_QUERY_CHARS, AllOf, AnyOf, Fuzzy, Phrase, Prefix, Term, parse


def test_terms_are_all_required_by_default() -> None:
    assert parse("Comune Firenze") == AllOf((Term("comune"), Term("firenze")))
    assert parse("comune AND +firenze") == AllOf((Term("comune"), Term("firenze")))


def test_phrases() -> None:
    assert parse('"questione di Firenze"') == AllOf((Phrase(("questione", "di", "firenze")),))
    assert parse('"Firenze"') == AllOf((Term("firenze"),))
    assert parse('"unterminated phrase') == AllOf((Phrase(("unterminated", "phrase")),))


def test_a_word_of_several_tokens_is_a_phrase() -> None:
    assert parse("dell'assemblea") == AllOf((Phrase(("dell", "assemblea")),))
    assert parse("Nord-Amerika") == AllOf((Phrase(("nord", "amerika")),))


def test_prefix_and_fuzzy() -> None:
    assert parse("amministra*") == AllOf((Prefix("amministra"),))
    assert parse("a*") == AllOf((Term("a"),))  # one letter is not a useful prefix
    assert parse("finanze~") == AllOf((Fuzzy("finanze", 1),))
    assert parse("finanze~2") == AllOf((Fuzzy("finanze", 2),))
    assert parse("finanze~9") == AllOf((Fuzzy("finanze", 2),))
    assert parse("al~") == AllOf((Term("al"),))


def test_or_binds_tighter_than_and() -> None:
    assert parse("tasse comune OR municipio") == AllOf((Term("tasse"), AnyOf((Term("comune"), Term("municipio")))))
    assert parse("a OR b OR c") == AllOf((AnyOf((Term("a"), Term("b"), Term("c"))),))


def test_exclusions() -> None:
    assert parse("firenze -milano") == AllOf((Term("firenze"),), (Term("milano"),))
    assert parse('firenze NOT milano -"del comune"') == AllOf((Term("firenze"),),
                                                              (Term("milano"), Phrase(("del", "comune"))))


def test_nothing_positive_is_no_query() -> None:
    assert parse("") is None
    assert parse(None) is None
    assert parse("-milano") is None
    assert parse("— … «»") is None


def test_too_long_is_a_400() -> None:
    with pytest.raises(BadRequest) as err:
        parse("x" * (MAX_QUERY_CHARS + 1))
    assert err.value.parameter == "q"
    with pytest.raises(BadRequest):
        parse(" ".join(f"w{i}" for i in range(30)))


def test_hostile_input_is_just_text() -> None:
    assert parse("<script>alert(1)</script>") == AllOf((AnyOf((Term("script"), Term("alert"), Term("1"))),))
    assert parse("{{7*7}}") == AllOf((Term("7"),))  # "*" inside a word is not a prefix


def test_symbols_inside_a_word_separate_alternatives() -> None:
    """``a&b Firenze`` used to require the phrase "a b" next to Firenze: a symbol made the query stricter."""
    assert parse("a&b Firenze") == AllOf((AnyOf((Term("a"), Term("b"))), Term("firenze")))
    assert parse("Firenze/Roma") == AllOf((AnyOf((Term("firenze"), Term("roma"))),))
    assert parse("title:Firenze") == AllOf((AnyOf((Term("title"), Term("firenze"))),))
    assert parse("Firenze,Roma;Pisa") == AllOf((AnyOf((Term("firenze"), Term("roma"), Term("pisa"))),))
    assert parse("x&amministra*") == AllOf((AnyOf((Term("x"), Prefix("amministra"))),))
    assert parse("x&finanze~2") == AllOf((AnyOf((Term("x"), Fuzzy("finanze", 2))),))
    assert parse("-a&b firenze") == AllOf((Term("firenze"),), (AnyOf((Term("a"), Term("b"))),))
    assert parse("roma OR a&b") == AllOf((AnyOf((Term("roma"), Term("a"), Term("b"))),))
    # the marks that join a printed word keep it one phrase
    assert parse("S.p.A.") == AllOf((Phrase(("s", "p", "a")),))
    assert parse("dell’assemblea") == AllOf((Phrase(("dell", "assemblea")),))
    assert parse("Nord‐Amerika") == AllOf((Phrase(("nord", "amerika")),))  # U+2010 HYPHEN
    assert parse("&& | & ^ :: // \\") is None


@pytest.mark.parametrize("q", ["a&b Firenze", "&", "a&&b", "||", "a|b", "(a OR) b", "*a*", "~2", "a~~~~",
                               "-", "--x", "NOT", "NOT NOT x", '"', '""a"', "\x00", "%s%s%n", "{{", "a" * 499 + "&",
                               "\ud7ff\ufffd", "x" + "\u0301" * 50, "1" * 40 + "~2", "&" * 500])
def test_punctuation_never_raises(q: str) -> None:
    tree = parse(q)
    assert tree is None or isinstance(tree, AllOf)


def matcher(text: str, language: str | None = "it") -> PageMatcher:
    toks = tokens(text)
    return PageMatcher(toks, [stem(t, language) for t in toks] if language else toks, language)


def spans(text: str, q: str, language: str | None = "it") -> list[tuple[int, int]]:
    tree = parse(q)
    assert tree is not None
    return matcher(text, language).all_spans(tree)


def test_term_matches_by_stem_and_by_folded_form() -> None:
    text = "la città e le amministrazioni del Comune"
    assert spans(text, "amministrazione") == [(4, 5)]
    assert spans(text, "citta") == [(1, 2)]
    assert spans(text, "comuni") == [(6, 7)]
    assert spans(text, "comuni", language=None) == []  # no stemmer: folded forms only


def test_phrase_positions_ignore_punctuation_and_line_breaks() -> None:
    text = "ha terminato agli ultimi\ndi settembre, i suoi lavori"
    assert spans(text, '"ultimi di settembre"') == [(3, 6)]
    assert spans(text, '"settembre i suoi"') == [(5, 8)]
    assert spans(text, '"terminato ultimi"') == []


def test_prefix_and_fuzzy_spans() -> None:
    text = "amministrazione amministrativo ammesso finanze finanza"
    assert spans(text, "amministra*") == [(0, 1), (1, 2)]
    assert spans(text, "finanzi~") == [(3, 4), (4, 5)]
    assert spans(text, "ginanze~") == []  # the first letter is fixed


def test_overlapping_spans_merge_and_excluded_clauses_give_no_hits() -> None:
    assert spans("questione di firenze", '"questione di" "di firenze"') == [(0, 3)]
    assert spans("firenze e milano", "firenze -roma") == [(0, 1)]


def test_page_level_boolean() -> None:
    m = matcher("la questione di firenze")
    assert m.matches(parse("firenze questione"))  # type: ignore[arg-type]
    assert not m.matches(parse("firenze -questione"))  # type: ignore[arg-type]
    assert m.matches(parse("roma OR firenze"))  # type: ignore[arg-type]
    assert not m.matches(parse("roma firenze"))  # type: ignore[arg-type]


def test_levenshtein() -> None:
    assert levenshtein("finanze", "finanza", 1) == 1
    assert levenshtein("kitten", "sitting", 3) == 3
    assert levenshtein("kitten", "sitting", 1) == 2  # gives up past the limit


def test_random_punctuation_never_escapes_as_anything_but_a_400() -> None:
    """Seeded fuzz over words, operators and symbols: parse and match either work or say 400."""
    import random
    rng = random.Random(8)
    alphabet = list("aàbz19 &|!-+*~?\"'’.,;:/\\()[]{}<>^%$#@=_¬\u00ad\u0301\u200b\x00") + ["OR", "AND", "NOT", "&&", "||"]
    page = matcher("La questione di Firenze e gli studi della Commissione d'inchiesta sul Comune di Firenze")
    for _ in range(2000):
        q = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 40)))
        try:
            tree = parse(q)
        except BadRequest:
            continue
        if tree is not None:
            page.matches(tree)
            page.all_spans(tree)
