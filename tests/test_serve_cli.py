"""``heritage serve`` and ``heritage demo`` as an operator meets them: real processes.

An access log on stdout (Apache combined + duration) unless turned off; a clear word and a
non-zero exit when the port is taken; derived data in a per-user folder that does not depend on
where the package is installed, and the demo apart from your own data.
"""
from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from server.config import Settings, demo_data_dir, user_data_dir

from .conftest import FIXTURES, ROOT, LiveServer, free_port, ingest, write_holdings

COMBINED = re.compile(r'^(?P<host>\S+) - - \[(?P<time>[^\]]+)\] "(?P<method>[A-Z]+) (?P<target>\S+) HTTP/1\.[01]" '
                      r'(?P<status>\d{3}) (?P<bytes>\d+|-) "(?P<referer>[^"]*)" "(?P<agent>[^"]*)" (?P<micros>\d+)$')
TILE = "/iiif/3/image/periodical-ita-rassegna-settimanale-1878-10-06~1/0,0,256,256/256,256/0/default.jpg"


def _env(**extra: str) -> dict[str, str]:
    """The test's environment without HERITAGE_DATA / XDG_DATA_HOME (each test says what it wants)."""
    env = {k: v for k, v in os.environ.items() if k not in ("HERITAGE_DATA", "XDG_DATA_HOME")}
    return {**env, **extra}


def _get(url: str, **headers: str) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def _stopped_output(server: LiveServer) -> str:
    server.stop()
    assert server.proc.stdout is not None
    return server.proc.stdout.read().decode()


# --------------------------------------------------------------------------- access log

def test_serve_logs_each_request_in_combined_format(demo_data: Path) -> None:
    server = LiveServer(demo_data, workers=1, stdout=subprocess.PIPE)
    early = b""
    try:
        status, body = _get(server.url + "/iiif/3/collection/top?page=1", Referer="http://example.org/",
                            **{"User-Agent": "heritage-test/1.0"})
        assert status == 200
        missing, _ = _get(server.url + "/no/such/page")
        tile_status, tile = _get(server.url + TILE)  # answered by the WSGI tile shortcut
        # a body the server streams is logged when the server closes it, which may come just after the
        # client has it all: wait for the three lines before stopping the server
        assert server.proc.stdout is not None
        os.set_blocking(server.proc.stdout.fileno(), False)
        early, deadline = b"", time.monotonic() + 20
        while early.count(b"\n") < 3 and time.monotonic() < deadline:
            early += server.proc.stdout.read() or b""
            time.sleep(0.05)
        os.set_blocking(server.proc.stdout.fileno(), True)
    finally:
        out = early.decode() + _stopped_output(server)
    lines = [COMBINED.match(line) for line in out.splitlines() if line.strip()]
    assert lines and all(lines), out  # stdout holds log lines only, each in the format
    by_target = {(m["method"], m["target"]): m for m in lines if m}
    top = by_target[("GET", "/iiif/3/collection/top?page=1")]
    assert (top["status"], int(top["bytes"])) == ("200", len(body))
    assert (top["referer"], top["agent"], top["host"]) == ("http://example.org/", "heritage-test/1.0", "127.0.0.1")
    assert by_target[("GET", "/no/such/page")]["status"] == str(missing) == "404"
    assert (by_target[("GET", TILE)]["status"], int(by_target[("GET", TILE)]["bytes"])) == (str(tile_status), len(tile))


@pytest.mark.parametrize("env, args", [({"HERITAGE_ACCESS_LOG": "0"}, ()), ({}, ("--no-access-log",))])
def test_access_log_can_be_turned_off(demo_data: Path, env: dict[str, str], args: tuple[str, ...]) -> None:
    server = LiveServer(demo_data, workers=1, env=env, args=args, stdout=subprocess.PIPE)
    try:
        assert _get(server.url + "/iiif/3/collection/top")[0] == 200
    finally:
        out = _stopped_output(server)
    assert out == ""


# --------------------------------------------------------------------------- busy port

@pytest.fixture()
def busy_port() -> Iterator[int]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        yield int(s.getsockname()[1])


@pytest.mark.parametrize("command", ["serve", "demo"])
def test_busy_port_is_named_with_a_way_out(busy_port: int, tmp_path: Path, command: str) -> None:
    env = _env(HOME=str(tmp_path / "home"), HERITAGE_DATA=str(tmp_path / "data")) if command == "serve" \
        else _env(HOME=str(tmp_path / "home"))
    result = subprocess.run([sys.executable, "-m", "server.cli", command, "--port", str(busy_port)], env=env,
                            cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode != 0
    assert f"Port {busy_port} on 127.0.0.1 is already in use" in result.stderr
    assert re.search(r"--port \d+", result.stderr), result.stderr
    assert "Traceback" not in result.stderr
    assert "http://" not in result.stdout  # no URL promised for a server that never starts
    assert not (tmp_path / "home").exists()  # the demo did not ingest first


# --------------------------------------------------------------------------- data folder

def test_data_folder_defaults_to_the_user_data_dir(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert Settings.load(environ={"HOME": str(home)}).data == home / ".local" / "share" / "heritage-lab"
    xdg = {"HOME": str(home), "XDG_DATA_HOME": str(tmp_path / "xdg")}
    assert Settings.load(environ=xdg).data == tmp_path / "xdg" / "heritage-lab"
    assert user_data_dir({"HOME": str(home), "XDG_DATA_HOME": "relative/dir"}) == home / ".local/share/heritage-lab"
    assert demo_data_dir(xdg) == tmp_path / "xdg" / "heritage-lab" / "demo"
    assert Settings.load(environ={**xdg, "HERITAGE_DATA": str(tmp_path / "mine")}).data == tmp_path / "mine"


def test_ingest_without_heritage_data_writes_to_the_user_data_dir(tmp_path: Path) -> None:
    holdings = write_holdings(tmp_path / "holdings", [{"id": "one", "collection": "test", "type": "object",
                                                       "title": "One"}],
                              {"one": [FIXTURES / "67352ccc-d1b0-11e1-89ae-279075081939.png"]})
    home = tmp_path / "home"
    result = subprocess.run([sys.executable, "-m", "server.cli", "ingest", str(holdings)],
                            env=_env(HOME=str(home)), cwd=ROOT, capture_output=True,
                            text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    data = home / ".local" / "share" / "heritage-lab"
    assert (data / "manifests" / "current" / "catalog.sqlite").is_file()
    assert (data / "image_cache" / "pyramids").is_dir()
    assert not (ROOT / "manifests" / "current").exists()  # nothing inside the package folder


def test_demo_uses_its_own_folder_apart_from_your_data(tmp_path: Path) -> None:
    xdg = tmp_path / "xdg"
    # your own publication already in the default folder: the demo must leave it alone
    holdings = write_holdings(tmp_path / "holdings", [{"id": "mine", "collection": "test", "type": "object",
                                                       "title": "Mine"}],
                              {"mine": [FIXTURES / "67352ccc-d1b0-11e1-89ae-279075081939.png"]})
    assert ingest(holdings, xdg / "heritage-lab").returncode == 0
    mine = os.readlink(xdg / "heritage-lab" / "manifests" / "current")
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "server.cli", "demo", "--port", str(port), "--workers", "1",
                             "--no-access-log"], env=_env(XDG_DATA_HOME=str(xdg)), cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        status = _wait_for(f"http://127.0.0.1:{port}/iiif/3/collection/top", proc)
        assert status == 200
        demo = xdg / "heritage-lab" / "demo"
        assert (demo / "manifests" / "current" / "catalog.sqlite").is_file()
        assert os.readlink(xdg / "heritage-lab" / "manifests" / "current") == mine
        base = f"http://127.0.0.1:{port}/iiif/3"  # the demo's publication is served, not yours
        assert _get(f"{base}/periodical-ita-rassegna-settimanale-1878-10-06/manifest")[0] == 200
        assert _get(f"{base}/mine/manifest")[0] == 404
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=30)
    assert f"Demo data: {xdg / 'heritage-lab' / 'demo'}" in out.decode()


def _wait_for(url: str, proc: subprocess.Popen[bytes], seconds: float = 300) -> int:
    """Poll until the demo (ingest, then gunicorn) answers ``url``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"demo exited {proc.returncode}: {proc.stderr.read().decode() if proc.stderr else ''}")
        try:
            return _get(url)[0]
        except OSError:
            time.sleep(0.2)
    raise AssertionError("demo did not start")


# --------------------------------------------------------------------------- forwarded headers under gunicorn

def test_gunicorn_leaves_forwarded_headers_to_the_app(demo_data: Path) -> None:
    """gunicorn's own scheme headers (X-Forwarded-Proto/-Ssl from loopback) would bypass
    HERITAGE_TRUSTED_PROXIES: with no proxy trusted, the ids keep the request's own scheme."""
    server = LiveServer(demo_data, workers=1, env={"HERITAGE_TRUSTED_PROXIES": "none"})
    try:
        status, body = _get(server.url + "/iiif/3/collection/top",
                            **{"X-Forwarded-Proto": "https", "X-Forwarded-Ssl": "on", "X-Forwarded-Host": "evil.example"})
    finally:
        server.stop()
    assert status == 200
    assert b'"id": "http://127.0.0.1:' in body and b"https://" not in body.split(b'"items"')[0]
    assert b"evil.example" not in body


# --------------------------------------------------------------------------- the HTTP server choice

@pytest.mark.parametrize("server, keeps_alive", [("granian", True), ("gthread", True), ("gunicorn-sync", False)])
def test_each_server_choice_serves_and_logs_alike(demo_data: Path, server: str, keeps_alive: bool) -> None:
    """--server picks the HTTP server (bench/README.md measures them); the access log is the same."""
    import http.client
    live = LiveServer(demo_data, workers=1, args=("--server", server), stdout=subprocess.PIPE)
    try:
        conn = http.client.HTTPConnection("127.0.0.1", live.port, timeout=30)
        conn.request("GET", TILE)
        first = conn.getresponse()
        tile = first.read()
        assert first.status == 200 and tile[:2] == b"\xff\xd8"
        assert first.will_close != keeps_alive  # viewers' connections stay open, except with sync workers
        conn.request("GET", "/iiif/3/collection/top")  # http.client reconnects if the server closed
        second = conn.getresponse()
        second_body = second.read()
        assert second.status == 200 and second.will_close != keeps_alive
        conn.close()
    finally:
        out = _stopped_output(live)
    lines = [COMBINED.match(line) for line in out.splitlines() if line.strip()]
    assert all(lines), out  # the start-up probe, then our two requests
    logged = [(m["target"], m["status"], int(m["bytes"])) for m in lines if m is not None]
    # the tile's line, wherever the server's threads put it among the start-up probes and the second request
    assert (TILE, "200", len(tile)) in logged, logged
    assert ("/iiif/3/collection/top", "200", len(second_body)) in logged, logged


def test_server_can_be_chosen_by_environment_and_a_wrong_name_is_refused(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "server.cli", "serve", "--port", str(free_port())],
                            env=_env(HERITAGE_DATA=str(tmp_path), HERITAGE_SERVER="apache"), cwd=ROOT,
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 2
    assert result.stderr.strip() == ("heritage: HERITAGE_SERVER='apache' is not a server; "
                                     "choose one of granian, gthread, gunicorn-sync.")


def test_access_log_escapes_what_the_client_sent() -> None:
    from server.accesslog import log_line, request_line
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/a b", "QUERY_STRING": "q=1", "SERVER_PROTOCOL": "HTTP/1.1",
               "REMOTE_ADDR": "10.0.0.1", "HTTP_USER_AGENT": 'evil"\n10.0.0.2 - - [x] "GET / HTTP/1.1" 200 1 "-" "-" 1'}
    line = log_line(environ, request_line(environ), "404 NOT FOUND", 0, time.perf_counter(), 0.0)
    assert line.count("\n") == 1 and line.endswith("\n")  # one request, one line: no forged second line
    assert ' "evil\\"\\x0a10.0.0.2 - - [x] \\"GET / HTTP/1.1\\" 200 1 \\"-\\" \\"-\\" 1" ' in line
    benign = COMBINED.match(log_line({**environ, "HTTP_USER_AGENT": "ok"}, request_line(environ), "404 NOT FOUND", 0,
                                     time.perf_counter(), 0.0).rstrip("\n"))
    assert benign is not None
    assert (benign["target"], benign["status"], benign["bytes"], benign["host"]) == ("/a%20b?q=1", "404", "-", "10.0.0.1")


def test_a_wrong_setting_is_said_in_one_line_before_serving(tmp_path: Path) -> None:
    """Said once at start, not by workers that the server would restart over and over."""
    result = subprocess.run([sys.executable, "-m", "server.cli", "serve", "--port", str(free_port())],
                            env=_env(HERITAGE_DATA=str(tmp_path), HERITAGE_TRUSTED_PROXIES="bogus"), cwd=ROOT,
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 2
    assert result.stderr.strip() == "heritage: HERITAGE_TRUSTED_PROXIES: 'bogus' is not an IP address or network"
