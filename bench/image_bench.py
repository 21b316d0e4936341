#!/usr/bin/env python3
"""Image benchmark: Heritage Lab against Debian's iipsrv on one large scan, one command.

    python bench/image_bench.py                # the full benchmark, defaults as in bench/README.md
    python bench/image_bench.py --only iipsrv  # the harness against iipsrv alone
    python bench/image_bench.py --client-check # wrk against nginx serving a static file

It builds the source image and iipsrv's pyramid in bench/work/ (git-ignored), starts iipsrv
(spawn-fcgi, behind nginx) and ``heritage serve`` on 127.0.0.1, derives OpenSeadragon's tile
URLs from both info.json files, checks every distinct URL once on each server, then replays the
same seeded tile and thumbnail mixes with wrk at concurrency 1 and 4, interleaving the servers,
for several rounds. It prints medians, p50, p99 and the ratio to iipsrv, and writes the record
to bench/results/ (git-ignored). Everything it started is stopped on exit, Ctrl-C or error.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import shutil
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from imgbench import load, report, servers, source, tiles

from server.config import Settings

IDENTIFIER_ITEM = "bench-large"
IDENTIFIER = f"{IDENTIFIER_ITEM}~1"  # Heritage Lab's image id: item id, "~", page number


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--duration", type=float, default=10.0, help="seconds per timed run (default 10)")
    p.add_argument("--warmup", type=float, default=5.0, help="seconds of warm-up per server and mix (default 5)")
    p.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default 3)")
    p.add_argument("--concurrency", default="4,16", help="comma-separated connection counts (default 4,16)")
    p.add_argument("--seed", type=int, default=20240601, help="seed of the request mixes")
    p.add_argument("--requests", type=int, default=20_000, help="length of the tile request list")
    p.add_argument("--tile-size", type=int, default=None, choices=[256, 512],
                   help="HERITAGE_TILE_SIZE for Heritage Lab's ingest and server (default: its default)")
    p.add_argument("--iipsrv-tile-size", type=int, default=None, choices=[256, 512],
                   help="tile size of iipsrv's pyramid (default: the size Heritage Lab advertises)")
    p.add_argument("--tile-shares", default=None,
                   help="tile widths and their shares of the tile mix, e.g. 256:0.8,512:0.2 (default: all "
                        "of the tile size Heritage Lab advertises, as OpenSeadragon would ask it)")
    p.add_argument("--mixes", default="tiles,thumbs", help="which mixes: tiles, thumbs (default both)")
    p.add_argument("--only", choices=["iipsrv", "heritage"], help="benchmark one server only")
    p.add_argument("--iipsrv-processes", type=int, default=2, help="iipsrv FastCGI processes (default 2)")
    p.add_argument("--heritage-servers", default="granian",
                   help="heritage serve --server for each Heritage Lab endpoint, comma-separated "
                        "(granian, gthread, gunicorn-sync; default granian, the default of heritage serve)")
    p.add_argument("--no-ceiling", action="store_true",
                   help="leave out nginx serving the same tiles and thumbnails as static files (the ceiling)")
    p.add_argument("--granian-variant", action="append", default=[], metavar="NAME=OPTIONS",
                   help="also serve Heritage Lab's app with granian's command line and these options, named "
                        "NAME, e.g. 2x1-st='--workers 2 --blocking-threads 1 --runtime-mode st' (repeatable)")
    p.add_argument("--heritage-workers", type=int, default=None,
                   help="pass --workers to heritage serve (default: not passed, the server's default)")
    p.add_argument("--wait-quiet", type=float, default=0.0, metavar="MINUTES",
                   help="before each timed run, wait up to MINUTES in all for the machine to be idle "
                        "(< 25 %% of a core busy); for machines shared with other work (default 0: no wait)")
    p.add_argument("--skip-ingest", action="store_true", help="reuse bench/work/heritage as ingested before")
    p.add_argument("--no-check-pass", action="store_true", help="skip the checked first pass")
    p.add_argument("--client-check", action="store_true",
                   help="measure the client's ceiling: wrk against nginx serving one static tile")
    p.add_argument("--work", type=Path, default=HERE / "work", help="work folder (default bench/work)")
    p.add_argument("--results", type=Path, default=HERE / "results", help="results folder (default bench/results)")
    return p.parse_args(argv)


def parse_shares(text: str) -> tuple[tuple[int, float], ...]:
    """"256:0.8,512:0.2" -> ((256, 0.8), (512, 0.2))."""
    shares = tuple((int(w), float(f)) for w, f in (part.split(":") for part in text.split(",") if part))
    if not shares or abs(sum(f for _, f in shares) - 1.0) > 1e-6:
        raise SystemExit(f"--tile-shares must add up to 1: {text}")
    return shares


def _terminate(signum, frame):
    raise SystemExit(128 + signum)


def machine_facts() -> dict[str, object]:
    """What the figures depend on: cores, CPU model, memory, the versions of every server and client."""
    model = ""
    try:
        model = next(l.split(":", 1)[1].strip() for l in Path("/proc/cpuinfo").read_text().splitlines()
                     if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    mem_kb = 0
    try:
        mem_kb = int(next(l.split()[1] for l in Path("/proc/meminfo").read_text().splitlines()
                          if l.startswith("MemTotal")))
    except (OSError, StopIteration):
        pass

    def cmd(*args: str) -> str:
        try:
            r = subprocess.run(args, capture_output=True, text=True, timeout=20, check=False)
            return (r.stdout + r.stderr).strip().splitlines()[0]
        except (OSError, IndexError, subprocess.SubprocessError):
            return ""

    import pyvips
    return {
        "nproc": os.cpu_count(), "cpu_model": model, "mem_gib": round(mem_kb / 1024 / 1024, 1),
        "kernel": platform.release(), "python": platform.python_version(),
        "libvips": f"{pyvips.version(0)}.{pyvips.version(1)}.{pyvips.version(2)}",
        "iipsrv": cmd("dpkg-query", "-W", "-f=${Version}", "iipimage-server"),
        "nginx": cmd("nginx", "-v"), "wrk": cmd("wrk", "--version"),
        "heritage": cmd(*servers.HERITAGE, "--version"),
        "heritage_git": cmd("git", "-C", str(HERE.parent), "describe", "--always", "--dirty"),
    }


def write_holdings(root: Path, master: Path, width: int, height: int) -> Path:
    """A holdings folder (the layout of HOLDINGS.md) whose one item has the large image as page 1."""
    holdings = root / "holdings"
    item = holdings / "items" / IDENTIFIER_ITEM
    item.mkdir(parents=True, exist_ok=True)
    (holdings / "collections.csv").write_text("id,title\nbench,Benchmark\n", encoding="utf-8")
    (holdings / "items.csv").write_text(
        "id,collection,type,title,description\n"
        f"{IDENTIFIER_ITEM},bench,document,Benchmark mosaic of real scans,"
        f"\"{width} x {height} px mosaic of the sample holdings' colour scans, made by bench/image_bench.py\"\n",
        encoding="utf-8")
    page = item / "0001.tif"
    if not page.exists() or page.stat().st_ino != master.stat().st_ino:
        page.unlink(missing_ok=True)
        try:
            os.link(master, page)
        except OSError:
            shutil.copy2(master, page)
    return holdings


def heritage_available() -> str | None:
    """None if ``heritage ingest`` and ``heritage serve`` can be run, else why not."""
    try:
        r = subprocess.run([*servers.HERITAGE, "--help"], capture_output=True, text=True, timeout=60,
                           cwd=servers.REPO, check=False)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"heritage --help failed: {exc}"
    text = r.stdout + r.stderr
    if r.returncode != 0:
        return f"heritage --help exited {r.returncode}: {text[-500:]}"
    missing = [c for c in ("ingest", "serve") if c not in text]
    return f"heritage has no {', '.join(missing)} command yet" if missing else None


def fetch_json(url: str) -> dict:
    import urllib.request
    with urllib.request.urlopen(url, timeout=60) as resp:
        return json.load(resp)


def client_check(args: argparse.Namespace, procs: servers.Processes, paths: list[str]) -> dict:
    """wrk against nginx serving one 256-px tile as a static file: the ceiling of this client."""
    ep = servers.start_static(procs, args.work)
    static = args.work / "nginx-static" / "static"
    import pyvips
    tile = pyvips.Image.new_from_file(str(args.work / "source" / f"{IDENTIFIER_ITEM}.tif")).crop(0, 0, 256, 256)
    tile.jpegsave(str(static / "tile.jpg"), Q=85, keep="none")
    servers.wait_http(f"{ep.base}/static/tile.jpg", timeout=30)
    listfile = args.work / "lists" / "static.txt"
    listfile.parent.mkdir(parents=True, exist_ok=True)
    listfile.write_text("".join(f"?{p}\n" for p in paths))
    results = []
    for c in [int(x) for x in args.concurrency.split(",")]:
        r = load.run_wrk(ep.base, "/static/tile.jpg", listfile, c, args.duration, "nginx-static", "static-tile", 1)
        results.append(r.as_dict())
        print(f"client check: nginx static tile c={c}: {r.rps:.0f} req/s, p50 {r.p50_ms:.2f} ms, "
              f"p99 {r.p99_ms:.2f} ms, wrk CPU {r.client_cpu_pct:.0f} % of a core")
    return {"client_check": results}


def first_pass(args: argparse.Namespace, endpoints: list, mixes: dict[str, list[str]], width: int, height: int,
               passes: list[dict], record: dict) -> None:
    """The checked first pass: each distinct URL once on each endpoint (the first time it is asked)."""
    for mix, paths in mixes.items():
        distinct = list(dict.fromkeys(paths))
        results = {}
        for ep in endpoints:
            # Heritage Lab endpoints share one data folder: the render cache is cold for the first of them only
            shared = ep.name.startswith("heritage") and any(n.startswith("heritage") for n in results)
            if args.wait_quiet > 0:
                load.wait_until_quiet(25.0, 60.0)
            res = load.checked_pass(ep.base, ep.image_prefix, distinct, ep.name, mix, width, height)
            results[ep.name] = res
            passes.append(res.as_dict())
            print(f"first pass {mix:6s} {ep.name:8s}: {res.requests} URLs in {res.seconds:.1f} s "
                  f"({res.rps:.0f} req/s, p50 {res.p50_ms:.1f} ms, p99 {res.p99_ms:.1f} ms), "
                  f"{len(res.failures)} failures" + (f", e.g. {res.failures[0]}" if res.failures else "")
                  + (" (after another Heritage Lab endpoint: what it rendered is cached)" if shared else ""))
        if len(results) >= 2:
            a, b = list(results.values())[:2]
            differ = [p for p in distinct if p in a.sizes and p in b.sizes
                      and load._off_by_more_than_one(a.sizes[p], b.sizes[p])]
            if differ:
                print(f"warning: {len(differ)} {mix} URLs give different pixel sizes, e.g. {differ[0]}: "
                      f"{a.sizes[differ[0]]} vs {b.sizes[differ[0]]}")
            record.setdefault("size_mismatches", {})[mix] = differ[:50]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even if started with SIGINT ignored
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGHUP, _terminate)
    if not load.wrk_available():
        print("wrk is not installed: apt-get install wrk", file=sys.stderr)
        return 2
    args.work.mkdir(parents=True, exist_ok=True)
    concurrencies = [int(c) for c in args.concurrency.split(",") if c]
    mixes_wanted = [m for m in args.mixes.split(",") if m]
    started_at = datetime.now(UTC)
    command = "python bench/image_bench.py" + ("" if not (argv or sys.argv[1:]) else " " + " ".join(argv or sys.argv[1:]))

    t0 = time.monotonic()
    print("source: building or reusing the mosaic and iipsrv's pyramid in", args.work)
    # iipsrv stores the tile size Heritage Lab advertises (unless told otherwise): both read the mix's
    # tiles from their pyramids, neither composes them from smaller ones
    iipsrv_tile = args.iipsrv_tile_size or args.tile_size or Settings().tile_size
    src = source.prepare(args.work, iipsrv_tile, IDENTIFIER_ITEM)
    print(f"source: {src.width} x {src.height} px, master {src.master} ({time.monotonic() - t0:.1f} s)")
    record: dict[str, object] = {
        "command": command, "started_at": started_at.isoformat(), "machine": machine_facts(),
        "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "source": {"width": src.width, "height": src.height, "sha256": src.sha256,
                   "pages": list(source.SOURCE_PAGES), "grid": [source.COLUMNS, source.ROWS],
                   "cell": [source.CELL_W, source.CELL_H],
                   "pyramid_options": {**source.PYRAMID_OPTIONS, "tile_width": iipsrv_tile, "tile_height": iipsrv_tile}},
    }

    procs = servers.Processes()
    try:
        if args.client_check:
            mix = tiles.tile_mix(src.width, src.height, [1, 2, 4, 8, 16, 32, 64],
                                 tiles.MixSpec(requests=args.requests, seed=args.seed))
            record.update(client_check(args, procs, [t.path for t in mix]))
            out = report.write_json(args.results / f"client-check-{started_at:%Y%m%dT%H%M%SZ}.json", record)
            print("record:", out)
            return 0

        endpoints: list[servers.Endpoint] = []
        cpu_roots: dict[str, callable] = {}
        if args.only != "heritage":
            ep = servers.start_iipsrv(procs, args.work, src.pyramid.parent, src.pyramid.name,
                                      processes=args.iipsrv_processes)
            roots = [pid for name, pid in procs.pids if name == "iipsrv"] + \
                    [p.pid for name, p in procs.popens if name == "nginx"]
            cpu_roots["iipsrv"] = lambda roots=roots: load.process_tree_cpu(roots)
            endpoints.append(ep)
            print(f"iipsrv: {ep.base}{ep.image_prefix} ({args.iipsrv_processes} FastCGI processes behind nginx)")
        if args.only != "iipsrv":
            why = heritage_available()
            if why:
                raise RuntimeError(f"cannot run Heritage Lab: {why}; use --only iipsrv to test the harness")
            data = args.work / "heritage"
            holdings = write_holdings(args.work, src.master, src.width, src.height)
            if not args.skip_ingest:
                print(f"heritage: HERITAGE_DATA={data} heritage ingest {holdings}")
                secs = servers.ingest_heritage(data, holdings, args.work / "logs" / "heritage-ingest.log",
                                               tile_size=args.tile_size)
                record["heritage_ingest_seconds"] = round(secs, 1)
                print(f"heritage: ingest took {secs:.1f} s")
            record["heritage_image_cache_mb"] = {
                sub.name: round(sum(f.stat().st_size for f in sub.rglob("*") if f.is_file()) / 1e6, 1)
                for sub in sorted((data / "image_cache").iterdir()) if sub.is_dir()}
            print("heritage: image cache before serving (MB):", record["heritage_image_cache_mb"])
            render_cache = data / "image_cache" / "render"
            if render_cache.is_dir():  # the on-demand render cache starts empty, as after ingest
                shutil.rmtree(render_cache)
            for kind in [k for k in args.heritage_servers.split(",") if k]:
                ep = servers.start_heritage(procs, data, IDENTIFIER, args.work / "logs" / f"heritage-{kind}.log",
                                            workers=args.heritage_workers, server=kind,
                                            tile_size=args.tile_size)
                hpid = procs.popens[-1][1].pid
                cpu_roots[ep.name] = lambda hpid=hpid: load.process_tree_cpu([hpid])
                endpoints.append(ep)
                print(f"{ep.name}: {ep.base}{ep.image_prefix}")
            for variant in args.granian_variant:
                vname, _, options = variant.partition("=")
                ep = servers.start_granian(procs, data, IDENTIFIER, args.work / "logs" / f"granian-{vname}.log",
                                           f"heritage-{vname}", shlex.split(options), tile_size=args.tile_size)
                gpid = procs.popens[-1][1].pid
                cpu_roots[ep.name] = lambda gpid=gpid: load.process_tree_cpu([gpid])
                endpoints.append(ep)
                print(f"{ep.name}: granian {options}: {ep.base}{ep.image_prefix}")

        infos = {ep.name: fetch_json(ep.info_url) for ep in endpoints[:2]}  # iipsrv and the first heritage
        record["info_json"] = infos
        for name, info in infos.items():
            if (int(info["width"]), int(info["height"])) != (src.width, src.height):
                raise RuntimeError(f"{name} reports {info['width']} x {info['height']}, "
                                   f"expected {src.width} x {src.height}")
        factors = tiles.common_scale_factors(*infos.values())
        advertised = {name: tiles.advertised_tiles(info) for name, info in infos.items()}
        print("tiles advertised:", json.dumps(advertised), "-> scale factors used:", factors)
        # the tile size the (first) Heritage Lab endpoint advertises, else iipsrv's
        ours = next((a for name, a in advertised.items() if name.startswith("heritage")), None)
        shares = args.tile_shares or f"{min(ours or advertised.get('iipsrv') or {256: []})}:1.0"
        spec = tiles.MixSpec(requests=args.requests, seed=args.seed, tile_shares=parse_shares(shares))
        tile_list = tiles.tile_mix(src.width, src.height, factors, spec)
        thumb_list = tiles.thumbnail_mix(max(1000, args.requests // 10), args.seed)
        mixes: dict[str, list[str]] = {}
        if "tiles" in mixes_wanted:
            mixes["tiles"] = [t.path for t in tile_list]
        if "thumbs" in mixes_wanted:
            mixes["thumbs"] = thumb_list
        record["mixes"] = {"tiles": tiles.describe_tiles(tile_list), "thumbs": tiles.describe_paths(thumb_list),
                           "tile_shares": list(spec.tile_shares), "viewport": list(tiles.VIEWPORT)}
        lists_dir = args.work / "lists"
        lists_dir.mkdir(parents=True, exist_ok=True)
        list_files = {}
        for mix, paths in mixes.items():
            f = lists_dir / f"{mix}.txt"
            f.write_text("".join(f"/{p}\n" for p in paths))
            list_files[mix] = f

        passes: list[dict] = []
        if not args.no_check_pass:
            first_pass(args, endpoints, mixes, src.width, src.height, passes, record)
        # the ceiling is built from Heritage Lab's answers, which fills its render cache: only after the cold passes
        if not args.no_ceiling and len(endpoints) > 1:
            ep = servers.start_ceiling(procs, args.work, endpoints[-1], [p for ps in mixes.values() for p in ps])
            npid = procs.popens[-1][1].pid
            cpu_roots[ep.name] = lambda npid=npid: load.process_tree_cpu([npid])
            endpoints.append(ep)
            print(f"ceiling: nginx serving {ep.base}{ep.image_prefix} (the same answers as static files)")
            if not args.no_check_pass:
                first_pass(args, [ep], mixes, src.width, src.height, passes, record)
        record["first_pass"] = passes

        if args.rounds <= 0:
            record["first_pass"] = passes
            print(report.pass_table(passes))
            out = report.write_json(args.results / f"image-{started_at:%Y%m%dT%H%M%SZ}.json", record)
            print("\nrecord:", out)
            return 0
        for ep in endpoints:
            for mix in mixes:
                load.run_wrk(ep.base, ep.image_prefix, list_files[mix], max(concurrencies), args.warmup,
                             ep.name, mix, 0)
        print(f"warm-up done ({args.warmup:g} s per server and mix)")

        runs: list[load.RunResult] = []
        quiet_budget = args.wait_quiet * 60
        for rnd in range(1, args.rounds + 1):
            order = endpoints if rnd % 2 else list(reversed(endpoints))
            for c in concurrencies:
                for mix in mixes:
                    for ep in order:
                        if quiet_budget > 0:
                            t_wait = time.monotonic()
                            load.wait_until_quiet(25.0, quiet_budget)
                            quiet_budget -= time.monotonic() - t_wait
                        r = load.run_wrk(ep.base, ep.image_prefix, list_files[mix], c, args.duration,
                                         ep.name, mix, rnd, cpu_probe=cpu_roots.get(ep.name))
                        runs.append(r)
                        errs = sum(r.errors.values())
                        print(f"round {rnd} {mix:6s} c={c} {ep.name:8s}: {r.rps:7.1f} req/s  p50 {r.p50_ms:7.1f} ms  "
                              f"p99 {r.p99_ms:7.1f} ms  server CPU {r.server_cpu_pct:4.0f} %  "
                              f"wrk CPU {r.client_cpu_pct:3.0f} %  other CPU {r.other_cpu_pct:3.0f} %"
                              + (f"  ERRORS {r.errors}" if errs else ""))
        rows = report.summarize(runs)
        record["runs"] = [r.as_dict() for r in runs]
        record["summary"] = rows
        print()
        if passes:
            print("First pass: each distinct URL once, c=4, caches cold (Python client, checked):")
            print(report.pass_table(passes))
            print()
        print(f"Timed runs: medians over {args.rounds} rounds of {args.duration:g} s (wrk, same request lists):")
        print(report.table(rows))
        noise = report.noise_warning(rows)
        if noise:
            record["noise_warning"] = noise
            print(noise)
        if len(endpoints) >= 2:
            v = report.verdict(rows)
            record["verdict"] = v
            print()
            print(v)
        record["finished_at"] = datetime.now(UTC).isoformat()
        out = report.write_json(args.results / f"image-{started_at:%Y%m%dT%H%M%SZ}.json", record)
        print("\nrecord:", out)
        return 0
    finally:
        procs.stop_all()


if __name__ == "__main__":
    sys.exit(main())
