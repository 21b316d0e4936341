"""Where each URL of the application lives in the static export: one pure mapping, both ways.

A *key* names one exportable resource of the application: a page in one language with the query
parameters a static file can stand for, or any other path (IIIF JSON, images, stylesheets).
``file_for`` gives the file that holds it under ``OUT_DIR``; the public URL of that file is the
export's base URL followed by the file's path, so every link and IIIF id is rewritten with it.

Layout (documented in docs/export.md): pages are directory indexes written out in full,
``item/<id>/index.html``, ``item/<id>/canvas/<n>/index.html``, ``collection/<id>/page/2/index.html``;
the default language at the root and every other one under ``<lang>/``; links name the
``index.html`` itself, so object storage without "website" index documents serves them too.
Presentation resources get ``.json`` (the right media type everywhere, and no clash between a
collection and the folder of its pages); Image API files keep their IIIF paths.
"""
from __future__ import annotations

import posixpath
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from ..errors import BadRequest

ASSETS = Path(__file__).resolve().parent / "assets"
"""Files the export adds to the site (the search page's and the item pages' scripts)."""
PAGE_PARAMS = ("year", "month", "page", "canvas")
"""Query parameters of pages that become path segments, in this order; all are whole numbers."""
NOT_STATIC = ("/iiif/search/", "/iiif/2/", "/search.json")
"""Path prefixes that need a server (Content Search, autocomplete, Image API 2.1): never exported."""
SEARCH = "/search"
ASSET_PREFIXES = ("/iiif/", "/static/", "/viewer/")
FILES = ("/sitemap.xml", "/robots.txt")
EXTENSIONS = {"application/json": ".json", "application/ld+json": ".json", "application/xml": ".xml",
              "text/xml": ".xml", "text/vnd.hocr+html": ".hocr", "text/plain": ".txt",
              "application/pdf": ".pdf"}


@dataclass(frozen=True, order=True)
class Key:
    """An exportable resource: ``lang`` is empty for everything but pages."""

    path: str                            # decoded, relative to the base URL, starting with "/"
    params: tuple[tuple[str, int], ...] = ()
    lang: str = ""

    @property
    def is_page(self) -> bool:
        return bool(self.lang)

    def request_path(self) -> str:
        """What to ask the application for (the page's language made explicit)."""
        args = [f"{k}={v}" for k, v in self.params]
        if self.lang:
            args.append(f"lang={self.lang}")
        return quote(self.path, safe="/~!,^@:;=+$&'()*") + ("?" + "&".join(args) if args else "")


class Site:
    """The export's base URL and languages; turns URLs found in documents into keys and files."""

    def __init__(self, base_url: str, languages: tuple[str, ...], default_language: str) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
            raise BadRequest(f"must be an absolute http(s) URL without query, not {base_url!r}", parameter="--base-url")
        self.base = base_url.rstrip("/")
        self.origin = f"{parts.scheme}://{parts.netloc}"
        self.prefix = parts.path.rstrip("/")          # "" or "/heritage"
        self.languages = languages
        self.default_language = default_language

    # --- URL → key ------------------------------------------------------------------------------

    def key(self, url: str, page_lang: str) -> Key | None:
        """The key of an absolute or root-relative URL inside the site, or None (outside, or not static).

        ``page_lang`` is the language of the page the link is on: the application keeps the
        language in a cookie, so its links carry no ``lang`` and mean "in this language".
        """
        parts = urlsplit(url)
        if parts.scheme and f"{parts.scheme}://{parts.netloc}" != self.origin:
            return None
        if not parts.scheme and parts.netloc:
            return None
        path = unquote(parts.path)
        if path != self.prefix and not path.startswith(self.prefix + "/"):
            return None
        path = path[len(self.prefix):] or "/"
        if posixpath.normpath(path) != path.rstrip("/") and path != "/":
            return None  # "..", "//", "/./": never something the application links to
        if any(path.startswith(p) for p in NOT_STATIC):
            return None
        args = dict(parse_qsl(parts.query, keep_blank_values=True))
        if path.startswith(ASSET_PREFIXES) or path in FILES:
            return Key(path)
        lang = args.get("lang", "")
        if lang not in self.languages:
            lang = page_lang if page_lang in self.languages else self.default_language
        if path == SEARCH:
            return Key(path, (), lang)
        params = []
        for name in PAGE_PARAMS:
            value = args.get(name, "")
            if value.isascii() and value.isdigit() and len(value) < 10:
                params.append((name, int(value)))
        return Key(path, tuple(params), lang)

    # --- key → file -----------------------------------------------------------------------------

    def page_file(self, key: Key) -> str:
        """``[<lang>/]<path>/<param>/<value>/…/index.html`` for a page key."""
        segments = [] if key.lang == self.default_language else [key.lang]
        segments += [s for s in key.path.split("/") if s]
        for name, value in key.params:
            segments += [name, str(value)]
        return "/".join([*segments, "index.html"])

    def asset_file(self, key: Key, content_type: str) -> str:
        """The IIIF or static path itself, with an extension from the media type when it has none."""
        path = key.path.lstrip("/")
        last = path.rsplit("/", 1)[-1]
        if "." not in last:
            path += EXTENSIONS.get(content_type.split(";")[0].strip().lower(), "")
        return path

    def url_of(self, file: str) -> str:
        """The public URL of an exported file."""
        return f"{self.base}/{quote(file, safe='/~!,^@:;=+$&()*')}"

    def path_of(self, file: str) -> str:
        """The root-relative URL of an exported file (for links inside pages)."""
        return f"{self.prefix}/{quote(file, safe='/~!,^@:;=+$&()*')}"
