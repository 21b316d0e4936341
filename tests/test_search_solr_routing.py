"""Page documents go straight to their shard's leader (:mod:`server.search.solr.routing`)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from server.search import SearchIndexWriter
from server.search.solr.client import SolrClient
from server.search.solr.routing import Shard, murmur3_32, shard_index, shards_of
from tests.search_engines import solr_url  # noqa: F401
from tests.test_search_solr import solr  # noqa: F401
from tests.test_search_writer import item, page


def test_murmur3_is_the_reference_hash() -> None:
    assert murmur3_32(b"") == 0
    assert murmur3_32(b"", 1) & 0xFFFFFFFF == 0x514E28B7
    assert murmur3_32(b"hello") & 0xFFFFFFFF == 0x248BFA47
    assert murmur3_32(b"The quick brown fox jumps over the lazy dog") & 0xFFFFFFFF == 0x2E4FF723
    assert murmur3_32(b"abc") == murmur3_32(b"abc", 0) and murmur3_32(b"abcd") != murmur3_32(b"abce")


def status(router: dict[str, str], leader_state: str = "active") -> dict[str, Any]:
    def shard(rng: str, url: str) -> dict[str, Any]:
        return {"range": rng, "state": "active", "replicas": {
            "r1": {"base_url": url + "-follower", "state": "active"},
            "r2": {"base_url": url, "state": leader_state, "leader": "true"}}}
    return {"cluster": {"collections": {"c": {"router": router, "shards": {
        "shard1": shard("80000000-ffffffff", "http://b/solr"), "shard2": shard("0-7fffffff", "http://a/solr")}}}}}


def test_shards_from_the_cluster_status() -> None:
    shards = shards_of(status({"name": "compositeId", "field": "item"}), "c")
    assert shards == [Shard(-2**31, -1, "http://b/solr"), Shard(0, 2**31 - 1, "http://a/solr")]
    for item_id in ("book-0001", "issue-00042", "città"):
        expected = 1 if murmur3_32(item_id.encode()) >= 0 else 0
        assert shard_index(shards, item_id) == expected
    assert shard_index(shards, "a!b") is None  # a composite id: Solr routes it
    assert shard_index([], "book-0001") is None
    # anything but the configset's router, or a leader not active: no routing, Solr forwards
    assert shards_of(status({"name": "implicit"}), "c") == []
    assert shards_of(status({"name": "compositeId", "field": "id"}), "c") == []
    assert shards_of(status({"name": "compositeId", "field": "item"}, "down"), "c") == []
    assert shards_of({"cluster": {}}, "c") == []


def test_each_batch_goes_to_the_leader_of_its_documents_shard(solr: SolrClient, tmp_path: Path,  # noqa: F811
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from server.search.solr import writer as solr_writer
    monkeypatch.setattr(solr_writer, "BATCH", 3)
    sent: list[tuple[str, set[str]]] = []
    original = SolrClient.update

    def update(self: SolrClient, body: Any, **params: Any) -> dict[str, Any]:
        if isinstance(body, list):
            sent.append((self.urls[0], {doc["item"] for doc in body}))
        return original(self, body, **params)

    monkeypatch.setattr(SolrClient, "update", update)
    gen = tmp_path / "manifests" / "gen-1"
    gen.mkdir(parents=True)
    ids = [f"routed-{k}" for k in range(12)]
    with SearchIndexWriter(gen, None) as writer:
        for item_id in ids:
            writer.add_item(item(item_id), [page(n, f"testo della pagina {n}") for n in range(1, 5)])
    shards = writer._engine._shards  # type: ignore[attr-defined]
    assert len(shards) == 2  # the test collection has two shards
    assert {i for _, items in sent for i in items} == set(ids)
    for url, items in sent:  # one shard's documents a request, sent to its leader
        assert {shards[shard_index(shards, i)].leader for i in items} == {url}  # type: ignore[index]
    # and Solr put every document where the hash says: the router agrees with ours
    pub = writer._engine.pub  # type: ignore[attr-defined]
    docs = solr.select({"q": f"pub:{pub}", "fl": "item,[shard]", "rows": 1000})["response"]["docs"]
    assert len(docs) == 48
    names = solr.request("GET", "admin/collections", params={"action": "CLUSTERSTATUS", "collection": solr.collection})
    ranges = {name: s["range"] for name, s in names["cluster"]["collections"][solr.collection]["shards"].items()}
    for doc in docs:
        shard = shards[shard_index(shards, doc["item"])]  # type: ignore[index]
        name = next(n for n, r in ranges.items() if r.startswith(f"{shard.low & 0xFFFFFFFF:x}-"))
        assert doc["[shard]"] == name
