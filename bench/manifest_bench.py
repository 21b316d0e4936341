"""Manifest benchmark: build and serve a generated 1,000-page item.

    python bench/manifest_bench.py [--pages 1000] [--requests 200]

Measures (1) ``build_manifest`` for N pages (median of repeated builds, in-process), (2) a real
``heritage ingest`` of the item (its pages are N links to one real scan, so one pyramid is built:
the figure is the publication cost, not image processing), and (3) GET of the pre-built manifest
from ``heritage serve`` over loopback (median and p99). The reference in the same run is GET of
the top collection (a small document), so the ratio shows the cost of size alone.
"""
from __future__ import annotations

import argparse
import http.client
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PAGE = ROOT / "examples" / "holdings" / "items" / "newspaper-deu-der-nordstern-1878-01-03" / "0011.jpg"


def make_holdings(root: Path, pages: int) -> Path:
    (root / "items" / "big-item").mkdir(parents=True)
    (root / "collections.csv").write_text("id,title\nbench,Bench\n", encoding="utf-8")
    (root / "items.csv").write_text("id,collection,type,title,date\nbig-item,bench,book,Libro grande,1878\n",
                                    encoding="utf-8")
    for n in range(1, pages + 1):
        os.symlink(PAGE, root / "items" / "big-item" / f"{n:04d}.jpg")
    return root


def time_build(holdings: Path, repeats: int) -> list[float]:
    from server.config import Settings
    from server.holdings import read_holdings
    from server.presentation.build import PageInfo, build_manifest
    from server.presentation.urls import Urls
    item = read_holdings(holdings).items["big-item"]
    pages = [PageInfo(f"big-item~{n}", 2146, 3038, page=n) for n in range(1, len(item.pages) + 1)]
    urls, settings = Urls("http://127.0.0.1:8000"), Settings.load()
    build_manifest(item, pages, urls, settings)  # warm imports
    out = []
    for _ in range(repeats):
        t = time.perf_counter()
        build_manifest(item, pages, urls, settings)
        out.append(time.perf_counter() - t)
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def time_get(port: int, path: str, n: int) -> tuple[list[float], int]:
    times, size = [], 0
    for _ in range(n):
        conn = http.client.HTTPConnection("127.0.0.1", port)
        t = time.perf_counter()
        conn.request("GET", path)
        resp = conn.getresponse()
        body = resp.read()
        times.append(time.perf_counter() - t)
        assert resp.status == 200, resp.status
        size = len(body)
        conn.close()
    return times, size


def ms(values: list[float], q: float) -> float:
    values = sorted(values)
    return 1000 * values[min(len(values) - 1, int(q * len(values)))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=1000)
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--repeats", type=int, default=7)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="heritage-manifest-bench-"))
    try:
        holdings = make_holdings(work / "holdings", args.pages)
        builds = time_build(holdings, args.repeats)
        env = {**os.environ, "HERITAGE_DATA": str(work / "data")}
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "server.cli", "ingest", str(holdings)], env=env, check=True,
                       capture_output=True, cwd=ROOT)
        ingest_s = time.perf_counter() - t
        port = free_port()
        server = subprocess.Popen([sys.executable, "-m", "server.cli", "serve", "--port", str(port)], env=env,
                                  cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            for _ in range(100):
                try:
                    time_get(port, "/iiif/3/collection/top", 1)
                    break
                except OSError:
                    time.sleep(0.1)
            time_get(port, "/iiif/3/big-item/manifest", 10)  # warm-up
            big, size = time_get(port, "/iiif/3/big-item/manifest", args.requests)
            small, small_size = time_get(port, "/iiif/3/collection/top", args.requests)
        finally:
            server.terminate()
            server.wait()
        print(f"pages: {args.pages}")
        print(f"build_manifest: median {statistics.median(builds) * 1000:.0f} ms, "
              f"min {min(builds) * 1000:.0f} ms over {args.repeats} builds")
        print(f"heritage ingest of the item (one pyramid, {args.pages} pages): {ingest_s:.1f} s")
        print(f"GET manifest ({size / 1024:.0f} KiB): p50 {ms(big, .5):.2f} ms, p99 {ms(big, .99):.2f} ms")
        print(f"GET top collection ({small_size / 1024:.1f} KiB, reference): p50 {ms(small, .5):.2f} ms, "
              f"p99 {ms(small, .99):.2f} ms")
        print(f"ratio manifest/reference p50: {ms(big, .5) / ms(small, .5):.2f}x")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
