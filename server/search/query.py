"""The query language, parsed once into a small tree that both the index and the hit matcher read.

Syntax (what a researcher types; nothing here raises on odd input, except a query too long):

- ``comune firenze``: every term must occur on the page (AND is the default; ``AND``/``+`` accepted).
- ``"questione di firenze"``: a phrase; it matches across line breaks and hyphenated words, since
  positions run over the page's words in reading order. A word that analyses into several tokens
  (``dell'assemblea``, ``Nord-Amerika``) is a phrase of them.
- ``amministra*``: a prefix (at least two characters).
- ``finanze~`` / ``finanze~2``: fuzzy, up to 1 (default) or 2 edits, first letter fixed.
- ``comune OR municipio``: either; OR binds tighter than the implicit AND.
- ``-milano`` / ``NOT milano``: exclude pages that contain it.

Terms and phrases match the stemmed form in the page's language *or* the folded form; prefix and
fuzzy queries match folded, unstemmed forms only (stems are not words a person types).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Union

from whoosh import query as wq
from whoosh.reading import IndexReader

from server.errors import BadRequest
from server.search.analysis import stem, tokens

MAX_QUERY_CHARS = 500
MAX_CLAUSES = 24
MIN_PREFIX = 2
MAX_PREFIX_TERMS = 256
MIN_FUZZY = 3

EXACT = "exact"
"""Field of folded, unstemmed tokens (every page)."""


def stem_field(language: str) -> str:
    """Field of stemmed tokens for pages in ``language`` (a stemmer key)."""
    return f"t_{language}"


@dataclass(frozen=True)
class Term:
    text: str


@dataclass(frozen=True)
class Phrase:
    tokens: tuple[str, ...]


@dataclass(frozen=True)
class Prefix:
    prefix: str


@dataclass(frozen=True)
class Fuzzy:
    text: str
    distance: int


@dataclass(frozen=True)
class AnyOf:
    clauses: tuple["Node", ...]


@dataclass(frozen=True)
class AllOf:
    must: tuple["Node", ...]
    must_not: tuple["Node", ...] = ()


Node = Union[Term, Phrase, Prefix, Fuzzy, AnyOf, AllOf]

_LEX = re.compile(r'(?P<neg>[-+!]?)"(?P<phrase>[^"]*)"?|(?P<word>\S+)')


def parse(q: str | None) -> AllOf | None:
    """The query tree, or None when nothing searchable is left (no positive clause)."""
    q = (q or "").strip()
    if len(q) > MAX_QUERY_CHARS:
        raise BadRequest(f"the query is longer than {MAX_QUERY_CHARS} characters", parameter="q")
    items: list[tuple[bool, Node] | str] = []  # (negated, clause) or "OR"
    negate_next = False
    for m in _LEX.finditer(q):
        if m.group("word") is not None:
            word = m.group("word")
            if word in ("OR", "||", "|"):
                items.append("OR")
                continue
            if word in ("AND", "&&", "+"):
                continue
            if word == "NOT":
                negate_next = True
                continue
            neg = negate_next
            if word[0] in "-!" and len(word) > 1:
                neg, word = True, word[1:]
            elif word[0] == "+" and len(word) > 1:
                word = word[1:]
            node = _word(word)
        else:
            neg = negate_next or m.group("neg") in ("-", "!")
            node = _phrase(m.group("phrase"))
        negate_next = False
        if node is not None:
            items.append((neg, node))
    must: list[Node] = []
    must_not: list[Node] = []
    pending_or = False
    for it in items:
        if it == "OR":
            pending_or = True
            continue
        neg, node = it  # type: ignore[misc]
        if pending_or and not neg and must:
            prev = must.pop()
            merged = (prev.clauses if isinstance(prev, AnyOf) else (prev,)) + (node,)
            must.append(AnyOf(merged))
        elif neg:
            must_not.append(node)
        else:
            must.append(node)
        pending_or = False
    if sum(1 for _ in leaves(AllOf(tuple(must), tuple(must_not)))) > MAX_CLAUSES:
        raise BadRequest(f"the query has more than {MAX_CLAUSES} terms", parameter="q")
    if not must:
        return None
    return AllOf(tuple(must), tuple(must_not))


def _word(word: str) -> Node | None:
    fuzzy = 0
    m = re.search(r"~([0-9]?)$", word)
    if m:
        fuzzy = min(int(m.group(1) or 1), 2) or 1
        word = word[:m.start()]
    is_prefix = word.endswith("*")
    toks = tokens(word.replace("*", " ").replace("?", " ") if not is_prefix else word.rstrip("*").replace("*", " "))
    if not toks:
        return None
    if len(toks) > 1:
        return Phrase(tuple(toks))
    tok = toks[0]
    if is_prefix and len(tok) >= MIN_PREFIX:
        return Prefix(tok)
    if fuzzy and len(tok) >= MIN_FUZZY:
        return Fuzzy(tok, fuzzy)
    return Term(tok)


def _phrase(text: str) -> Node | None:
    toks = tokens(text)
    if not toks:
        return None
    return Term(toks[0]) if len(toks) == 1 else Phrase(tuple(toks))


def leaves(node: Node, negated: bool = False) -> Iterable[Node]:
    if isinstance(node, AllOf):
        for child in node.must:
            yield from leaves(child, negated)
        for child in node.must_not:
            yield from leaves(child, True)
    elif isinstance(node, AnyOf):
        for child in node.clauses:
            yield from leaves(child, negated)
    else:
        yield node


def positive_leaves(node: Node) -> Iterable[Node]:
    """The leaves whose matches are hits (excluded clauses never produce one)."""
    if isinstance(node, AllOf):
        for child in node.must:
            yield from positive_leaves(child)
    elif isinstance(node, AnyOf):
        for child in node.clauses:
            yield from positive_leaves(child)
    else:
        yield node


def to_whoosh(node: Node, languages: Iterable[str], reader: IndexReader | None = None) -> wq.Query:
    """The Whoosh query for a tree; ``languages`` are the stemmer keys that have a field in the index."""
    langs = tuple(languages)
    if isinstance(node, AllOf):
        positive: wq.Query = (wq.And([to_whoosh(c, langs, reader) for c in node.must])
                              if len(node.must) > 1 else to_whoosh(node.must[0], langs, reader))
        if node.must_not:
            negative = wq.Or([to_whoosh(c, langs, reader) for c in node.must_not])
            return wq.AndNot(positive, negative)
        return positive
    if isinstance(node, AnyOf):
        return wq.Or([to_whoosh(c, langs, reader) for c in node.clauses])
    if isinstance(node, Term):
        subs: list[wq.Query] = [wq.Term(EXACT, node.text)]
        subs += [wq.Term(stem_field(lang), stem(node.text, lang)) for lang in langs]
        return wq.Or(subs) if len(subs) > 1 else subs[0]
    if isinstance(node, Phrase):
        subs = [wq.Phrase(EXACT, list(node.tokens))]
        subs += [wq.Phrase(stem_field(lang), [stem(t, lang) for t in node.tokens]) for lang in langs]
        return wq.Or(subs) if len(subs) > 1 else subs[0]
    if isinstance(node, Prefix):
        return _prefix(node.prefix, reader)
    if isinstance(node, Fuzzy):
        return wq.FuzzyTerm(EXACT, node.text, maxdist=node.distance, prefixlength=1)
    raise TypeError(node)


def _prefix(prefix: str, reader: IndexReader | None) -> wq.Query:
    """A prefix as an OR of its most frequent expansions: a short prefix must not cost a full scan."""
    if reader is None:
        return wq.Prefix(EXACT, prefix)
    expansions = []
    for term in reader.expand_prefix(EXACT, prefix):
        expansions.append(term.decode("utf-8") if isinstance(term, bytes) else term)
        if len(expansions) > 20 * MAX_PREFIX_TERMS:
            break
    if len(expansions) > MAX_PREFIX_TERMS:
        expansions.sort(key=lambda t: -reader.doc_frequency(EXACT, t))
        expansions = expansions[:MAX_PREFIX_TERMS]
    if not expansions:
        return wq.NullQuery
    return wq.Or([wq.Term(EXACT, t) for t in expansions])
