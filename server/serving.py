"""Running the app under gunicorn for ``heritage serve`` and ``heritage demo``.

Two things a bare gunicorn start lacks: a clear word when the port is taken (gunicorn retries,
then exits 1 with no hint), and an access log. The port is checked before anything is started;
requests are logged to stdout in Apache's combined format plus the duration in microseconds
(Apache's ``%D``), which log analysers read as they are.
"""
from __future__ import annotations

import errno
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Apache "combined" + %D (request duration, microseconds); gunicorn's atoms have the same letters
ACCESS_LOG_FORMAT = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(D)s'


@dataclass(frozen=True)
class PortProblem:
    """Why the server cannot listen on host:port, worded for the person who typed the command."""

    message: str


def _can_bind(host: str, port: int) -> OSError | None:
    """Try to listen as gunicorn would (SO_REUSEADDR on, so a port in TIME_WAIT counts as free)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        return OSError(errno.EADDRNOTAVAIL, str(exc))
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(address)
            s.listen(1)
        except OSError as exc:
            return exc
    return None


def port_problem(host: str, port: int) -> PortProblem | None:
    """None when ``host:port`` is free to listen on; else what is wrong and what to do."""
    error = _can_bind(host, port)
    if error is None:
        return None
    if error.errno == errno.EADDRINUSE:
        hint = ""
        for candidate in range(port + 1, min(port + 50, 65536)):
            if _can_bind(host, candidate) is None:
                hint = f", e.g. --port {candidate}"
                break
        return PortProblem(f"Port {port} on {host} is already in use (is another server running there?). "
                           f"Choose another port with --port{hint}.")
    if error.errno == errno.EACCES:
        return PortProblem(f"Not allowed to listen on port {port} on {host} (ports below 1024 need privileges). "
                           "Choose another port with --port, e.g. --port 8000.")
    return PortProblem(f"Cannot listen on {host}:{port}: {error.strerror or error}. Check --host and --port.")


def run_gunicorn(host: str, port: int, workers: int, access_log: bool, data: Path | None = None) -> None:
    """Serve ``create_app()`` (with ``data`` as ``HERITAGE_DATA`` when given) until stopped."""
    from gunicorn.app.base import BaseApplication

    config: dict[str, Any] = {"data": data} if data is not None else {}

    class _App(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            options: dict[str, Any] = {
                "bind": f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
                "workers": workers, "worker_class": "sync",
                "accesslog": "-" if access_log else None, "access_log_format": ACCESS_LOG_FORMAT,
                "errorlog": "-", "loglevel": "warning", "timeout": 120,
                "keepalive": 2, "preload_app": True,
                # X-Forwarded-Proto/-Ssl are the app's to judge (HERITAGE_TRUSTED_PROXIES, server/http.py):
                # gunicorn would otherwise believe them from its own allow-list (loopback)
                "secure_scheme_headers": {},
            }
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            from . import create_app
            return create_app(config)

    _App().run()
