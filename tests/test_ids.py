"""The one id rule (server/ids.py): what may name an item, a collection, a range or a pyramid."""
from __future__ import annotations

from typing import Any

import pytest

from server.ids import CONTENT_KEY, is_safe_id


@pytest.mark.parametrize("value", ["a", "periodical-ita-1878_10", "A" * 200])
def test_safe_ids(value: str) -> None:
    assert is_safe_id(value)


@pytest.mark.parametrize("value", ["", "a/b", "..", "a.b", "a b", "a\n", "\na", "a\x00", "è", "A" * 201])
def test_unsafe_ids(value: str) -> None:
    assert not is_safe_id(value)


def test_content_keys() -> None:
    assert CONTENT_KEY.fullmatch("0a1b2c-d_e")
    assert not CONTENT_KEY.fullmatch("ab") and not CONTENT_KEY.fullmatch("abc\n")


def test_an_id_with_a_final_newline_is_not_found(client: Any) -> None:
    from .test_web_pages import DEMO_ITEMS
    item = DEMO_ITEMS[0]
    assert client.get(f"/item/{item}").status_code == 200
    for path in (f"/item/{item}%0A", f"/iiif/3/{item}%0A/manifest", f"/collection/{item}%0A"):
        assert client.get(path).status_code in (400, 404), path
