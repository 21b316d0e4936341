#!/usr/bin/env python3
"""Per-request cost of the WSGI tile shortcut (``server/image/fastpath.py``), without HTTP.

    python bench/fastpath_bench.py                  # ingests the demo holdings once into bench/work/
    python bench/fastpath_bench.py --data DIR --reps 3000 --rounds 11

Calls the app's WSGI chain (``ForwardedHeaders`` → ``TileFastPath``) in one process for three
answers the shortcut gives itself: a whole grid tile read from the pyramid (200), the same tile
revalidated (If-None-Match → 304), and an edge tile from the render cache (200); what is timed
is everything but the HTTP server: path split, lookup, parse and resolve, the read, the headers
(``server/headers.py``). It prints the median and minimum µs per request over ``--rounds``
rounds, in process CPU time (the machine is shared: wall time would measure the neighbours).
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from server import create_app

IMAGE = "periodical-ita-rassegna-settimanale-1878-10-06~1"
STORED = f"/iiif/3/image/{IMAGE}/0,0,512,512/512,512/0/default.jpg"
EDGE = f"/iiif/3/image/{IMAGE}/2048,3072,249,305/249,305/0/default.jpg"


def demo_data(work: Path) -> Path:
    """The demo holdings ingested into ``work`` (once: later runs reuse it)."""
    data = work / "data"
    if not (data / "manifests" / "current").exists():
        env = {**os.environ, "HERITAGE_DATA": str(data), "HERITAGE_OCR": "off"}
        subprocess.run([sys.executable, "-m", "server.cli", "ingest", str(ROOT / "examples" / "holdings")],
                       env=env, cwd=ROOT, check=True, capture_output=True)
    return data


def environ(path: str, **extra: str) -> dict[str, Any]:
    return {"REQUEST_METHOD": "GET", "PATH_INFO": path, "SCRIPT_NAME": "", "QUERY_STRING": "",
            "wsgi.url_scheme": "http", "HTTP_HOST": "heritage.test", "SERVER_NAME": "heritage.test",
            "SERVER_PORT": "80", "REMOTE_ADDR": "127.0.0.1", **extra}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, help="a HERITAGE_DATA with the demo holdings published")
    parser.add_argument("--reps", type=int, default=3000, help="requests per round (default 3000)")
    parser.add_argument("--rounds", type=int, default=11, help="rounds (default 11)")
    parser.add_argument("--work", type=Path, default=HERE / "work" / "fastpath")
    args = parser.parse_args()
    app = create_app({"data": args.data or demo_data(args.work)})
    wsgi: Any = app.wsgi_app  # ForwardedHeaders → TileFastPath → Flask
    answers: list[tuple[str, dict[str, str]]] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        answers.append((status, dict(headers)))

    list(wsgi(environ(EDGE), start_response))  # rendered once (by Flask): from now on a render-cache hit
    list(wsgi(environ(STORED), start_response))
    tag = answers[-1][1]["ETag"]
    cases = {"pyramid tile, 200": environ(STORED), "pyramid tile, 304": environ(STORED, HTTP_IF_NONE_MATCH=tag),
             "render cache, 200": environ(EDGE)}
    shortcut = wsgi.app
    print("| request | median µs | min µs |\n|---|---|---|")
    for name, env in cases.items():
        parts = env["PATH_INFO"].removeprefix("/iiif/3/image/").split("/")
        if shortcut._tile(dict(env), parts) is None:  # timing Flask instead would mean nothing
            raise SystemExit(f"{name}: not answered by the tile shortcut")
        times = []
        for _ in range(args.rounds):
            started = time.process_time()
            for _ in range(args.reps):
                for _chunk in wsgi(dict(env), start_response):
                    pass
            times.append((time.process_time() - started) / args.reps * 1e6)
            answers.clear()
        print(f"| {name} | {statistics.median(times):.1f} | {min(times):.1f} |")


if __name__ == "__main__":
    main()
