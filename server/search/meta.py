"""The index's own description, ``{gen}/index/heritage-search.json``: versions, the engine that
wrote the generation, its items (metadata for facets), languages and collection labels. Shared by
the writer and the read side (which never imports the writer)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from server.search.analysis import ANALYSIS_VERSION

INDEX_DIR = "index"
META_FILE = "heritage-search.json"
LEXICON_FILE = "lexicon.tsv"
FORMAT_VERSION = 5
"""Bump when the schema or the word store changes: an older index is then rebuilt, not reused.
5: Tesseract ALTO's line-end hyphens joined (the words of such pages changed)."""


def read_meta(gen_dir: Path) -> dict[str, Any] | None:
    """The index's own description (versions, items, languages), or None if absent or foreign."""
    try:
        meta = json.loads((gen_dir / INDEX_DIR / META_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT_VERSION or meta.get("analysis") != ANALYSIS_VERSION:
        return None
    return meta
