#!/usr/bin/env python3
"""Query-only timing on a corpus search_bench.py already built: wall and CPU time per query family.

    python bench/search_queries.py --work bench/work/search --engine whoosh
    python bench/search_queries.py --work bench/work/search --engine solr --solr-url http://127.0.0.1:18983/solr
    python bench/search_queries.py --code /tmp/old-checkout ...     # another commit's query code, same corpus

For a before/after comparison on a busy machine: the same index, the same queries (search_bench's
families and seeds), two checkouts run back to back; CPU time per query (``process_time``) is
far less sensitive to other processes than wall time. The word store and the Solr documents have
one format on both sides of a change that does not touch them.
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import random
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--code", type=Path, default=HERE.parent, help="checkout whose server/ answers (default: this one)")
    p.add_argument("--work", type=Path, default=HERE / "work" / "search", help="search_bench's --work")
    p.add_argument("--engine", choices=("whoosh", "solr"), default="whoosh")
    p.add_argument("--solr-url", default=os.environ.get("HERITAGE_SOLR_URL"))
    p.add_argument("--collection", default="bench")
    p.add_argument("--pages", type=int, default=20_000, help="search_bench's --pages (the item plan)")
    p.add_argument("--queries", type=int, default=99)
    p.add_argument("--seed", type=int, default=1878)
    args = p.parse_args(argv)
    sys.path.insert(0, str(args.code.resolve()))
    from server.search import SiteQuery, service, site_search
    from server.search.analysis import tokens
    from server.search.engines import EngineSettings
    from server.search.iiif import search_v1
    from server.search.service import SearchService
    from server.search.urls import SearchUrls
    if not Path(service.__file__).resolve().is_relative_to(args.code.resolve()):
        p.error(f"--code {args.code} has no server/ package")
    spec = importlib.util.spec_from_file_location("search_bench", HERE / "search_bench.py")
    assert spec and spec.loader
    sb = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(sb)  # corpus and percentiles only: server/ is already --code's

    rng = random.Random(args.seed)
    real = sb.real_text()
    vocab, _ = sb.vocabulary(real, 60_000, rng)
    plan = sb.plan_items(args.pages, rng)
    searcher = SearchService(args.work / "gen-1", EngineSettings(args.engine, args.solr_url, args.collection))
    urls = SearchUrls("http://localhost:5000")
    made = sb.Queries(random.Random(args.seed + 1), real, vocab)
    qrng, term, phrase, prefix = made.rng, made.term, made.phrase, made.prefix

    books = [i.item_id for i, s in plan if s > 8]
    issues = [i.item_id for i, s in plan if s <= 8] or books
    kinds = [term, prefix, phrase] * (args.queries // 3)
    common = [w for w in vocab if tokens(w)][:50]
    families: dict[str, list[tuple[str, str | None]]] = {
        "within book (250 pages)": [(k(), qrng.choice(books)) for k in kinds],
        "within issue (8 pages)": [(k(), qrng.choice(issues)) for k in kinds],
        "site term": [(term(), None) for _ in kinds], "site phrase": [(phrase(), None) for _ in kinds],
        "site prefix": [(prefix(), None) for _ in kinds],
        "site, 50 most common words": [(w, None) for w in common]}
    narrowed: dict[str, list[SiteQuery]] = {  # facets chosen, dates, browsing: other ways through the facets
        "common word + type, decade": [SiteQuery(w, filters={"type": ("newspaper",), "decade": ("1880",)})
                                       for w in common[:25]],
        "common word by date, p. 1-25": [SiteQuery(w, sort="date", page=k + 1) for k, w in enumerate(common[:25])],
        "browse all by date, p. 1-25": [SiteQuery("*", sort="-date", page=k + 1) for k in range(25)]}
    searcher.search_item(books[0], "la")  # open once, as a running server has
    site_search(searcher, urls, SiteQuery("la")).to_json(urls)
    print(f"code: {args.code.resolve()}  load {os.getloadavg()[0]:.1f}")
    runs: dict[str, list[tuple[str, str | None] | SiteQuery]] = {**families, **narrowed}  # type: ignore[dict-item]
    for name, queries in runs.items():
        wall, cpu = [], []
        for query in queries:
            t, c = time.perf_counter(), time.process_time()
            if isinstance(query, SiteQuery):
                site_search(searcher, urls, query).to_json(urls)
            elif query[1]:
                search_v1(urls, searcher.search_item(query[1], query[0], 1), [])
            else:
                site_search(searcher, urls, SiteQuery(query[0])).to_json(urls)
            wall.append((time.perf_counter() - t) * 1000)
            cpu.append((time.process_time() - c) * 1000)
        print(f"{name:<28} wall p50 {sb.percentile(wall, 50):7.1f} p99 {sb.percentile(wall, 99):7.1f} ms   "
              f"CPU p50 {sb.percentile(cpu, 50):7.1f} p99 {sb.percentile(cpu, 99):7.1f} ms", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
