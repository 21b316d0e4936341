"""The one rule for identifiers that go into URLs and file names: no '/', '.', spaces.

Item, collection and range ids (validated at ingest and on every request that names one) and the
content keys of pyramids share the character set; only the lengths differ.
"""
from __future__ import annotations

import re

ID_CHARS = "A-Za-z0-9_-"
SAFE_ID = re.compile(rf"[{ID_CHARS}]{{1,200}}")  # fullmatch: "$" would let a final newline through
CONTENT_KEY = re.compile(rf"[{ID_CHARS}]{{3,128}}")  # a master's content key (fullmatch), e.g. a pyramid's


def is_safe_id(value: str) -> bool:
    """Whether ``value`` may be an item, collection or range id."""
    return SAFE_ID.fullmatch(value) is not None
