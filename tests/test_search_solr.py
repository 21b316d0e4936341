"""The Solr engine against a real SolrCloud (``scripts/solr-cloud``): generations stay consistent
when an ingest is SIGKILLed, a one-item change re-indexes that item only, an unreachable Solr is a
503 for search while the rest of the site works, and losing a node under query load loses nothing.

The search behaviour itself (Content Search, autocomplete, site search, facets …) is tested on both
engines by the parametrized modules (``tests/search_engines.py``).
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from server import create_app
from server.publication import switch_current
from server.search import SearchService, SiteQuery, site_search
from server.search.engines import EngineSettings
from server.search.solr.client import SolrClient
from server.search.solr.setup import setup
from server.search.solr.writer import publication_id
from server.search.urls import SearchUrls
from tests.conftest import DEMO, ROOT, free_port, ingest
from tests.search_engines import COLLECTION, solr_url  # noqa: F401
from tests.test_search_writer import build, page

URLS = SearchUrls("http://localhost")


@pytest.fixture()
def solr(solr_url: str, monkeypatch: pytest.MonkeyPatch) -> SolrClient:  # noqa: F811
    monkeypatch.setenv("HERITAGE_SEARCH", "solr")
    monkeypatch.setenv("HERITAGE_SOLR_URL", solr_url)
    monkeypatch.setenv("HERITAGE_SOLR_COLLECTION", COLLECTION)
    return SolrClient(solr_url, COLLECTION)


def raw_count(client: SolrClient, q: str) -> int:
    """Documents in the collection, whatever generation lists them."""
    return int(client.select({"q": q, "rows": 0})["response"]["numFound"])


def site_total(gen: Path, q: str) -> int:
    return site_search(SearchService(gen), URLS, SiteQuery(q)).total_pages


KILLED_INGEST = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from server.search import SearchIndexWriter
    from server.search.solr import writer as solr_writer
    from tests.test_search_writer import item, page
    solr_writer.BATCH = 5
    gen, previous = Path(sys.argv[1]), Path(sys.argv[2])
    gen.mkdir()
    writer = SearchIndexWriter(gen, previous)
    writer.add_item(item("a"), [page(n, "nuovo testo di Venezia") for n in range(1, 41)])
    writer._engine.client.update({"commit": {}})  # as if another publication's commit made them visible
    print("indexed", flush=True)
    time.sleep(600)
""")


def test_sigkilled_ingest_never_changes_what_the_served_generation_answers(solr: SolrClient, tmp_path: Path) -> None:
    manifests = tmp_path / "manifests"
    g1, g2, g3 = manifests / "gen-1", manifests / "gen-2", manifests / "gen-3"
    build(g1, None, {"a": [page(1, "vecchio testo di Firenze")], "b": [page(1, "Milano e Torino")]})
    switch_current(manifests, g1)
    served = SearchService(g1)
    assert served.search_item("a", "firenze").total_hits == 1 and site_total(g1, "testo") == 1

    proc = subprocess.Popen([sys.executable, "-c", KILLED_INGEST, str(g2), str(g1)], cwd=ROOT, env=os.environ.copy(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "indexed", proc.stderr
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    pub = publication_id(manifests)
    # the killed ingest's pages are in Solr and searchable (the batches it had sent when it was killed: the
    # writer sends them in the background, so not necessarily all 40)
    assert 0 < raw_count(solr, f"+pub:{pub} +f:venezia") <= 40
    # … yet the served generation answers exactly as before
    assert site_total(g1, "venezia") == 0 and site_total(g1, "testo") == 1 and site_total(g1, "*") == 2
    assert served.search_item("a", "venezia").total_hits == 0
    assert SearchService(g1).search_item("a", "firenze").total_hits == 1

    # the next ingest collects what no generation on disk lists (the killed one wrote no description)
    build(g3, g1, {"a": [page(1, "testo rifatto")]}, keep=("b",))
    assert raw_count(solr, f"+pub:{pub} +f:venezia") == 0
    assert raw_count(solr, f"+pub:{pub} +f:firenze") == 1  # still listed by gen-1, which is on disk
    assert site_total(g3, "testo") == 1 and site_total(g3, "firenze") == 0 and site_total(g3, "milano") == 1


def test_a_one_item_change_reindexes_that_item_only(solr: SolrClient, tmp_path: Path) -> None:
    manifests = tmp_path / "manifests"
    g1, g2 = manifests / "gen-1", manifests / "gen-2"
    build(g1, None, {"a": [page(1, "primo")], "b": [page(n, "secondo") for n in (1, 2, 3)], "c": [page(1, "terzo")]})
    pub = publication_id(manifests)
    before = raw_count(solr, f"pub:{pub}")
    writer = build(g2, g1, {"b": [page(1, "secondo cambiato")]}, keep=("a", "c"))
    assert writer.pages_added == 1
    assert raw_count(solr, f"pub:{pub}") == before + 1  # one new document; nothing else re-sent
    old, new = SearchService(g1), SearchService(g2)
    versions_old, versions_new = old.engine.versions, new.engine.versions  # type: ignore[union-attr]
    assert versions_new["a"] == versions_old["a"] and versions_new["c"] == versions_old["c"]
    assert versions_new["b"] != versions_old["b"]
    assert new.search_item("b", "cambiato").total_hits == 1 and old.search_item("b", "cambiato").total_hits == 0
    assert site_total(g2, "secondo") == 1 and site_total(g1, "secondo") == 3


def test_phrases_are_exact_site_wide(solr: SolrClient, tmp_path: Path) -> None:
    """Solr keeps positions: a phrase never counts a page where its words occur apart (Whoosh's
    site-wide counts may, beyond the pages it can verify)."""
    gen = tmp_path / "manifests" / "gen-1"
    build(gen, None, {"a": [page(n, "la questione di Firenze") for n in range(1, 4)]
                      + [page(n, "Firenze e la questione") for n in range(4, 9)]})
    assert site_total(gen, '"questione di firenze"') == 3
    assert site_total(gen, '"firenze e la"') == 5


def test_documents_are_kept_only_where_they_are(solr: SolrClient, solr_url: str, tmp_path: Path,  # noqa: F811
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """An ingest into another collection (``HERITAGE_SOLR_COLLECTION`` changed: a new cluster, a new
    configset), or into one emptied since, indexes every item again instead of listing versions the
    collection does not hold; the generation served meanwhile keeps answering from its own."""
    from server.search import SearchIndexWriter
    from tests.test_search_writer import item
    pages = {"a": [page(1, "vecchio testo di Firenze")], "b": [page(1, "Milano e Torino")]}
    manifests = tmp_path / "manifests"
    g1, g2, g3, g4 = (manifests / f"gen-{n}" for n in range(1, 5))
    build(g1, None, pages)
    other = f"{COLLECTION}-moved-{os.getpid()}"
    moved = SolrClient(solr_url, other)
    setup(moved)
    try:
        monkeypatch.setenv("HERITAGE_SOLR_COLLECTION", other)

        def ingest_again(gen: Path, previous: Path) -> list[str]:
            kept = []
            gen.mkdir()
            with SearchIndexWriter(gen, previous) as writer:
                for item_id, item_pages in pages.items():
                    if writer.keep_item(item(item_id)):
                        kept.append(item_id)
                    else:  # as ingest does: the item's pages from the previous publication
                        writer.add_item(item(item_id), item_pages)
            return kept

        assert ingest_again(g2, g1) == []  # the other collection holds none of gen-1's documents
        assert SearchService(g2).search_item("a", "firenze").total_hits == 1 and site_total(g2, "milano") == 1
        assert site_total(g1, "milano") == 1 and raw_count(solr, "f:milano") >= 1  # gen-1: from its own collection
        assert ingest_again(g3, g2) == ["a", "b"]  # where they are: kept
        moved.update({"delete": {"query": "*:*"}, "commit": {}})  # the collection emptied (recreated …)
        assert site_total(g3, "milano") == 0
        assert ingest_again(g4, g3) == []
        assert site_total(g4, "milano") == 1 and SearchService(g4).search_item("a", "firenze").total_hits == 1
    finally:
        moved.request("GET", "admin/collections", params={"action": "DELETE", "name": other, "wt": "json"})


def test_solr_setup_command_creates_and_updates(solr_url: str) -> None:  # noqa: F811
    name = f"setup-test-{os.getpid()}"
    run = [sys.executable, "-m", "server.cli", "solr-setup", "--url", solr_url, "--collection", name]
    first = subprocess.run(run, cwd=ROOT, check=False, capture_output=True, text=True, timeout=300)
    again = subprocess.run(run, cwd=ROOT, check=False, capture_output=True, text=True, timeout=300)
    try:
        assert first.returncode == 0 and "created" in first.stdout, first.stderr
        assert again.returncode == 0 and "updated" in again.stdout, again.stderr
    finally:
        SolrClient(solr_url, name).request("GET", "admin/collections",
                                           params={"action": "DELETE", "name": name, "wt": "json"})
    bad = subprocess.run([*run[:4], "--url", "http://127.0.0.1:1/solr"], cwd=ROOT, check=False, capture_output=True, text=True,
                         timeout=60)
    assert bad.returncode != 0 and "Solr cannot be reached" in bad.stderr


@pytest.fixture(scope="module")
def demo_in_solr(tmp_path_factory: pytest.TempPathFactory, solr_url: str) -> Path:  # noqa: F811
    data = tmp_path_factory.mktemp("demo-solr")
    env = {"HERITAGE_SEARCH": "solr", "HERITAGE_SOLR_URL": solr_url, "HERITAGE_SOLR_COLLECTION": COLLECTION}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        result = ingest(DEMO, data)
    finally:
        for k, v in saved.items():
            os.environ.pop(k) if v is None else os.environ.__setitem__(k, v)
    assert result.returncode == 0, result.stdout + result.stderr
    return data


RASSEGNA = "periodical-ita-rassegna-settimanale-1878-10-06"


def test_unreachable_solr_is_a_503_for_search_only(demo_in_solr: Path, solr_url: str,  # noqa: F811
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HERITAGE_SOLR_URL", solr_url)
    client = create_app({"data": demo_in_solr, "base_url": "http://heritage.test"}).test_client()
    hits = client.get(f"/iiif/search/2/{RASSEGNA}?q=comune").get_json()["items"]
    assert hits  # ingest indexed into Solr
    assert client.get("/search.json?q=comune").get_json()["total"] == 1

    monkeypatch.setenv("HERITAGE_SOLR_URL", f"http://127.0.0.1:{free_port()}/solr")  # nobody listens there
    from server.search import service as service_module
    from server.search.service import _services
    _services.clear()  # a running server would be restarted with the new setting
    client = create_app({"data": demo_in_solr, "base_url": "http://heritage.test"}).test_client()
    # an item of a few pages is searched on the word store alone: it still answers, the same hits
    published = client.application.extensions["heritage.store"].current().root
    assert len(service_module.service_for(published).page_numbers(RASSEGNA)) <= service_module.SCAN_PAGES
    assert client.get(f"/iiif/search/2/{RASSEGNA}?q=comune").get_json()["items"] == hits
    monkeypatch.setattr(service_module, "SCAN_PAGES", 0)  # as for any larger item: the engine is asked
    _services.clear()
    for url in (f"/iiif/search/2/{RASSEGNA}?q=comune", f"/iiif/search/1/{RASSEGNA}?q=comune",
                "/search.json?q=comune", "/search?q=comune"):
        r = client.get(url)
        assert r.status_code == 503, url
        if r.is_json:
            assert "search is unavailable" in r.get_json()["message"]
    assert client.get(f"/iiif/search/2/{RASSEGNA}/autocomplete?q=com").status_code == 200  # the word store answers
    assert client.get(f"/iiif/3/{RASSEGNA}/manifest").status_code == 200
    assert client.get("/").status_code == 200
    manifest = client.get(f"/iiif/3/{RASSEGNA}/manifest").get_json()
    service = manifest["items"][0]["items"][0]["items"][0]["body"]["service"][0]
    image = service.get("id") or service.get("@id")
    assert client.get(image.replace("http://heritage.test", "") + "/info.json").status_code == 200

    monkeypatch.delenv("HERITAGE_SOLR_URL")  # not configured at all: the same, with the reason
    _services.clear()
    client = create_app({"data": demo_in_solr, "base_url": "http://heritage.test"}).test_client()
    r = client.get("/search.json?q=comune")
    assert r.status_code == 503 and "HERITAGE_SOLR_URL" in r.get_json()["message"]
    assert client.get(f"/iiif/3/{RASSEGNA}/manifest").status_code == 200
    _services.clear()


@pytest.mark.parametrize(("lang", "title", "says"), [
    ("en", "Search is unavailable right now", "Collections, items, pages and images work as usual"),
    ("it", "La ricerca non è disponibile in questo momento", "Collezioni, documenti, pagine e immagini funzionano"),
])
def test_unreachable_solr_search_page_says_why_in_the_visitors_language(
        demo_in_solr: Path, monkeypatch: pytest.MonkeyPatch, lang: str, title: str, says: str) -> None:
    """The researchers' page is a 503 that names search as what is down, not a generic error."""
    monkeypatch.setenv("HERITAGE_SOLR_URL", f"http://127.0.0.1:{free_port()}/solr")  # nobody listens there
    from server.search.service import _services
    _services.clear()
    client = create_app({"data": demo_in_solr, "base_url": "http://heritage.test"}).test_client()
    r = client.get(f"/search?q=comune&lang={lang}")
    html = r.get_data(as_text=True)
    assert r.status_code == 503 and r.content_type.startswith("text/html")
    assert title in html and says in html
    assert "Something went wrong" not in html and "Qualcosa è andato storto" not in html
    assert client.get(f"/iiif/3/{RASSEGNA}/manifest").status_code == 200
    assert client.get(f"/?lang={lang}").status_code == 200
    _services.clear()


# ----------------------------------------------------------------------------- a node dies under load
@pytest.fixture(scope="module")
def own_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A cluster of its own (two nodes), since one of its nodes gets killed."""
    if not os.environ.get("HERITAGE_TEST_SOLR_URL"):
        from tests.search_engines import IN_CI
        if IN_CI:
            pytest.fail("no SolrCloud harness in CI")
        pytest.skip("no SolrCloud: HERITAGE_TEST_SOLR_URL is not set (scripts/test starts one)")
    folder = tmp_path_factory.mktemp("solr-faults")
    port = free_port_block()
    script = str(ROOT / "scripts" / "solr-cloud")
    started = subprocess.run([script, "start", "--port", str(port), "--dir", str(folder), "--heap", "512m"],
                             check=False, capture_output=True, text=True, timeout=400)
    assert started.returncode == 0, started.stderr
    try:
        yield started.stdout.strip(), folder
    finally:
        subprocess.run([script, "stop", "--port", str(port), "--dir", str(folder)], check=False, capture_output=True, timeout=120)


def free_port_block() -> int:
    """A port P with P, P+1 (nodes) and P+1000 (ZooKeeper) free."""
    import socket
    for _ in range(50):
        p = free_port()
        if p > 60000:
            continue
        ok = True
        for q in (p + 1, p + 1000):
            with socket.socket() as s:
                try:
                    s.bind(("127.0.0.1", q))
                except OSError:
                    ok = False
        if ok:
            return p
    raise RuntimeError("no free ports")


def test_killing_a_node_under_query_load_loses_no_query(own_cluster: tuple[str, Path], tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    url, folder = own_cluster
    node1 = url.replace(url.split(":")[2].split("/")[0], str(int(url.split(":")[2].split("/")[0]) + 1))
    both = f"{url},{node1}"  # HERITAGE_SOLR_URL may list the nodes: a dead one is skipped
    setup(SolrClient(both, "faults"), shards=1, replicas=2)
    monkeypatch.setenv("HERITAGE_SEARCH", "solr")
    monkeypatch.setenv("HERITAGE_SOLR_URL", both)
    monkeypatch.setenv("HERITAGE_SOLR_COLLECTION", "faults")
    gen = tmp_path / "manifests" / "gen-1"
    build(gen, None, {f"i{k}": [page(n, f"il comune di Firenze numero {k} pagina {n}") for n in range(1, 6)]
                      for k in range(20)})
    service = SearchService(gen, EngineSettings.from_env())
    errors: list[BaseException] = []
    answered = [0]
    stop = threading.Event()

    def load() -> None:
        k = 0
        while not stop.is_set():
            k += 1
            try:
                assert site_search(service, URLS, SiteQuery("comune firenze")).total == 20
                service._hits.__init__(32)  # type: ignore[misc]  # no cached hits: ask Solr every time
                assert service.search_item(f"i{k % 20}", '"comune di firenze"').total_hits == 5
                answered[0] += 1
            except BaseException as exc:  # noqa: BLE001 - every failure counts
                errors.append(exc)

    threads = [threading.Thread(target=load) for _ in range(3)]
    for t in threads:
        t.start()
    try:
        deadline = time.monotonic() + 60
        while answered[0] < 10 and time.monotonic() < deadline:
            time.sleep(0.1)
        os.kill(int((folder / "node-1.pid").read_text()), signal.SIGKILL)
        before = answered[0]
        while answered[0] < before + 30 and time.monotonic() < deadline + 60:
            time.sleep(0.1)
    finally:
        stop.set()
        for t in threads:
            t.join(120)
    assert not errors, errors[:3]
    assert answered[0] >= before + 30  # it kept answering after the kill



def test_solr_stems_italian_as_the_word_store_does(solr: SolrClient) -> None:
    """The configset's Italian chain and the project's (which locates hits) agree on every word of
    the real sample, so both engines match the same pages."""
    from server.ocr import parse_ocr
    from server.search.analysis import stem, tokens
    from tests.conftest import SAMPLE
    folder = SAMPLE / "items" / RASSEGNA
    words = sorted({t for n in (1, 2, 3) for w in parse_ocr(folder / f"000{n}.hocr", 2300, 3400).words
                    for t in tokens(w.text)})
    assert len(words) > 1000
    differ = []
    for i in range(0, len(words), 300):
        chunk = words[i:i + 300]
        found = solr.request("POST", f"{COLLECTION}/analysis/field", data={
            "analysis.fieldtype": "text_it", "analysis.fieldvalue": " ".join(chunk), "wt": "json"})
        solr_stems = [t["text"] for t in found["analysis"]["field_types"]["text_it"]["index"][-1]]
        assert len(solr_stems) == len(chunk)  # nothing dropped, nothing split
        differ += [(w, s) for w, s in zip(chunk, solr_stems) if s != stem(w, "it")]
    assert differ == []
