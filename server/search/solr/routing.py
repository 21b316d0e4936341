"""Each page document sent straight to the node leading its shard.

The collection is created with ``router.name=compositeId``, ``router.field=item`` (:mod:`.setup`):
a document's shard is the one whose hash range holds MurmurHash3 (x86, 32 bits, seed 0) of the
UTF-8 bytes of its ``item``. A batch sent to any node is split there and the other shard's
documents forwarded to their leader (parsed, re-encoded, parsed again): sending each shard's
batch to its leader spares Solr that work. Routing is only an optimization — a document sent to
the wrong node is still forwarded to the right one — so anything unexpected (another router, a
composite ``!`` id, no active leader, a cluster status that cannot be read) falls back to sending
every batch to the configured URLs.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from server.search.solr.client import SolrClient


def murmur3_32(data: bytes, seed: int = 0) -> int:
    """MurmurHash3 x86 32-bit of ``data``, as a signed int (Solr's ``Hash.murmurhash3_x86_32``)."""
    c1, c2, mask = 0xCC9E2D51, 0x1B873593, 0xFFFFFFFF
    h = seed & mask
    n = len(data) & ~3
    for i in range(0, n, 4):
        k = (int.from_bytes(data[i:i + 4], "little") * c1) & mask
        k = (((k << 15) | (k >> 17)) & mask) * c2 & mask
        h ^= k
        h = ((h << 13) | (h >> 19)) & mask
        h = (h * 5 + 0xE6546B64) & mask
    tail = data[n:]
    if tail:
        k = int.from_bytes(tail, "little")
        k = (k * c1) & mask
        k = (((k << 15) | (k >> 17)) & mask) * c2 & mask
        h ^= k
    h ^= len(data)
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & mask
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & mask
    h ^= h >> 16
    return _signed(h)


@dataclass(frozen=True)
class Shard:
    low: int
    high: int
    leader: str
    """The leader's node URL (``http://host:port/solr``)."""


def _signed(value: int) -> int:
    """A 32-bit unsigned value as Java's signed int."""
    return value - (1 << 32) if value & 0x80000000 else value


def shards_of(status: dict[str, Any], collection: str) -> list[Shard]:
    """The active shards of ``collection`` with their hash ranges and leaders, from a
    CLUSTERSTATUS answer; empty when documents cannot be routed here (see the module docstring)."""
    try:
        coll = status["cluster"]["collections"][collection]
        router = coll.get("router") or {}
        if router.get("name") != "compositeId" or router.get("field") != "item":
            return []
        out = []
        for shard in coll["shards"].values():
            if shard.get("state") != "active" or not shard.get("range"):
                continue
            leaders = [r for r in shard["replicas"].values()
                       if str(r.get("leader")) == "true" and r.get("state") == "active"]
            if len(leaders) != 1 or not leaders[0].get("base_url"):
                return []
            low, _, high = str(shard["range"]).partition("-")
            out.append(Shard(_signed(int(low, 16)), _signed(int(high, 16)), str(leaders[0]["base_url"]).rstrip("/")))
        return sorted(out, key=lambda s: s.low)
    except (KeyError, TypeError, ValueError, AttributeError):
        return []


def cluster_shards(client: SolrClient) -> list[Shard]:
    """:func:`shards_of` the client's collection, asking the cluster; empty on any error."""
    try:
        status = client.request("GET", "admin/collections", params={
            "action": "CLUSTERSTATUS", "collection": client.collection, "wt": "json"})
    except Exception:  # noqa: BLE001 - routing is an optimization: never fail ingest for it
        return []
    return shards_of(status, client.collection)


def shard_index(shards: list[Shard], item_id: str) -> int | None:
    """The index in ``shards`` of the shard holding ``item_id``'s documents, or None (let Solr route)."""
    if not shards or "!" in item_id:
        return None
    h = murmur3_32(item_id.encode("utf-8"))
    for i, shard in enumerate(shards):
        if shard.low <= h <= shard.high:
            return i
    return None
