"""Where a query matches on one page: token spans from the stored tokens, no index needed.

The index proposes pages; this decides, with the same tree and the same analysis, whether a page
matches (:meth:`PageMatcher.matches`) and where (:func:`hit_ranges`). Every positive leaf
contributes its occurrences; spans that overlap, or fall in one word, are one hit.

This runs for every candidate page of a within-item search (a common word in a 250-page book is
thousands of hits), so it is written for speed: plain list scans, one pass per leaf, cached.
"""
from __future__ import annotations

from functools import lru_cache
from itertools import compress, repeat

from server.search.analysis import stem
from server.search.query import AllOf, AnyOf, Fuzzy, Node, Phrase, Prefix, Term, positive_leaves
from server.search.store import PACK, StoredPage

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
    """Matches a query tree against one page's stored tokens and stems."""

    def __init__(self, tokens: list[str], stems: list[str], language: str | None) -> None:
        self._tokens: list[str] | None = tokens
        self._stems: list[str] | None = stems
        self._page: StoredPage | None = None
        self.language = language
        self._spans: dict[Node, list[Span]] = {}

    @classmethod
    def of(cls, page: StoredPage) -> PageMatcher:
        """A matcher over a stored page that splits its tokens or stems only when a leaf needs them."""
        matcher = cls([], [], page.language)
        matcher._tokens = matcher._stems = None
        matcher._page = page
        return matcher

    @property
    def tokens(self) -> list[str]:
        if self._tokens is None:
            self._tokens = self._page.tokens  # type: ignore[union-attr]
        return self._tokens

    @property
    def stems(self) -> list[str]:
        if self._stems is None:
            self._stems = self._page.stems  # type: ignore[union-attr]
        return self._stems

    def _positions(self, text: str) -> list[int]:
        """Token positions matching a term: same stem (pages with a stemmer), same folded form (others).

        Equal folded forms have equal stems, so the stem test alone covers both.
        """
        words, target = (self.stems, stem(text, self.language)) if self.language else (self.tokens, text)
        if target not in words:  # one C-level scan: most candidate pages of a rare word's item do not have it
            return []
        return list(compress(range(len(words)), map(target.__eq__, words)))

    def spans(self, leaf: Node) -> list[Span]:
        """A leaf's spans in token order (cached per page)."""
        found = self._spans.get(leaf)
        if found is None:
            found = self._spans[leaf] = self._leaf_spans(leaf)
        return found

    def _leaf_spans(self, leaf: Node) -> list[Span]:
        toks = self.tokens
        if isinstance(leaf, Term):
            return [(i, i + 1) for i in self._positions(leaf.text)]
        if isinstance(leaf, Phrase):
            k = len(leaf.tokens)
            first = self._positions(leaf.tokens[0])
            if not first:
                return []
            rest = [set(self._positions(t)) for t in leaf.tokens[1:]]
            return [(i, i + k) for i in first if all(i + j in rest[j - 1] for j in range(1, k))]
        if isinstance(leaf, Prefix):
            p = leaf.prefix
            return [(i, i + 1) for i in compress(range(len(toks)), map(str.startswith, toks, repeat(p)))]
        if isinstance(leaf, Fuzzy):
            text, d = leaf.text, leaf.distance
            head = text[:1]
            return [(i, i + 1) for i, t in enumerate(toks)
                    if t[:1] == head and abs(len(t) - len(text)) <= d and levenshtein(t, text, d) <= d]
        raise TypeError(leaf)

    def matches(self, node: Node) -> bool:
        """Whether the page satisfies the query (the semantics the index approximates)."""
        if isinstance(node, AllOf):
            return all(self.matches(c) for c in node.must) and not any(self.matches(c) for c in node.must_not)
        if isinstance(node, AnyOf):
            return any(self.matches(c) for c in node.clauses)
        return bool(self.spans(node))

    def all_spans(self, tree: Node) -> list[Span]:
        """Every positive leaf's spans, in order; overlapping spans merged into one."""
        leaves = list(dict.fromkeys(positive_leaves(tree)))
        if len(leaves) == 1 and not isinstance(leaves[0], Phrase):
            return self.spans(leaves[0])  # one-token spans, already ordered and disjoint
        out: list[Span] = []
        for span in sorted({s for leaf in leaves for s in self.spans(leaf)}):
            if out and span[0] < out[-1][1]:
                if span[1] > out[-1][1]:
                    out[-1] = (out[-1][0], span[1])
                continue
            out.append(span)
        return out


def hit_ranges(page: StoredPage, tree: Node, verify: bool = False) -> list[tuple[int, int, int]]:
    """Hits on a page as ``(first word, last word, number of physical lines)``, in reading order.

    The line count is the number of annotations the hit becomes, known without reading boxes.
    Spans within one word (both halves of an elision) are one hit. ``verify``: no hits at all
    unless the page satisfies the whole query (an excluded word present, a clause missing).
    """
    matcher = PageMatcher.of(page)
    if verify and not matcher.matches(tree):
        return []
    packed = page.packed
    out: list[list[int]] = []  # first word, last word, first line, last line
    for start, end in matcher.all_spans(tree):
        a = PACK * start
        b = PACK * (end - 1)
        first, lo = int(packed[a:a + 4], 16), int(packed[a + 4:a + 8], 16)
        last, hi = int(packed[b:b + 4], 16), int(packed[b + 8:b + 12], 16)
        if out and first <= out[-1][1]:
            prev = out[-1]
            prev[1], prev[2], prev[3] = max(prev[1], last), min(prev[2], lo), max(prev[3], hi)
            continue
        out.append([first, last, lo, hi])
    return [(f, l, hi - lo + 1) for f, l, lo, hi in out]
