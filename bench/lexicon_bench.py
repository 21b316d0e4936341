"""Lexicon benchmark: what a one-item change of words writes to the publication's lexicon.

    python bench/lexicon_bench.py                          # 2,000,000 words, 300 changes
    python bench/lexicon_bench.py --words 5000000 --changes 300

The lexicon holds every folded word of the archive with its count; noisy OCR makes it large
(millions of words at a national scale). An ingest that changes one item's words (OCR done again,
pages added) changes a few thousand counts. The reference, measured in the same run, is how every
version before ``server/search/lexicon_files.py`` wrote it: the whole file again. Now: a delta
beside the previous generation's files, merged now and then (``lexicon_files``' docstring).

Each change: another item's ``--item-words`` words are replaced by as many (a quarter of them new
words, OCR noise); reported per change: bytes written (median, 99th percentile, and the mean,
which carries the merges and base rewrites), wall time; then what loading the lexicon costs a
server process (base alone against base + deltas). Work files go to ``bench/work/lexicon/``.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import statistics
import string
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from server.search.lexicon import Vocabulary, dump
from server.search.lexicon_files import load_lexicon, segments, write_lexicon
from server.search.store import write_text

WORK = ROOT / "bench" / "work" / "lexicon"
RESULTS = ROOT / "bench" / "results"


def noise_word(rng: random.Random) -> str:
    """A word as OCR mangles them: letters of the Italian alphabet, some accents, 3-14 long."""
    letters = string.ascii_lowercase + "àèéìòù"
    return "".join(rng.choice(letters) for _ in range(rng.randint(3, 14)))


def written_bytes(before: Path | None, after: Path) -> int:
    """Bytes of the files of ``after`` that are not links to ``before``'s (what the change wrote)."""
    inodes = {p.stat().st_ino for p in before.iterdir()} if before is not None else set()
    return sum(p.stat().st_size for p in after.iterdir() if p.stat().st_ino not in inodes)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--words", type=int, default=2_000_000, help="words in the lexicon (default 2,000,000)")
    p.add_argument("--changes", type=int, default=300, help="one-item changes (default 300)")
    p.add_argument("--item-words", type=int, default=3000, help="distinct words of a changed item (default 3000)")
    p.add_argument("--seed", type=int, default=1878)
    args = p.parse_args(argv)
    rng = random.Random(args.seed)
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)

    words = sorted({noise_word(rng) for _ in range(int(args.words * 1.02))})[:args.words]
    counts = Counter({w: rng.randint(1, 50) for w in words})
    first = WORK / "g0"
    first.mkdir()
    t0 = time.perf_counter()
    write_lexicon(first, None, counts)
    print(f"lexicon: {len(counts):,} words, {(first / 'lexicon.tsv').stat().st_size / 2**20:.1f} MiB, "
          f"written in {time.perf_counter() - t0:.1f} s")

    new_bytes, new_s, whole_bytes, whole_s = [], [], [], []
    previous = first
    for n in range(1, args.changes + 1):  # each time another item: its old words out, its new ones in
        change = Counter(rng.sample(words, args.item_words * 3 // 4) + [noise_word(rng) for _ in range(args.item_words // 4)])
        change.subtract(Counter(w for w in rng.sample(words, args.item_words) if counts[w] > 0))  # words it had
        here = WORK / f"g{n}"
        here.mkdir()
        t0 = time.perf_counter()
        write_lexicon(here, previous, change)
        new_s.append(time.perf_counter() - t0)
        new_bytes.append(written_bytes(previous, here))
        counts.update(change)
        if n <= 5:  # the reference: the whole lexicon summed and written again (as before)
            t0 = time.perf_counter()
            whole = Vocabulary.load(first / "lexicon.tsv")
            summed = Counter(dict(zip(whole.keys, whole.counts)))
            summed.update(change)
            write_text(WORK / "whole.tsv", dump(summed))
            whole_s.append(time.perf_counter() - t0)
            whole_bytes.append((WORK / "whole.tsv").stat().st_size)
        if previous != first:
            shutil.rmtree(previous)  # generations are kept three at a time; links keep shared files
        previous = here
    base, deltas = segments(previous)
    assert base is not None
    ordered = sorted(new_bytes)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    print(f"one-item change ({args.item_words} words, a quarter new): now median {statistics.median(new_bytes) / 1e3:.1f} KB "
          f"written, p99 {p99 / 1e6:.2f} MB, mean {statistics.mean(new_bytes) / 1e6:.3f} MB (merges and base "
          f"rewrites included: {sum(1 for b in new_bytes if b > 5e6)} of {len(new_bytes)} changes over 5 MB), "
          f"median {statistics.median(new_s) * 1e3:.0f} ms; the whole file again (before): "
          f"{statistics.median(whole_bytes) / 1e6:.1f} MB, {statistics.median(whole_s) * 1e3:.0f} ms")
    print(f"  ratio written, before / now: median {statistics.median(whole_bytes) / statistics.median(new_bytes):.0f}x, "
          f"mean {statistics.median(whole_bytes) / statistics.mean(new_bytes):.1f}x; "
          f"after {args.changes} changes: base + {len(deltas)} deltas "
          f"({sum(p.stat().st_size for _, p in deltas) / 1e6:.2f} MB)")

    def timed_load(fn) -> tuple[float, float]:  # type: ignore[no-untyped-def]
        rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        t0 = time.perf_counter()
        vocab = fn()
        took = time.perf_counter() - t0
        assert len(vocab) > 0
        return took, (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss0) / 1024

    whole_load = statistics.median(timed_load(lambda: Vocabulary.load(base))[0] for _ in range(3))
    merged_load = statistics.median(timed_load(lambda: load_lexicon(previous))[0] for _ in range(3))
    merged = load_lexicon(previous)
    rows = merged.with_prefix("", scan=10**9)
    assert {w: c for w, _, c in rows} == {w: c for w, c in counts.items() if c > 0}
    print(f"a server's load: base alone {whole_load:.2f} s, base + {len(deltas)} deltas {merged_load:.2f} s "
          f"(the same words and counts as the lexicon summed from nothing: checked)")
    summed = Vocabulary([w for w, _, _ in rows], None, [c for _, _, c in rows])
    prefixes = [w[:rng.randint(2, 4)] for w in rng.sample(words, 300)]
    query = {}
    for name, vocab in (("one summed vocabulary", summed), ("base + deltas", merged)):
        times = []
        for prefix in prefixes:
            t0 = time.perf_counter()
            vocab.prefix_terms(prefix)
            vocab.count_prefix(prefix)
            vocab.fuzzy_terms(prefix + "ar", 1)
            times.append((time.perf_counter() - t0) * 1e3)
        query[name] = (statistics.median(times), sorted(times)[int(0.99 * (len(times) - 1))])
        print(f"a prefix, its count and a fuzzy term, {name}: median {query[name][0]:.1f} ms, "
              f"p99 {query[name][1]:.1f} ms")
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"lexicon-{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}.json"
    out.write_text(json.dumps({"benchmark": "lexicon", "words": args.words, "changes": args.changes,
                               "item_words": args.item_words, "now_bytes": new_bytes,
                               "now_seconds": [round(s, 4) for s in new_s], "before_bytes": whole_bytes,
                               "before_seconds": [round(s, 4) for s in whole_s], "deltas_left": len(deltas),
                               "load_base_s": round(whole_load, 3), "load_merged_s": round(merged_load, 3),
                               "query_ms": {k: [round(v, 2) for v in t] for k, t in query.items()},
                               "cpus": os.cpu_count()}, indent=1))
    print(f"record: {out}")
    shutil.rmtree(WORK, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
