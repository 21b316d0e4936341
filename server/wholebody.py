"""Responses of known, bounded length go to the HTTP server as one piece.

A WSGI server streams an iterable body: granian sends the status line and headers as soon as the
first chunk is asked for, the rest after. A node killed in between leaves a response whose headers
a proxy has already passed on, which it can no longer retry on another node (the client sees a
truncated body). Handed one ``bytes`` in a list, the server writes headers and body together, and a
proxy in front either gets the whole answer or nothing it has forwarded, so it retries elsewhere
(``proxy_next_upstream``). Large bodies (PDFs, big files) keep streaming: memory stays bounded.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
WHOLE_LIMIT = 4 << 20  # bytes: larger bodies stream


class WholeBodies:
    """WSGI middleware: joins a body whose ``Content-Length`` is at most ``limit`` into one chunk."""

    def __init__(self, app: WSGIApp, limit: int = WHOLE_LIMIT) -> None:
        self.app = app
        self.limit = limit

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        length: list[str | None] = [None]

        def recording(status: str, headers: list[tuple[str, str]], *exc_info: Any) -> Any:
            length[0] = next((v for k, v in headers if k.lower() == "content-length"), None)
            return start_response(status, headers, *exc_info)

        body = self.app(environ, recording)
        if isinstance(body, list) or length[0] is None or not length[0].isdigit() or int(length[0]) > self.limit:
            return body
        try:
            data = b"".join(body)
        finally:
            close = getattr(body, "close", None)
            if close is not None:
                close()
        return [data]
