"""Running the app for ``heritage serve`` and ``heritage demo``: granian (the default) or gunicorn.

The HTTP server was chosen by measurement (``bench/README.md``): viewers keep connections open,
and granian (Rust, keep-alive, threads per worker) serves them with the least CPU per request;
gunicorn's gthread workers (keep-alive) and sync workers (one connection per request) stay
selectable with ``--server`` / ``HERITAGE_SERVER``. Whatever the server, two things a bare start
lacks are added here: a clear word when the port is taken (checked before anything starts), and
one access log (``server/accesslog.py``: Apache's combined format plus the duration in µs).
"""
from __future__ import annotations

import errno
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SERVERS = ("granian", "gthread", "gunicorn-sync")
DEFAULT_SERVER = "granian"
GTHREAD_THREADS = 4  # per gthread worker
GRANIAN_THREADS = 4  # blocking (WSGI) threads per granian worker
KEEPALIVE_S = 15  # idle keep-alive of viewers' connections under gthread (granian: its own default)


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


def default_workers(server: str) -> int:
    """Worker processes when ``--workers`` is not given: what each server's documentation advises."""
    cores = os.cpu_count() or 1
    if server == "gunicorn-sync":
        return 2 * cores + 1
    return cores if server == "granian" else cores + 1


def run_server(server: str, host: str, port: int, workers: int | None, access_log: bool,
               data: Path | None = None) -> None:
    """Serve ``create_app()`` (``data`` as ``HERITAGE_DATA`` when given) with ``server`` until stopped.

    Raises ValueError, before anything listens, when a setting is wrong."""
    if server not in SERVERS:
        raise ValueError(f"unknown server {server!r}: choose one of {', '.join(SERVERS)}")
    # the workers build the app from the environment (granian starts them itself): say it there
    if data is not None:
        os.environ["HERITAGE_DATA"] = str(data)
    os.environ["HERITAGE_ACCESS_LOG"] = "1" if access_log else "0"
    count = workers or default_workers(server)
    app_from_environment()  # a bad setting fails here, once (granian would respawn failing workers forever)
    if server == "granian":
        _run_granian(host, port, count)
    else:
        _run_gunicorn(host, port, count, server)


def app_from_environment() -> Callable[..., Any]:
    """The WSGI callable every worker serves: the app, inside the access log when it is on."""
    from . import create_app
    from .accesslog import AccessLog
    app = create_app()
    settings = app.config["SETTINGS"]
    return AccessLog(app.wsgi_app) if settings.access_log else app.wsgi_app


# granian's own messages go to stderr, as gunicorn's do: stdout is the access log's alone
GRANIAN_LOGGING: dict[str, Any] = {
    "handlers": {"console": {"formatter": "generic", "class": "logging.StreamHandler", "stream": "ext://sys.stderr"},
                 "access": {"formatter": "access", "class": "logging.StreamHandler", "stream": "ext://sys.stderr"}},
}


def _run_granian(host: str, port: int, workers: int) -> None:
    from granian import Granian
    from granian.constants import Interfaces
    from granian.log import LogLevels

    Granian(
        "server.serving:app_from_environment", factory=True, interface=Interfaces.WSGI,
        address=host, port=port, workers=workers, blocking_threads=GRANIAN_THREADS,
        respawn_failed_workers=True, respawn_interval=0.5,  # a crashed worker comes back, as with gunicorn
        log_level=LogLevels.warning, log_access=False, websockets=False, log_dictconfig=GRANIAN_LOGGING,
    ).serve()


def _run_gunicorn(host: str, port: int, workers: int, server: str) -> None:
    from gunicorn.app.base import BaseApplication

    class _App(BaseApplication):
        def load_config(self) -> None:
            options: dict[str, Any] = {
                "bind": f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
                "workers": workers, "accesslog": None, "errorlog": "-", "loglevel": "warning",
                "timeout": 120, "preload_app": True,
                # X-Forwarded-Proto/-Ssl are the app's to judge (HERITAGE_TRUSTED_PROXIES, server/http.py):
                # gunicorn would otherwise believe them from its own allow-list (loopback)
                "secure_scheme_headers": {},
            }
            if server == "gthread":
                options.update(worker_class="gthread", threads=GTHREAD_THREADS, keepalive=KEEPALIVE_S)
            else:
                options.update(worker_class="sync", keepalive=2)
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            return app_from_environment()

    _App().run()
