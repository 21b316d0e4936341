"""One writer per data folder, and a full disk that stops ingest cleanly.

Two ``heritage ingest`` runs on one data folder: the second refuses at once with a message that
names the folder and the running ingest (an flock held for the whole run). A data folder that
fills up during ingest (a small tmpfs): a one-line error naming the folder, nothing switched, and
the previous publication still served.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import DEMO, FIXTURES, IN_CI, ROOT, LiveServer, ingest, write_holdings

SMALL_PAGE = FIXTURES / "67352ccc-d1b0-11e1-89ae-279075081939.png"


def _start_ingest(holdings: Path, data: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "HERITAGE_DATA": str(data), "HERITAGE_WORKERS": "1"}
    return subprocess.Popen([sys.executable, "-m", "server.cli", "ingest", str(holdings)], env=env, cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.slow
def test_a_second_ingest_on_the_same_data_folder_refuses(tmp_path: Path) -> None:
    data = tmp_path / "data"
    lock = data / "manifests" / ".ingest.lock"
    first = _start_ingest(DEMO, data)
    try:
        deadline = time.monotonic() + 60
        while not (lock.is_file() and lock.read_text().strip()):  # the pid is written once the lock is held
            assert first.poll() is None, first.communicate()
            assert time.monotonic() < deadline, "the first ingest never took the lock"
            time.sleep(0.05)
        holder = lock.read_text().strip()
        second = ingest(DEMO, data)
        assert first.poll() is None, "the first ingest ended before the second was tried: the test proves nothing"
    finally:
        out, err = first.communicate(timeout=600)
    assert second.returncode == 1
    assert second.stderr.strip() == (
        f"heritage: another heritage ingest (pid {holder}) is writing to the data folder {data}; "
        f"wait for it to finish, then run again (lock: {lock})")
    assert "Traceback" not in second.stderr and second.stdout == ""
    assert first.returncode == 0, out + err  # the first run was not disturbed
    generations = sorted(p.name for p in (data / "manifests").iterdir() if p.name.startswith(("gen-", ".tmp-gen-")))
    assert len(generations) == 1 and generations[0].startswith("gen-")  # one writer, one publication
    third = ingest(DEMO, data)  # the lock goes with its holder
    assert third.returncode == 0, third.stdout + third.stderr


# --------------------------------------------------------------------------- a full disk

@pytest.fixture()
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """An 8 MiB tmpfs as the data folder (root only, as on the CI machine)."""
    mount = tmp_path / "small-disk"
    mount.mkdir()
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mount)],
                            capture_output=True, text=True, check=False)
    if result.returncode != 0:
        message = f"cannot mount a small tmpfs to fill (needs root): {result.stderr.strip()}"
        if IN_CI:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


@pytest.mark.slow
def test_a_full_disk_stops_ingest_and_the_previous_publication_still_serves(tmp_path: Path, small_disk: Path) -> None:
    data = small_disk / "data"
    small = write_holdings(tmp_path / "small", [{"id": "small", "collection": "test", "type": "object",
                                                 "title": "Small"}], {"small": [SMALL_PAGE]})
    assert (before := ingest(small, data)).returncode == 0, before.stdout + before.stderr
    current = os.readlink(data / "manifests" / "current")
    server = LiveServer(data, workers=1)
    try:
        big = ingest(DEMO, data)  # 11 MB of scans: their pyramids cannot fit
        assert big.returncode == 1
        said = big.stderr.strip().splitlines()[-1]
        assert said.startswith(f"heritage: cannot write to the data folder {data}: "), big.stderr
        assert said.endswith("; ingest stopped and nothing was published (the previous publication is still "
                             "served). Free some space, then run again")
        assert "Traceback" not in big.stderr
        assert os.readlink(data / "manifests" / "current") == current
        assert not list((data / "manifests").glob(".tmp-gen-*"))
        import urllib.request
        with urllib.request.urlopen(f"{server.url}/iiif/3/small/manifest", timeout=30) as response:
            assert response.status == 200 and b'"Small"' in response.read()
    finally:
        server.stop()
