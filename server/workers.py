"""Pools of worker processes for ingest (pyramids, OCR parsing, checks, search encoding).

Two things every pool here needs: the ``spawn`` start method (the ingest process runs libvips'
threads and HTTP sender threads, which ``fork`` would copy in an unknown state), and workers that
do not outlive the ingest. A process pool's idle workers wait on a queue that never closes if the
ingest process is killed (SIGKILL, the OOM killer): they would sit in memory for ever, and a busy
one would go on writing into a generation nobody will publish. Each worker here watches its parent
and exits within a second of its death.
"""
from __future__ import annotations

import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor


def worker_count(workers: int) -> int:
    """The processes a setting of ``workers`` asks for: 0 (the default) means one per core."""
    return workers or os.cpu_count() or 1


WATCH_INTERVAL = 0.5
"""Seconds between a worker's checks that the process that started it is alive."""


def process_pool(workers: int) -> ProcessPoolExecutor:
    """A pool of ``workers`` spawned processes that exit when this process dies."""
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_watch_parent, initargs=(os.getpid(),))


def _watch_parent(parent: int) -> None:
    """Worker initializer: a daemon thread that ends the worker once ``parent`` is gone (the worker
    is then re-parented, so ``getppid`` changes)."""
    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(WATCH_INTERVAL)
        os._exit(1)

    threading.Thread(target=watch, name="watch-parent", daemon=True).start()
