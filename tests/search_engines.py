"""Run search tests against both engines: Whoosh (embedded) and a real SolrCloud.

``scripts/test`` starts the harness (``scripts/solr-cloud``) and exports its URL as
``HERITAGE_TEST_SOLR_URL``. Without it the Solr half is skipped — except in CI (``CI=true``), where a
missing Solr is a failure. Import the fixtures into a test module::

    from tests.search_engines import search_engine, solr_url  # noqa: F401
"""
from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from server.search.solr.client import SolrClient
from server.search.solr.setup import setup

COLLECTION = "heritage-test"
ENGINES = ("whoosh", "solr")
IN_CI = os.environ.get("CI", "").lower() == "true"


def test_solr_url() -> str | None:
    return (os.environ.get("HERITAGE_TEST_SOLR_URL") or "").strip() or None


test_solr_url.__test__ = False  # type: ignore[attr-defined]


@pytest.fixture(scope="session")
def solr_url() -> str:
    """The test SolrCloud's URL, with the test collection created (2 shards × 2 replicas)."""
    url = test_solr_url()
    if url is None:
        message = "no SolrCloud: HERITAGE_TEST_SOLR_URL is not set (scripts/test starts one)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    setup(SolrClient(url, COLLECTION), shards=2, replicas=2)
    return url


@pytest.fixture(scope="module", params=ENGINES)
def search_engine(request: pytest.FixtureRequest) -> Iterator[str]:
    """The engine this module's generations are indexed with (``HERITAGE_SEARCH`` and friends set
    for the module: the writer, the read side and ingest subprocesses read them)."""
    saved = {k: os.environ.get(k) for k in ("HERITAGE_SEARCH", "HERITAGE_SOLR_URL", "HERITAGE_SOLR_COLLECTION")}
    try:
        os.environ["HERITAGE_SEARCH"] = request.param
        if request.param == "solr":  # may skip (no cluster, outside CI): the environment is restored below
            os.environ["HERITAGE_SOLR_URL"] = request.getfixturevalue("solr_url")
            os.environ["HERITAGE_SOLR_COLLECTION"] = COLLECTION
        yield request.param
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
