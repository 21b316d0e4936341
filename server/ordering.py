"""What of a previous order still holds in a new one: shared by the catalog's item positions and the
collections' page layouts, which both keep what a reordering leaves in order and redo the rest."""
from __future__ import annotations

from bisect import bisect_left
from collections.abc import Mapping, Sequence


def longest_kept_run(order: Sequence[str], previous: Mapping[str, int]) -> set[str]:
    """The ids of a longest run (not necessarily contiguous) of ``order`` whose ``previous`` positions
    increase strictly (ids without one are skipped): patience sorting, O(n log n)."""
    tails: list[int] = []  # tails[k]: the smallest last position of an increasing run of length k + 1
    tail_ids: list[str] = []
    back: dict[str, str | None] = {}  # each id's predecessor in the run it ends
    for item_id in order:
        pos = previous.get(item_id)
        if pos is None:
            continue
        k = bisect_left(tails, pos)
        back[item_id] = tail_ids[k - 1] if k else None
        if k == len(tails):
            tails.append(pos)
            tail_ids.append(item_id)
        else:
            tails[k], tail_ids[k] = pos, item_id
    kept: set[str] = set()
    cursor = tail_ids[-1] if tail_ids else None
    while cursor is not None:
        kept.add(cursor)
        cursor = back[cursor]
    return kept
