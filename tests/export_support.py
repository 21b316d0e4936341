"""Fixtures of the static export tests: ``heritage export`` of the demo, served by Python's http.server."""
from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from .conftest import ROOT, free_port


def export(data: Path, out: Path, base_url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HERITAGE_DATA": str(data)}
    return subprocess.run([sys.executable, "-m", "server.cli", "export", str(out), "--base-url", base_url],
                          env=env, capture_output=True, text=True, cwd=ROOT, timeout=900, check=False)


class _Handler(SimpleHTTPRequestHandler):
    """Python's static file handler, plus the one header docs/export.md asks hosts to add (CORS),
    without which viewers on another origin cannot read the manifests."""

    def end_headers(self) -> None:
        self.send_header("Access-Control-Allow-Origin", "*")
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


class StaticSite:
    """Python's ``http.server`` on a loopback port serving an export folder: the plainest static host."""

    def __init__(self, out: Path, port: int) -> None:
        self.out = out
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.server = ThreadingHTTPServer(("127.0.0.1", port), partial(_Handler, directory=str(out)))
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, name="export-site", daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="session")
def demo_export(demo_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[StaticSite]:
    """The demo publication exported for a static server on a free port, and that server."""
    out = tmp_path_factory.mktemp("export") / "site"
    port = free_port()
    result = export(demo_data, out, f"http://127.0.0.1:{port}")
    assert result.returncode == 0, result.stdout + result.stderr
    site = StaticSite(out, port)
    yield site
    site.stop()
