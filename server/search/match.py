"""Where a query matches on one page: token spans from the stored tokens, no index needed.

The index proposes pages; this decides, with the same tree and the same analysis, whether a page
matches (:meth:`PageMatcher.matches`) and where (:func:`hit_ranges`). Every positive leaf
contributes its occurrences; spans that overlap, or fall in one word, are one hit.

This runs for every candidate page of a within-item search (a common word in a 250-page book is
thousands of hits), so it is written for speed: a term, phrase word or prefix is found in the
page's stored token line as bytes (``b" word "`` in ``b" " + line + b" "``, its token number the
spaces before it), so a page is neither decoded nor split into words unless a fuzzy leaf needs
them; a hit's words and lines come from the token line decoded to numbers in one step (C level),
and a query of one word or prefix builds its hits without a Python step per token.
"""
from __future__ import annotations

from functools import lru_cache
from itertools import compress, repeat

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


@lru_cache(maxsize=4096)
def _needle(text: str, whole: bool) -> bytes:
    """What to look for in ``b" " + token line + b" "``: a whole token, or a token's start."""
    return b" " + text.encode("utf-8") + (b" " if whole else b"")


def find_tokens(line: bytes, needle: bytes) -> list[int]:
    """Token numbers, in order, where ``needle`` (from :func:`_needle`) occurs in a token line
    (folded tokens or stems, separated by single spaces: tokens hold no white space).

    UTF-8 is self-synchronizing and the needle starts with a space, so a byte match is a match of
    whole characters at a token's start: the same answer as comparing the split words.
    """
    hay = b" " + line + b" "
    at = hay.find(needle)
    if at < 0:
        return []
    out = []
    k, pos = -1, 0  # k + 1 spaces in hay[:pos]
    while at >= 0:
        k += hay.count(b" ", pos, at + 1)
        pos = at + 1
        out.append(k)
        at = hay.find(needle, pos)
    return out


class PageMatcher:
    """Matches a query tree against one page's stored tokens and stems."""

    def __init__(self, tokens: list[str], stems: list[str], language: str | None) -> None:
        self._tokens: list[str] | None = tokens
        self._stems: list[str] | None = stems
        self._page: StoredPage | None = None
        self.language = language
        self._spans: dict[Node, list[Span]] = {}
        self._starts: dict[Node, list[int]] = {}
        self._found: dict[tuple[str, bool], list[int]] = {}

    @classmethod
    def of(cls, page: StoredPage) -> PageMatcher:
        """A matcher over a stored page: terms, phrases and prefixes are found in its token lines
        as bytes; the tokens are split only if a fuzzy leaf needs them."""
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
        target = stem(text, self.language) if self.language else text
        page = self._page
        if page is not None and target:
            key = (target, True)
            found = self._found.get(key)
            if found is None:
                line = page.raw_stems if self.language else page.raw_tokens
                found = self._found[key] = find_tokens(line, _needle(target, True))
            return found
        words = self.stems if self.language else self.tokens
        if target not in words:  # one C-level scan: most candidate pages of a rare word's item do not have it
            return []
        return list(compress(range(len(words)), map(target.__eq__, words)))

    def _prefixed(self, prefix: str) -> list[int]:
        """Token positions of folded tokens starting with ``prefix``."""
        page = self._page
        if page is not None and prefix:
            return find_tokens(page.raw_tokens, _needle(prefix, False))
        toks = self.tokens
        return list(compress(range(len(toks)), map(str.startswith, toks, repeat(prefix))))

    def spans(self, leaf: Node) -> list[Span]:
        """A leaf's spans in token order (cached per page)."""
        found = self._spans.get(leaf)
        if found is None:
            width = len(leaf.tokens) if isinstance(leaf, Phrase) else 1
            found = self._spans[leaf] = [(i, i + width) for i in self.starts(leaf)]
        return found

    def starts(self, leaf: Node) -> list[int]:
        """Where a leaf's spans start, in token order (a span is one token, or a phrase's tokens;
        cached per page)."""
        found = self._starts.get(leaf)
        if found is None:
            found = self._starts[leaf] = self._leaf_starts(leaf)
        return found

    def _leaf_starts(self, leaf: Node) -> list[int]:
        if isinstance(leaf, Term):
            return self._positions(leaf.text)
        if isinstance(leaf, Phrase):
            first = self._positions(leaf.tokens[0])
            for j, t in enumerate(leaf.tokens[1:], 1):
                if not first:
                    break
                following = {i - j for i in self._positions(t)}
                first = list(filter(following.__contains__, first))
            return first
        if isinstance(leaf, Prefix):
            return self._prefixed(leaf.prefix)
        if isinstance(leaf, Fuzzy):
            toks = self.tokens
            text, d = leaf.text, leaf.distance
            head = text[:1]
            return [i for i, t in enumerate(toks)
                    if t[:1] == head and abs(len(t) - len(text)) <= d and levenshtein(t, text, d) <= d]
        raise TypeError(leaf)

    def matches(self, node: Node) -> bool:
        """Whether the page satisfies the query (the semantics the index approximates)."""
        if isinstance(node, AllOf):
            return all(self.matches(c) for c in node.must) and not any(self.matches(c) for c in node.must_not)
        if isinstance(node, AnyOf):
            return any(self.matches(c) for c in node.clauses)
        return bool(self.starts(node))

    def all_spans(self, tree: Node) -> list[Span]:
        """Every positive leaf's spans, in order; overlapping spans merged into one."""
        leaves = _leaves(tree)
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


@lru_cache(maxsize=256)
def _leaves(tree: Node) -> tuple[Node, ...]:
    """The tree's positive leaves, each once, in order (every page of a search asks)."""
    return tuple(dict.fromkeys(positive_leaves(tree)))


def hit_ranges(page: StoredPage, tree: Node, verify: bool = False) -> list[tuple[int, int, int]]:
    """Hits on a page as ``(first word, last word, number of physical lines)``, in reading order.

    The line count is the number of annotations the hit becomes, known without reading boxes.
    Spans within one word (both halves of an elision) are one hit. ``verify``: no hits at all
    unless the page satisfies the whole query (an excluded word present, a clause missing).
    """
    matcher = PageMatcher.of(page)
    if verify and not matcher.matches(tree):
        return []
    leaves = _leaves(tree)
    if len(leaves) == 1 and not isinstance(leaves[0], Phrase):
        found = matcher.starts(leaves[0])
        if not found:
            return []
        owner, first_line, last_line = page.owners, page.first_lines, page.last_lines
        # one-token spans in order: the tokens of a word are adjacent, so a hit is a word (here its
        # last token found; every token of a word has the word's lines)
        by_word = dict(zip(map(owner.__getitem__, found), found))
        return [(w, w, last_line[t] - first_line[t] + 1) for w, t in by_word.items()]
    spans = matcher.all_spans(tree)
    if not spans:
        return []
    owner, first_line, last_line = page.owners, page.first_lines, page.last_lines
    out: list[list[int]] = []  # first word, last word, first line, last line
    for start, end in spans:
        first, lo = owner[start], first_line[start]
        last, hi = owner[end - 1], last_line[end - 1]
        if out and first <= out[-1][1]:
            prev = out[-1]
            prev[1], prev[2], prev[3] = max(prev[1], last), min(prev[2], lo), max(prev[3], hi)
            continue
        out.append([first, last, lo, hi])
    return [(f, l, hi - lo + 1) for f, l, lo, hi in out]
