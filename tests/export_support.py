"""Fixtures of the static export tests: ``heritage export`` of the demo, served by python's http.server."""
from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import ROOT, LiveServer, free_port


def export(data: Path, out: Path, base_url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HERITAGE_DATA": str(data)}
    return subprocess.run([sys.executable, "-m", "server.cli", "export", str(out), "--base-url", base_url],
                          env=env, capture_output=True, text=True, cwd=ROOT, timeout=900, check=False)


class StaticSite(LiveServer):
    """``python -m http.server`` on a loopback port serving an export folder: the plainest static host."""

    def __init__(self, out: Path, port: int) -> None:  # noqa: PLW0231  (not a heritage server: only stop() is shared)
        self.out = out
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.proc = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1",
                                      "--directory", str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while True:
            try:
                urllib.request.urlopen(self.url + "/index.html", timeout=1)
                return
            except OSError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    self.stop()
                    raise RuntimeError("http.server did not start") from None
                time.sleep(0.1)


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
