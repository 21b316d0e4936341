"""The index's own description, ``{gen}/index/heritage-search.json``: versions, the engine that
wrote the generation, its items (metadata for facets), languages and collection labels. Shared by
the writer and the read side (which never imports the writer).

The items' entries are not in that file but in parts beside it (``heritage-items-<n>.json``, an item
in part ``crc32(id) mod parts``), so that a one-item change writes one part: a part of items all
unchanged is hard-linked from the previous generation. One file of every item's entry would be
written whole by every ingest (177 bytes an item: some 180 MB at ten million pages). The
description is written last and names the number of parts; a description with ``items`` in it
(written before the parts) is read as it is."""
from __future__ import annotations

import json
import zlib
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

from server.search.analysis import ANALYSIS_VERSION
from server.search.store import link_from, write_text

INDEX_DIR = "index"
META_FILE = "heritage-search.json"
FORMAT_VERSION = 5
"""Bump when the schema or the word store changes: an older index is then rebuilt, not reused.
5: Tesseract ALTO's line-end hyphens joined (the words of such pages changed)."""


PARTS = "item_parts"
"""Key of the description's number of item parts (absent: the items are in the description)."""
PART_FILE = "heritage-items-{}.json"
OWN_PREFIX = "heritage-"
"""Names of the index folder's files that are the description's (not an engine's)."""
PART_SIZE = 256
"""Items a part holds on average when the number of parts is chosen: parts are rewritten whole."""


def read_meta(gen_dir: Path) -> dict[str, Any] | None:
    """The index's own description (versions, items, languages), or None if absent, foreign or incomplete."""
    index = gen_dir / INDEX_DIR
    try:
        meta = json.loads((index / META_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT_VERSION or meta.get("analysis") != ANALYSIS_VERSION:
        return None
    parts = meta.get(PARTS)  # kept in the answer: the next generation's writer reuses the parts
    if parts is not None:
        items: dict[str, Any] = {}
        try:
            for n in range(int(parts)):
                items.update(json.loads((index / PART_FILE.format(n)).read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError):
            return None
        meta["items"] = items
    return meta


def part_of(item_id: str, parts: int) -> int:
    """The part an item's entry is in (stable across runs and machines)."""
    return zlib.crc32(item_id.encode("utf-8", "surrogatepass")) % parts


def part_count(items: int, before: int | None) -> int:
    """How many parts for ``items`` entries: the previous number while parts hold a quarter to four
    times :data:`PART_SIZE` items on average (so a growing archive rewrites all its parts only when
    its size has changed fourfold), else a power of two near :data:`PART_SIZE` items a part."""
    if (before is not None and before >= 1 and (before == 1 or items * 4 >= PART_SIZE * before)
            and items <= 4 * PART_SIZE * before):
        return before
    parts = 1
    while parts * PART_SIZE < items:
        parts *= 2
    return parts


def write_meta(index_dir: Path, meta: Mapping[str, Any], items: Mapping[str, Any], *,
               previous: Path | None = None, previous_parts: int | None = None,
               changed: Collection[str] = ()) -> None:
    """Write the items' parts, then the description (``meta``, without the items) last. With the
    previous generation's index folder and its number of parts, a part none of whose items is in
    ``changed`` (items added, removed or with another entry) is linked from it, not written."""
    parts = part_count(len(items), previous_parts)
    reuse = previous is not None and parts == previous_parts
    dirty = {part_of(item_id, parts) for item_id in changed} if reuse else set(range(parts))
    split: list[dict[str, Any]] = [{} for _ in range(parts)]
    for item_id, entry in items.items():
        split[part_of(item_id, parts)][item_id] = entry
    for n in range(parts):
        name = PART_FILE.format(n)
        if n not in dirty and link_from(f"{previous}/{name}", index_dir / name):
            continue
        write_text(index_dir / name, _json(split[n]))
    write_text(index_dir / META_FILE, _json({**{k: v for k, v in meta.items() if k != "items"}, PARTS: parts}))


def _json(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))
