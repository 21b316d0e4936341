"""The words the builders add themselves (metadata labels, page labels), in the publication's languages.

Values that come from the holdings keep the languages they were written in. Words we add get one
entry per configured language we have a translation for, never the ``none`` key: "Data"/"Date"
is language, not a language-neutral code.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping

from ..holdings.model import DateValue, LangMap

FALLBACK = "en"

FIELDS: dict[str, dict[str, str]] = {
    "type": {"it": "Tipologia", "en": "Type", "de": "Typ", "fr": "Type"},
    "date": {"it": "Data", "en": "Date", "de": "Datum", "fr": "Date"},
    "creator": {"it": "Autore", "en": "Creator", "de": "Urheber", "fr": "Auteur"},
    "publisher": {"it": "Editore", "en": "Publisher", "de": "Verlag", "fr": "Éditeur"},
    "place": {"it": "Luogo", "en": "Place", "de": "Ort", "fr": "Lieu"},
    "language": {"it": "Lingua", "en": "Language", "de": "Sprache", "fr": "Langue"},
    "subject": {"it": "Soggetto", "en": "Subject", "de": "Schlagwort", "fr": "Sujet"},
    "extent": {"it": "Consistenza", "en": "Extent", "de": "Umfang", "fr": "Étendue"},
    "reference_code": {"it": "Segnatura", "en": "Reference code", "de": "Signatur", "fr": "Cote"},
    "attribution": {"it": "Attribuzione", "en": "Attribution", "de": "Nachweis", "fr": "Attribution"},
    "text": {"it": "Testo (OCR)", "en": "Text (OCR)", "de": "Text (OCR)", "fr": "Texte (OCR)"},
    "pdf": {"it": "PDF (immagini e testo)", "en": "PDF (images and text)", "de": "PDF (Bilder und Text)",
            "fr": "PDF (images et texte)"},
    "alto": {"it": "Testo OCR (ALTO XML)", "en": "OCR text (ALTO XML)", "de": "OCR-Text (ALTO XML)",
             "fr": "Texte OCR (ALTO XML)"},
    "hocr": {"it": "Testo OCR (hOCR)", "en": "OCR text (hOCR)", "de": "OCR-Text (hOCR)", "fr": "Texte OCR (hOCR)"},
    "machine_ocr": {"it": "Testo OCR automatico ({engine}, ALTO XML)", "en": "Machine OCR text ({engine}, ALTO XML)",
                    "de": "Maschinelle OCR ({engine}, ALTO XML)", "fr": "Texte OCR automatique ({engine}, ALTO XML)"},
    "top": {"it": "{name}: tutte le collezioni", "en": "{name}: all collections", "de": "{name}: alle Sammlungen",
            "fr": "{name} : toutes les collections"},
    "page": {"it": "p. {n}", "en": "p. {n}", "de": "S. {n}", "fr": "p. {n}"},
    "part": {"it": "{title}: {first} – {last}", "en": "{title}: {first} – {last}",
             "de": "{title}: {first} – {last}", "fr": "{title} : {first} – {last}"},
    "part_ref": {"it": "Parte {page} di {pages} ({first}–{last})", "en": "Part {page} of {pages} ({first}–{last})",
                 "de": "Teil {page} von {pages} ({first}–{last})", "fr": "Partie {page} sur {pages} ({first}–{last})"},
}

TYPES: dict[str, dict[str, str]] = {
    "document": {"it": "documento", "en": "document", "de": "Dokument", "fr": "document"},
    "book": {"it": "libro", "en": "book", "de": "Buch", "fr": "livre"},
    "newspaper": {"it": "giornale", "en": "newspaper", "de": "Zeitung", "fr": "journal"},
    "periodical": {"it": "periodico", "en": "periodical", "de": "Zeitschrift", "fr": "périodique"},
    "photograph": {"it": "fotografia", "en": "photograph", "de": "Fotografie", "fr": "photographie"},
    "map": {"it": "carta geografica", "en": "map", "de": "Karte", "fr": "carte"},
    "object": {"it": "oggetto", "en": "object", "de": "Objekt", "fr": "objet"},
}

_LANGUAGE_NAMES: dict[str, dict[str, str]] = {
    "it": {"it": "italiano", "en": "Italian", "de": "Italienisch", "fr": "italien"},
    "en": {"it": "inglese", "en": "English", "de": "Englisch", "fr": "anglais"},
    "de": {"it": "tedesco", "en": "German", "de": "Deutsch", "fr": "allemand"},
    "fr": {"it": "francese", "en": "French", "de": "Französisch", "fr": "français"},
    "es": {"it": "spagnolo", "en": "Spanish", "de": "Spanisch", "fr": "espagnol"},
    "la": {"it": "latino", "en": "Latin", "de": "Latein", "fr": "latin"},
}
_ISO639_2 = {"ita": "it", "eng": "en", "deu": "de", "ger": "de", "fra": "fr", "fre": "fr", "spa": "es", "lat": "la"}


def publication_languages(default_language: str, languages: Iterable[str]) -> tuple[str, ...]:
    """The default language first, then the others, once each."""
    return tuple(dict.fromkeys([default_language, *languages]))


def words(table: Mapping[str, str], languages: Iterable[str], **fmt: object) -> LangMap:
    """One entry per language we have words for; English if none of them is known."""
    out = {lang: [table[lang].format(**fmt)] for lang in languages if lang in table}
    return out or {FALLBACK: [table[FALLBACK].format(**fmt)]}


def field_label(name: str, languages: Iterable[str]) -> LangMap:
    return words(FIELDS[name], languages)


def ocr_label(ocr_format: str, engine: str | None, languages: Iterable[str]) -> LangMap:
    """A canvas's seeAlso label: the format, or that it is machine OCR by ``engine`` ("Tesseract 5.3.0")."""
    return words(FIELDS["machine_ocr"], languages, engine=engine) if engine else field_label(ocr_format, languages)


def top_label(name: str, languages: Iterable[str]) -> LangMap:
    """The root collection's label: the provider's name and what the collection is, per language."""
    return words(FIELDS["top"], languages, name=name)


def page_label(n: int, languages: Iterable[str]) -> LangMap:
    return words(FIELDS["page"], languages, n=n)


def type_value(kind: str, languages: Iterable[str]) -> LangMap:
    return words(TYPES[kind], languages) if kind in TYPES else {lang: [kind] for lang in languages}


def date_value(date: DateValue, languages: Iterable[str]) -> LangMap:
    """'3 gennaio 1878' / '3 January 1878'; ranges of years stay '1300–1399'."""
    return {lang: [date.label(lang)] for lang in languages}


def language_value(codes: Iterable[str], languages: Iterable[str]) -> LangMap:
    """Language names for ISO 639 codes we know; other codes are shown as written."""
    languages = list(languages)
    out: LangMap = {}
    for code in codes:
        names = _LANGUAGE_NAMES.get(_ISO639_2.get(code, code), {})
        for lang in languages:
            out.setdefault(lang, []).append(names.get(lang, code))
    return out
