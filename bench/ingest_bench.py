"""Ingest benchmark: first-ingest throughput on real-size masters, and what a one-item change costs.

    python bench/ingest_bench.py                      # defaults: 12 large pages; 2,000 and 5,000 pages
    python bench/ingest_bench.py --sizes 2000 20000   # the issue's sizes, when there is time

1. **Throughput.** ``--large`` distinct newspaper pages of about 26 MP (8-bit grey JPEG), each a
   2 × 2 mosaic of the sample's real Nordstern scans (a different arrangement and flip per page,
   so every master is distinct), each with the sample's real ALTO. One ingest from an empty data
   folder: pages a minute a core (``HERITAGE_WORKERS`` processes), and the derived bytes (all but
   the pyramids) against the pyramids' bytes.
2. **A one-item change.** For each ``--sizes`` total: a publication of items of ten small pages
   (a real scan reduced to 400 px, a real 29 KB ALTO each; the ALTO files are hard links, and each
   master is the scan with a JPEG comment naming its page, so every page has its own pyramid, as in
   a real archive), ingested once;
   then one item's title changes and the ingest runs again, ``--changes`` times, the sizes taken
   in turn: the median wall and CPU time, and (first change) the bytes and files it wrote to the
   data folder (new or changed inodes, from a walk before and after: ``server/ingest/diskuse.py``),
   apart and beyond the item's own object.
3. **A new item.** ``--additions`` times per size, a new item of ten pages (new masters, so its
   pyramids are built; its own ALTO copies) is added as the last row of ``items.csv``, then as the
   first, and ingested: the median wall time of each kind and what it wrote beyond the item's own
   object, word store and pyramids. A row added above the others must not make them change.

Work files go to ``bench/work/ingest/``, the JSON record to ``bench/results/``.
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from server.holdings import scan
from server.ingest.diskuse import snapshot, written
from server.workers import worker_count

SAMPLE = ROOT / "tests" / "fixtures" / "holdings-sample" / "items"
NORDSTERN = SAMPLE / "newspaper-deu-der-nordstern-1878-01-03"
KANT = SAMPLE / "periodical-deu-berlinische-monatsschrift-1784-12"
WORK = ROOT / "bench" / "work" / "ingest"
RESULTS = ROOT / "bench" / "results"
TEN_MILLION = 10_000_000
RUN = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
ROW = {"end": "last", "top": "first"}  # where a new item's row goes (new_item)


def write_holdings(root: Path, items: list[tuple[str, str]]) -> None:
    """collections.csv with one collection, items.csv with (id, title) rows."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "collections.csv").write_text("id,parent,title\nbench,,Bench\n", encoding="utf-8")
    with open(root / "items.csv", "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "collection", "type", "title", "date", "language", "rights"])
        for item_id, title in items:
            w.writerow([item_id, "bench", "newspaper", title, "1878-01-03", "de",
                        "http://creativecommons.org/publicdomain/mark/1.0/"])


def read_rows(holdings: Path) -> list[list[str]]:
    """items.csv's rows, its header first."""
    with open(holdings / "items.csv", encoding="utf-8", newline="") as f:
        return list(csv.reader(f))


def write_rows(holdings: Path, rows: list[list[str]]) -> None:
    with open(holdings / "items.csv", "w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(rows)


def distinct_master(jpeg: bytes, text: str) -> bytes:
    """The JPEG with a comment naming its page: the same pixels, another content key (its own pyramid).
    SOI, then a COM segment (0xFFFE, its length, the text): ignored by every decoder."""
    comment = text.encode()
    return jpeg[:2] + b"\xff\xfe" + (len(comment) + 2).to_bytes(2, "big") + comment + jpeg[2:]


def large_pages(root: Path, n: int) -> None:
    """``n`` distinct ~26 MP masters: 2 × 2 mosaics of the real scans, arranged and flipped per page."""
    import itertools

    import pyvips
    scans = [pyvips.Image.new_from_file(str(p)) for p in sorted(NORDSTERN.glob("*.jpg"))]
    w = min(s.width for s in scans)
    h = min(s.height for s in scans)
    scans = [s.crop(0, 0, w, h) for s in scans]
    alto = min(NORDSTERN.glob("*.xml"))
    folder = root / "items" / "large"
    folder.mkdir(parents=True, exist_ok=True)
    orders = itertools.permutations(range(len(scans)), 4)
    for i in range(n):
        order = next(orders)
        tiles = [scans[k].flip("horizontal") if (i >> j) & 1 else scans[k] for j, k in enumerate(order)]
        page = pyvips.Image.arrayjoin(tiles, across=2)
        page.write_to_file(str(folder / f"{i + 1:04d}.jpg"), Q=90)
        os.link(alto, folder / f"{i + 1:04d}.xml")
    write_holdings(root, [("large", "Large pages")])


def small_pages(root: Path, pages: int, per_item: int = 10) -> list[str]:
    """``pages`` small pages in items of ``per_item``: one real scan reduced to 400 px, made a distinct
    master per page by a JPEG comment naming the page (the pixels are the same, the content keys are
    not: each page has its own pyramid, as in a real archive), each with the same real ALTO (hard links)."""
    import pyvips
    source = root.parent / "small-source"
    source.mkdir(parents=True, exist_ok=True)
    image, alto = source / "page.jpg", source / "page.xml"
    if not image.exists():
        # without the scan's 670 KB ICC profile: 30 KB a master, 600 MB of holdings at 20,000 pages
        pyvips.Image.thumbnail(str(KANT / "INPUT_0017.tif"), 400).write_to_file(str(image), Q=85, strip=True)
        shutil.copyfile(KANT / "INPUT_0017.xml", alto)
    jpeg = image.read_bytes()
    ids = [f"issue-{i:06d}" for i in range(pages // per_item)]
    for item_id in ids:
        folder = root / "items" / item_id
        folder.mkdir(parents=True)
        for n in range(1, per_item + 1):
            (folder / f"{n:04d}.jpg").write_bytes(distinct_master(jpeg, f"{item_id}/{n}"))
            os.link(alto, folder / f"{n:04d}.xml")
    write_holdings(root, [(i, f"Issue {i}") for i in ids])
    return ids


# runs the CLI and, at its exit, keeps the kernel's I/O counters of the ingest process (wchar: bytes
# passed to write(2), with those of the children it reaped: the pool's workers only build pyramids and
# parse OCR, which a one-item change reuses; the scan's helpers print their listing to a pipe, which
# ingest() takes off, as it is not written to the data folder)
RUNNER = ("import atexit, runpy, shutil, sys; atexit.register(shutil.copyfile, '/proc/self/io', sys.argv.pop(1)); "
          "runpy.run_module('server.cli', run_name='__main__')")


def ingest(holdings: Path, data: Path, workers: int) -> tuple[float, int, float]:
    """Wall seconds of one ``heritage ingest``, the bytes its main process wrote (write(2) calls), and
    the CPU seconds (user + system) of its whole process tree: on a shared machine the wall time
    counts the other sessions too, the CPU time (nearly) only ours."""
    env = {**os.environ, "HERITAGE_DATA": str(data), "HERITAGE_WORKERS": str(workers),
           "LANG": "C.UTF-8"}
    counters_file = data.parent / "io.txt"
    cpu = _children_cpu()
    start = time.monotonic()
    result = subprocess.run([sys.executable, "-c", RUNNER, str(counters_file), "ingest", str(holdings)], env=env, cwd=ROOT,
                            capture_output=True, text=True, check=False)
    took = time.monotonic() - start
    cpu = _children_cpu() - cpu
    if result.returncode != 0:
        raise SystemExit(f"ingest failed ({result.returncode}):\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
    counters = dict(line.split(": ") for line in counters_file.read_text().splitlines())
    return took, int(counters["wchar"]) - scan_output(holdings, workers), cpu


def scan_output(holdings: Path, workers: int) -> int:
    """The bytes the scan's helpers (``server/holdings/scan.py``) printed to their pipe in an ingest
    of ``holdings`` with ``workers`` workers: what the same helpers print now, the folders unchanged."""
    out = io.BytesIO()
    shares = scan.helpers_for(worker_count(workers))
    for share in range(shares):
        scan.main([os.path.join(os.path.realpath(holdings), "items"), str(share), str(shares), str(os.getppid())], out)
    return len(out.getvalue())


def _children_cpu() -> float:
    """User + system seconds of all waited-for descendants (the pool's workers are reaped by the ingest
    process before it exits, so theirs are included)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def folder_bytes(root: Path) -> tuple[int, int]:
    """(bytes, entries) under ``root``, each inode once."""
    snap = snapshot(root)
    return sum(size for size, _, _ in snap.values()), len(snap)


def throughput(n: int, workers: int) -> dict[str, float]:
    holdings, data = WORK / "large" / "holdings", WORK / "large" / "data"
    shutil.rmtree(WORK / "large", ignore_errors=True)
    large_pages(holdings, n)
    took, _, cpu = ingest(holdings, data, workers)
    pyramids, _ = folder_bytes(data / "image_cache" / "pyramids")
    total, _ = folder_bytes(data)
    masters, _ = folder_bytes(holdings / "items")
    return {"pages": n, "workers": workers, "seconds": round(took, 1),
            "pages_per_min_per_core": round(n / (took / 60) / workers, 1),
            "cpu_seconds": round(cpu, 1), "cpu_seconds_per_page": round(cpu / n, 2),
            "pages_per_cpu_minute": round(n / (cpu / 60), 1),
            "master_mp": 4 * 2146 * 3038 / 1e6, "masters_bytes": masters, "pyramid_bytes": pyramids,
            "derived_bytes": total - pyramids, "derived_over_pyramids": round((total - pyramids) / pyramids, 3)}


@dataclass
class Publication:
    """A bench publication of ``pages`` pages, ingested once, and the one-item changes made to it."""

    pages: int
    holdings: Path
    data: Path
    ids: list[str]
    first_seconds: float
    changes: list[tuple[float, float]] = field(default_factory=list)  # (wall, CPU) seconds of each change
    wchars: list[int] = field(default_factory=list)  # the write(2) bytes of each change (exact, and free to take)
    written: dict[str, float] = field(default_factory=dict)  # what the first change wrote
    added: dict[str, list[dict[str, float]]] = field(default_factory=dict)  # "end"/"top" → each new item's figures


def publication(pages: int, workers: int, reuse: bool = False) -> Publication:
    """Holdings of ``pages`` pages, ingested once; ``reuse``: those of an earlier run, if complete."""
    base = WORK / f"p{pages}"
    holdings, data = base / "holdings", base / "data"
    done = base / "first-ingest.txt"  # written once the first ingest succeeded: its seconds
    if reuse and done.is_file():
        ids = [row[0] for row in read_rows(holdings)[1:]]
        return Publication(pages, holdings, data, ids, float(done.read_text()))
    shutil.rmtree(base, ignore_errors=True)
    ids = small_pages(holdings, pages)
    first, _, _ = ingest(holdings, data, workers)
    done.write_text(str(first))
    return Publication(pages, holdings, data, ids, first)


def one_item_change(pub: Publication, workers: int) -> None:
    """Change the title of the middle item and ingest again; the first change also measures what is written."""
    measure = not pub.changes
    before = snapshot(pub.data) if measure else {}
    total, entries = folder_bytes(pub.data / "manifests") if measure else (0, 0)
    rows = read_rows(pub.holdings)
    # a title no earlier run gave it (with --reuse, a repeated one would make the first change a no-op)
    rows[1 + len(pub.ids) // 2][3] = f"Issue {pub.ids[len(pub.ids) // 2]} (change {len(pub.changes) + 1}, {RUN})"
    write_rows(pub.holdings, rows)
    took, wchar, cpu = ingest(pub.holdings, pub.data, workers)
    pub.changes.append((took, cpu))
    pub.wchars.append(wchar)
    if not measure:
        return
    new_bytes, changed_bytes, paths = written(before, snapshot(pub.data))
    gen = pub.data / "manifests" / "current"
    item = pub.ids[len(pub.ids) // 2]
    own = sum(folder_bytes((gen / folder / item).resolve())[0] for folder in ("iiif/3", "words"))
    pub.written = {"change_write_calls_bytes": wchar, "change_new_inode_bytes": new_bytes,
                   "change_modified_files_bytes": changed_bytes, "change_entries": len(paths),
                   "item_own_bytes": own, "beyond_item_bytes": wchar - own, "new_inodes_beyond_item_bytes": new_bytes - own,
                   "publication_bytes_per_page": round(total / pub.pages),
                   "publication_entries_per_page": round(entries / pub.pages, 2)}


def new_item(pub: Publication, workers: int, top: bool) -> None:
    """Add one new item of ten pages (new masters: its pyramids are built; its own ALTO copies, not
    links, as a real delivery's) as the last row of the sheet, or the first (``top``), and ingest:
    wall time, and what it wrote beyond the item's own object, word store and pyramids."""
    where = "top" if top else "end"
    runs = pub.added.setdefault(where, [])
    item_id = f"new-{where}-{len(runs) + 1:03d}-{int(time.time())}"
    source = pub.holdings.parent / "small-source"  # made by small_pages
    jpeg, alto = (source / "page.jpg").read_bytes(), source / "page.xml"
    folder = pub.holdings / "items" / item_id
    folder.mkdir(parents=True)
    for n in range(1, 11):
        (folder / f"{n:04d}.jpg").write_bytes(distinct_master(jpeg, f"{item_id}/{n}"))
        shutil.copyfile(alto, folder / f"{n:04d}.xml")
    rows = read_rows(pub.holdings)
    rows.insert(1 if top else len(rows), [item_id, *rows[1][1:3], f"New {item_id}", *rows[1][4:]])
    write_rows(pub.holdings, rows)
    before = snapshot(pub.data)
    took, wchar, cpu = ingest(pub.holdings, pub.data, workers)
    new_bytes, _, paths = written(before, snapshot(pub.data))
    gen = pub.data / "manifests" / "current"
    own = sum(folder_bytes((gen / sub / item_id).resolve())[0] for sub in ("iiif/3", "words"))
    pyramids = sum((pub.data / p).stat().st_size for p in paths if p.startswith("image_cache/") and (pub.data / p).is_file())
    runs.append({"seconds": round(took, 3), "cpu_seconds": round(cpu, 3), "write_calls_bytes": wchar,
                 "item_own_bytes": own, "pyramid_bytes": pyramids,
                 # write(2) counts the pool's workers too (reaped children): the pyramids they built are the item's
                 "beyond_item_bytes": wchar - own - pyramids,
                 "new_inodes_beyond_item_bytes": new_bytes - own - pyramids, "entries": len(paths)})


def summary(pub: Publication) -> dict[str, Any]:
    walls, cpus = [w for w, _ in pub.changes], [c for _, c in pub.changes]
    return {"pages": pub.pages, "items": len(pub.ids), "first_ingest_seconds": round(pub.first_seconds, 1),
            "changes": len(pub.changes), "change_seconds": round(statistics.median(walls), 2),
            "change_cpu_seconds": round(statistics.median(cpus), 2),
            "change_seconds_each": [round(w, 2) for w in walls], **pub.written,
            "change_write_calls_bytes_median": round(statistics.median(pub.wchars)),
            "beyond_item_bytes_median": round(statistics.median(pub.wchars) - pub.written["item_own_bytes"]),
            "new_items": {where: {"seconds": statistics.median(r["seconds"] for r in runs),
                                  "beyond_item_bytes": max(r["beyond_item_bytes"] for r in runs),
                                  "new_inodes_beyond_item_bytes": max(r["new_inodes_beyond_item_bytes"] for r in runs),
                                  "runs": runs} for where, runs in pub.added.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--large", type=int, default=12, help="real-size pages for the throughput run")
    parser.add_argument("--sizes", type=int, nargs="*", default=[2000, 5000], help="publication sizes in pages")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--changes", type=int, default=5, help="one-item changes per size (medians reported)")
    parser.add_argument("--additions", type=int, default=2,
                        help="new items added per size, alternately as the last and the first row (0: none)")
    parser.add_argument("--reuse", action="store_true",
                        help="keep the publications an earlier run built (their first ingest is not timed again)")
    args = parser.parse_args()
    record: dict[str, object] = {"started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                                 "cpus": os.cpu_count()}
    if args.large:
        record["throughput"] = t = throughput(args.large, args.workers)
        print(f"first ingest: {t['pages']} pages of {t['master_mp']:.0f} MP in {t['seconds']} s with "
              f"{args.workers} workers: {t['pages_per_min_per_core']} pages/min/core (wall); CPU {t['cpu_seconds']} s, "
              f"{t['cpu_seconds_per_page']} CPU s a page: {t['pages_per_cpu_minute']} pages per CPU-minute; derived bytes "
              f"{t['derived_over_pyramids']}x the pyramids", flush=True)
    pubs = [publication(size, args.workers, args.reuse) for size in args.sizes]
    for _ in range(args.changes):  # interleaved: the machine's drift touches every size alike
        for pub in pubs:
            one_item_change(pub, args.workers)
    for n in range(args.additions):
        for pub in pubs:
            new_item(pub, args.workers, top=n % 2 == 1)
    changes = [summary(pub) for pub in pubs]
    record["changes"] = changes
    for c in changes:
        print(f"{c['pages']} pages: first ingest {c['first_ingest_seconds']} s; one-item change, median of "
              f"{c['changes']}: {c['change_seconds']} s wall, {c['change_cpu_seconds']} s CPU {c['change_seconds_each']}; "
              f"write(2) {c['change_write_calls_bytes']} B, "
              f"{c['beyond_item_bytes']} B beyond the item's own {c['item_own_bytes']} B (median of all changes: "
              f"{c['beyond_item_bytes_median']} B beyond); new inodes "
              f"{c['change_new_inode_bytes']} B ({c['new_inodes_beyond_item_bytes']} B beyond the item's), "
              f"modified files {c['change_modified_files_bytes']} B (whole), {c['change_entries']} entries; "
              f"publication {c['publication_bytes_per_page']} B and {c['publication_entries_per_page']} entries a page",
              flush=True)
    for c in changes:
        for where, r in c["new_items"].items():
            print(f"{c['pages']} pages: a new item of 10 pages as the {ROW[where]} row, "
                  f"median of {len(r['runs'])}: {r['seconds']:.2f} s wall; at most {r['beyond_item_bytes']} B written "
                  f"(write(2)) and {r['new_inodes_beyond_item_bytes']} B of new inodes beyond the item's object, word "
                  f"store and pyramids", flush=True)
    if len(changes) >= 2:
        a, b = changes[0], changes[-1]
        # write(2) beyond the item's own, median of every change: the new-inode figure of one change is
        # fuzzy (a file written may take the inode number of one the run deleted: "changed", not "new")
        beyond = b["beyond_item_bytes_median"], a["beyond_item_bytes_median"]
        # the growth between the two sizes, carried on linearly; none measured (or less at the larger
        # size: noise, a one-time rewrite at the smaller one): the larger size's own figure
        slope = max(0.0, (beyond[0] - beyond[1]) / (b["pages"] - a["pages"]))
        at_10m = beyond[0] + slope * (TEN_MILLION - b["pages"])
        ratio = round(b["change_seconds"] / a["change_seconds"], 2)
        cpu_ratio = round(b["change_cpu_seconds"] / a["change_cpu_seconds"], 2)
        # each change of the larger publication over the smaller one's just before it: the machine's
        # speed drifts within a run (a shared host), and the two of a pair ran seconds apart
        big, small = pubs[-1].changes, pubs[0].changes
        paired = sorted(bw / sw for (bw, _), (sw, _) in zip(big, small))
        paired_cpu = sorted(bc / sc for (_, bc), (_, sc) in zip(big, small))
        pair_ratio, pair_cpu = round(statistics.median(paired), 2), round(statistics.median(paired_cpu), 2)
        record["extrapolation"] = {"change_bytes_beyond_item_at_10M": round(at_10m),
                                   "publication_bytes_at_10M": b["publication_bytes_per_page"] * TEN_MILLION,
                                   "time_ratio": ratio, "cpu_ratio": cpu_ratio, "paired_time_ratio": pair_ratio,
                                   "paired_cpu_ratio": pair_cpu,
                                   "paired_ratios": [round(r, 2) for r in paired]}
        print(f"extrapolated to 10 million pages: a one-item change writes ~{at_10m / 1e6:.1f} MB beyond the item; "
              f"the publication (without pyramids) ~{b['publication_bytes_per_page'] * TEN_MILLION / 1e9:.1f} GB; "
              f"change time {b['pages']} vs {a['pages']} pages (medians): {ratio}x wall, {cpu_ratio}x CPU; "
              f"median of the paired ratios (each change over the smaller one's just before it): {pair_ratio}x wall, "
              f"{pair_cpu}x CPU (quartiles {paired[len(paired) // 4]:.2f}-{paired[3 * len(paired) // 4]:.2f})",
              flush=True)
        for where in a["new_items"].keys() & b["new_items"].keys():
            r = round(b["new_items"][where]["seconds"] / a["new_items"][where]["seconds"], 2)
            record["extrapolation"][f"new_item_{where}_time_ratio"] = r  # type: ignore[index]
            print(f"a new item as the {ROW[where]} row: {b['pages']} vs {a['pages']} pages "
                  f"(medians): {r}x wall", flush=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"ingest-{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}.json"
    out.write_text(json.dumps(record, indent=1))
    print(f"record: {out}")


if __name__ == "__main__":
    main()
