"""Shared fixtures: the bundled demo holdings ingested once per session, and a live gunicorn server."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest_plugins = ["tests.browser.support"]

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "examples" / "holdings"
FIXTURES = ROOT / "tests" / "fixtures"
SAMPLE = FIXTURES / "holdings-sample"
SCHEMA = FIXTURES / "schemas" / "iiif_3_0.json"
IN_CI = os.environ.get("CI", "").lower() == "true"
# Test holdings are mostly synthetic images without OCR: Tesseract would read noise on them (and
# slowly). Ingests spawned by the tests skip OCR unless a test asks for it (tests/test_ingest_ocr.py).
os.environ.setdefault("HERITAGE_OCR", "off")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def ingest(holdings: Path, data: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HERITAGE_DATA": str(data)}
    return subprocess.run([sys.executable, "-m", "server.cli", "ingest", str(holdings), *extra],
                          env=env, capture_output=True, text=True, cwd=ROOT, timeout=600, check=False)


class LiveServer:
    """A real ``heritage serve`` (gunicorn) on a free loopback port."""

    def __init__(self, data: Path, workers: int = 2, env: dict[str, str] | None = None,
                 args: tuple[str, ...] = (), stdout: int | None = subprocess.DEVNULL) -> None:
        self.data = data
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        full_env = {**os.environ, "HERITAGE_DATA": str(data), **(env or {})}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "server.cli", "serve", "--port", str(self.port), "--workers", str(workers), *args],
            env=full_env, cwd=ROOT, stdout=stdout, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.proc.stderr.read().decode() if self.proc.stderr else ''}")
            try:
                urllib.request.urlopen(self.url + "/iiif/3/collection/top", timeout=1)
                return
            except urllib.error.HTTPError:
                return  # it answers
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("server did not start")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


@pytest.fixture(scope="session")
def demo_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """HERITAGE_DATA with the demo holdings ingested (once per test session)."""
    data = tmp_path_factory.mktemp("demo-data")
    result = ingest(DEMO, data)
    assert result.returncode == 0, result.stdout + result.stderr
    return data


@pytest.fixture(scope="session")
def live_server(demo_data: Path) -> Iterator[str]:
    server = LiveServer(demo_data)
    yield server.url
    server.stop()


@pytest.fixture(scope="session")
def live_items() -> list[str]:
    return sorted(p.name for p in (DEMO / "items").iterdir() if p.is_dir())


@pytest.fixture()
def app(demo_data: Path):  # type: ignore[no-untyped-def]
    from server import create_app
    return create_app({"data": demo_data, "base_url": "http://heritage.test"})


@pytest.fixture()
def client(app):  # type: ignore[no-untyped-def]
    return app.test_client()


def write_holdings(root: Path, items: list[dict[str, str]], pages: dict[str, list[Path]],
                   collections: list[dict[str, str]] | None = None) -> Path:
    """Write a small holdings folder (comma CSV); page images are symlinked as 0001.ext, 0002.ext …"""
    import csv
    root.mkdir(parents=True, exist_ok=True)
    collections = collections or [{"id": "test", "parent": "", "title": "Test"}]
    for name, rows in (("collections.csv", collections), ("items.csv", items)):
        fields = sorted({k for r in rows for k in r})
        with open(root / name, "w", newline="", encoding="utf-8") as f:
            w = csv.DictWriter(f, fieldnames=fields)
            w.writeheader()
            w.writerows(rows)
    for item_id, files in pages.items():
        folder = root / "items" / item_id
        folder.mkdir(parents=True, exist_ok=True)
        for i, src in enumerate(files, 1):
            os.symlink(src, folder / f"{i:04d}{src.suffix}")
    return root


# --------------------------------------------------------------------------- live sites for the browser tests

MIRADOR = "/node_modules/mirador4/dist/mirador.min.js"
UV = "/node_modules/universalviewer/dist/umd/UV.js"


def mirador_env(viewer_server: Any) -> dict[str, str]:
    """What a live server needs so that item pages load Mirador from the loopback static server."""
    return {"HERITAGE_VIEWER": "mirador", "HERITAGE_VIEWER_URL": viewer_server.url(MIRADOR)}


@pytest.fixture(scope="module")
def site(demo_data: Path, viewer_server: Any) -> Iterator[str]:
    server = LiveServer(demo_data, env=mirador_env(viewer_server))
    yield server.url
    server.stop()


@pytest.fixture(scope="module")
def uv_site(demo_data: Path, viewer_server: Any) -> Iterator[str]:
    server = LiveServer(demo_data, env={"HERITAGE_VIEWER": "uv", "HERITAGE_VIEWER_URL": viewer_server.url(UV)})
    yield server.url
    server.stop()
