"""The derivative cache: single flight across processes and threads, atomic files, LRU cap, safe keys."""
from __future__ import annotations

import multiprocessing
import os
import threading
import time
from multiprocessing.synchronize import Barrier
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.image.tilecache import DiskCache

KEY = "3fa9c0d1e2b3a4c5d6e7f8091a2b3c4d-p1/0,0,256,256/256,/0/default.jpg"


def _slow_render(counter: Path) -> bytes:
    """Renders 'slowly' and leaves a mark for every time it really ran."""
    with open(counter, "ab") as f:
        f.write(b"x")
    time.sleep(0.3)
    return b"tile-bytes" * 1000


def _worker(root: str, counter: str, barrier: Barrier, results: multiprocessing.Queue[bytes]) -> None:
    cache = DiskCache(Path(root), max_bytes=10_000_000)
    barrier.wait()
    data = cache.get_or_render(KEY, lambda: _slow_render(Path(counter)))
    results.put(data)


def files_under(root: Path) -> dict[str, int]:
    return {str(p.relative_to(root)): p.stat().st_size for p in root.rglob("*")
            if p.is_file() and not any(part.startswith(".") for part in p.relative_to(root).parts)}


def test_single_flight_across_processes(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("forkserver")  # real processes, no fork of a threaded pytest
    ctx.set_forkserver_preload([_worker.__module__])   # import this module once, not once per child
    counter = tmp_path / "renders"
    counter.touch()
    n = 4
    barrier, results = ctx.Barrier(n), ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(str(tmp_path / "cache"), str(counter), barrier, results))
             for _ in range(n)]
    for p in procs:
        p.start()
    got = [results.get(timeout=60) for _ in range(n)]
    for p in procs:
        p.join(timeout=30)
        assert p.exitcode == 0
    assert counter.read_bytes() == b"x"  # rendered exactly once
    assert got == [b"tile-bytes" * 1000] * n
    assert list((tmp_path / "cache" / ".locks").glob("*.lock")) == []  # lock files do not pile up


def test_single_flight_across_threads(tmp_path: Path) -> None:
    cache = DiskCache(tmp_path, max_bytes=None)
    counter = tmp_path / "renders"
    barrier = threading.Barrier(12)
    results: list[bytes] = []

    def run() -> None:
        barrier.wait()
        results.append(cache.get_or_render(KEY, lambda: _slow_render(counter)))

    threads = [threading.Thread(target=run) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert counter.read_bytes() == b"x"
    assert results == [b"tile-bytes" * 1000] * 12
    assert cache.get(KEY) == cache.path(KEY) and cache.path(KEY).read_bytes() == results[0]


def test_different_keys_render_in_parallel(tmp_path: Path) -> None:
    cache = DiskCache(tmp_path)
    started = time.monotonic()
    threads = [threading.Thread(target=cache.get_or_render, args=(f"k/{i}", lambda: (time.sleep(0.3), b"x")[1]))
               for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert time.monotonic() - started < 1.2  # not serialised behind one lock


def test_failed_render_stores_nothing_and_releases_the_lock(tmp_path: Path) -> None:
    cache = DiskCache(tmp_path, max_bytes=1_000_000)

    def boom() -> bytes:
        raise RuntimeError("renderer crashed")

    with pytest.raises(RuntimeError):
        cache.get_or_render(KEY, boom)
    assert cache.get(KEY) is None
    assert cache.get_or_render(KEY, lambda: b"second try") == b"second try"
    assert cache.get_or_render(KEY, boom) == b"second try"  # a hit never calls render


def test_writes_are_atomic(tmp_path: Path) -> None:
    """Readers racing a writer that keeps replacing a 2 MB file only ever see a whole version."""
    cache = DiskCache(tmp_path)
    versions = [bytes([v]) * 2_000_000 for v in (1, 2)]
    cache.put(KEY, versions[0])
    stop = threading.Event()
    seen: set[bytes] = set()

    def read() -> None:
        while not stop.is_set():
            path = cache.get(KEY)
            assert path is not None
            data = path.read_bytes()
            seen.add(data[:1] + data[-1:] + len(data).to_bytes(4, "big"))
            assert data in versions

    readers = [threading.Thread(target=read) for _ in range(2)]
    for r in readers:
        r.start()
    for i in range(40):
        cache.put(KEY, versions[i % 2])
    stop.set()
    for r in readers:
        r.join()
    assert {s[:2] for s in seen} <= {b"\x01\x01", b"\x02\x02"}
    assert not [p for p in tmp_path.rglob(".*.tmp")]  # no temp file left behind


def test_unwritable_cache_still_serves(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = DiskCache(tmp_path, max_bytes=1_000_000)

    def full(*_: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", full)
    assert cache.get_or_render(KEY, lambda: b"data") == b"data"
    monkeypatch.undo()
    assert cache.get(KEY) is None
    assert not [p for p in tmp_path.rglob("*.tmp")]


def test_eviction_keeps_total_under_cap_and_drops_least_recent(tmp_path: Path) -> None:
    cap = 100_000
    cache = DiskCache(tmp_path, max_bytes=cap, touch_after=0)
    blob = b"y" * 5_000
    now = time.time()
    for i in range(15):
        path = cache.put(f"pyr-a/tile-{i}", blob)
        os.utime(path, (now - 1000 + i, now - 1000 + i))  # tile-0 is the oldest
    assert cache.get("pyr-a/tile-0") is not None  # a hit: tile-0 becomes the most recent
    for i in range(6):  # 105,000 bytes: one pass, down to 90,000
        cache.put(f"pyr-b/tile-{i}", blob)
    remaining = files_under(tmp_path)
    assert sum(remaining.values()) <= cap * 0.9
    assert "pyr-a/tile-0" in remaining            # touched on hit: survived
    assert "pyr-a/tile-1" not in remaining        # older and never read: evicted
    assert "pyr-a/tile-4" in remaining            # only as many as needed went
    assert "pyr-b/tile-5" in remaining            # just written
    for i in range(6, 80):
        cache.put(f"pyr-b/tile-{i}", blob)
        assert sum(files_under(tmp_path).values()) <= cap
    assert not (tmp_path / "pyr-a").exists()      # emptied pyramid directories go too


def test_eviction_sees_other_processes_writes(tmp_path: Path) -> None:
    """Two caches on one directory stand for two workers: the running totals are re-synced by scans."""
    cap = 200_000
    a, b = DiskCache(tmp_path, max_bytes=cap), DiskCache(tmp_path, max_bytes=cap)
    for i in range(100):
        (a if i % 2 else b).put(f"p/t{i}", b"z" * 8_000)
    assert sum(files_under(tmp_path).values()) <= cap * 1.1


def test_eviction_removes_leftovers_of_crashed_workers(tmp_path: Path) -> None:
    cache = DiskCache(tmp_path, max_bytes=10_000)
    cache.put("p/t", b"data")
    old = time.time() - 7200
    tmp = tmp_path / "p" / ".t.999.dead.tmp"
    tmp.write_bytes(b"half")
    lock = tmp_path / ".locks" / ("0" * 40 + ".lock")
    lock.write_bytes(b"")
    for p in (tmp, lock):
        os.utime(p, (old, old))
    marker = tmp_path / ".complete" / "pyr-key-256-q85"  # what ingest keeps next to the tile grid
    marker.parent.mkdir()
    marker.write_bytes(b"x" * 20_000)
    os.utime(marker, (old, old))
    cache.evict()
    assert not tmp.exists() and not lock.exists()
    assert marker.exists()  # dot directories are not cache entries
    assert cache.get("p/t") is not None


def test_no_cap_never_evicts_and_zero_disables(tmp_path: Path) -> None:
    grid = DiskCache(tmp_path / "grid", max_bytes=None)
    for i in range(50):
        grid.put(f"p/{i}", b"q" * 10_000)
    assert len(files_under(tmp_path / "grid")) == 50
    off = DiskCache(tmp_path / "off", max_bytes=0)
    calls = []
    assert off.get_or_render(KEY, lambda: calls.append(1) or b"r") == b"r"
    assert off.get_or_render(KEY, lambda: calls.append(1) or b"r") == b"r"
    assert calls == [1, 1] and off.get(KEY) is None and not (tmp_path / "off").exists()


def test_empty_file_is_a_miss(tmp_path: Path) -> None:
    cache = DiskCache(tmp_path)
    path = cache.path(KEY)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"")  # what a power cut between rename and data can leave
    assert cache.get(KEY) is None
    assert cache.get_or_render(KEY, lambda: b"fresh") == b"fresh"


HOSTILE = ["../../etc/passwd", "..", ".", "a/../../b", "/abs/olute", "a//b", "%2e%2e/x", "a\\..\\b",
           ".locks/evict", ".hidden", "p/.tmp", "x" * 400, "p/" + "y" * 400, "ü/ñ", "a/b/../../../c", "a/", "/"]


@pytest.mark.parametrize("key", HOSTILE)
def test_keys_cannot_escape(tmp_path: Path, key: str) -> None:
    root = tmp_path / "cache"
    cache = DiskCache(root, max_bytes=1_000_000)
    path = cache.path(key)
    assert path.resolve().is_relative_to(root.resolve()) and path.parent.parent == root
    assert not path.name.startswith(".") and not path.parent.name.startswith(".")
    assert cache.get_or_render(key, lambda: b"v") == b"v"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache"]
    assert cache.get(key) == path


@pytest.mark.parametrize("key", ["", "a\0b"])
def test_invalid_keys(tmp_path: Path, key: str) -> None:
    with pytest.raises(ValueError):
        DiskCache(tmp_path).path(key)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.text(min_size=1).filter(lambda k: "\0" not in k), min_size=2, max_size=2, unique=True))
def test_distinct_keys_distinct_files(keys: list[str]) -> None:
    cache = DiskCache(Path("/nonexistent/cache"))
    a, b = (cache.path(k) for k in keys)
    assert a != b
    for p in (a, b):
        assert p.parent.parent == cache.root and p.name not in ("", ".", "..") and not p.name.startswith(".")
        assert len(p.name.encode()) <= 255 and len(p.parent.name.encode()) <= 255
