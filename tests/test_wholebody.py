"""Responses of bounded length reach the HTTP server as one chunk (server/wholebody.py), so that a node
killed mid-response never leaves a proxy with headers it has passed on and a body it cannot get."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from werkzeug.test import EnvironBuilder

from server.wholebody import WholeBodies


def _chunks(total: int, closed: list[bool]) -> Callable[..., Iterator[bytes]]:
    """A WSGI app streaming ``total`` bytes in chunks of 1,000, recording that it was closed."""
    class Body:
        def __iter__(self) -> Iterator[bytes]:
            left = total
            while left:
                n = min(1000, left)
                left -= n
                yield b"x" * n

        def close(self) -> None:
            closed.append(True)

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(total))])
        return Body()
    return app


def test_a_bounded_body_is_one_chunk_and_the_stream_is_closed() -> None:
    closed: list[bool] = []
    body = WholeBodies(_chunks(5500, closed), limit=10_000)(EnvironBuilder("/").get_environ(), lambda *a: None)
    assert isinstance(body, list) and len(body) == 1 and body[0] == b"x" * 5500 and closed == [True]


def test_a_large_or_unsized_body_keeps_streaming() -> None:
    closed: list[bool] = []
    body = WholeBodies(_chunks(20_000, closed), limit=10_000)(EnvironBuilder("/").get_environ(), lambda *a: None)
    assert not isinstance(body, list)

    def unsized(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        start_response("200 OK", [("Content-Type", "text/plain")])
        return iter([b"a", b"b"])
    assert not isinstance(WholeBodies(unsized)(EnvironBuilder("/").get_environ(), lambda *a: None), list)


def test_the_apps_pages_and_json_reach_the_server_whole(demo_data: Path) -> None:
    from server import create_app

    from .test_web_pages import DEMO_ITEMS
    app = create_app({"data": demo_data})
    for path in ("/", f"/item/{DEMO_ITEMS[0]}", f"/iiif/3/{DEMO_ITEMS[0]}/manifest",
                 f"/iiif/search/2/{DEMO_ITEMS[0]}?q=il", "/no/such/page"):
        body = app.wsgi_app(EnvironBuilder(path).get_environ(), lambda *_: None)
        assert isinstance(body, list) and len(body) == 1, (path, type(body))
        assert body[0] == app.test_client().get(path).get_data(), path
