"""Keeping the translation catalogs in step with the code: ``python -m server.web.messages``.

Extracts every translatable string of the public site (``_()``, ``gettext``, ``ngettext``, ``N_``
in ``server/web/*.py``; ``_()``/``ngettext``/``{% trans %}`` in ``templates/``) and of the command
line and ingest report (``N_``, ``Nn_`` in ``server/cli.py``, ``server/holdings/``, ``server/ingest/``, ``server/ocr/``) and merges them
into each ``translations/<lang>/LC_MESSAGES/messages.po``: new strings arrive empty, vanished ones
are dropped. Translate the empty ones, then run the tests (a test fails on any missing
translation). The same as ``pybabel extract -F server/web/babel.cfg -k N_`` + ``pybabel update``.
"""
from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po, write_po

from ..config import PROJECT_ROOT
from .i18n import TRANSLATIONS

KEYWORDS = {**DEFAULT_KEYWORDS, "N_": None, "gettext_py": None, "Nn_": (1, 2)}
METHODS = [
    ("server/web/**.py", "python"),
    ("templates/**.html", "jinja2"),
    # the command line and the ingest report (server/texts.py: N_, Nn_)
    ("server/cli.py", "python"),
    ("server/holdings/**.py", "python"),
    ("server/ingest/**.py", "python"),
    ("server/ocr/**.py", "python"),
    ("server/ingest/templates/**.html", "jinja2"),
]
OPTIONS = {"templates/**.html": {"extensions": "jinja2.ext.i18n"},
           "server/ingest/templates/**.html": {"extensions": "jinja2.ext.i18n"}}


def extract(root: Path = PROJECT_ROOT) -> Catalog:
    """Every translatable string of the public site, as a template catalog."""
    catalog = Catalog(project="Heritage Lab", fuzzy=False)
    for filename, lineno, message, comments, context in extract_from_dir(
        root, METHODS, options_map=OPTIONS, keywords=KEYWORDS, strip_comment_tags=True
    ):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog


def update(template: Catalog, languages: list[str] | None = None, folder: Path = TRANSLATIONS) -> list[Path]:
    """Merge ``template`` into the ``.po`` file of each language (created when missing)."""
    written = []
    for lang in languages or sorted(p.name for p in folder.iterdir() if (p / "LC_MESSAGES").is_dir()):
        po = folder / lang / "LC_MESSAGES" / "messages.po"
        if po.is_file():
            with open(po, "rb") as f:
                catalog = read_po(f, locale=lang)
        else:
            po.parent.mkdir(parents=True, exist_ok=True)
            catalog = Catalog(locale=lang, project="Heritage Lab")
        created = catalog.creation_date  # keep the header stable: no churn when nothing changed
        catalog.update(template, no_fuzzy_matching=True)
        catalog.creation_date = created
        catalog.obsolete.clear()
        with open(po, "wb") as f:
            write_po(f, catalog, width=100, no_location=True, sort_output=True, ignore_obsolete=True)
        written.append(po)
    return written


def untranslated(lang: str, template: Catalog | None = None, folder: Path = TRANSLATIONS) -> list[str]:
    """Strings of the code that ``lang``'s catalog lacks, leaves empty or marks fuzzy."""
    template = template or extract()
    with open(folder / lang / "LC_MESSAGES" / "messages.po", "rb") as f:
        catalog = read_po(f, locale=lang)
    missing = []
    for message in template:
        if not message.id:
            continue
        found = catalog.get(message.id, message.context)
        strings = found.string if found else None
        if isinstance(strings, (tuple, list)):
            ok = all(strings)
        else:
            ok = bool(strings)
        if not found or not ok or found.fuzzy:
            missing.append(message.id if isinstance(message.id, str) else message.id[0])
    return missing


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    template = extract()
    for po in update(template, args or None):
        print(f"updated {po.relative_to(PROJECT_ROOT)}")
    for po in sorted(TRANSLATIONS.glob("*/LC_MESSAGES/messages.po")):
        lang = po.parent.parent.name
        missing = untranslated(lang, template)
        if missing:
            print(f"{lang}: {len(missing)} untranslated: " + "; ".join(missing[:10]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
