"""The word store's page encoding and its helpers: the fast, column-at-a-time path writes exactly
the bytes of the word-at-a-time one (and of the ``%`` formatting it replaced), so a generation's
files, hence search answers, do not depend on which path wrote them."""
from __future__ import annotations

import random
from itertools import chain
from pathlib import Path

import pytest

from server.search import analysis
from server.search.analysis import stem, stemmer
from server.search.store import (
    _encode_slow,
    _hex_column,
    _hex_columns,
    decode_page,
    encode_page,
    token_counts,
    write_file,
)

WORDS = ["la", "città", "dell'assemblea", "perché", "ﬁne", "--", "1878", "Straße", "e\u0301", "x_y", "", ".",
         "a\nb", "c\x1fd", "Ragione", "critica", "governo", "ſtato"]


def random_page(rng: random.Random, count: int) -> list[tuple[str, int, tuple[tuple[int, int, int, int], ...]]]:
    words = []
    line = 0
    for _ in range(count):
        n_boxes = rng.choice((0, 1, 2, 15)) if rng.random() < 0.2 else 1
        boxes = tuple((rng.randrange(0x100000), rng.randrange(5000), rng.randrange(300), rng.randrange(40))
                      for _ in range(n_boxes))
        words.append((rng.choice(WORDS), line, boxes))
        line += rng.random() < 0.15
    return words


@pytest.mark.parametrize("seed", range(40))
def test_fast_encoding_writes_the_bytes_of_the_word_at_a_time_one(seed: int) -> None:
    rng = random.Random(seed)
    words = random_page(rng, rng.choice((0, 1, 2, 7, 300)))
    language = rng.choice((None, "it", "en"))
    fast = encode_page(3, language, "p. 3", 2300, 3400, words)
    assert fast == _encode_slow(3, language, "p. 3", 2300, 3400, words)
    page = decode_page(3, fast[0])
    assert page.tokens == fast[1] and page.stems == fast[2]


def test_hex_columns_are_the_percent_formats_they_replace() -> None:
    rng = random.Random(7)
    for n in (0, 1, 2, 5, 333):
        a, b, c = ([rng.randrange(0x10000) for _ in range(n)] for _ in range(3))
        small = [rng.randrange(16) for _ in range(n)]
        wide = [rng.randrange(0x100000) for _ in range(n)] + [0, 0xFFFFF]
        assert _hex_columns(4, a, b, c) == ("%04x%04x%04x" * n) % tuple(chain.from_iterable(zip(a, b, c)))
        assert _hex_columns(4, a, b, small, last_digits=1) == ("%04x%04x%x" * n) % tuple(
            chain.from_iterable(zip(a, b, small)))
        assert _hex_columns(5, wide) == "%05x" * len(wide) % tuple(wide)
        assert _hex_column(4, a).decode() == "%04x" * n % tuple(a)


def test_stem_cache_gives_the_stems_and_starts_again_when_full(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(analysis, "STEM_CACHE", 10)
    cached = stemmer("it")
    assert cached("citta") == stem("citta", "it") and cached("governi") == stem("governi", "it")
    store = cached.__self__  # type: ignore[attr-defined]
    for k in range(25):
        assert cached(f"parole{k}") == stem(f"parole{k}", "it")
    assert len(store) <= 10
    assert cached("governi") == stem("governi", "it")


def test_write_file_and_token_counts(tmp_path: Path) -> None:
    path = tmp_path / "1.page"
    write_file(path, b"old contents, longer")
    write_file(str(path), b"new")
    assert path.read_bytes() == b"new"
    counts = token_counts({"Città": 2, "citta": 1, "dell'Arno": 3})  # type: ignore[arg-type]
    assert counts == {("citta", "città"): 2, ("citta", "citta"): 1, ("dell", "dell"): 3, ("arno", "arno"): 3}
