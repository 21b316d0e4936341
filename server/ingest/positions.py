"""Items' positions in the catalog: in the order of the items sheet, and stable from one ingest to the next.

A position only orders an item among its collection's (``ORDER BY position, id``); its value is not
shown anywhere. Were positions the rows' numbers, a row added at the top of the sheet would move
every item below it, and the shared catalog would close and reopen the membership of each one
(two row writes an item: at ten million pages, hundreds of megabytes for one new item). So each
item keeps its previous position while that still fits the sheet's order, and positions are spaced
(:data:`GAP`) so that a new or moved item finds a free number between its neighbours. Only when no
number is free between two neighbours is everything renumbered, at most once in many such
insertions at one place (each one halves the gap there).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

from ..ordering import longest_kept_run

GAP = 1 << 20
"""Space between consecutive positions when they are (re)numbered: twenty insertions at one place
before a renumbering, and room for 2^43 items in a 64-bit integer."""


def item_positions(order: Sequence[str], previous: Mapping[str, int]) -> dict[str, int]:
    """A position for each id of ``order`` (distinct ids, in the sheet's order), increasing along it.

    ``previous``: the served generation's positions. The longest sequence of ids whose previous
    positions already increase along ``order`` keeps them; the other ids (new ones, moved ones) get
    numbers between their kept neighbours. When some gap is too small, all are numbered afresh."""
    kept = longest_kept_run(order, previous)
    positions: dict[str, int] = {}
    run: list[str] = []  # ids waiting for a number, after the last kept one (or the start)
    low: int | None = None
    for item_id in order:
        if item_id in kept:
            high = previous[item_id]
            if not _spread(run, low, high, positions):
                return _fresh(order)
            positions[item_id] = high
            low, run = high, []
        else:
            run.append(item_id)
    if not _spread(run, low, None, positions):
        return _fresh(order)
    return positions


def _spread(run: list[str], low: int | None, high: int | None, positions: dict[str, int]) -> bool:
    """Number ``run`` strictly between ``low`` and ``high`` (None: unbounded), evenly; False if they do not fit."""
    if not run:
        return True
    if low is None and high is None:
        low = -GAP
    if high is None:
        assert low is not None
        high = low + GAP * (len(run) + 1)
    elif low is None:
        low = high - GAP * (len(run) + 1)
    if high - low - 1 < len(run):
        return False
    parts = len(run) + 1
    for n, item_id in enumerate(run, 1):
        positions[item_id] = low + (high - low) * n // parts  # exact: increasing, strictly inside
    return True


def _fresh(order: Sequence[str]) -> dict[str, int]:
    return {item_id: n * GAP for n, item_id in enumerate(order)}
