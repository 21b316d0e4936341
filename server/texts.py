"""Messages of the command line and of the ingest report, in the operator's language (Italian or English).

Code that reports (the holdings reader, ingest) builds its messages with :func:`N_` and
:func:`Nn_`: each is a :class:`Text`, a ``str`` whose value is the English message (so logs,
tests and ``in`` checks read English as before) that also remembers its msgid and parameters, so
the command line can render it later in the operator's language. Those modules never look at the
environment; only :func:`cli_language` does.

The translations are the public site's Babel catalogs (``server/web/translations/<lang>/
LC_MESSAGES/messages.po``), compiled in memory as the site does; ``python -m server.web.messages``
extracts these msgids too. The language: ``HERITAGE_UI_LANGUAGE`` (``it``, ``en``, or a locale
name such as ``it_IT.UTF-8``), else the first of ``LC_ALL``, ``LC_MESSAGES``, ``LANG`` that is set,
as POSIX orders them; a language without a catalog (``C``, ``POSIX``, ``de_DE``…) is English.
"""
from __future__ import annotations

import gettext
import os
from collections.abc import Mapping
from functools import lru_cache
from typing import Any, Self

SOURCE_LANGUAGE = "en"
_NULL = gettext.NullTranslations()


class Text(str):
    """An English message that can still be rendered in another language (see :func:`render`)."""

    msgid: str
    plural: str | None
    n: int | None
    params: dict[str, Any]

    def __new__(cls, msgid: str, params: dict[str, Any], plural: str | None = None, n: int | None = None) -> Self:
        obj = super().__new__(cls, _format(_NULL, msgid, plural, n, params))
        obj.msgid, obj.plural, obj.n, obj.params = msgid, plural, n, params
        return obj

    def __reduce__(self) -> tuple[Any, ...]:  # a str subclass with attributes: keep them across processes
        return (Text, (self.msgid, self.params, self.plural, self.n))


def N_(msgid: str, **params: Any) -> Text:
    """A message with ``%(name)s`` placeholders, translated when it is shown."""
    return Text(msgid, params)


def Nn_(singular: str, plural: str, n: int, **params: Any) -> Text:
    """A message with a plural form chosen by ``n`` (also available as ``%(num)s``)."""
    return Text(singular, params, plural, n)


def _format(translations: gettext.NullTranslations, msgid: str, plural: str | None, n: int | None,
            params: dict[str, Any]) -> str:
    if plural is not None and n is not None:
        template = translations.ngettext(msgid, plural, n)
        values = {"num": n, **params}
    else:
        template = translations.gettext(msgid)
        values = params
    rendered = {k: render(v, translations) if isinstance(v, Text) else v for k, v in values.items()}
    return template % rendered if rendered else template


def render(text: object, translations: gettext.NullTranslations | None = None) -> str:
    """``text`` in the language of ``translations`` (default: the command line's); plain strings as they are."""
    if not isinstance(text, Text):
        return str(text)
    return _format(translations or cli_translations(), text.msgid, text.plural, text.n, text.params)


@lru_cache(maxsize=1)
def _catalogs() -> dict[str, gettext.NullTranslations]:
    from .web.i18n import load_catalogs
    return load_catalogs()


def cli_language(environ: Mapping[str, str] | None = None) -> str:
    """The operator's language code: one we have a catalog for, else English."""
    env = os.environ if environ is None else environ
    chosen = env.get("HERITAGE_UI_LANGUAGE", "").strip()
    if not chosen:
        chosen = next((env[v] for v in ("LC_ALL", "LC_MESSAGES", "LANG") if env.get(v, "").strip()), "")
    code = chosen.split(".")[0].split("@")[0].replace("-", "_").split("_")[0].strip().lower()
    return code if code in _catalogs() else SOURCE_LANGUAGE


def cli_translations(environ: Mapping[str, str] | None = None) -> gettext.NullTranslations:
    return _catalogs()[cli_language(environ)]
