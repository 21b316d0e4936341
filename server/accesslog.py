"""The access log of ``heritage serve``, the same whatever HTTP server runs the app.

One line per request on stdout, in Apache's combined format followed by the duration in
microseconds (Apache's ``%D``), which log analysers read as they are::

    127.0.0.1 - - [02/Dec/2026:14:00:00 +0000] "GET /iiif/3/collection/top HTTP/1.1" 200 5120 "-" "curl/8.0" 1834

The client address is the one the app settled on (a trusted proxy's X-Forwarded-For, see
``server/http.py``). Quotes and control characters in the request line, referer and user agent
are escaped, so a client cannot forge a line. Each line is one ``write(2)`` to stdout, so lines
from several workers and threads never interleave.
"""
from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any
from urllib.parse import quote

_ESCAPES = {i: f"\\x{i:02x}" for i in range(0x20)} | {0x7F: "\\x7f", ord('"'): '\\"', ord("\\"): "\\\\"}


def _clean(value: str) -> str:
    return value.translate(_ESCAPES) if value else "-"


def request_line(environ: dict[str, Any]) -> str:
    """``METHOD target PROTOCOL`` as the client sent it (the raw target when the server keeps it)."""
    target = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if not target:
        path = environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")
        target = quote(path.encode("latin-1", "replace"), safe="/;:@&=+$,%!~*'()")
        if environ.get("QUERY_STRING"):
            target += "?" + environ["QUERY_STRING"]
    return f"{environ.get('REQUEST_METHOD', '-')} {target} {environ.get('SERVER_PROTOCOL', 'HTTP/1.1')}"


def log_line(environ: dict[str, Any], line: str, status: str, size: int, started: float, wall: float) -> str:
    """One combined-format line (+ duration in µs); ``line`` is the request line seen on arrival."""
    micros = int((time.perf_counter() - started) * 1_000_000)
    stamp = time.strftime("%d/%b/%Y:%H:%M:%S %z", time.localtime(wall))
    return (f'{environ.get("REMOTE_ADDR") or "-"} - - [{stamp}] "{_clean(line)}" {status.split(" ", 1)[0]} '
            f'{size if size else "-"} "{_clean(environ.get("HTTP_REFERER", ""))}" '
            f'"{_clean(environ.get("HTTP_USER_AGENT", ""))}" {micros}\n')


class AccessLog:
    """WSGI middleware: logs each request once its body has been handed to the server."""

    def __init__(self, app: Callable[..., Iterable[bytes]], fd: int = 1) -> None:
        self.app = app
        self.fd = fd

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        started, wall = time.perf_counter(), time.time()
        line = request_line(environ)  # before the app: a mount prefix may move SCRIPT_NAME/PATH_INFO
        seen: list[str] = ["500 Internal Server Error"]

        def recording_start_response(status: str, headers: list[tuple[str, str]], *args: Any) -> Any:
            seen[0] = status
            return start_response(status, headers, *args)

        body = self.app(environ, recording_start_response)
        if isinstance(body, list):  # the common case (tiles, JSON): logged now, the list passed on as is
            self._write(log_line(environ, line, seen[0], sum(len(b) for b in body), started, wall))
            return body
        return _Logged(body, lambda size: self._write(log_line(environ, line, seen[0], size, started, wall)))

    def _write(self, text: str) -> None:
        try:
            os.write(self.fd, text.encode("utf-8", "replace"))
        except OSError:
            pass  # a closed stdout must not fail the request


class _Logged:
    """A response body that counts its bytes and logs when the server closes it."""

    def __init__(self, body: Iterable[bytes], done: Callable[[int], None]) -> None:
        self.body = body
        self.done = done
        self.size = 0

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self.body:
            self.size += len(chunk)
            yield chunk

    def close(self) -> None:
        try:
            close = getattr(self.body, "close", None)
            if close is not None:
                close()
        finally:
            self.done(self.size)
