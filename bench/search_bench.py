#!/usr/bin/env python3
"""Search benchmark: index a generated Italian corpus and time within-item and site-wide queries.

    python bench/search_bench.py                 # 20,000 pages × 300 words, defaults as in bench/README.md
    python bench/search_bench.py --pages 2000    # a quick run
    python bench/search_bench.py --workers 0     # encode pages in the indexing process (no pool)
    python bench/search_bench.py --engine solr --solr-url http://127.0.0.1:18983/solr --pages 100000

The corpus is seeded and realistic in the ways that matter to an inverted index: the vocabulary
and its Zipf frequencies come from the real Italian OCR of the sample (La Rassegna Settimanale,
1878, Tesseract hOCR), extended by a generated long tail of Italian-looking words; a share of the
text is copied in runs from the real pages, so phrases occur as they do in print. Items mix books
(250 pages) and newspaper issues (8 pages). Boxes are fake (a regular grid, with some hyphenated
words split over two lines). Everything goes through the production code path: SearchIndexWriter
builds the index and word store, SearchService / site_search answer, search_v1 builds the JSON
Mirador and Universal Viewer receive.

``--engine solr`` indexes into a SolrCloud collection (``--collection``, default ``bench``, dropped
and created again with ``--shards``), as ``HERITAGE_SEARCH=solr`` does; the Solr heap in use
after the queries is read from each node.

It prints indexing pages/s, the size of the index and of the word store, and p50/p99 of each
query family, and writes the record to bench/results/ (git-ignored). Work files go to
bench/work/search/ (git-ignored), rebuilt on each run.
"""
from __future__ import annotations

import argparse
import bisect
import itertools
import json
import os
import platform
import random
import resource
import shutil
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from server.ocr import PageText, Word, parse_ocr
from server.search import IndexedItem, IndexedPage, SearchIndexWriter, SiteQuery, site_search
from server.search.analysis import tokens
from server.search.encoding import encoding_workers
from server.search.engines import EngineSettings
from server.search.iiif import search_v1
from server.search.service import SearchService
from server.search.urls import SearchUrls

SAMPLE = ROOT / "examples" / "holdings" / "items" / "periodical-ita-rassegna-settimanale-1878-10-06"
SAMPLE_SIZES = {1: (2297, 3377), 2: (2242, 3357), 3: (2315, 3383)}
FALLBACK_TEXT = ("la commissione parlamentare d'inchiesta sull'amministrazione del comune di firenze ha terminato "
                 "agli ultimi di settembre i suoi lavori e i giornali ne hanno fatto conoscere i risultati")
SYLLABLES = ["ba", "be", "bi", "bo", "bu", "ca", "ce", "ci", "co", "cu", "da", "de", "di", "do", "du", "fa", "fe", "fi", "fo", "fu", "ga", "ge", "gi", "go", "gu", "la", "le", "li", "lo", "lu", "ma", "me", "mi", "mo", "mu", "na", "ne", "ni", "no", "nu", "pa", "pe", "pi", "po", "pu", "ra", "re", "ri", "ro", "ru", "sa", "se", "si", "so", "su", "ta", "te", "ti", "to", "tu", "va", "ve", "vi", "vo", "vu", "za", "ze", "zi", "zo", "stra", "stro", "pro", "pre", "tra", "tri", "con", "com", "par", "per", "sca", "sco", "gna", "gno", "gli", "chia", "chie"]
ENDINGS = ["o", "a", "i", "e", "one", "ione", "ioni", "ato", "ata", "ati", "ente", "enti", "ezza", "ismo", "ista", "mente", "ore", "ori", "are", "ere", "ire"]
CANVAS = (2300, 3400)
CHUNK = 5000
"""Pages made before they are indexed (and the writer flushed): see main."""
WORDS_PER_LINE = 10


def real_text() -> list[str]:
    """The words of the real Italian sample, as printed, in reading order."""
    words: list[str] = []
    for n, (w, h) in SAMPLE_SIZES.items():
        path = SAMPLE / f"000{n}.hocr"
        if path.exists():
            words += [wd.text for wd in parse_ocr(path, w, h).words]
    return words or FALLBACK_TEXT.split()


def vocabulary(real: list[str], tail: int, rng: random.Random) -> tuple[list[str], list[float]]:
    """Words ranked by frequency (real ones first, by observed count) and Zipf cumulative weights."""
    counts = Counter(w.strip(".,;:!?«»()\"").lower() for w in real)
    counts.pop("", None)
    words = [w for w, _ in counts.most_common()]
    seen = set(words)
    while len(words) < len(counts) + tail:
        w = "".join(rng.choice(SYLLABLES) for _ in range(rng.choice((1, 2, 2, 3, 3, 4)))) + rng.choice(ENDINGS)
        if w not in seen:
            seen.add(w)
            words.append(w)
    weights = list(itertools.accumulate(1.0 / (r ** 1.05) for r in range(1, len(words) + 1)))
    return words, weights


def page_words(rng: random.Random, real: list[str], vocab: list[str], cum: list[float], count: int) -> list[str]:
    """``count`` words: Zipf draws, with runs copied from the real text (so phrases exist)."""
    out: list[str] = []
    total = cum[-1]
    while len(out) < count:
        if rng.random() < 0.25:
            start = rng.randrange(len(real))
            out += real[start:start + rng.randint(3, 12)]
        else:
            out += [vocab[bisect.bisect_left(cum, rng.random() * total)] for _ in range(rng.randint(5, 15))]
    return out[:count]


def layout(texts: list[str], rng: random.Random) -> PageText:
    """Fake but plausible boxes: a grid of lines; about 1 line in 8 ends with a hyphenated word."""
    words: list[Word] = []
    line = 0
    col = 0
    x0, y0, lh = 120, 200, 34
    for text in texts:
        x = x0 + col * 200
        y = y0 + line * lh
        if col == WORDS_PER_LINE - 1 and rng.random() < 0.12 and len(text) > 6:
            second = (x0, y + lh, 90, 28)
            words.append(Word(text, x, y, 100, 28, line, line // 40, ((x, y, 100, 28), second)))
            line += 1
            col = 1
            continue
        words.append(Word(text, x, y, 180, 28, line, line // 40, ((x, y, 180, 28),)))
        col += 1
        if col == WORDS_PER_LINE:
            col = 0
            line += 1
    return PageText(words, CANVAS[0], CANVAS[1], "it", "hocr")


def plan_items(pages: int, rng: random.Random) -> list[tuple[IndexedItem, int]]:
    """Half the pages in 250-page books, half in 8-page newspaper issues."""
    items: list[tuple[IndexedItem, int]] = []
    book_pages = pages // 2
    n_books = max(1, book_pages // 250)
    for i in range(n_books):
        size = book_pages // n_books
        year = rng.randint(1820, 1940)
        items.append((IndexedItem(f"book-{i:04d}", {"it": [f"Libro {i}"]}, ["biblioteca", f"fondo-{i % 5}"],
                                  "book", str(year), year, ["it"]), size))
    left = pages - sum(s for _, s in items)
    i = 0
    while left > 0:
        size = min(8, left)
        year = rng.randint(1860, 1945)
        date = f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        items.append((IndexedItem(f"issue-{i:05d}", {"it": [f"Gazzetta {date}"]}, ["emeroteca", f"testata-{i % 7}"],
                                  "newspaper", date, year, ["it"]), size))
        left -= size
        i += 1
    return items


class Queries:
    """The query families, drawn from the corpus's vocabulary by a seeded generator."""

    def __init__(self, rng: random.Random, real: list[str], vocab: list[str]) -> None:
        self.rng, self.real = rng, real
        self.common = [w for w in vocab[:60] if len(w) > 3]
        self.medium = vocab[200:3000]
        self.rare = vocab[3000:40000]

    def term(self) -> str:
        r = self.rng
        return r.choice((r.choice(self.common), r.choice(self.medium), r.choice(self.medium), r.choice(self.rare)))

    def phrase(self, sample: list[str] | None = None) -> str:
        source = sample if sample else self.real
        start = self.rng.randrange(max(1, len(source) - 4))
        words = [w for w in source[start:start + self.rng.randint(2, 3)] if tokens(w)]
        return '"' + " ".join(words) + '"' if words else '"la commissione"'

    def prefix(self) -> str:
        for _ in range(100):
            w = tokens(self.rng.choice(self.medium + self.common))
            if w and len(w[0]) >= 5:
                return w[0][:self.rng.randint(4, min(7, len(w[0]) - 1))] + "*"
        return "amministra*"


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def timed(fn, repeat: int = 1) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - start) * 1000 / repeat


def du(path: Path) -> int:
    """Bytes of the files under ``path``, following the word store's links to its object folders."""
    total = 0
    for root, _, files in os.walk(path, followlinks=True):
        total += sum(os.stat(os.path.join(root, f)).st_size for f in files)
    return total


def count_pages(words: Path) -> int:
    return sum(sum(1 for f in files if f.endswith(".page")) for _, _, files in os.walk(words, followlinks=True))


def fresh_collection(settings: EngineSettings, shards: int) -> None:
    from server.search.solr.client import SolrClient
    from server.search.solr.setup import collections, setup
    client = SolrClient(str(settings.solr_url), settings.collection)
    if settings.collection in collections(client):
        client.request("GET", "admin/collections", params={"action": "DELETE", "name": settings.collection})
    setup(client, shards=shards, replicas=1)


def solr_index_bytes(settings: EngineSettings) -> int:
    from server.search.solr.client import SolrClient
    client = SolrClient(str(settings.solr_url), settings.collection)
    status = client.request("GET", "admin/collections", params={"action": "CLUSTERSTATUS",
                                                                "collection": settings.collection})
    shards = status["cluster"]["collections"][settings.collection]["shards"]
    total = 0
    for shard in shards.values():
        for replica in shard["replicas"].values():
            node = SolrClient(replica["base_url"], settings.collection)
            cores = node.request("GET", "admin/cores", params={"action": "STATUS", "core": replica["core"]})
            total += int(cores["status"][replica["core"]]["index"]["sizeInBytes"])
    return total


def children_cpu_s() -> float:
    """CPU of this process's ended children: the encoding workers, once commit has stopped them."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def peak_mib() -> float:
    """This process's peak resident memory (Linux reports KiB)."""
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def solr_cpu_s(settings: EngineSettings) -> float:
    """CPU seconds used so far by every live Solr node's JVM (its ``os.processCpuTime``)."""
    from server.search.solr.client import SolrClient
    client = SolrClient(str(settings.solr_url), settings.collection)
    nodes = client.request("GET", "admin/collections", params={"action": "CLUSTERSTATUS"})["cluster"]["live_nodes"]
    total = 0
    for node in nodes:
        host, _, context = node.partition("_")
        metrics = SolrClient(f"http://{host}/{context}", "x").request(
            "GET", "admin/metrics", params={"group": "jvm", "prefix": "os.processCpuTime"})
        total += int(metrics["metrics"]["solr.jvm"]["os.processCpuTime"])
    return total / 1e9


def solr_heap_mib(settings: EngineSettings) -> int:
    from server.search.solr.client import SolrClient
    client = SolrClient(str(settings.solr_url), settings.collection)
    nodes = client.request("GET", "admin/collections", params={"action": "CLUSTERSTATUS"})["cluster"]["live_nodes"]
    used = 0
    for node in nodes:  # 127.0.0.1:8983_solr
        host, _, context = node.partition("_")
        info = SolrClient(f"http://{host}/{context}", "x").request("GET", "admin/info/system")
        used += int(info["jvm"]["memory"]["raw"]["used"])
    return used // 2**20


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--pages", type=int, default=20_000, help="pages to index (default 20000)")
    p.add_argument("--words", type=int, default=300, help="words per page (default 300)")
    p.add_argument("--tail", type=int, default=60_000, help="generated long-tail words (default 60000)")
    p.add_argument("--queries", type=int, default=200, help="queries per family (default 200)")
    p.add_argument("--seed", type=int, default=1878)
    p.add_argument("--work", type=Path, default=HERE / "work" / "search")
    p.add_argument("--results", type=Path, default=HERE / "results")
    p.add_argument("--engine", choices=("whoosh", "solr"), default="whoosh")
    p.add_argument("--solr-url", default=os.environ.get("HERITAGE_SOLR_URL"))
    p.add_argument("--collection", default="bench")
    p.add_argument("--shards", type=int, default=2)
    p.add_argument("--workers", type=int, default=None,
                   help="encoding processes (default: what ingest would use for this many pages)")
    args = p.parse_args(argv)
    settings = EngineSettings(args.engine, args.solr_url, args.collection)
    if args.engine == "solr":
        if not args.solr_url:
            p.error("--engine solr needs --solr-url (or HERITAGE_SOLR_URL)")
        fresh_collection(settings, args.shards)

    rng = random.Random(args.seed)
    real = real_text()
    vocab, cum = vocabulary(real, args.tail, rng)
    print(f"vocabulary: {len(vocab)} words ({len(set(real))} forms from the real OCR, {args.tail} generated)")

    shutil.rmtree(args.work, ignore_errors=True)
    gen = args.work / "gen-1"
    gen.mkdir(parents=True)
    plan = plan_items(args.pages, rng)
    print(f"corpus: {args.pages} pages × {args.words} words in {len(plan)} items")

    # within-item queries go to a sample of items, whose first pages' words are kept for phrases:
    # memory stays bounded at a million pages
    srng = random.Random(args.seed + 2)
    books = [i.item_id for i, s in plan if s > 8]
    issues = [i.item_id for i, s in plan if s <= 8]
    books, issues = (srng.sample(ids, min(len(ids), 500)) for ids in (books, issues))
    sampled = set(books) | set(issues)

    workers = encoding_workers(args.pages) if args.workers is None else args.workers
    print(f"encoding: {f'{workers} worker processes' if workers > 1 else 'in the indexing process'}")
    generate_s = generate_cpu = index_s = 0.0
    solr_cpu0 = solr_cpu_s(settings) if args.engine == "solr" else 0.0
    loads = [os.getloadavg()[0]]
    cpu0 = time.process_time()
    children0 = children_cpu_s()
    writer = SearchIndexWriter(gen, None, settings=settings, workers=workers)
    texts_by_item: dict[str, list[list[str]]] = {}
    # pages are made a chunk at a time, then indexed and flushed while nothing else runs here: the
    # encoding workers and Solr are idle while the next chunk is made, so its time is not theirs
    chunk: list[tuple[IndexedItem, list[IndexedPage]]] = []
    chunk_pages = 0
    for at, (item, size) in enumerate(plan):
        g0, t0 = time.perf_counter(), time.thread_time()
        pages = []
        sample_texts = []
        for n in range(1, size + 1):
            words = page_words(rng, real, vocab, cum, args.words)
            if n <= 3 and item.item_id in sampled:
                sample_texts.append(words)
            pages.append(IndexedPage(n, f"p. {n}", CANVAS[0], CANVAS[1], layout(words, rng)))
        if sample_texts:
            texts_by_item[item.item_id] = sample_texts
        chunk.append((item, pages))
        chunk_pages += size
        generate_s += time.perf_counter() - g0
        generate_cpu += time.thread_time() - t0
        if chunk_pages < CHUNK and at + 1 < len(plan):
            continue
        i0 = time.perf_counter()
        for chunk_item, chunk_item_pages in chunk:
            writer.add_item(chunk_item, chunk_item_pages)
        writer.flush()
        index_s += time.perf_counter() - i0
        chunk, chunk_pages = [], 0
    c0 = time.perf_counter()
    writer.commit()
    commit_s = time.perf_counter() - c0
    total_s = index_s + commit_s
    loads.append(os.getloadavg()[0])
    main_ms = (time.process_time() - cpu0 - generate_cpu) * 1000 / args.pages
    workers_ms = (children_cpu_s() - children0) * 1000 / args.pages
    python_ms = main_ms + workers_ms
    solr_ms = (solr_cpu_s(settings) - solr_cpu0) * 1000 / args.pages if args.engine == "solr" else None
    index_bytes = du(gen / "index") if args.engine == "whoosh" else solr_index_bytes(settings)
    words_bytes = du(gen / "words")
    print(f"indexing: {args.pages / total_s:.0f} pages/s ({total_s:.1f} s, of which commit {commit_s:.1f} s; "
          f"generating the text took another {generate_s:.1f} s)")
    print(f"CPU per page: Python {python_ms:.2f} ms (indexing process {main_ms:.2f} ms, every thread, generation "
          f"excluded; encoding workers {workers_ms:.2f} ms)"
          + (f", Solr {solr_ms:.2f} ms (every node)" if solr_ms is not None else "")
          + f"; machine load {loads[0]:.1f} → {loads[1]:.1f}; peak memory {peak_mib():.0f} MiB")
    print(f"size: index {index_bytes / 2**20:.1f} MiB, word store {words_bytes / 2**20:.1f} MiB "
          f"({count_pages(gen / 'words')} page files)")

    service = SearchService(gen, settings)
    urls = SearchUrls("http://localhost:5000")
    qrng = random.Random(args.seed + 1)
    queries = Queries(qrng, real, vocab)
    term_query, phrase_query, prefix_query = queries.term, queries.phrase, queries.prefix

    service.search_item(next(iter(service.items)), "la")  # open once, as a running server has
    results: dict[str, dict[str, float]] = {}

    def run(name: str, queries: list[tuple[str, object]], fn) -> None:  # type: ignore[no-untyped-def]
        times = [timed(lambda q=q, a=a: fn(q, a)) for q, a in queries]
        results[name] = {"p50_ms": round(percentile(times, 50), 2), "p99_ms": round(percentile(times, 99), 2),
                         "max_ms": round(max(times), 2), "queries": len(times)}
        print(f"{name:<28} p50 {results[name]['p50_ms']:7.2f} ms   p99 {results[name]['p99_ms']:7.2f} ms   "
              f"max {results[name]['max_ms']:7.2f} ms   ({len(times)} queries)")

    def within(q: str, item_id: object) -> None:
        search_v1(urls, service.search_item(str(item_id), q, 1), [])

    def within_queries(items: list[str]) -> list[tuple[str, object]]:
        out: list[tuple[str, object]] = []
        for k in range(args.queries):
            item_id = qrng.choice(items)
            kind = k % 3
            q = term_query() if kind == 0 else prefix_query() if kind == 1 else phrase_query(
                [w for page in texts_by_item[item_id] for w in page])
            out.append((q, item_id))
        return out

    print("within one item (search + 1.0 JSON of the first 200 hits):")
    run("within book (250 pages)", within_queries(books), within)
    run("within issue (8 pages)", within_queries(issues or books), within)

    def site(q: str, _: object) -> None:
        site_search(service, urls, SiteQuery(q)).to_json(urls)

    print("site-wide (every match found, the best 200 pages scored, grouped by item, 5 facets, "
          "20 items × 3 pages of snippets, JSON):")
    run("site term", [(term_query(), None) for _ in range(args.queries)], site)
    run("site phrase", [(phrase_query(), None) for _ in range(args.queries)], site)
    run("site prefix", [(prefix_query(), None) for _ in range(args.queries)], site)
    top50 = [w for w in vocab if tokens(w)][:50]
    run("site term, 50 most common words", [(w, None) for w in top50], site)
    loads.append(os.getloadavg()[0])
    heap = solr_heap_mib(settings) if args.engine == "solr" else None
    if heap is not None:
        print(f"Solr heap in use: {heap} MiB (all nodes)")

    record = {"benchmark": "search", "when": datetime.now(UTC).isoformat(timespec="seconds"),
              "engine": args.engine, "solr_heap_mib": heap, "load_average": [round(v, 1) for v in loads],
              "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()},
              "corpus": {"pages": args.pages, "words_per_page": args.words, "items": len(plan), "vocabulary": len(vocab),
                         "seed": args.seed},
              "indexing": {"pages_per_s": round(args.pages / total_s, 1), "seconds": round(total_s, 1),
                           "commit_s": round(commit_s, 1), "python_cpu_ms_per_page": round(python_ms, 3),
                           "encoding_workers": workers, "indexing_process_cpu_ms_per_page": round(main_ms, 3),
                           "solr_cpu_ms_per_page": round(solr_ms, 3) if solr_ms is not None else None,
                           "generate_s": round(generate_s, 1), "peak_rss_mib": round(peak_mib()),
                           "index_mib": round(index_bytes / 2**20, 1),
                           "word_store_mib": round(words_bytes / 2**20, 1)},
              "queries": results}
    args.results.mkdir(parents=True, exist_ok=True)
    out = args.results / f"search-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}.json"
    out.write_text(json.dumps(record, indent=2))
    print(f"record: {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
