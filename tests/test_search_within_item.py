"""Within-item search's shortcuts give the answers of the plain way: hits found in the stored token
line as bytes, hits built from the token line decoded at once, totals counted page by page, only the
words of the hits shown decoded."""
from __future__ import annotations

import random
from itertools import compress
from pathlib import Path

import pytest

from server.ocr.model import PageText, Word
from server.search import IndexedItem, IndexedPage, SearchIndexWriter, SearchService
from server.search.analysis import stem
from server.search.match import find_tokens, hit_ranges, levenshtein
from server.search.query import AllOf, AnyOf, Fuzzy, Node, Phrase, Prefix, Term, parse, positive_leaves
from server.search.service import build_hit
from server.search.store import PACK, StoredPage, decode_page, encode_page
from tests.search_engines import search_engine, solr_url  # noqa: F401

WORDS = ["di", "dico", "della", "dell'assemblea", "Nord-Amerika", "città", "Città", "perché", "commissione",
         "commissioni", "comune", "comuni", "Ærø", "ſtraße", "l'", "a", "di", "di", "la", "Straße"]


def words_of(rng: random.Random, count: int) -> list[tuple[str, int, tuple[tuple[int, int, int, int], ...]]]:
    """``count`` words on lines of about six; one in seven is hyphenated over two lines (two boxes)."""
    out = []
    line = 0
    for i in range(count):
        if i and rng.random() < 0.17:
            line += 1
        text = rng.choice(WORDS)
        x, y = 100 * (i % 6), 40 * line
        if rng.random() < 0.14:
            out.append((text, line, ((x, y, 80, 30), (0, y + 40, 60, 30))))
            line += 1
        elif rng.random() < 0.03:
            out.append((text, line, ()))  # no usable coordinates
        else:
            out.append((text, line, ((x, y, 90, 30),)))
    return out


def stored(rng: random.Random, count: int, language: str | None = "it") -> StoredPage:
    body, _, _, _ = encode_page(1, language, "p. 1", 1000, 2000, words_of(rng, count))
    return decode_page(1, body)


QUERIES = ["di", "commissione", "comuni", "citta", "perche", "dell", "assemblea", '"dell assemblea"', "amerika",
           '"nord amerika"', '"di di"', '"di della"', '"di di di"', "comm*", "di*", "stras*", "aerø*", "commissione~1",
           "di OR la", "di la", "di -la", '"di della" di', '"di di" "di la"', "ærø", "strasse"]


def reference_starts(page: StoredPage, leaf: Node) -> list[int]:
    """Where a leaf matches, comparing the split words one by one."""
    toks, lang = page.tokens, page.language

    def positions(text: str) -> list[int]:
        words, target = (page.stems, stem(text, lang)) if lang else (toks, text)
        return [i for i, w in enumerate(words) if w == target]

    if isinstance(leaf, Term):
        return positions(leaf.text)
    if isinstance(leaf, Phrase):
        rest = [set(positions(t)) for t in leaf.tokens[1:]]
        return [i for i in positions(leaf.tokens[0]) if all(i + j in rest[j - 1] for j in range(1, len(leaf.tokens)))]
    if isinstance(leaf, Prefix):
        return [i for i, t in enumerate(toks) if t.startswith(leaf.prefix)]
    assert isinstance(leaf, Fuzzy)
    return [i for i, t in enumerate(toks) if t[:1] == leaf.text[:1] and levenshtein(t, leaf.text, leaf.distance) <= leaf.distance]


def reference_matches(page: StoredPage, node: Node) -> bool:
    if isinstance(node, AllOf):
        return (all(reference_matches(page, c) for c in node.must)
                and not any(reference_matches(page, c) for c in node.must_not))
    if isinstance(node, AnyOf):
        return any(reference_matches(page, c) for c in node.clauses)
    return bool(reference_starts(page, node))


def reference_hits(page: StoredPage, q: str) -> list[tuple[int, int, int]]:
    """The word-by-word way (split words, hex digits read per span) that the shortcuts replace."""
    tree = parse(q)
    assert tree is not None
    if not reference_matches(page, tree):
        return []
    spans = sorted({(i, i + (len(leaf.tokens) if isinstance(leaf, Phrase) else 1))
                    for leaf in positive_leaves(tree) for i in reference_starts(page, leaf)})
    merged: list[tuple[int, int]] = []
    for span in spans:
        if merged and span[0] < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(span[1], merged[-1][1]))
        else:
            merged.append(span)
    packed = page.packed
    out: list[list[int]] = []
    for start, end in merged:
        a, b = PACK * start, PACK * (end - 1)
        first, lo = int(packed[a:a + 4], 16), int(packed[a + 4:a + 8], 16)
        last, hi = int(packed[b:b + 4], 16), int(packed[b + 8:b + 12], 16)
        if out and first <= out[-1][1]:
            prev = out[-1]
            prev[1], prev[2], prev[3] = max(prev[1], last), min(prev[2], lo), max(prev[3], hi)
            continue
        out.append([first, last, lo, hi])
    return [(f, last, hi - lo + 1) for f, last, lo, hi in out]


def test_find_tokens_equals_comparing_the_split_words() -> None:
    lines = [b"", b"di", b"di di di", b"dico di", b"di dico", b"la di la di", b"citta cittadino di",
             "città ærø ærøskøbing straße".encode(), b"a b a", b"dia di"]
    for line in lines:
        words = line.split()
        for token in [b"di", b"dic", b"a", b"citta", "ærø".encode(), "straß".encode(), b"x"]:
            whole = list(compress(range(len(words)), map(token.__eq__, words)))
            assert find_tokens(line, b" " + token + b" ") == whole, (line, token)
            starts = list(compress(range(len(words)), (w.startswith(token) for w in words)))
            assert find_tokens(line, b" " + token) == starts, (line, token)


@pytest.mark.parametrize("language", ["it", None])
def test_hits_equal_the_word_by_word_way(language: str | None) -> None:
    """Hyphenated words (two lines, one hit of two annotations), elisions and compounds (one word,
    several tokens), phrases across lines and within one word, prefixes, fuzzy, OR, exclusions."""
    rng = random.Random(7)
    pages = [stored(rng, count, language) for count in (0, 1, 2, 5, 40, 300, 300)]
    seen = 0
    for page in pages:
        for q in QUERIES:
            tree = parse(q)
            assert tree is not None
            expected = reference_hits(page, q)
            assert hit_ranges(page, tree, verify=True) == expected, q
            seen += len(expected)
    assert seen > 1000


def test_texts_of_is_a_slice_of_the_texts() -> None:
    rng = random.Random(3)
    for page in (stored(rng, 0), stored(rng, 1), stored(rng, 50)):
        n = len(page.texts)
        for start in range(n + 3):
            for stop in range(start, n + 9, 3):
                assert page.texts_of(start, stop) == page.texts[start:stop]


def indexed(n: int, words: list[tuple[str, int, tuple[tuple[int, int, int, int], ...]]]) -> IndexedPage:
    ws = [Word(t, *(b[0] if b else (0, 0, 0, 0)), line, 0, b) for t, line, b in words]
    return IndexedPage(n, f"p. {n}", 1000, 2000, PageText(ws, 1000, 2000, "it", "alto"))


@pytest.mark.usefixtures("search_engine")
def test_paging_and_totals_equal_slicing_the_whole_hit_list(tmp_path: Path) -> None:
    """Hits counted page by page give every page of results, its totals and its start counts as the
    flat list of every hit did, with page sizes that cut pages of the book anywhere."""
    rng = random.Random(11)
    gen = tmp_path / "gen"
    gen.mkdir()
    book = IndexedItem("book", {"it": ["book"]}, ["top"], "book", "1900", 1900, ["it"])
    with SearchIndexWriter(gen, None) as writer:
        writer.add_item(book, [indexed(n, words_of(rng, rng.choice((0, 3, 60, 200)))) for n in range(1, 41)])
    service = SearchService(gen)
    try:
        for q in ["di", '"di di"', "comm*", "assemblea", "di -la", "commissione~1", "nessuna"]:
            flat = service.item_hits("book", q)
            assert flat == [(n, a, b, lines) for n, hits, _ in service.hits_by_page("book", q).pages
                            for a, b, lines in hits]
            for size in (1, 7, 200):
                for number in range(1, len(flat) // size + 3):
                    service._hits = type(service._hits)(32)  # computed anew for some pages, cached for others
                    if number % 2:
                        service.search_item("book", q, 1, size)
                    result = service.search_item("book", q, number, size)
                    start = (number - 1) * size
                    chosen = flat[start:start + size]
                    assert result.total_hits == len(flat)
                    assert result.total_annotations == sum(h[3] for h in flat)
                    assert result.start_hit == min(start, len(flat))
                    assert result.start_annotation == sum(h[3] for h in flat[:start])
                    pages = {n: service.page("book", n) for n, *_ in chosen}
                    assert result.hits == [build_hit("book", pages[n], a, b) for n, a, b, _ in chosen]  # type: ignore[arg-type]
                    assert all(len(h.parts) == lines for h, (_, _, _, lines) in zip(result.hits, chosen))
                    if number > 3:
                        break
    finally:
        service.close()


def test_a_hit_shows_its_words_and_context_as_printed() -> None:
    words = [(t, i // 4, ((100 * i, 0, 90, 30),)) for i, t in enumerate(["Uno", "due", "tre", "Città", "quattro", "cinque", "sei", "sette", "otto", "nove"])]
    body, _, _, _ = encode_page(1, "it", "p. 1", 1000, 2000, words)
    page = decode_page(1, body)
    hit = build_hit("x", page, 3, 3)
    assert (hit.before, hit.match, hit.after) == ("Uno due tre ", "Città", " quattro cinque sei sette otto nove")
    hit = build_hit("x", page, 8, 9, context=2)
    assert (hit.before, hit.match, hit.after) == ("sei sette ", "otto nove", "")
    hit = build_hit("x", page, 0, 0, context=0)
    assert (hit.before, hit.match, hit.after) == ("", "Uno", "")
