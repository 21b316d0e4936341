"""A large collection's pages keep their numbers and members from one ingest to the next
(``server/presentation/paging.py``).

What must hold whatever the edit: the pages list every member once, in order; no page is larger
than twice the page size, none smaller than a quarter of it (one page is no paging); page
numbers are distinct; the layout is its own next layout (an ingest that changes nothing changes no
page); and one member added or removed changes at most three pages (the page it is on, and the
pieces of a split or the neighbour of a merge) — never every page after it.
"""
from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from server.presentation.build import _short
from server.presentation.paging import PageSpan, page_layout, remembered

SIZE = 10


def names(n: int, prefix: str = "m") -> list[str]:
    return [f"{prefix}{i:04d}" for i in range(n)]


def pages(keys: Sequence[str], spans: Sequence[PageSpan]) -> set[tuple[int, tuple[str, ...]]]:
    """Each page as its number and members: what its document is built from."""
    return {(s.number, tuple(keys[s.start:s.end])) for s in spans}


def well_formed(keys: Sequence[str], spans: Sequence[PageSpan], size: int = SIZE) -> None:
    if not spans:  # not paged: a collection of at most the page size, or one whose pages would be one
        assert len(keys) < size + max(1, size // 4)
        return
    assert len(keys) > size and len(spans) >= 2
    assert spans[0].start == 0 and spans[-1].end == len(keys)
    assert all(a.end == b.start for a, b in pairwise(spans))
    assert len({s.number for s in spans}) == len(spans)
    assert all(size // 4 <= len(s) <= 2 * size for s in spans)


def test_a_first_layout_is_slices_numbered_from_one() -> None:
    keys = names(25)
    assert page_layout(keys, SIZE) == [PageSpan(1, 0, 10), PageSpan(2, 10, 20), PageSpan(3, 20, 25)]
    assert page_layout(keys[:10], SIZE) == [] and page_layout(keys, 0) == []
    assert page_layout(keys[:21], SIZE) == [PageSpan(1, 0, 10), PageSpan(2, 10, 21)]  # a last slice of one joins
    assert page_layout(keys[:11], SIZE) == []  # one page left: not paged


def test_a_member_added_at_the_top_changes_the_first_page_only() -> None:
    keys = names(95)
    first = page_layout(keys, SIZE)
    grown = ["new", *keys]
    after = page_layout(grown, SIZE, remembered(keys, first))
    assert pages(grown, after) - pages(keys, first) == {(1, ("new", *keys[:10]))}
    assert len(pages(keys, first) - pages(grown, after)) == 1


def test_a_page_grown_past_twice_the_size_is_split_and_the_pieces_take_new_numbers() -> None:
    keys = names(30)
    layout = page_layout(keys, SIZE)
    for n in range(11):  # eleven new members at the top: page 1 holds 21
        grown = [f"new{n:02d}", *keys]
        layout, keys = page_layout(grown, SIZE, remembered(keys, layout)), grown
    assert [(s.number, len(s)) for s in layout] == [(1, 7), (4, 7), (5, 7), (2, 10), (3, 10)]
    well_formed(keys, layout)


def test_a_page_shrunk_under_a_quarter_joins_the_page_before() -> None:
    keys = names(30)
    layout = page_layout(keys, SIZE)
    kept = keys[:10] + keys[18:]  # page 2 keeps two members
    after = page_layout(kept, SIZE, remembered(keys, layout))
    assert [(s.number, len(s)) for s in after] == [(1, 12), (3, 10)]
    first_gone = keys[9:]  # page 1 keeps one: it takes in page 2, and keeps its number
    after = page_layout(first_gone, SIZE, remembered(keys, layout))
    assert [(s.number, len(s)) for s in after] == [(1, 11), (3, 10)]


def test_a_withdrawn_first_member_leaves_the_page_where_it_was() -> None:
    keys = names(30)
    layout = page_layout(keys, SIZE)
    fewer = keys[:10] + keys[11:]  # the first member of page 2: its second marks where it starts
    after = page_layout(fewer, SIZE, remembered(keys, layout))
    assert [(s.number, len(s)) for s in after] == [(1, 10), (2, 9), (3, 10)]
    fewer = keys[:10] + keys[13:]  # its three first members: the page's start is lost, it joins page 1
    after = page_layout(fewer, SIZE, remembered(keys, layout))
    assert [(s.number, len(s)) for s in after] == [(1, 17), (3, 10)]


def test_remembered_first_members_out_of_order_are_dropped_not_crossed() -> None:
    keys = names(40)
    layout = page_layout(keys, SIZE)
    moved = [keys[30], *keys[:30], *keys[31:]]  # page 4's first member moved to the top
    after = page_layout(moved, SIZE, remembered(keys, layout))
    well_formed(moved, after)
    assert [s.number for s in after] == [1, 2, 3]  # page 4's rest joined page 3


edits = st.lists(st.tuples(st.sampled_from(["add", "remove", "move"]), st.integers(0, 10**6), st.integers(0, 10**6)),
                 max_size=60)


@settings(max_examples=150, deadline=None)
@given(st.integers(0, 80), edits)
def test_any_sequence_of_edits_keeps_the_layout_well_formed_and_each_edit_cheap(start: int, steps: list[tuple[str, int, int]]) -> None:
    keys = names(start)
    layout = page_layout(keys, SIZE)
    fresh = 0
    for action, a, b in steps:
        new = list(keys)
        if action == "add":
            new.insert(a % (len(new) + 1), f"n{fresh:04d}")
            fresh += 1
        elif new and action == "remove":
            new.pop(a % len(new))
        elif new:
            new.insert(b % len(new), new.pop(a % len(new)))
        after = page_layout(new, SIZE, remembered(keys, layout) if layout else None)
        well_formed(new, after)
        assert page_layout(new, SIZE, remembered(new, after) if after else None) == after  # its own next layout
        if layout and after:
            limit = 3 if action != "move" else 6  # a move is a removal and an addition
            assert len(pages(new, after) - pages(keys, layout)) <= limit
            assert len(pages(keys, layout) - pages(new, after)) <= limit
            added = {s.number for s in after} - {t.number for t in layout}
            assert all(n > max(t.number for t in layout) for n in added)  # never a number with other members
        keys, layout = new, after


def test_page_labels_cut_long_titles_at_a_word() -> None:
    assert _short("Der Nordstern, 3 January 1878") == "Der Nordstern, 3 January 1878"
    long = "Lettera del direttore generale al Ministero dei lavori pubblici sulla ferrovia del Moncenisio"
    assert _short(long) == "Lettera del direttore generale al Ministero dei lavori…"
    assert len(_short("x" * 100)) == 60
