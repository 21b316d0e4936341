"""Export benchmark: ``heritage export`` of the test sample, full and then with nothing changed.

    python bench/export_bench.py [--holdings tests/fixtures/holdings-sample]

Ingests the holdings into a temporary HERITAGE_DATA (not timed), then runs ``heritage export``
twice into one folder: a first export (every page rendered, every image file written) and a
re-export with nothing changed (everything compared, nothing written). Prints, per *page* (a
page of an item, i.e. one image): pages per minute, bytes and files in the export per page.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def run(data: Path, *args: str) -> tuple[float, str]:
    env = {**os.environ, "HERITAGE_DATA": str(data)}
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "server.cli", *args], env=env, cwd=ROOT,
                            capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"heritage {args[0]} failed:\n{result.stdout}{result.stderr}")
    return elapsed, result.stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--holdings", type=Path, default=ROOT / "tests" / "fixtures" / "holdings-sample")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="export-bench-") as tmp:
        data, out = Path(tmp) / "data", Path(tmp) / "site"
        run(data, "ingest", str(args.holdings))
        from server.config import Settings
        from server.publication import PublicationStore
        settings = Settings.load({"data": data})
        pub = PublicationStore(settings.manifests_dir, settings.image_cache_dir).current()
        assert pub is not None
        items, pages = pub.catalog.counts()
        first, summary = run(data, "export", str(out), "--base-url", "https://museo.example.org")
        again, summary2 = run(data, "export", str(out), "--base-url", "https://museo.example.org")
        files = json.loads((out / ".heritage-export.json").read_text(encoding="utf-8"))["files"]
        size = sum((out / rel).stat().st_size for rel in files)
        record = {
            "items": items, "pages": pages, "files": len(files), "bytes": size,
            "first_export_s": round(first, 1), "reexport_s": round(again, 1),
            "pages_per_min_first": round(pages / first * 60, 1), "pages_per_min_unchanged": round(pages / again * 60, 1),
            "bytes_per_page": round(size / pages), "files_per_page": round(len(files) / pages, 1),
            "summary_first": summary, "summary_unchanged": summary2,
        }
        print(json.dumps(record, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
