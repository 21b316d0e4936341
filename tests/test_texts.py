"""The command line's language and its deferred, translatable messages (server/texts.py)."""
from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from server.holdings.model import Problem
from server.ingest.report import IngestReport, describe
from server.texts import N_, Nn_, Text, cli_language, cli_translations, render


@pytest.mark.parametrize("env, lang", [
    ({"HERITAGE_UI_LANGUAGE": "it", "LANG": "en_US.UTF-8"}, "it"),
    ({"HERITAGE_UI_LANGUAGE": "en", "LC_ALL": "it_IT.UTF-8"}, "en"),
    ({"HERITAGE_UI_LANGUAGE": "it_IT.UTF-8"}, "it"),
    ({"HERITAGE_UI_LANGUAGE": "", "LANG": "it_IT.UTF-8"}, "it"),
    ({"LC_ALL": "C.UTF-8", "LC_MESSAGES": "it_IT.UTF-8", "LANG": "it_IT.UTF-8"}, "en"),  # LC_ALL first
    ({"LC_MESSAGES": "it_CH.UTF-8", "LANG": "en_US.UTF-8"}, "it"),
    ({"LANG": "it_IT@euro"}, "it"),
    ({"LANG": "de_DE.UTF-8"}, "en"),  # no German catalog
    ({"LANG": "C"}, "en"),
    ({"LANG": "POSIX"}, "en"),
    ({}, "en"),
    ({"HERITAGE_UI_LANGUAGE": "../../etc/passwd"}, "en"),
])
def test_cli_language(env: dict[str, str], lang: str) -> None:
    assert cli_language(env) == lang


def test_a_text_is_english_until_rendered() -> None:
    msg = N_("item %(id)r: %(error)s", id="x", error=N_("no title"))
    assert isinstance(msg, Text) and msg == "item 'x': no title" and "no title" in msg
    it = cli_translations({"LANG": "it_IT.UTF-8"})
    assert render(msg, it) == "documento 'x': manca il titolo"
    assert render("plain text", it) == "plain text"
    assert pickle.loads(pickle.dumps(msg)).msgid == msg.msgid


@pytest.mark.parametrize("n, en, it", [(0, "0 errors", "0 errori"), (1, "1 error", "1 errore"),
                                       (2, "2 errors", "2 errori")])
def test_plural_forms(n: int, en: str, it: str) -> None:
    msg = Nn_("%(num)s error", "%(num)s errors", n)
    assert msg == en and render(msg, cli_translations({"LANG": "it_IT.UTF-8"})) == it


def test_report_summary_in_both_languages() -> None:
    report = IngestReport(items=1, pages=1, pyramids_built=1, items_skipped=1,
                          problems=[Problem("items.csv", 3, N_("row without an id")),
                                    Problem("items/x", None, N_("folder without a row in %(file)s: not published",
                                                                file="items.csv"), "x", "warning")])
    en = report.summary(cli_translations({"LANG": "C"})).splitlines()
    assert en[:2] == ["ERROR items.csv:3: row without an id",
                      "WARNING items/x: folder without a row in items.csv: not published"]
    assert en[2].startswith("published 1 item, 1 page (1 item unchanged, 1 pyramid built) in ")
    assert en[2].endswith("s; 1 warning, 1 error")
    it = report.summary(cli_translations({"LANG": "it_IT.UTF-8"})).splitlines()
    assert it[0] == "ERRORE items.csv:3: riga senza id"
    assert it[2].startswith("pubblicazione: 1 documento, 1 pagina (1 documento invariato, 1 piramide creata) in ")
    assert it[2].endswith(" s; 1 avviso, 1 errore")
    assert describe(report.problems[1], cli_translations({"LANG": "it_IT.UTF-8"})) == (
        "AVVISO items/x: cartella senza una riga in items.csv: non pubblicata")


def test_ocr_refusals_are_translatable(tmp_path: Path) -> None:
    from server.ocr import OCRError, parse_ocr
    bad = tmp_path / "p.hocr"
    bad.write_text('<?xml version="1.0"?>\n<!DOCTYPE html [<!ENTITY x "y">]>\n<html><body>&x;</body></html>',
                   encoding="utf-8")
    with pytest.raises(OCRError) as err:
        parse_ocr(bad, 10, 10)
    assert err.value.reason == "refused: the DOCTYPE declares entities (XXE / entity expansion)"
    assert render(err.value.reason, cli_translations({"LANG": "it_IT.UTF-8"})) == (
        "rifiutato: il DOCTYPE dichiara entità (XXE / espansione di entità)")


def test_translations_use_only_the_placeholders_of_their_msgid() -> None:
    """A typo in a msgstr placeholder would crash the Italian command line with a KeyError."""
    import re

    from babel.messages.pofile import read_po

    from server.web.i18n import TRANSLATIONS
    names = re.compile(r"%\((\w+)\)")
    with open(TRANSLATIONS / "it" / "LC_MESSAGES" / "messages.po", "rb") as f:
        catalog = read_po(f, locale="it")
    for message in catalog:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, (tuple, list)) else (message.id,)
        strings = message.string if isinstance(message.string, (tuple, list)) else (message.string,)
        allowed = {n for i in ids for n in names.findall(i)} | ({"num"} if len(ids) > 1 else set())
        for s in strings:
            assert set(names.findall(s)) <= allowed, (message.id, s)
