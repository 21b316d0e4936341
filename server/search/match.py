"""Where a query matches on one page: token spans from the stored tokens, no index needed.

The index decides *which* pages match; this decides *where*, with the same tree and the same
analysis, so the two agree. Every positive leaf contributes its occurrences; spans that cover the
same words are reported once.
"""
from __future__ import annotations

from functools import lru_cache

from server.search.analysis import stem
from server.search.query import AllOf, AnyOf, Fuzzy, Node, Phrase, Prefix, Term, positive_leaves
from server.search.store import StoredPage

Span = tuple[int, int]
"""Token range ``[start, end)`` on a page."""


@lru_cache(maxsize=100_000)
def levenshtein(a: str, b: str, limit: int) -> int:
    """Edit distance, giving up (returning ``limit + 1``) once it must exceed ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        if min(cur) > limit:
            return limit + 1
        prev = cur
    return prev[-1]


class PageMatcher:
    """Matches leaves against one page's stored tokens and stems."""

    def __init__(self, tokens: list[str], stems: list[str], language: str | None) -> None:
        self.tokens = tokens
        self.stems = stems
        self.language = language

    def _term_positions(self, text: str) -> set[int]:
        found = {i for i, t in enumerate(self.tokens) if t == text}
        if self.language:
            target = stem(text, self.language)
            found.update(i for i, s in enumerate(self.stems) if s == target)
        return found

    def spans(self, leaf: Node) -> list[Span]:
        toks = self.tokens
        if isinstance(leaf, Term):
            return [(i, i + 1) for i in self._term_positions(leaf.text)]
        if isinstance(leaf, Phrase):
            k = len(leaf.tokens)
            sets = [self._term_positions(t) for t in leaf.tokens]
            return [(i, i + k) for i in sets[0] if all(i + j in sets[j] for j in range(1, k))]
        if isinstance(leaf, Prefix):
            p = leaf.prefix
            return [(i, i + 1) for i, t in enumerate(toks) if t.startswith(p)]
        if isinstance(leaf, Fuzzy):
            text, d = leaf.text, leaf.distance
            first = text[:1]
            return [(i, i + 1) for i, t in enumerate(toks)
                    if t[:1] == first and levenshtein(t, text, d) <= d]
        if isinstance(leaf, (AllOf, AnyOf)):
            return self.all_spans(leaf)
        raise TypeError(leaf)

    def all_spans(self, tree: Node) -> list[Span]:
        """Every positive leaf's spans, sorted; overlapping spans merged into one."""
        found: set[Span] = set()
        for leaf in positive_leaves(tree):
            found.update(self.spans(leaf))
        out: list[Span] = []
        for span in sorted(found, key=lambda s: (s[0], -s[1])):
            if out and span[0] < out[-1][1]:
                if span[1] > out[-1][1]:
                    out[-1] = (out[-1][0], span[1])
                continue
            out.append(span)
        return out


def hit_ranges(page: StoredPage, tree: Node) -> list[tuple[int, int, int]]:
    """Hits on a page as ``(first word, last word, number of physical lines)``, in reading order.

    The line count is the number of annotations the hit becomes, known without reading boxes.
    Two spans within one word (both halves of an elision) are one hit.
    """
    spans = PageMatcher(page.tokens, page.stems, page.language).all_spans(tree)
    ranges: list[tuple[int, int]] = []
    lines: list[tuple[int, int]] = []
    for start, end in spans:
        first, last = page.word_of(start), page.word_of(end - 1)
        lo, hi = page.lines_of(start)[0], page.lines_of(end - 1)[1]
        if ranges and first <= ranges[-1][1]:
            ranges[-1] = (ranges[-1][0], max(ranges[-1][1], last))
            lines[-1] = (min(lines[-1][0], lo), max(lines[-1][1], hi))
            continue
        ranges.append((first, last))
        lines.append((lo, hi))
    return [(a, b, hi - lo + 1) for (a, b), (lo, hi) in zip(ranges, lines)]
