"""Ingest's worker pools: the workers end with the process that started them."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from server.workers import process_pool

ROOT = Path(__file__).resolve().parent.parent

# a process that starts a pool of two, prints its workers' pids once both have run a task, and waits
STARTER = """
import os, sys, time
from server.workers import process_pool
if __name__ == "__main__":
    pool = process_pool(2)
    pids = set()
    for _ in range(500):
        pids |= {f.result() for f in [pool.submit(time.sleep, 0.01) and pool.submit(os.getpid) for _ in range(4)]}
        if len(pids) == 2:
            break
    print(*sorted(pids), flush=True)
    time.sleep(120)
"""


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is dead too (its parent, killed, may not have been reaped yet)
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


def test_workers_exit_when_the_ingest_process_is_killed() -> None:
    starter = subprocess.Popen([sys.executable, "-c", STARTER], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert starter.stdout is not None
        pids = [int(p) for p in starter.stdout.readline().split()]
        assert len(pids) == 2 and all(alive(p) for p in pids)
        os.kill(starter.pid, signal.SIGKILL)
        starter.wait(10)
        deadline = time.monotonic() + 10
        while any(alive(p) for p in pids) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(alive(p) for p in pids), "a worker outlived the process that started it"
    finally:
        starter.kill()


def test_a_pool_runs_work_and_shuts_down() -> None:
    with process_pool(2) as pool:
        assert sorted(pool.map(abs, [-3, 1, -2])) == [1, 2, 3]
        pids = {f.result() for f in [pool.submit(os.getpid) for _ in range(4)]}
    assert os.getpid() not in pids
    assert not any(alive(p) for p in pids)
