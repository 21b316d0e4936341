"""Links in exported documents: find them (to crawl) and rewrite them (to point at files).

One scanner serves both jobs, so what is crawled is exactly what is rewritten. It sees
``href``/``src``/``action``/``content`` attribute values in HTML (resolved against the page's
URL) and every absolute URL under the base URL anywhere else in a document: in JSON strings,
in the viewer options of a page, in a sitemap or ``robots.txt``.

``resolve(url, lang)`` (given by the exporter) returns the new URL of a link, or None to leave it
as it was (outside the site, or not exported).
"""
from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urljoin, urlsplit

Resolver = Callable[[str], "str | None"]

_ATTR = r'(?P<attr>\b(?:href|src|srcset|action|content|poster)=)(?P<q>["\'])(?P<val>.*?)(?P=q)'


def _pattern(base: str) -> re.Pattern[str]:
    char = r"(?:(?!&(?:#[0-9]+|#x[0-9a-fA-F]+|quot|lt|gt|apos);)[^\s\"'<>\\])"  # an entity ends a URL in text
    absolute = re.escape(base) + rf"(?:[/?]{char}*)?(?!{char})"
    return re.compile(f"{_ATTR}|(?P<abs>{absolute})", re.DOTALL)


def html_links(text: str, page_url: str, base: str) -> Iterator[str]:
    """Every URL an HTML page refers to (absolute, fragments dropped)."""
    for m in _pattern(base).finditer(text):
        if m.group("attr"):
            for value in _values(m.group("attr"), html.unescape(m.group("val")).strip()):
                if _is_link(m.group("attr"), value):
                    yield _absolute(value, page_url, base).split("#", 1)[0]
        else:
            yield html.unescape(m.group("abs")).split("#", 1)[0]


def rewrite_html(text: str, page_url: str, base: str, resolve: Callable[[str, bool], str | None]) -> str:
    """Replace every link that ``resolve(absolute_url, was_absolute)`` maps; keep fragments."""
    def sub(m: re.Match[str]) -> str:
        if m.group("attr"):
            original = html.unescape(m.group("val")).strip()
            out, cursor = [], 0
            for value in _values(m.group("attr"), original):
                start = original.index(value, cursor)
                out.append(original[cursor:start])
                cursor = start + len(value)
                new = _resolve_attr(value, page_url, base, resolve) if _is_link(m.group("attr"), value) else None
                out.append(value if new is None else new)
            rewritten = "".join(out) + original[cursor:]
            if rewritten == original:
                return m.group(0)
            return f'{m.group("attr")}{m.group("q")}{html.escape(rewritten, quote=True)}{m.group("q")}'
        raw = m.group("abs")
        new = _with_fragment(html.unescape(raw), lambda u: resolve(u, True))
        if new is None:
            return raw
        return html.escape(new, quote=False) if "&amp;" in raw else new
    return _pattern(base).sub(sub, text)


def _resolve_attr(value: str, page_url: str, base: str, resolve: Callable[[str, bool], str | None]) -> str | None:
    was_absolute = "://" in value
    return _with_fragment(_absolute(value, page_url, base), lambda u: resolve(u, was_absolute))


def text_links(text: str, base: str) -> Iterator[str]:
    for m in _pattern(base).finditer(text):
        if m.group("abs"):
            yield m.group("abs").split("#", 1)[0]


def rewrite_text(text: str, base: str, resolve: Resolver) -> str:
    """Absolute URLs under the base in a plain or XML document (a sitemap, robots.txt)."""
    def sub(m: re.Match[str]) -> str:
        if not m.group("abs"):
            return m.group(0)
        return _with_fragment(m.group("abs"), resolve) or m.group("abs")
    return _pattern(base).sub(sub, text)


def json_links(doc: Any, base: str) -> Iterator[str]:
    """Every string of a JSON document that is a URL under the base."""
    if isinstance(doc, dict):
        for value in doc.values():
            yield from json_links(value, base)
    elif isinstance(doc, list):
        for value in doc:
            yield from json_links(value, base)
    elif isinstance(doc, str) and _under(doc, base):
        yield doc.split("#", 1)[0]


def rewrite_json(doc: Any, base: str, resolve: Resolver, keep: Callable[[dict[str, Any]], bool]) -> Any:
    """A copy of ``doc`` with URLs under the base resolved, and the objects ``keep`` refuses
    removed from their lists (services that need a server)."""
    if isinstance(doc, dict):
        return {k: rewrite_json(v, base, resolve, keep) for k, v in doc.items()}
    if isinstance(doc, list):
        return [rewrite_json(v, base, resolve, keep) for v in doc if not isinstance(v, dict) or keep(v)]
    if isinstance(doc, str) and _under(doc, base):
        return _with_fragment(doc, resolve) or doc
    return doc


def _absolute(value: str, page_url: str, base: str) -> str:
    """A link made absolute: a root-relative one is relative to the application's root, which the
    export serves at the base URL (the crawl asks the application with no path prefix)."""
    if value.startswith("/") and not value.startswith("//"):
        return base + value
    return urljoin(page_url, value)


def _under(value: str, base: str) -> bool:
    return value == base or value.startswith((base + "/", base + "?", base + "#"))


def _values(attr: str, value: str) -> list[str]:
    """The URLs of an attribute: one, or each candidate's of a ``srcset`` (parsed as HTML does:
    a URL runs to whitespace, trailing commas end a candidate, descriptors run to a comma)."""
    if not attr.startswith("srcset"):
        return [value]
    urls, i = [], 0
    while i < len(value):
        while i < len(value) and (value[i].isspace() or value[i] == ","):
            i += 1
        start = i
        while i < len(value) and not value[i].isspace():
            i += 1
        url = value[start:i]
        if url.endswith(","):
            url = url.rstrip(",")
        else:
            while i < len(value) and value[i] != ",":
                i += 1
        if url:
            urls.append(url)
    return urls


def _is_link(attr: str, value: str) -> bool:
    if not value or value.startswith(("#", "data:", "mailto:", "javascript:", "tel:")):
        return False
    if attr.startswith("content"):  # <meta content> is text unless it is a URL
        return value.startswith(("http://", "https://", "/"))
    return True


def _with_fragment(url: str, resolve: Resolver) -> str | None:
    head, sep, fragment = url.partition("#")
    new = resolve(head)
    if new is None:
        return None
    return new + sep + fragment


def same_origin_path(url: str) -> str:
    """``/path?query`` of an absolute URL (for root-relative links)."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")
