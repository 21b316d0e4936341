"""The query language, parsed once into a small tree that both the index and the hit matcher read.

Syntax (what a researcher types; nothing here raises on odd input, except a query too long):

- ``comune firenze``: every term must occur on the page (AND is the default; ``AND``/``+`` accepted).
- Punctuation inside a word: the marks that join words in print (apostrophe, hyphen, full stop)
  keep it one phrase (below); any other symbol (``a&b``, ``Firenze/Roma``, ``title:Firenze``)
  separates alternatives, so ``a&b Firenze`` is ``(a OR b) firenze``. A symbol never makes a query
  stricter than its words: a researcher pasting text or guessing another engine's syntax still
  finds the pages with the words.
- ``"questione di firenze"``: a phrase; it matches across line breaks and hyphenated words, since
  positions run over the page's words in reading order. A word that analyses into several tokens
  (``dell'assemblea``, ``Nord-Amerika``) is a phrase of them.
- ``amministra*``: a prefix (at least two characters).
- ``finanze~`` / ``finanze~2``: fuzzy, up to 1 (default) or 2 edits, first letter fixed.
- ``comune OR municipio``: either; OR binds tighter than the implicit AND.
- ``-milano`` / ``NOT milano``: exclude pages that contain it.

Terms and phrases match by stem in the page's language (so the folded form matches too); prefix and
fuzzy queries match folded, unstemmed words (stems are not words a person types).
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TypeAlias

from server.errors import BadRequest
from server.search.analysis import normalize, tokens

MAX_QUERY_CHARS = 500
MAX_CLAUSES = 24
MIN_PREFIX = 2
MIN_FUZZY = 3

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
    clauses: tuple[Node, ...]


@dataclass(frozen=True)
class AllOf:
    must: tuple[Node, ...]
    must_not: tuple[Node, ...] = ()


Node: TypeAlias = Term | Phrase | Prefix | Fuzzy | AnyOf | AllOf

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
        if isinstance(it, str):  # "OR"
            pending_or = True
            continue
        neg, clause = it
        if pending_or and not neg and must:
            prev = must.pop()
            merged = ((prev.clauses if isinstance(prev, AnyOf) else (prev,))
                      + (clause.clauses if isinstance(clause, AnyOf) else (clause,)))
            must.append(AnyOf(merged))
        elif neg:
            must_not.append(clause)
        else:
            must.append(clause)
        pending_or = False
    if sum(1 for _ in leaves(AllOf(tuple(must), tuple(must_not)))) > MAX_CLAUSES:
        raise BadRequest(f"the query has more than {MAX_CLAUSES} terms", parameter="q")
    if not must:
        return None
    return AllOf(tuple(must), tuple(must_not))


# marks that join the parts of one printed word: elisions, compounds, abbreviations (S.p.A.)
_JOINERS = frozenset("'.-\u2010\u2011\u00ac")


def _word(word: str) -> Node | None:
    """A bare query word: split at symbols into alternatives, each a term, phrase, prefix or fuzzy."""
    fuzzy = 0
    m = re.search(r"~([0-9]?)$", word)
    if m:
        fuzzy = min(int(m.group(1) or 1), 2) or 1
        word = word[:m.start()]
    is_prefix = word.endswith("*")
    parts = _split_at_symbols(normalize(word.rstrip("*")))
    nodes: list[Node] = []
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        node = _piece(part, is_prefix and last, fuzzy if last else 0)
        if node is not None and node not in nodes:
            nodes.append(node)
    if not nodes:
        return None
    return nodes[0] if len(nodes) == 1 else AnyOf(tuple(nodes))


def _split_at_symbols(word: str) -> list[str]:
    """``a&b`` → ``a``, ``b``; ``dell'assemblea`` and ``Nord-Amerika`` stay whole."""
    parts, current = [], []
    for c in word:
        if c.isalnum() or unicodedata.combining(c) or c in _JOINERS:
            current.append(c)
        elif current:
            parts.append("".join(current))
            current = []
    if current:
        parts.append("".join(current))
    return parts


def _piece(text: str, is_prefix: bool, fuzzy: int) -> Node | None:
    toks = tokens(text)
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


def leaves(node: Node) -> Iterable[Node]:
    """Every leaf, excluded ones included."""
    if isinstance(node, AllOf):
        for child in (*node.must, *node.must_not):
            yield from leaves(child)
    elif isinstance(node, AnyOf):
        for child in node.clauses:
            yield from leaves(child)
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
