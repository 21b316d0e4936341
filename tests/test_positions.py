"""Items keep their catalog positions while they fit the sheet's order (``server/ingest/positions.py``).

What must hold whatever the edit of the sheet: positions increase along the new order; an item
whose previous position still fits keeps it; and an edit of one row (added, moved, removed) changes
the position of that row's item only, so a new row at the top does not rewrite the archive's rows.
"""
from __future__ import annotations

from itertools import pairwise

from hypothesis import given
from hypothesis import strategies as st

from server.ingest.positions import GAP, item_positions


def increasing(order: list[str], positions: dict[str, int]) -> bool:
    values = [positions[i] for i in order]
    return set(positions) == set(order) and all(a < b for a, b in pairwise(values))


def test_a_first_ingest_spaces_the_rows() -> None:
    assert item_positions(["a", "b", "c"], {}) == {"a": 0, "b": GAP, "c": 2 * GAP}


def test_a_row_added_at_the_top_or_in_the_middle_moves_nothing_else() -> None:
    first = item_positions(["a", "b", "c"], {})
    top = item_positions(["new", "a", "b", "c"], first)
    assert {k: v for k, v in top.items() if k != "new"} == first and top["new"] < first["a"]
    middle = item_positions(["a", "new", "b", "c"], first)
    assert {k: v for k, v in middle.items() if k != "new"} == first and first["a"] < middle["new"] < first["b"]


def test_a_moved_row_moves_only_its_item() -> None:
    first = item_positions(["a", "b", "c", "d"], {})
    moved = item_positions(["a", "d", "b", "c"], first)
    assert [k for k in moved if moved[k] != first[k]] == ["d"] and increasing(["a", "d", "b", "c"], moved)


def test_dense_positions_of_earlier_versions_make_room_at_the_ends_then_renumber_once() -> None:
    dense = {"a": 0, "b": 1, "c": 2}  # what ingest wrote before positions were spaced
    assert item_positions(["z", "a", "b", "c", "y"], dense) == {**dense, "z": -GAP, "y": 2 + GAP}
    again = item_positions(["a", "x", "b", "c"], dense)  # no number between 0 and 1: all spaced afresh
    assert again == {"a": 0, "x": GAP, "b": 2 * GAP, "c": 3 * GAP}


def test_insertions_at_one_place_halve_the_gap_until_a_renumbering() -> None:
    order = ["a", "b"]
    positions = item_positions(order, {})
    renumbered = 0
    for n in range(60):
        order.insert(1, f"n{n}")  # always right after "a"
        before = positions
        positions = item_positions(order, before)
        assert increasing(order, positions)
        changed = [k for k in before if before[k] != positions[k]]
        if changed:
            renumbered += 1
            assert len(changed) > 1  # a renumbering moves everything…
        assert positions["a"] == before["a"] or changed
    assert 1 <= renumbered <= 4  # …and happens about once in twenty insertions at one place


ids = st.lists(st.text("abcdefgh", min_size=1, max_size=2), unique=True, max_size=25)


@given(ids, ids)
def test_positions_follow_the_order_and_keep_what_fits(old: list[str], new: list[str]) -> None:
    before = item_positions(old, {})
    after = item_positions(new, before)
    assert increasing(new, after)
    kept = [i for i in new if i in before]
    if all(before[a] < before[b] for a, b in pairwise(kept)):  # nothing moved: no renumbering either
        assert all(after[i] == before[i] for i in kept)


@given(ids, st.data())
def test_one_edited_row_changes_one_position(order: list[str], data: st.DataObject) -> None:
    before = item_positions(order, {})
    edited = list(order)
    action = data.draw(st.sampled_from(["add", "move", "remove"]))
    if action == "add":
        edited.insert(data.draw(st.integers(0, len(edited))), "new!")
    elif edited:
        row = edited.pop(data.draw(st.integers(0, len(edited) - 1)))
        if action == "move":
            edited.insert(data.draw(st.integers(0, len(edited))), row)
    after = item_positions(edited, before)
    assert increasing(edited, after)
    assert sum(1 for i in edited if i in before and after[i] != before[i]) <= 1
