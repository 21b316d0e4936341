"""Write side of the Solr engine (see :mod:`server.search.solr` for the design)."""
from __future__ import annotations

import contextlib
import time
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from server.search.engines import EngineSettings, PageDoc
from server.search.facets import FACETS, facet_values
from server.search.meta import read_meta
from server.search.model import IndexedItem
from server.search.solr.client import SolrClient
from server.search.solr.query import FOLDED, NONE, field_text, text_field
from server.search.solr.reader import FACETS_KEY, VERSION
from server.search.solr.routing import cluster_shards, shard_index
from server.search.store import item_dir, page_numbers, read_page

BATCH = 500
"""Documents per update request (one shard's documents: see :mod:`.routing`)."""
SENDERS = 2
"""Update requests in flight at once: each shard's leader analyses a batch on its own thread, so
two senders keep both busy while the next batch is prepared here."""
NUMERIC_FACETS = ("year", "decade")
MULTIVALUED_FACETS = ("collection", "language")
"""As in the configset's schema (``year`` and ``decade`` are ``pint``)."""
PUBLICATION_FILE = "search-solr-publication"
"""In the manifests folder: this publication's id, so that cleaning up never touches another
publication sharing the collection."""


def publication_id(manifests_dir: Path) -> str:
    """This publication's id (hex), created on first use."""
    path = manifests_dir / PUBLICATION_FILE
    try:
        return path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        pid = uuid.uuid4().hex
        tmp = path.with_suffix(".tmp")
        tmp.write_text(pid + "\n", encoding="utf-8")
        tmp.replace(path)
        return path.read_text(encoding="utf-8").strip()


def live_versions(manifests_dir: Path, exclude: Path) -> set[str]:
    """Item versions listed by the generations on disk (complete ones: a description is written last)."""
    out: set[str] = set()
    for gen in manifests_dir.iterdir() if manifests_dir.is_dir() else ():
        if gen.is_dir() and not gen.is_symlink() and gen != exclude:
            meta = read_meta(gen)
            if meta and meta.get("engine") == "solr":
                out.update(str(v[VERSION]) for v in (meta.get("items") or {}).values() if v.get(VERSION))
    return out


def collect_garbage(client: SolrClient, pub: str, keep: set[str]) -> None:
    """Delete this publication's documents whose version no generation on disk lists."""
    query = f"+pub:{pub}" + (f" -{{!terms f=iv v='{','.join(sorted(keep))}'}}" if keep else "")
    client.update({"delete": {"query": query}})


def doc_facets(item_id: str, entry: dict[str, Any]) -> dict[str, list[str]]:
    """The item's facet values as the site-wide search counts them (from its metadata)."""
    values = facet_values(IndexedItem.from_json(item_id, entry), list(entry.get("page_languages") or []))
    return {name: list(values[name]) for name in FACETS}


def facet_fields(facets: dict[str, list[str]]) -> dict[str, Any]:
    """The page documents' facet fields (docValues): every page of an item carries its item's values."""
    out: dict[str, Any] = {}
    for name in FACETS:
        values = facets.get(name) or []
        if not values:
            continue
        if name in NUMERIC_FACETS:
            out[name] = int(values[0])
        else:
            out[name] = values if name in MULTIVALUED_FACETS else values[0]
    return out


def stored_docs(gen_dir: Path, item_id: str) -> list[PageDoc]:
    """An item's pages as documents again, from the word store (its tokens and stems as indexed)."""
    pages = []
    for n in page_numbers(item_dir(gen_dir, item_id)):
        page = read_page(gen_dir, item_id, n)
        if page is not None and page.tokens:
            pages.append(PageDoc(n, page.language, page.tokens, page.stems))
    return pages


class SolrWriter:
    """:class:`~server.search.engines.EngineWriter` into a SolrCloud collection."""

    def __init__(self, settings: EngineSettings, gen_dir: Path, previous_meta: dict[str, Any] | None) -> None:
        if not settings.solr_url:
            raise ValueError("HERITAGE_SEARCH=solr needs HERITAGE_SOLR_URL")
        self.client = SolrClient(settings.solr_url, settings.collection)
        self.collection = settings.collection
        self.gen_dir = Path(gen_dir)
        manifests = Path(gen_dir).parent
        self.pub = publication_id(manifests)
        previous_seq = int((previous_meta or {}).get("solr_seq") or 0)
        self.seq = max(time.time_ns() // 1000, previous_seq + 1)
        self._live = live_versions(manifests, Path(gen_dir))
        collect_garbage(self.client, self.pub, self._live)
        # one batch per shard, sent to its leader (the configured nodes after it, should it fail);
        # key None: documents Solr routes itself
        shards = cluster_shards(self.client)
        self._shards = shards
        self._clients: dict[int | None, SolrClient] = {None: self.client}
        for i, shard in enumerate(shards):
            urls = [shard.leader] + [u for u in self.client.urls if u != shard.leader]
            self._clients[i] = SolrClient(",".join(urls), self.collection)
        self._batches: dict[int | None, list[dict[str, Any]]] = {}
        self._added: list[str] = []
        self._sender = ThreadPoolExecutor(max_workers=SENDERS, thread_name_prefix="solr-writer")
        self._pending: list[Future[Any]] = []

    def holds(self, previous_meta: dict[str, Any]) -> bool:
        """The collection written to is the one the previous description names, and holds the
        documents of one of its item versions (a collection recreated, emptied or on another
        cluster has none): one term filter, whatever the archive."""
        if str(previous_meta.get("solr_collection") or self.collection) != self.collection:
            return False
        versions = (str(v[VERSION]) for v in (previous_meta.get("items") or {}).values()
                    if v.get(VERSION) and int(v.get("page_count") or 0) > 0)
        version = next(versions, None)
        if version is None:
            return True  # nothing indexed to lose
        found = self.client.select({"q": "*:*", "fq": "{!term f=iv}" + version, "rows": 0})
        return int(found["response"]["numFound"]) > 0

    def keep(self, item_id: str, entry: dict[str, Any]) -> None:
        """The item's version (in ``entry``, from the previous generation) stays listed, unless its
        documents carry other facet values than its metadata now gives (the metadata changed, or
        they were indexed before documents carried them): then its pages are indexed again, from
        the word store, under a new version."""
        if entry.get(FACETS_KEY) != doc_facets(item_id, entry):
            self.add(item_id, entry, stored_docs(self.gen_dir, item_id))

    def add(self, item_id: str, entry: dict[str, Any], pages: list[PageDoc]) -> None:
        version = uuid.uuid4().hex[:20]
        entry[VERSION] = version
        entry["page_count"] = len(pages)
        self._added.append(version)
        entry[FACETS_KEY] = doc_facets(item_id, entry)
        facets = facet_fields(entry[FACETS_KEY])
        shard = shard_index(self._shards, item_id)
        batch = self._batches.setdefault(shard, [])
        for page in pages:
            batch.append({"id": f"{version}-{page.n}", "item": item_id, "iv": version, "pub": self.pub,
                                "g": self.seq, "n": int(page.n), "lang": page.language or NONE,
                                text_field(page.language): field_text(page.tokens, page.stems, page.language),
                                FOLDED: " ".join(page.tokens), **facets})
            if len(batch) >= BATCH:
                self._flush(shard)
                batch = self._batches.setdefault(shard, [])

    def forget(self, item_id: str) -> None:
        """Nothing now: the served generation still lists the old version (collected later)."""

    def _flush(self, shard: int | None) -> None:
        """Send a shard's batch in the background (Solr analyses batches while we prepare the next);
        at most :data:`SENDERS` in flight and as many waiting, and the first error stops the ingest."""
        batch = self._batches.pop(shard, None)
        if batch:
            self._pending.append(self._sender.submit(self._clients[shard].update, batch))
            while len(self._pending) > 2 * SENDERS:
                self._pending.pop(0).result()

    def flush(self) -> None:
        """Send every batch, partial ones too, and wait for the answers."""
        for shard in list(self._batches):
            self._flush(shard)
        self._drain()

    def _drain(self) -> None:
        while self._pending:
            self._pending.pop(0).result()

    def commit(self, meta: dict[str, Any]) -> None:
        self.flush()
        self._sender.shutdown()
        self.client.update({"commit": {}})
        listed = {str(v[VERSION]) for v in (meta.get("items") or {}).values() if v.get(VERSION)}
        meta.update(solr_collection=self.collection, solr_pub=self.pub, solr_seq=self.seq,
                    solr_excluded=sorted(self._live - listed))

    def abort(self) -> None:
        """Best effort: these versions are unlisted anyway, and collected at the next ingest."""
        self._batches = {}
        for future in self._pending:
            future.cancel()
        with contextlib.suppress(Exception):
            self._drain()
        self._sender.shutdown()
        if self._added:
            with contextlib.suppress(Exception):  # an abort must not hide the ingest's own error
                self.client.update({"delete": {"query": "{!terms f=iv}" + ",".join(self._added)}}, commit="true")
