"""Everything that knows Whoosh: the schema, and query trees → Whoosh queries.

Documents are pages. Per page language ``L`` (a stemmer key, or ``none``) two fields:

- ``t_L``: the page's stems (folded tokens for ``none``), frequencies only;
- ``b_L``: "common grams": ``"stem1 stem2"`` for each pair of consecutive tokens of which at least
  one is a common word of ``L`` (its stop list — used only to choose pairs, never to drop tokens),
  frequencies only.

No field stores positions: that keeps the index small, and every query a plain term lookup —
Whoosh's positional phrase matching decodes positions in Python for every candidate page, which
is the slow path for exactly the phrases people type (``"comune di firenze"``). A phrase is the AND
of its pairs: a common gram where the pair has a common word, both words' stems otherwise. A
two-word phrase with a common word is thus exact; any other phrase may admit a page where the
words occur apart. That is never shown as a hit: hits are located, and within an item verified,
on the stored tokens (:mod:`server.search.match`), and site-wide search verifies approximate
matches when there are few enough of them.

Prefix and fuzzy leaves are expanded over folded words by the caller (the publication's lexicon,
or an item's vocabulary) and searched by the stems of those words.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import lru_cache

from whoosh import query as wq
from whoosh.analysis import SpaceSeparatedTokenizer
from whoosh.fields import ID, NUMERIC, TEXT, Schema
from whoosh.lang import NoStopWords, stopwords_for_language
from whoosh.reading import IndexReader, TermNotFound

from server.search.analysis import stem, tokens
from server.search.query import AllOf, AnyOf, Fuzzy, Node, Phrase, Prefix, Term, leaves

NONE = "none"
"""Language key of pages without a stemmer."""

Expand = Callable[[Node], "list[str] | None"]
"""Folded words a Prefix or Fuzzy leaf stands for; None when there are too many to list (the
leaf then matches every page, for candidates that are verified afterwards)."""


def text_field(language: str | None) -> str:
    return f"t_{language or NONE}"


def bigram_field(language: str | None) -> str:
    return f"b_{language or NONE}"


def make_schema() -> Schema:
    """Text fields receive pre-analysed token lists (see :mod:`server.search.analysis`)."""
    schema = Schema(item=ID(stored=True, sortable=True),
                    n=NUMERIC(int, bits=32, stored=True, sortable=True, signed=False))
    for prefix in ("t_*", "b_*"):  # phrase=False: frequencies, no positions
        schema.add(prefix, TEXT(analyzer=SpaceSeparatedTokenizer(), phrase=False), glob=True)
    return schema


@lru_cache(maxsize=64)
def common_words(language: str | None) -> frozenset[str]:
    """Folded stop words of a language: the words whose pairs get a common gram."""
    if not language or language == NONE:
        return frozenset()
    try:
        words = stopwords_for_language(language)
    except (NoStopWords, KeyError):
        return frozenset()
    return frozenset(t for w in words for t in tokens(w))


def common_grams(toks: list[str], stems: list[str], language: str | None) -> list[str]:
    """The common grams of a page (see the module docstring)."""
    common = common_words(language)
    if not common:
        return []
    return [f"{stems[i]} {stems[i + 1]}" for i in range(len(toks) - 1)
            if toks[i] in common or toks[i + 1] in common]


def phrase_is_exact(phrase: Phrase, languages: Iterable[str]) -> bool:
    """True when the index answers this phrase exactly in every language field."""
    return len(phrase.tokens) == 2 and all(
        phrase.tokens[0] in common_words(lang) or phrase.tokens[1] in common_words(lang) for lang in languages)


def approximate(node: Node, languages: Iterable[str]) -> bool:
    """Whether the index may match more pages than the query does: phrases other than the exact
    ones, prefixes and fuzzy terms (searched by the stems of their expansions)."""
    langs = tuple(languages)
    return any(isinstance(leaf, (Prefix, Fuzzy)) or (isinstance(leaf, Phrase) and not phrase_is_exact(leaf, langs))
               for leaf in leaves(node))


def _stem(text: str, language: str) -> str:
    return text if language == NONE else stem(text, language)


def _any(queries: Iterable[wq.Query]) -> wq.Query:
    unique = list(dict.fromkeys(queries))
    if not unique:
        return wq.NullQuery
    return unique[0] if len(unique) == 1 else wq.Or(unique)


def _phrase_terms(phrase: Phrase, lang: str) -> list[wq.Term]:
    """What a page in ``lang`` must contain for a phrase: common grams, and the stems of the words
    no common gram covers."""
    common = common_words(lang)
    stems = [_stem(t, lang) for t in phrase.tokens]
    covered: set[int] = set()
    terms: list[wq.Term] = []
    for i in range(len(stems) - 1):
        if phrase.tokens[i] in common or phrase.tokens[i + 1] in common:
            terms.append(wq.Term(bigram_field(lang), f"{stems[i]} {stems[i + 1]}"))
            covered.update((i, i + 1))
    terms += [wq.Term(text_field(lang), s) for i, s in enumerate(stems) if i not in covered]
    return list(dict.fromkeys(terms))


def leaf_query(leaf: Node, languages: tuple[str, ...], expand: Expand) -> wq.Query:
    """One leaf, over every language's fields (a page has the fields of its own language only)."""
    if isinstance(leaf, Term):
        return _any(wq.Term(text_field(lang), _stem(leaf.text, lang)) for lang in languages)
    if isinstance(leaf, Phrase):
        per_language = []
        for lang in languages:
            terms = _phrase_terms(leaf, lang)
            per_language.append(terms[0] if len(terms) == 1 else wq.And(terms))
        return _any(per_language)
    if isinstance(leaf, (Prefix, Fuzzy)):
        words = expand(leaf)
        if words is None:
            return wq.Every()
        return _any(wq.Term(text_field(lang), _stem(w, lang)) for lang in languages for w in words)
    raise TypeError(leaf)


def to_whoosh(node: Node, languages: Iterable[str], expand: Expand, *, exact_negations: bool = False) -> wq.Query:
    """The Whoosh query for a tree.

    ``exact_negations``: keep only those excluded clauses that the index answers exactly (terms,
    two-word phrases) — for candidate pages that are verified afterwards, where an approximate
    exclusion would wrongly drop pages.
    """
    langs = tuple(languages)
    if isinstance(node, AllOf):
        must = [to_whoosh(c, langs, expand, exact_negations=exact_negations) for c in node.must]
        positive: wq.Query = must[0] if len(must) == 1 else wq.And(must)
        negated = [c for c in node.must_not if not exact_negations or not approximate(c, langs)]
        if negated:
            return wq.AndNot(positive, _any(to_whoosh(c, langs, expand) for c in negated))
        return positive
    if isinstance(node, AnyOf):
        return _any(to_whoosh(c, langs, expand, exact_negations=exact_negations) for c in node.clauses)
    return leaf_query(node, langs, expand)


class DocSets:
    """Matching documents of a query tree as Python sets, from whole postings lists.

    Whoosh's matchers walk postings one document at a time in Python; set algebra over whole
    postings lists is several times faster for the unscored pass of site-wide search (every
    matching page, for counts and facets), above all for prefixes (an OR of many terms).
    """

    def __init__(self, reader: IndexReader, languages: Iterable[str], expand: Expand) -> None:
        self.reader = reader
        self.languages = tuple(languages)
        self.expand = expand
        self._ids: dict[tuple[str, str], frozenset[int]] = {}
        self._all: frozenset[int] | None = None

    def ids(self, field: str, text: str) -> frozenset[int]:
        key = (field, text)
        found = self._ids.get(key)
        if found is None:
            try:
                found = frozenset(self.reader.postings(field, text).all_ids()) if key in self.reader else frozenset()
            except TermNotFound:
                found = frozenset()
            self._ids[key] = found
        return found

    def every(self) -> frozenset[int]:
        if self._all is None:
            self._all = frozenset(self.reader.all_doc_ids())
        return self._all

    def of(self, node: Node) -> frozenset[int]:
        if isinstance(node, AllOf):
            parts = sorted((self.of(c) for c in node.must), key=len)
            result = parts[0].intersection(*parts[1:]) if parts else frozenset()
            for c in node.must_not:
                if result:
                    result = result - self.of(c)
            return frozenset(result)
        if isinstance(node, AnyOf):
            return frozenset().union(*(self.of(c) for c in node.clauses))
        return self._leaf(node)

    def _leaf(self, leaf: Node) -> frozenset[int]:
        if isinstance(leaf, Term):
            return frozenset().union(*(self.ids(text_field(lang), _stem(leaf.text, lang)) for lang in self.languages))
        if isinstance(leaf, Phrase):
            out: set[int] = set()
            for lang in self.languages:
                required = sorted((self.ids(q.fieldname, q.text) for q in _phrase_terms(leaf, lang)), key=len)
                if required:
                    out |= required[0].intersection(*required[1:])
            return frozenset(out)
        if isinstance(leaf, (Prefix, Fuzzy)):
            words = self.expand(leaf)
            if words is None:
                return self.every()
            return frozenset().union(*(self.ids(text_field(lang), _stem(w, lang))
                                       for lang in self.languages for w in words))
        raise TypeError(leaf)
