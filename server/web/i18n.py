"""The visitor's language: chosen per request, remembered in a cookie, catalogs compiled at startup.

Choice, first match wins: ``?lang=`` (then remembered in the ``lang`` cookie), the cookie, the
browser's ``Accept-Language``, the publication's default language. Source strings are English;
``translations/<lang>/LC_MESSAGES/messages.po`` holds the other languages. The ``.po`` files are
compiled in memory when the app starts, so a clean clone needs no build step and no binary
``.mo`` file can drift from its source.
"""
from __future__ import annotations

import gettext as _gettext_mod
from collections.abc import Mapping, Sequence
from datetime import date
from io import BytesIO
from pathlib import Path
from typing import Any

from babel.dates import format_date, format_skeleton
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from flask import Flask, Response, current_app, g, has_request_context, request

from ..headers import CACHE_PRIVATE

TRANSLATIONS = Path(__file__).resolve().parent / "translations"
SOURCE_LANGUAGE = "en"
COOKIE = "lang"
COOKIE_MAX_AGE = 365 * 24 * 3600


def load_catalogs(folder: Path = TRANSLATIONS) -> dict[str, _gettext_mod.NullTranslations]:
    """Every ``<lang>/LC_MESSAGES/messages.po`` compiled to a translations object (fuzzy entries skipped)."""
    catalogs: dict[str, _gettext_mod.NullTranslations] = {SOURCE_LANGUAGE: _gettext_mod.NullTranslations()}
    for po in sorted(folder.glob("*/LC_MESSAGES/messages.po")):
        lang = po.parent.parent.name
        with open(po, "rb") as f:
            catalog = read_po(f, locale=lang)
        buffer = BytesIO()
        write_mo(buffer, catalog)
        buffer.seek(0)
        catalogs[lang] = _gettext_mod.GNUTranslations(buffer)
    return catalogs


def ui_languages(app: Flask) -> tuple[str, ...]:
    return app.extensions["heritage.i18n"]["languages"]


def default_language(app: Flask) -> str:
    return app.extensions["heritage.i18n"]["default"]


def select_locale() -> str:
    """The language of this request's page (memoised on ``g``)."""
    if not has_request_context():
        return default_language(current_app)
    cached = g.get("heritage_locale")
    if cached:
        return str(cached)
    languages = ui_languages(current_app)
    chosen = request.args.get("lang", "")
    if chosen not in languages:
        chosen = request.cookies.get(COOKIE, "")
    if chosen not in languages:
        chosen = request.accept_languages.best_match(languages) or ""
    if chosen not in languages:
        chosen = default_language(current_app)
    g.heritage_locale = chosen
    return chosen


def _translations() -> _gettext_mod.NullTranslations:
    catalogs = current_app.extensions["heritage.i18n"]["catalogs"]
    return catalogs.get(select_locale()) or catalogs[SOURCE_LANGUAGE]


def gettext(message: str, **variables: Any) -> str:
    """Translate ``message`` into the request's language; ``%(name)s`` placeholders filled in."""
    text = _translations().gettext(message)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, num: int, **variables: Any) -> str:
    text = _translations().ngettext(singular, plural, num)
    return text % {"num": num, **variables}


_ = gettext


def remember_choice(response: Response) -> Response:
    """``?lang=xx`` on any page: keep the choice in a cookie (a private response: it sets one)."""
    chosen = request.args.get("lang")
    if response.mimetype != "text/html":
        return response
    if chosen and chosen in ui_languages(current_app) and request.cookies.get(COOKIE) != chosen:
        response.set_cookie(COOKIE, chosen, max_age=COOKIE_MAX_AGE, samesite="Lax", httponly=True,
                            secure=request.is_secure, path=(request.script_root or "") + "/")
        response.headers["Cache-Control"] = CACHE_PRIVATE
    return response


# --------------------------------------------------------------------------- language maps


def pick(language_map: Mapping[str, Sequence[str]] | None, lang: str | None = None) -> list[str]:
    """Values of an IIIF language map in the visitor's language, else the default, else any."""
    if not language_map:
        return []
    lang = lang or select_locale()
    for key in (lang, default_language(current_app), "none", SOURCE_LANGUAGE, *language_map.keys()):
        values = language_map.get(key)
        if values:
            return [str(v) for v in values]
    return []


def pick_lang(language_map: Mapping[str, Sequence[str]] | None, lang: str | None = None) -> str | None:
    """The language key :func:`pick` used (for a ``lang`` attribute when it differs from the page)."""
    if not language_map:
        return None
    lang = lang or select_locale()
    for key in (lang, default_language(current_app), "none", SOURCE_LANGUAGE, *language_map.keys()):
        if language_map.get(key):
            return None if key == "none" else key
    return None


def pick_one(language_map: Mapping[str, Sequence[str]] | None, fallback: str = "", sep: str = "; ") -> str:
    values = pick(language_map)
    return sep.join(values) if values else fallback


# --------------------------------------------------------------------------- dates and numbers


def format_iso_date(text: str | None) -> str:
    """'1878-10-06' → '6 ottobre 1878' / 'October 6, 1878'; '1784-12' → 'dicembre 1784'; ranges too."""
    if not text:
        return ""
    from ..holdings.model import DatePart
    locale = select_locale()
    parts = []
    for piece in text.split("/"):
        try:
            part = DatePart.parse(piece.strip())
        except ValueError:
            return text
        parts.append(_format_part(part.year, part.month, part.day, locale))
    return " – ".join(parts)


def _format_part(year: int, month: int | None, day: int | None, locale: str) -> str:
    if day and month:
        return format_date(date(year, month, day), "long", locale=locale)
    if month:
        return format_skeleton("yMMMM", date(year, month, 1), locale=locale)
    return str(year)


def month_name(month: int) -> str:
    """Stand-alone month name, capitalised for a list: 'Ottobre', 'October'."""
    from babel import Locale
    name = Locale.parse(select_locale()).months["stand-alone"]["wide"][month]
    return name[:1].upper() + name[1:]


def format_number(value: int) -> str:
    return format_decimal(value, locale=select_locale())


def language_name(code: str, in_language: str | None = None) -> str:
    """'it' → 'Italiano' (in its own language by default), for the switcher."""
    from babel import Locale
    try:
        name = Locale.parse(code).get_display_name(in_language or code) or code
    except (ValueError, TypeError):
        return code
    return name[:1].upper() + name[1:]


# --------------------------------------------------------------------------- codes shown as words


def type_name(code: str) -> str:
    """An item type in the visitor's language ('periodical' → 'Periodico'); unknown codes as written.
    The item page and the search facets both show types through this."""
    from .describe import TYPE_NAMES
    return gettext(TYPE_NAMES[code]) if code in TYPE_NAMES else code


def language_label(code: str) -> str:
    """A language code as the item page's metadata names it ('it' → 'italiano' / 'Italian')."""
    from ..presentation.labels import language_value
    locale = select_locale()
    return language_value([code], [locale])[locale][0]


def init_app(app: Flask) -> None:
    """Compile the catalogs, choose the UI languages, install gettext into Jinja."""
    catalogs = load_catalogs()
    settings = app.config["SETTINGS"]
    languages = tuple(lang for lang in settings.languages if lang in catalogs) or (SOURCE_LANGUAGE,)
    default = settings.default_language if settings.default_language in languages else languages[0]
    app.extensions["heritage.i18n"] = {"catalogs": catalogs, "languages": languages, "default": default}
    app.jinja_env.add_extension("jinja2.ext.i18n")
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=lambda s, **kw: _translations().gettext(s),
        ngettext=lambda s, p, n, **kw: _translations().ngettext(s, p, n),
        newstyle=True,
    )
    app.after_request(remember_choice)
