"""Sorted term lists with counts: what prefix and fuzzy queries expand over, and autocomplete reads.

The index holds stems only; a person types words. So the folded words themselves live here: one
vocabulary per item (``words/{item}/vocab.tsv``, with the form to display) and one lexicon for the
whole publication (``index/lexicon.tsv``, the sum of the items' vocabularies), both sorted so
that a prefix is a binary search.
"""
from __future__ import annotations

import bisect
from collections import Counter
from pathlib import Path

from server.search.match import levenshtein

EXPANSIONS = 64
"""Expansions of one prefix or fuzzy term kept for searching (the most frequent)."""
MAX_SCAN = 20_000


class Vocabulary:
    """Folded terms in sorted order, each with a display form and a count."""

    def __init__(self, keys: list[str], displays: list[str] | None, counts: list[int]) -> None:
        self.keys = keys
        self.displays = displays
        self.counts = counts

    @classmethod
    def parse(cls, text: str) -> Vocabulary:
        """``folded\\tcount`` or ``folded\\tdisplay\\tcount`` lines, sorted by ``folded``."""
        keys: list[str] = []
        displays: list[str] = []
        counts: list[int] = []
        for line in text.splitlines():
            parts = line.split("\t")
            keys.append(parts[0])
            counts.append(int(parts[-1]))
            displays.append(parts[1] if len(parts) == 3 else parts[0])
        return cls(keys, displays, counts)

    @classmethod
    def load(cls, path: Path) -> Vocabulary:
        try:
            return cls.parse(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return cls([], [], [])

    def __len__(self) -> int:
        return len(self.keys)

    def with_prefix(self, prefix: str, scan: int = MAX_SCAN) -> list[tuple[str, str, int]]:
        """``(folded, display, count)`` of terms starting with ``prefix`` (at most ``scan`` of them)."""
        i = bisect.bisect_left(self.keys, prefix)
        out: list[tuple[str, str, int]] = []
        while i < len(self.keys) and len(out) < scan and self.keys[i].startswith(prefix):
            out.append((self.keys[i], self.displays[i] if self.displays else self.keys[i], self.counts[i]))
            i += 1
        return out

    def prefix_terms(self, prefix: str, limit: int = EXPANSIONS) -> list[str]:
        """The terms starting with ``prefix``: all of them if there are at most ``limit``, else the
        ``limit`` most frequent (:meth:`complete` tells which)."""
        rows = self.with_prefix(prefix)
        rows.sort(key=lambda r: (-r[2], r[0]))
        return [r[0] for r in rows[:limit]]

    def fuzzy_terms(self, text: str, distance: int, limit: int = EXPANSIONS) -> list[str]:
        """The terms within ``distance`` edits of ``text`` with the same first letter, at most
        ``limit`` (the most frequent)."""
        rows = []
        for folded, _, count in self.with_prefix(text[:1]):
            if abs(len(folded) - len(text)) <= distance and levenshtein(folded, text, distance) <= distance:
                rows.append((count, folded))
        rows.sort(key=lambda r: (-r[0], r[1]))
        return [r[1] for r in rows[:limit]]

    def count_prefix(self, prefix: str) -> int:
        """How many terms start with ``prefix``."""
        return bisect.bisect_left(self.keys, prefix + "\U0010ffff") - bisect.bisect_left(self.keys, prefix)


def dump(counts: Counter[str]) -> str:
    """The lexicon file text of ``counts`` (zero and negative counts dropped)."""
    lines = [f"{term}\t{count}" for term, count in sorted(counts.items()) if count > 0]
    return "\n".join(lines) + ("\n" if lines else "")


def counts_of(vocab: Vocabulary) -> Counter[str]:
    return Counter(dict(zip(vocab.keys, vocab.counts)))
