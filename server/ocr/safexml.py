"""Reading untrusted OCR files: no entity expansion, no DTD, no network, and one error type.

OCR arrives from vendors, volunteers and old CD-ROMs; a file must never make us read another file
(XXE), fetch a URL, or blow up memory (billion laughs). Policy:

1. Before parsing, the prolog is scanned. A DOCTYPE with an internal subset is refused (entity
   declarations get their own message). A DOCTYPE naming an external DTD is refused unless it is a
   W3C (X)HTML DTD — Tesseract writes XHTML 1.0 Transitional — and even then it is never loaded.
2. lxml parses with ``resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False``;
   after parsing, ``docinfo`` is checked again (belt and braces for prologs the scan misread).
3. A document with no XML declaration that looks like HTML (``<html`` or ``ocr_page``) and is not
   well-formed is re-read with lxml's HTML parser (network off). A file that *declares* itself XML
   gets no second chance: a truncated Tesseract file is an error, not silently half a page.
4. Every failure is an :class:`OCRError` naming the file (and the line when libxml2 knows it).
"""
from __future__ import annotations

import codecs
import re
from pathlib import Path

from lxml import etree, html

from server.ocr.model import OCRError
from server.texts import N_, Text

MAX_BYTES = 64 * 1024 * 1024  # a dense newspaper page in ALTO is ~2 MB; 64 MB is not OCR
_PROLOG_SCAN = 256 * 1024

_W3C_PUBLIC = re.compile(r"-//W3C//DTD (X?HTML) ", re.IGNORECASE)
_W3C_SYSTEM = re.compile(r"https?://www\.w3\.org/", re.IGNORECASE)
_EXTERNAL_ID = re.compile(
    r"""\s*(?:SYSTEM\s*(?P<s1>"[^"]*"|'[^']*')|PUBLIC\s*(?P<p>"[^"]*"|'[^']*')\s*(?P<s2>"[^"]*"|'[^']*')?)""",
    re.IGNORECASE,
)
_HTMLISH = re.compile(rb"<html|ocr_page", re.IGNORECASE)


def _xml_parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
                           dtd_validation=False, remove_comments=True, remove_pis=True)


def _html_parser() -> html.HTMLParser:
    return html.HTMLParser(no_network=True, huge_tree=False, remove_comments=True, remove_pis=True)


def _prolog(data: bytes) -> str:
    """The start of the document as text, good enough to find a DOCTYPE in any common encoding."""
    head = data[:_PROLOG_SCAN]
    for bom, enc in ((codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"),
                     (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")):
        if head.startswith(bom):
            return head[len(bom):].decode(enc, errors="replace")
    head = head.removeprefix(codecs.BOM_UTF8)
    return head.decode("latin-1")  # ASCII-compatible encodings: markup bytes read the same


def _doctype_problem(public_id: str | None, system_id: str | None, subset: bool,
                     entities: bool) -> Text | None:
    """Why a DOCTYPE is refused, or ``None`` if it is a harmless (X)HTML one (or ``<!DOCTYPE html>``)."""
    if entities:
        return N_("refused: the DOCTYPE declares entities (XXE / entity expansion)")
    if subset:
        return N_("refused: the DOCTYPE has an internal subset")
    if public_id is None and system_id is None:
        return None
    if (public_id and _W3C_PUBLIC.match(public_id)
            and (system_id is None or _W3C_SYSTEM.match(system_id))):
        return None
    return N_("refused: the DOCTYPE references an external DTD (%(dtd)s)", dtd=system_id or public_id)


def _scan_prolog(text: str) -> str | None:
    """Walk the prolog (XML declaration, comments, PIs, DOCTYPE) and judge the DOCTYPE, if any."""
    pos = 0
    n = len(text)
    while pos < n:
        while pos < n and text[pos] in " \t\r\n\ufeff":
            pos += 1
        if text.startswith("<?", pos):
            end = text.find("?>", pos)
            if end < 0:
                return None
            pos = end + 2
        elif text.startswith("<!--", pos):
            end = text.find("-->", pos + 4)
            if end < 0:
                return None
            pos = end + 3
        elif text[pos:pos + 9].upper() == "<!DOCTYPE":
            body_end = text.find(">", pos)
            bracket = text.find("[", pos)
            subset = bracket >= 0 and (body_end < 0 or bracket < body_end)
            if subset:
                return _doctype_problem(None, None, True, "<!ENTITY" in text[bracket:].upper())
            if body_end < 0:
                return N_("refused: unterminated DOCTYPE")
            decl = text[pos + 9:body_end]
            name_match = re.match(r"\s*[^\s>\[]+", decl)
            rest = decl[name_match.end():] if name_match else decl
            ext = _EXTERNAL_ID.match(rest)
            if ext is None:
                if rest.strip():
                    return N_("refused: unreadable DOCTYPE")
                return None
            strip = (lambda v: v[1:-1] if v else None)
            return _doctype_problem(strip(ext.group("p")), strip(ext.group("s1") or ext.group("s2")),
                                    False, False)
        else:
            return None
    return None


def _check_docinfo(tree: etree._ElementTree, path: Path) -> None:
    info = tree.docinfo
    dtd = info.internalDTD
    # lxml has these three (DTD.iterentities/iterelements, DocInfo.system_url); lxml-stubs 0.5 lacks them
    entities = bool(dtd is not None and any(True for _ in dtd.iterentities()))  # type: ignore[attr-defined]
    subset = bool(dtd is not None and any(True for _ in dtd.iterelements()))  # type: ignore[attr-defined]
    problem = _doctype_problem(info.public_id, info.system_url, subset, entities)  # type: ignore[attr-defined]
    if problem:
        raise OCRError(path, problem)


def read_bytes(path: Path, max_bytes: int = MAX_BYTES) -> bytes:
    """The file's bytes, or OCRError for missing, unreadable, empty and oversized files."""
    try:
        with open(path, "rb") as fh:
            data = fh.read(max_bytes + 1)
    except OSError as exc:
        raise OCRError(path, N_("cannot read: %(reason)s", reason=exc.strerror or str(exc))) from None
    if len(data) > max_bytes:
        raise OCRError(path, N_("larger than %(max)s bytes", max=max_bytes))
    if not data.strip():
        raise OCRError(path, N_("empty file"))
    return data


def parse_document(path: Path, data: bytes) -> etree._Element:
    """The root element of ``data`` (read from ``path``), parsed under the policy above."""
    problem = _scan_prolog(_prolog(data))
    if problem:
        raise OCRError(path, problem)
    try:
        root = etree.fromstring(data, _xml_parser())
    except etree.XMLSyntaxError as exc:
        if not _looks_like_html(data):
            line = exc.lineno if exc.lineno and exc.lineno > 0 else None
            raise OCRError(path, N_("not well-formed XML: %(reason)s", reason=" ".join(str(exc.msg).split())), line) from None
        root = _parse_html(path, data)
    except (etree.LxmlError, ValueError) as exc:
        raise OCRError(path, N_("cannot parse: %(reason)s", reason=" ".join(str(exc).split()))) from None
    if root is None:
        raise OCRError(path, N_("no root element"))
    _check_docinfo(root.getroottree(), path)
    return root


def _looks_like_html(data: bytes) -> bool:
    """Not declared XML, and HTML-ish in its first bytes: worth a lenient second try."""
    head = _prolog(data).lstrip("\ufeff \t\r\n")
    return not head.startswith("<?xml") and _HTMLISH.search(data[:_PROLOG_SCAN]) is not None


def _parse_html(path: Path, data: bytes) -> etree._Element:
    try:
        root = html.document_fromstring(data, parser=_html_parser())
    except (etree.LxmlError, ValueError) as exc:
        raise OCRError(path, N_("not parseable as HTML: %(reason)s", reason=" ".join(str(exc).split()))) from None
    return root
