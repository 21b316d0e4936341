"""Fields of the Solr schema, and query trees → Lucene query syntax.

A page's text goes to ``t_<language>`` when the configset has that language's Snowball stemmer
(:data:`SNOWBALL`: Solr stems), else to ``t_none`` as stems computed here (Whoosh's stemmers, e.g.
ISRI for Arabic) or, without a stemmer, folded tokens. ``f`` holds every page's folded tokens
unstemmed, for prefixes and fuzzy terms.

Tokens are runs of letters, digits and combining marks (:mod:`server.search.analysis`), so they
never contain query syntax; they are quoted anyway.
"""
from __future__ import annotations

from collections.abc import Iterable

from server.search.analysis import stem
from server.search.engines import Expand
from server.search.query import AllOf, AnyOf, Fuzzy, Node, Phrase, Prefix, Term

NONE = "none"
FOLDED = "f"
NOTHING = "(+*:* -*:*)"
EVERYTHING = "*:*"

SNOWBALL = {"da": "Danish", "de": "German", "en": "English", "es": "Spanish", "fi": "Finnish", "fr": "French",
            "hu": "Hungarian", "it": "Italian", "nl": "Dutch", "no": "Norwegian", "pt": "Portuguese",
            "ro": "Romanian", "ru": "Russian", "sv": "Swedish", "tr": "Turkish"}
"""Language keys whose stemmer runs in Solr (the configset's ``text_<key>`` types)."""


def text_field(language: str | None) -> str:
    return f"t_{language}" if language in SNOWBALL else f"t_{NONE}"


def field_text(tokens: list[str], stems: list[str], language: str | None) -> str:
    """What a page sends to its :func:`text_field`: tokens where Solr stems, stems otherwise."""
    return " ".join(tokens if language in SNOWBALL or not language or language == NONE else stems)


def _value(token: str, language: str) -> str:
    return token if language in SNOWBALL or language == NONE else stem(token, language)


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _any(clauses: Iterable[str]) -> str:
    unique = list(dict.fromkeys(clauses))
    if not unique:
        return NOTHING
    return unique[0] if len(unique) == 1 else "(" + " OR ".join(unique) + ")"


def leaf_query(leaf: Node, languages: tuple[str, ...], expand: Expand, native_prefix: bool = True) -> str:
    langs = languages or (NONE,)
    if isinstance(leaf, Term):
        return _any(f"{text_field(lang)}:{_quoted(_value(leaf.text, lang))}" for lang in langs)
    if isinstance(leaf, Phrase):
        return _any(f"{text_field(lang)}:{_quoted(' '.join(_value(t, lang) for t in leaf.tokens))}" for lang in langs)
    if native_prefix and isinstance(leaf, Prefix) and leaf.prefix.isalnum():
        return f"{FOLDED}:{leaf.prefix}*"  # exact, whatever the number of expansions
    if isinstance(leaf, (Prefix, Fuzzy)):
        words = expand(leaf)
        if words is None:  # too many to list: every page, verified afterwards
            return EVERYTHING
        return _any(f"{FOLDED}:{_quoted(w)}" for w in words)
    raise TypeError(leaf)


def to_solr(node: Node, languages: Iterable[str], expand: Expand, native_prefix: bool = True) -> str:
    """The Lucene-syntax query of a tree (``q.op`` is irrelevant: every operator is explicit).

    ``native_prefix``: Solr expands prefixes over the whole index (site-wide: exact); within an
    item, ``expand`` lists the item's own words instead, so the query costs what the item costs;
    there an expansion too long to list matches every page, so exclusions are left to the word store."""
    langs = tuple(languages)
    if isinstance(node, AllOf):
        parts = [f"+{to_solr(c, langs, expand, native_prefix)}" for c in node.must]
        if native_prefix:  # within an item, candidates are verified on the whole tree: no need to exclude
            parts += [f"-{to_solr(c, langs, expand, native_prefix)}" for c in node.must_not]
        return "(" + " ".join(parts) + ")"
    if isinstance(node, AnyOf):
        return _any(to_solr(c, langs, expand, native_prefix) for c in node.clauses)
    return leaf_query(node, langs, expand, native_prefix)
