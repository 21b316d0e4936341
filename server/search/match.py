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
    """Matches leaves against one page's tokens (stems computed once per page, on demand)."""

    def __init__(self, tokens: list[str], language: str | None) -> None:
        self.tokens = tokens
        self.language = language
        self._stems: list[str] | None = None

    @property
    def stems(self) -> list[str]:
        if self._stems is None:
            lang = self.language
            self._stems = [stem(t, lang) for t in self.tokens] if lang else self.tokens
        return self._stems

    def _term_positions(self, text: str) -> set[int]:
        toks = self.tokens
        found = {i for i, t in enumerate(toks) if t == text}
        if self.language:
            target = stem(text, self.language)
            found.update(i for i, s in enumerate(self.stems) if s == target)
        return found

    def spans(self, leaf: Node) -> list[Span]:
        toks = self.tokens
        if isinstance(leaf, Term):
            return [(i, i + 1) for i in sorted(self._term_positions(leaf.text))]
        if isinstance(leaf, Phrase):
            k = len(leaf.tokens)
            sets = [self._term_positions(t) for t in leaf.tokens]
            return [(i, i + k) for i in sorted(sets[0]) if all(i + j in sets[j] for j in range(1, k))]
        if isinstance(leaf, Prefix):
            p = leaf.prefix
            return [(i, i + 1) for i, t in enumerate(toks) if t.startswith(p)]
        if isinstance(leaf, Fuzzy):
            text, d = leaf.text, leaf.distance
            return [(i, i + 1) for i, t in enumerate(toks)
                    if t[:1] == text[:1] and levenshtein(t, text, d) <= d]
        if isinstance(leaf, (AllOf, AnyOf)):
            return self.all_spans(leaf)
        raise TypeError(leaf)

    def all_spans(self, tree: Node) -> list[Span]:
        """Every positive leaf's spans, sorted, without duplicates or spans inside longer ones."""
        found: set[Span] = set()
        for leaf in positive_leaves(tree):
            found.update(self.spans(leaf))
        ordered = sorted(found, key=lambda s: (s[0], -s[1]))
        out: list[Span] = []
        for span in ordered:
            if out and span[0] < out[-1][1]:  # overlaps the previous one: merge
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
    spans = PageMatcher(page.tokens, page.language).all_spans(tree)
    ranges: list[tuple[int, int]] = []
    lines: list[set[int]] = []
    for start, end in spans:
        first, last = page.token_word[start], page.token_word[end - 1]
        covered: set[int] = set()
        for i in range(start, end):
            a, b = page.token_lines[i]
            covered.update(range(a, b + 1))
        if ranges and first <= ranges[-1][1]:
            ranges[-1] = (ranges[-1][0], max(ranges[-1][1], last))
            lines[-1] |= covered
            continue
        ranges.append((first, last))
        lines.append(covered)
    return [(a, b, len(ls)) for (a, b), ls in zip(ranges, lines)]
