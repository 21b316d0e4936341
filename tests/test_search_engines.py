"""The engine interface's settings, and the read side's independence from the writer."""
from __future__ import annotations

import subprocess
import sys

import pytest

from server.search.engines import EngineSettings
from tests.conftest import ROOT


def test_settings_from_the_environment() -> None:
    assert EngineSettings.from_env({}) == EngineSettings("whoosh", None, "heritage")
    solr = EngineSettings.from_env({"HERITAGE_SEARCH": "Solr", "HERITAGE_SOLR_URL": "http://s:8983/solr/",
                                    "HERITAGE_SOLR_COLLECTION": "archivio"})
    assert solr == EngineSettings("solr", "http://s:8983/solr", "archivio")
    with pytest.raises(ValueError, match="HERITAGE_SOLR_URL"):
        EngineSettings.from_env({"HERITAGE_SEARCH": "solr"})
    with pytest.raises(ValueError, match="whoosh, solr"):
        EngineSettings.from_env({"HERITAGE_SEARCH": "elastic"})


def test_the_read_side_never_imports_the_writer() -> None:
    code = ("import sys, server, server.search.views, server.search.site, server.search.service; "
            "print(sorted(m for m in sys.modules if m in ('server.search.writer', 'server.search.whoosh.writer', "
            "'server.search.solr.writer', 'whoosh.writing')))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
