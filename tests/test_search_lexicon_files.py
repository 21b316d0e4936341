"""The lexicon as a base and delta segments (``server/search/lexicon_files.py``).

Whatever the sequence of changes, a generation's lexicon says what one built from nothing says;
a change writes what changed (a delta), links the rest, and merges deltas and base as promised.
"""
from __future__ import annotations

import os
import random
from collections import Counter
from pathlib import Path

import pytest

from server.search import lexicon_files
from server.search.lexicon import Vocabulary
from server.search.lexicon_files import BASE, load_lexicon, segments, write_lexicon

WORDS = [f"parola{n}" for n in range(4000)] + ["città", "perché", "ſtraſse", "naïve"]


def as_counts(index_dir: Path) -> dict[str, int]:
    """Every word of the lexicon with its count, as its queries see them."""
    vocab = load_lexicon(index_dir)
    rows = vocab.with_prefix("", scan=10**9)
    assert [r[0] for r in rows] == sorted(r[0] for r in rows) and all(r[2] > 0 for r in rows)
    assert len(vocab) == len(rows) == vocab.count_prefix("")
    return {word: count for word, _, count in rows}


def test_a_first_lexicon_is_a_base_and_no_change_links_it(tmp_path: Path) -> None:
    g1, g2 = tmp_path / "g1", tmp_path / "g2"
    g1.mkdir()
    g2.mkdir()
    write_lexicon(g1, None, Counter({"roma": 3, "torino": 1, "zero": 0}))
    assert os.listdir(g1) == [BASE] and as_counts(g1) == {"roma": 3, "torino": 1}
    write_lexicon(g2, g1, Counter({"roma": 0}))  # nothing changed
    assert os.listdir(g2) == [BASE] and (g2 / BASE).stat().st_ino == (g1 / BASE).stat().st_ino


def test_a_generation_without_deltas_is_the_earlier_format(tmp_path: Path) -> None:
    """A lexicon an earlier version wrote (one sorted ``word\\tcount`` file) is read, and the next
    change adds a delta beside it."""
    g1, g2 = tmp_path / "g1", tmp_path / "g2"
    g1.mkdir()
    g2.mkdir()
    (g1 / BASE).write_text("".join(f"{w}\t{n + 1}\n" for w, n in sorted((w, n) for n, w in enumerate(WORDS))),
                           encoding="utf-8")
    write_lexicon(g2, g1, Counter({"roma": 2, "parola7": -8}))
    base, deltas = segments(g2)
    assert base is not None and base.stat().st_ino == (g1 / BASE).stat().st_ino and len(deltas) == 1
    want = {w: n + 1 for n, w in enumerate(WORDS)} | {"roma": 2}
    del want["parola7"]  # its count was 8: gone
    assert as_counts(g2) == want


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_any_sequence_of_changes_gives_the_lexicon_built_from_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed: int) -> None:
    """Random item changes over 120 generations of a 200-item archive (words added, counts lowered, items removed), with
    small size classes so that deltas merge and bases are rewritten many times: every generation's
    lexicon is the sum of its items' words, files are shared by links, deltas stay few, and most
    changes write only a small delta."""
    monkeypatch.setattr(lexicon_files, "UNIT", 64)
    monkeypatch.setattr(lexicon_files, "FANIN", 3)
    rng = random.Random(seed)
    items: dict[str, Counter[str]] = {f"i{n}": Counter(rng.choices(WORDS, k=300)) for n in range(200)}
    previous: Path | None = None
    total: Counter[str] = Counter()
    for item in items.values():
        total.update(item)
    base_rewrites = merges = 0
    deltas_before = 0
    for gen in range(120):
        here = tmp_path / f"g{gen}"
        here.mkdir()
        change: Counter[str] = Counter()
        if gen == 0:
            change.update(total)
        else:
            for k in range(rng.choice((0, 1, 1, 2))):  # 0, 1 or 2 items change
                item_id = rng.choice(sorted(items))
                old = items.pop(item_id)
                change.subtract(old)
                if rng.random() < 0.8:  # changed (else withdrawn; a new item takes its place)
                    new = Counter(rng.choices(WORDS, k=rng.randint(1, 80)))
                    items[item_id if rng.random() < 0.5 else f"new{gen}-{k}"] = new
                    change.update(new)
        write_lexicon(here, previous, change)
        want = Counter()
        for item in items.values():
            want.update(item)
        assert as_counts(here) == {w: c for w, c in want.items() if c > 0}, gen
        base, deltas = segments(here)
        assert base is not None and len(deltas) <= 3 * lexicon_files.FANIN
        if previous is not None:
            before = {p.name: p.stat().st_ino for p in previous.iterdir()}
            new_files = [p for p in here.iterdir() if before.get(p.name) != p.stat().st_ino]
            if any(p.name == BASE for p in new_files):
                base_rewrites += 1
                assert deltas == []  # folded into it
            else:
                assert (here / BASE).stat().st_ino == (previous / BASE).stat().st_ino
                assert len(new_files) <= 1  # this change's delta, or the merge that took it in
                merges += len(deltas) < deltas_before + 1 and bool(+change or -change)
            if not +change and not -change:
                assert new_files == []  # nothing changed: every file linked
        deltas_before = len(deltas)
        previous = here
    assert merges > 0 and 0 < base_rewrites < 40


def test_the_served_generations_files_are_never_changed(tmp_path: Path) -> None:
    """A delta or base is written in the new generation's folder only: the previous one's files
    keep their contents (they are shared by links, so writing into one would change both)."""
    g1, g2, g3 = tmp_path / "g1", tmp_path / "g2", tmp_path / "g3"
    for g in (g1, g2, g3):
        g.mkdir()
    write_lexicon(g1, None, Counter({w: 5 for w in WORDS}))
    write_lexicon(g2, g1, Counter({"roma": 1}))
    snapshot = {p.name: p.read_bytes() for p in g2.iterdir()}
    write_lexicon(g3, g2, Counter({"roma": 1, "parola1": -5}))
    assert {p.name: p.read_bytes() for p in g2.iterdir()} == snapshot
    assert as_counts(g3)["roma"] == 2 and "parola1" not in as_counts(g3)


@pytest.mark.parametrize("seed", [4, 5])
def test_a_base_with_deltas_answers_every_query_as_the_summed_lexicon(tmp_path: Path, seed: int) -> None:
    """Prefixes (cut at a scan limit or not), their counts, the most frequent expansions and fuzzy
    terms are those of one vocabulary of the summed counts: words added, removed, brought to zero."""
    rng = random.Random(seed)
    g1, g2 = tmp_path / "g1", tmp_path / "g2"
    g1.mkdir()
    g2.mkdir()
    words = sorted({"".join(rng.choice("abcdè") for _ in range(rng.randint(1, 6))) for _ in range(3000)})
    truth = Counter({w: rng.randint(1, 9) for w in words})
    write_lexicon(g1, None, truth)
    change: Counter[str] = Counter()
    for w in rng.sample(words, 300):
        change[w] -= truth[w] if rng.random() < 0.5 else rng.randint(1, truth[w])  # gone, or fewer
    for _ in range(200):
        change["".join(rng.choice("abcdeè") for _ in range(rng.randint(1, 7)))] += rng.randint(1, 5)
    write_lexicon(g2, g1, change)
    assert segments(g2)[1], "the change should be a delta beside the base"
    truth.update(change)
    summed = Vocabulary(sorted(w for w, c in truth.items() if c > 0), None,
                        [truth[w] for w in sorted(w for w, c in truth.items() if c > 0)])
    layered = load_lexicon(g2)
    assert len(layered) == len(summed)
    for prefix in ["", "a", "b", "è", "ab", "eè", "dd", "ca", "zzz", *rng.sample(words, 40)]:
        for scan in (3, 50, 20_000):
            assert layered.with_prefix(prefix, scan) == [(w, w, c) for w, _, c in summed.with_prefix(prefix, scan)], \
                (prefix, scan)
        assert layered.count_prefix(prefix) == summed.count_prefix(prefix), prefix
        assert layered.prefix_terms(prefix, 5) == summed.prefix_terms(prefix, 5)
        if prefix:
            assert layered.fuzzy_terms(prefix + "a", 1) == summed.fuzzy_terms(prefix + "a", 1)
