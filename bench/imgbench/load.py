"""The load generators: wrk for the timed runs, a small Python client for the checked first pass.

Timed runs use wrk (C, epoll, one thread): on a 2-core machine shared with both servers the
client must cost little CPU, and wrk's per-request cost is a few microseconds where a Python
client's is tens to hundreds. wrk reconnects by itself when a server closes the connection
(gunicorn's sync workers do after every response), and its latency histogram gives the
percentiles. A Lua script (walk.lua) replays the request list in order.

The first pass over the distinct URLs uses a Python client instead, because it must stop after
each URL once and check every answer (status, JPEG, pixel size); it is not used for throughput.
"""
from __future__ import annotations

import http.client
import json
import os
import resource
import shutil
import subprocess
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

WALK_LUA = Path(__file__).with_name("walk.lua")


@dataclass
class RunResult:
    """One timed run of one mix against one server at one concurrency."""

    server: str
    mix: str
    concurrency: int
    round: int
    duration_s: float
    requests: int
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    mean_ms: float
    errors: dict[str, int]
    mb_per_s: float
    client_cpu_pct: float  # wrk's CPU time over the run, % of one core
    server_cpu_pct: float  # the server's processes' CPU time, % of one core (200 % = both cores)
    other_cpu_pct: float  # CPU used by anything else on the machine meanwhile (noise), % of one core

    def as_dict(self) -> dict:
        return asdict(self)


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


def run_wrk(base: str, prefix: str, paths_file: Path, concurrency: int, duration: float,
            server: str, mix: str, round_no: int, cpu_probe=None, timeout_s: int = 30) -> RunResult:
    """Replay ``paths_file`` (prefixed) against ``base`` for ``duration`` seconds with wrk."""
    args = ["wrk", "-t1", f"-c{concurrency}", f"-d{duration:g}s", f"--timeout={timeout_s}s",
            "-s", str(WALK_LUA), base, "--", str(paths_file.resolve()), prefix, "1"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    server_before = cpu_probe() if cpu_probe else 0.0
    machine_before = machine_busy_seconds()
    started = time.monotonic()
    proc = subprocess.run(args, capture_output=True, text=True, check=False, timeout=duration + timeout_s + 30)
    wall = time.monotonic() - started
    machine_after = machine_busy_seconds()
    server_after = cpu_probe() if cpu_probe else 0.0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    line = next((l for l in proc.stdout.splitlines() if l.startswith("WRKJSON ")), None)
    if proc.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({proc.returncode}): {proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    data = json.loads(line[len("WRKJSON "):])
    secs = data["duration_us"] / 1e6
    lat = data["latency_us"]
    client_cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    server_cpu = server_after - server_before
    other_cpu = (machine_after - machine_before) - client_cpu - (server_cpu if cpu_probe else 0.0)
    return RunResult(
        server=server, mix=mix, concurrency=concurrency, round=round_no, duration_s=round(secs, 3),
        requests=data["requests"], rps=round(data["requests"] / secs, 1),
        p50_ms=lat["p50"] / 1000, p90_ms=lat["p90"] / 1000, p99_ms=lat["p99"] / 1000,
        max_ms=lat["max"] / 1000, mean_ms=round(lat["mean"] / 1000, 3), errors=data["errors"],
        mb_per_s=round(data["bytes"] / secs / 1e6, 2),
        client_cpu_pct=round(100 * client_cpu / wall, 1),
        server_cpu_pct=round(100 * server_cpu / wall, 1),
        other_cpu_pct=round(max(0.0, 100 * other_cpu / wall), 1),
    )


# --- server CPU accounting from /proc -------------------------------------------------------

_TICK = os.sysconf("SC_CLK_TCK")


def machine_busy_seconds() -> float:
    """CPU seconds all cores have spent on anything but idle and iowait since boot."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    values = [int(v) for v in fields[:8]]
    idle = values[3] + values[4]
    return (sum(values) - idle) / _TICK


def process_tree_cpu(roots: list[int]) -> float:
    """CPU seconds (user + system) of the given processes and all their descendants, now."""
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            raw = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        rest = raw[raw.rindex(")") + 2:].split()
        pid = int(entry)
        parents[pid] = int(rest[1])
        times[pid] = (int(rest[11]) + int(rest[12])) / _TICK
    wanted = {r for r in roots if r in times}
    grew = True
    while grew:
        grew = False
        for pid, ppid in parents.items():
            if ppid in wanted and pid not in wanted:
                wanted.add(pid)
                grew = True
    return sum(times[p] for p in wanted)


def wait_until_quiet(limit_pct: float, budget: float, probe_s: float = 2.0) -> float:
    """Wait (at most ``budget`` seconds) until the whole machine uses < ``limit_pct`` % of a core.

    On a machine shared with other work (CI, other sessions), runs taken while something else
    burns CPU measure that something. Returns the CPU % last seen.
    """
    deadline = time.monotonic() + budget
    while True:
        before = machine_busy_seconds()
        time.sleep(probe_s)
        busy = 100 * (machine_busy_seconds() - before) / probe_s
        if busy < limit_pct or time.monotonic() >= deadline:
            return busy


# --- the checked first pass -------------------------------------------------------------------

@dataclass
class PassResult:
    """Every distinct URL requested once (caches cold), with each answer checked."""

    server: str
    mix: str
    concurrency: int
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p99_ms: float
    failures: list[str] = field(default_factory=list)
    sizes: dict[str, tuple[int, int]] = field(default_factory=dict)

    def as_dict(self) -> dict:
        d = asdict(self)
        d.pop("sizes")
        d["failures"] = self.failures[:20]
        d["failure_count"] = len(self.failures)
        return d


def jpeg_size(data: bytes) -> tuple[int, int] | None:
    """Width and height from a JPEG's SOF marker, without decoding it."""
    if data[:2] != b"\xff\xd8":
        return None
    i = 2
    while i + 9 < len(data):
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            i += 2
            continue
        length = int.from_bytes(data[i + 2:i + 4], "big")
        if marker in (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF):
            height = int.from_bytes(data[i + 5:i + 7], "big")
            width = int.from_bytes(data[i + 7:i + 9], "big")
            return width, height
        i += 2 + length
    return None


def expected_size(path: str, width: int, height: int) -> tuple[int, int] | None:
    """The pixel size a request must produce, for the size forms the mixes use."""
    region, size = path.split("/")[:2]
    if region == "full":
        rw, rh = width, height
    else:
        _, _, rw, rh = (int(v) for v in region.split(","))
    if size in ("max", "full"):
        return rw, rh
    confined = size.startswith("!")
    w_s, h_s = size.lstrip("!").split(",")
    if confined:
        bw, bh = int(w_s), int(h_s)
        scale = min(bw / rw, bh / rh)
        return None if scale <= 0 else (max(1, round(rw * scale)), max(1, round(rh * scale)))
    if w_s and h_s:
        return int(w_s), int(h_s)
    if w_s:
        w = int(w_s)
        return w, max(1, round(rh * w / rw))
    h = int(h_s)
    return max(1, round(rw * h / rh)), h


def checked_pass(base: str, prefix: str, paths: list[str], server: str, mix: str, width: int,
                 height: int, concurrency: int = 4) -> PassResult:
    """GET each path once with ``concurrency`` persistent connections; check and time them."""
    host = urlsplit(base)
    latencies: list[float] = []
    failures: list[str] = []
    sizes: dict[str, tuple[int, int]] = {}
    lock = threading.Lock()
    queue = list(reversed(paths))

    def worker() -> None:
        conn = http.client.HTTPConnection(host.hostname, host.port, timeout=120)
        try:
            while True:
                with lock:
                    if not queue:
                        return
                    path = queue.pop()
                t0 = time.perf_counter()
                try:
                    conn.request("GET", prefix + "/" + path)
                    resp = conn.getresponse()
                    body = resp.read()
                    if resp.getheader("Connection", "").lower() == "close":
                        conn.close()
                except (OSError, http.client.HTTPException) as exc:
                    conn.close()
                    with lock:
                        failures.append(f"{path}: {exc!r}")
                    continue
                elapsed = time.perf_counter() - t0
                got = jpeg_size(body) if resp.status == 200 else None
                want = expected_size(path, width, height)
                problem = None
                if resp.status != 200:
                    problem = f"status {resp.status}"
                elif got is None:
                    problem = f"not a JPEG ({resp.getheader('Content-Type')})"
                elif want is not None and _off_by_more_than_one(got, want):
                    problem = f"size {got[0]}x{got[1]}, expected {want[0]}x{want[1]}"
                with lock:
                    latencies.append(elapsed)
                    if got:
                        sizes[path] = got
                    if problem:
                        failures.append(f"{path}: {problem}")
        finally:
            conn.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - started
    latencies.sort()
    return PassResult(server=server, mix=mix, concurrency=concurrency, requests=len(paths),
                      seconds=round(seconds, 2), rps=round(len(paths) / seconds, 1) if seconds else 0.0,
                      p50_ms=round(1000 * _pct(latencies, 50), 2), p99_ms=round(1000 * _pct(latencies, 99), 2),
                      failures=failures, sizes=sizes)


def _off_by_more_than_one(got: tuple[int, int], want: tuple[int, int]) -> bool:
    """Servers may round a derived dimension differently; one pixel is not a failure."""
    return abs(got[0] - want[0]) > 1 or abs(got[1] - want[1]) > 1


def _pct(sorted_values: list[float], pct: float) -> float:
    if not sorted_values:
        return 0.0
    k = min(len(sorted_values) - 1, max(0, round(pct / 100 * len(sorted_values)) - 1))
    return sorted_values[k]
