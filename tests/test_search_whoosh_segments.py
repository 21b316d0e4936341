"""A Whoosh generation drops the segments whose every document was replaced (``server/search/whoosh/writer.py``).

Each generation's index starts from the previous one's segments (hard links) and deletes what it
replaces; the deletions live in the table of contents, which every ingest rewrites. Whoosh's own
merge policy keeps a segment of replaced documents as long as it is large, so its deleted numbers
would be written again by every later ingest, and searched past by every query.
"""
from __future__ import annotations

from pathlib import Path

from whoosh import index as windex

from server.search.engines import PageDoc
from server.search.whoosh.writer import INDEX_DIR, WhooshWriter


def pages(item_id: str, n: int) -> list[PageDoc]:
    words = ["torino", "archivio", item_id]
    return [PageDoc(k, "it", words, words) for k in range(1, n + 1)]


def segments(gen: Path) -> list[tuple[int, int]]:
    """(documents, deleted) of each segment of a generation's index."""
    ix = windex.open_dir(str(gen / INDEX_DIR))
    try:
        return sorted((s.doc_count_all(), s.deleted_count()) for s in ix._segments())
    finally:
        ix.close()


def generation(tmp: Path, name: str, previous: Path | None, replace: list[str], add: dict[str, int]) -> Path:
    gen = tmp / name
    writer = WhooshWriter(gen, previous, {} if previous else None)
    for item_id in replace:
        writer.forget(item_id)
    for item_id, n in add.items():
        writer.add(item_id, {}, pages(item_id, n))
    writer.commit({})
    return gen


def test_a_segment_whose_documents_were_all_replaced_is_dropped(tmp_path: Path) -> None:
    first = generation(tmp_path, "g1", None, [], {"a": 300, "b": 300})
    assert segments(first) == [(600, 0)]
    second = generation(tmp_path, "g2", first, ["a"], {"a": 300})  # half replaced: kept, with its deletions
    assert segments(second) == [(300, 0), (600, 300)]
    third = generation(tmp_path, "g3", second, ["b"], {"b": 300})  # the rest replaced: the segment goes
    assert segments(third) == [(300, 0), (300, 0)]
    assert segments(second) == [(300, 0), (600, 300)]  # the served generation is never written to
    ix = windex.open_dir(str(third / INDEX_DIR))
    try:
        with ix.searcher() as searcher:
            assert searcher.doc_count() == 600
            assert sorted({d["item"] for d in searcher.all_stored_fields()}) == ["a", "b"]
    finally:
        ix.close()
