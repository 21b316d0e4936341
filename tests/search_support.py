"""A generation folder holding only a search index, published as ingest publishes one (``current``)."""
from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from server.catalog import create_catalog
from server.publication import switch_current
from server.search import IndexedItem, IndexedPage, SearchIndexWriter


def index_generation(data: Path, items: Iterable[tuple[IndexedItem, list[IndexedPage]]],
                     collection_labels: dict[str, dict[str, list[str]]] | None = None) -> Path:
    """Index ``items`` into ``data/manifests/<gen>`` and make it current; returns the generation folder."""
    gen = data / "manifests" / "gen-20260101T000000-1"
    gen.mkdir(parents=True)
    create_catalog(gen / "catalog.sqlite").close()
    with SearchIndexWriter(gen, None) as writer:
        for item, pages in items:
            writer.add_item(item, pages)
        if collection_labels:
            writer.set_collection_labels(collection_labels)
    switch_current(data / "manifests", gen)
    return gen
