"""The header definitions both the WSGI tile shortcut and the Flask views send (``server/headers.py``):
conditional requests as RFC 9110 §13 evaluates them, entity tags, CORS, media types."""
from __future__ import annotations

import time
from collections.abc import Iterator
from email.utils import parsedate_to_datetime

import pytest
from werkzeug.http import remove_entity_headers

from server import headers
from server.headers import NOT_MODIFIED, OK, PRECONDITION_FAILED, evaluate

TAG = headers.etag("abc")
MTIME = 1_700_000_000.75  # Tue, 14 Nov 2023 22:13:20 GMT (and a fraction the header cannot carry)
SAME_SECOND = "Tue, 14 Nov 2023 22:13:20 GMT"


def _env(**request_headers: str) -> dict[str, str]:
    return {f"HTTP_{name.upper().replace('-', '_')}": value for name, value in request_headers.items()}


def test_entity_tags_strong_and_weak() -> None:
    assert headers.etag("abc") == '"abc"' and headers.etag("abc", weak=True) == 'W/"abc"'
    with pytest.raises(ValueError):
        headers.etag('a"b')


@pytest.mark.parametrize(("value", "status"), [
    ('"abc"', NOT_MODIFIED),
    ('W/"abc"', NOT_MODIFIED),            # If-None-Match compares weakly
    ('"x", "abc"', NOT_MODIFIED),
    ("abc", NOT_MODIFIED),                # unquoted, as some clients send it
    ("*", NOT_MODIFIED),
    ('"abcd"', OK),
    ('"x"', OK),
])
def test_if_none_match(value: str, status: int) -> None:
    assert evaluate(_env(if_none_match=value), TAG, MTIME) == status


def test_a_weak_tag_matches_only_weakly() -> None:
    weak = headers.etag("abc", weak=True)
    assert evaluate(_env(if_none_match='"abc"'), weak, None) == NOT_MODIFIED
    assert evaluate(_env(if_match='"abc"'), weak, None) == PRECONDITION_FAILED


@pytest.mark.parametrize(("value", "status"), [
    (SAME_SECOND, NOT_MODIFIED),
    ("Wed, 15 Nov 2023 00:00:00 GMT", NOT_MODIFIED),
    ("Tue, 14 Nov 2023 22:13:19 GMT", OK),
    ("Tue, 14 Nov 2023 22:13:20 -0000", NOT_MODIFIED),  # no zone: UTC, whatever the server's zone is
    ("Tue, 14 Nov 2023 23:13:19 +0100", OK),
    ("yesterday", OK),                                   # not a date: ignored
])
def test_if_modified_since(value: str, status: int, far_east: None) -> None:
    assert evaluate(_env(if_modified_since=value), TAG, MTIME) == status


@pytest.fixture()
def far_east(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A server clock in Tokyo: dates must not be read in local time."""
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_if_none_match_decides_over_if_modified_since() -> None:
    assert evaluate(_env(if_none_match='"x"', if_modified_since=SAME_SECOND), TAG, MTIME) == OK
    assert evaluate(_env(if_none_match="  ", if_modified_since=SAME_SECOND), TAG, MTIME) == NOT_MODIFIED
    assert evaluate(_env(if_modified_since=SAME_SECOND), TAG, None) == OK  # no date to compare with
    assert evaluate({}, TAG, MTIME) == OK


def test_if_match() -> None:
    assert evaluate(_env(if_match='"abc"'), TAG, MTIME) == OK
    assert evaluate(_env(if_match="*"), TAG, MTIME) == OK
    assert evaluate(_env(if_match='W/"abc"'), TAG, MTIME) == PRECONDITION_FAILED  # strong comparison
    assert evaluate(_env(if_match='"x"', if_none_match='"abc"'), TAG, MTIME) == PRECONDITION_FAILED
    assert evaluate(_env(if_match='"abc"', if_none_match='"abc"'), TAG, MTIME) == NOT_MODIFIED


def test_a_304_keeps_validators_and_cache_headers_not_the_body_s() -> None:
    sent = [("Content-Type", "image/jpeg"), ("Content-Length", "9"), ("Link", "<x>"),
            *headers.validators(TAG, MTIME), ("Cache-Control", headers.published(60)), *headers.cors("GET")]
    assert ("Last-Modified", SAME_SECOND) in sent
    kept = dict(headers.not_modified(sent))
    assert set(kept) == {"Link", "ETag", "Cache-Control", "Access-Control-Allow-Origin",
                         "Access-Control-Expose-Headers"}
    # the same rule werkzeug applies to the views' 304s
    every = [(name, "x") for name in (*headers.BODY_HEADERS, "Expires", "Content-Location", "ETag", "Vary", "Date")]
    flask_304 = list(every)
    remove_entity_headers(flask_304)
    assert headers.not_modified(every) == flask_304


def test_dates() -> None:
    assert headers.http_date(MTIME) == SAME_SECOND
    assert headers.http_date(0) == "Thu, 01 Jan 1970 00:00:00 GMT"
    before = time.time()
    assert int(before) <= parsedate_to_datetime(headers.http_date()).timestamp() <= time.time()


def test_cors_and_preflight() -> None:
    assert dict(headers.cors("GET")) == {"Access-Control-Allow-Origin": "*",
                                         "Access-Control-Expose-Headers": headers.EXPOSE}
    preflight = dict(headers.cors("OPTIONS", "Range"))
    assert preflight["Access-Control-Allow-Headers"] == "Range"
    assert preflight["Access-Control-Allow-Methods"] == "GET, HEAD, OPTIONS"
    assert dict(headers.cors("OPTIONS"))["Access-Control-Allow-Headers"] == headers.PREFLIGHT_HEADERS


def test_json_ld_only_when_asked_for() -> None:
    profile = headers.PRESENTATION3_PROFILE
    assert headers.json_media_type(None, profile) == "application/json"
    assert headers.json_media_type("application/json, */*", profile) == "application/json"
    assert headers.json_media_type("application/ld+json", profile) == \
        'application/ld+json;profile="http://iiif.io/api/presentation/3/context.json"'


ITEM = "periodical-ita-rassegna-settimanale-1878-10-06"


@pytest.mark.parametrize("url", [f"/iiif/3/image/{ITEM}~1/0,0,512,512/512,512/0/default.jpg",
                                 f"/iiif/3/image/{ITEM}~1/info.json", f"/iiif/3/{ITEM}/manifest"])
def test_if_match_names_the_version_or_gets_a_412(client, url: str) -> None:  # type: ignore[no-untyped-def]
    """An If-Match of another version is a client error like any other: JSON, CORS, never cached."""
    current = client.get(url)
    assert current.status_code == 200
    assert client.get(url, headers={"If-Match": current.headers["ETag"]}).get_data() == current.get_data()
    refused = client.get(url, headers={"If-Match": '"another"'})
    assert refused.status_code == 412 and refused.is_json and refused.json["status"] == 412
    assert refused.headers["Access-Control-Allow-Origin"] == "*"
    assert refused.headers["Cache-Control"] == headers.CACHE_ERRORS
