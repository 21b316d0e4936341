"""Ingest end to end: incremental, atomic, lossless, and hostile input reported by file and line."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import DEMO, ROOT

RASSEGNA = "periodical-ita-rassegna-settimanale-1878-10-06"
KANT = "periodical-deu-berlinische-monatsschrift-1784-12"
NORDSTERN = "newspaper-deu-der-nordstern-1878-01-03"
ENGLISH = "periodical-eng-english-illustrated-magazine-1884-12"


# the operator's language comes from these (server/texts.py): English unless a test says otherwise
LANGUAGE_VARIABLES = ("HERITAGE_UI_LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE")


def run(holdings: Path, data: Path, *extra: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in LANGUAGE_VARIABLES}
    full = {**base, "LANG": "C.UTF-8", "HERITAGE_DATA": str(data), **(env or {})}
    return subprocess.run([sys.executable, "-m", "server.cli", "ingest", str(holdings), *extra], env=full,
                          capture_output=True, text=True, cwd=ROOT, timeout=600, check=False)


def current(data: Path) -> Path:
    return (data / "manifests" / os.readlink(data / "manifests" / "current")).resolve()


def published_items(data: Path) -> set[str]:
    from server.catalog import open_generation
    db = open_generation(current(data) / "catalog.sqlite")
    try:
        return {r[0] for r in db.execute("SELECT id FROM items")}
    finally:
        db.close()


def tree_digest(root: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        st = p.lstat()
        h.update(f"{p.relative_to(root)}|{st.st_size}|{st.st_mtime_ns}".encode())
        if p.is_file():
            h.update(p.read_bytes())
    return h.hexdigest()


@pytest.fixture()
def holdings(tmp_path: Path) -> Path:
    target = tmp_path / "holdings"
    shutil.copytree(DEMO, target)
    return target


def test_incremental_and_never_writes_holdings(holdings: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    before = tree_digest(holdings)
    first = run(holdings, data)
    assert first.returncode == 0, first.stderr + first.stdout
    assert "published 4 items, 8 pages (0 items unchanged, 8 pyramids built)" in first.stdout
    second = run(holdings, data)
    assert "(4 items unchanged, 0 pyramids built)" in second.stdout
    # change one page of one item: only that item is rebuilt, only that pyramid is made
    page = holdings / "items" / RASSEGNA / "0002.png"
    import pyvips
    pyvips.Image.new_from_file(str(page)).flip("horizontal").write_to_file(str(page))
    third = run(holdings, data)
    assert "(3 items unchanged, 1 pyramid built)" in third.stdout, third.stdout  # plural forms
    forced = run(holdings, data, "--force")
    assert "(0 items unchanged, 8 pyramids built)" in forced.stdout
    page.unlink()
    shutil.copytree(DEMO / "items" / RASSEGNA, holdings / "items" / "restore", dirs_exist_ok=True)
    assert tree_digest(DEMO) == tree_digest(DEMO)  # the bundled demo is untouched by any test
    assert before != tree_digest(holdings)  # (we changed the copy ourselves, ingest did not)


def test_output_without_a_terminal_is_in_order_with_each_items_pages(holdings: Path, tmp_path: Path) -> None:
    """Captured (no TTY): one line per item with that item's own pages, then the summary, on one stream
    in the order it happened; nothing on stderr. It used to print every item as "(8/8 pages" on stderr."""
    result = run(holdings, tmp_path / "data")
    assert result.returncode == 0 and result.stderr == "", result.stderr
    lines = result.stdout.splitlines()
    items = [line for line in lines if line.startswith("ingest: item ")]
    assert [line.split()[3] for line in items] == [KANT, NORDSTERN, ENGLISH, RASSEGNA]  # items.csv order
    assert [line.split()[4] for line in items] == ["(2", "(2", "(1", "(3"]
    assert items[2].split()[5] == "page,"  # 1 page, 2 pages
    assert all(" pages," in items[i] for i in (0, 1, 3))
    assert lines[-1].startswith("report: ") and lines[-1].endswith("-ingest.html")  # the staff's HTML report
    summary = lines[-2]
    assert summary.startswith("published 4 items, 8 pages") and lines.index(items[-1]) < len(lines) - 2
    assert "0 warnings, 0 errors" in summary


def test_an_unreadable_first_page_does_not_renumber_the_next(holdings: Path, tmp_path: Path) -> None:
    """The second page stays "p. 2" in its canvas, the catalog and search: it was labelled "p. 1"."""
    first = holdings / "items" / RASSEGNA / "0001.png"
    first.write_bytes(first.read_bytes()[:2000])
    data = tmp_path / "data"
    result = run(holdings, data)
    assert result.returncode == 1 and f"ERROR items/{RASSEGNA}/0001.png" in result.stdout
    gen = current(data)
    manifest = json.loads((gen / "iiif" / "3" / RASSEGNA / "manifest.json").read_text())
    assert [c["label"] for c in manifest["items"]] == [{"it": ["p. 2"], "en": ["p. 2"]},
                                                       {"it": ["p. 3"], "en": ["p. 3"]}]
    canvas = json.loads((gen / "iiif" / "3" / RASSEGNA / "canvas" / "1.json").read_text())
    assert canvas["label"] == {"it": ["p. 2"], "en": ["p. 2"]}
    from server import create_app
    client = create_app({"data": data, "base_url": "http://h.test"}).test_client()
    found = client.get("/search.json?q=Firenze").get_json()
    pages = {p["n"]: p["label"] for i in found["items"] if i["id"] == RASSEGNA for p in i["pages"]}
    assert pages == {1: "p. 2", 2: "p. 3"}
    html = client.get(f"/item/{RASSEGNA}?canvas=1&lang=en").get_data(as_text=True)
    assert "p. 2" in html
    # an item that lost no page keeps the site's own "page n" wording
    assert "p. 1" not in client.get(f"/item/{KANT}?canvas=1&lang=en").get_data(as_text=True)


def test_the_command_line_speaks_italian_or_english(holdings: Path, tmp_path: Path) -> None:
    """Progress, problems and summary in the operator's language (the site's catalogs), with plurals."""
    shutil.copytree(holdings / "items" / ENGLISH, holdings / "items" / "orphan-folder")
    rows = read_items(holdings)
    rows.append({"id": "bad-date", "collection": "emeroteca", "type": "periodical", "title": "X", "date": "1878-13-45"})
    write_items(holdings, rows)
    data = tmp_path / "data"
    it = run(holdings, data, env={"LANG": "it_IT.UTF-8"})
    assert it.returncode == 1 and it.stderr == "", it.stderr
    out = it.stdout
    assert f"ingest: documento 3/4 {ENGLISH} (1 pagina, " in out and f"documento 4/4 {RASSEGNA} (3 pagine, " in out
    assert ("ERRORE items.csv:6: documento 'bad-date': data errata: '1878-13-45' non è una data valida: "
            in out)
    assert "AVVISO items/orphan-folder: cartella senza una riga in items.csv: non pubblicata" in out
    assert "pubblicazione: 4 documenti, 8 pagine (0 documenti invariati, 8 piramidi create) in " in out
    assert "; 1 avviso, 2 errori; generazione gen-" in out
    en = run(holdings, data, env={"LANG": "en_GB.UTF-8"})
    assert "ingest: items 1-4/4 unchanged (8 pages, " in en.stdout  # one line for a run of unchanged items
    assert "ingest: item " not in en.stdout
    assert "ERROR items.csv:6: item 'bad-date': bad date: '1878-13-45' is not a valid date: " in en.stdout
    assert "WARNING items/orphan-folder: folder without a row in items.csv: not published" in en.stdout
    assert "published 4 items, 8 pages (4 items unchanged, 0 pyramids built) in " in en.stdout
    assert "; 1 warning, 2 errors; generation gen-" in en.stdout
    # HERITAGE_UI_LANGUAGE wins over the locale; LC_ALL over LANG
    italian = run(holdings, data, env={"HERITAGE_UI_LANGUAGE": "it"}).stdout
    assert "pubblicazione: 4 documenti" in italian and "ingest: documenti 1-4/4 invariati (8 pagine, " in italian
    # one changed item among unchanged ones: its own line, between the runs of unchanged items
    rows = read_items(holdings)
    changed = next(i for i, r in enumerate(rows) if r["id"] == ENGLISH)
    rows[changed]["title"] += " (revised)"
    write_items(holdings, rows)
    lines = [line for line in run(holdings, data, env={"LANG": "en_GB.UTF-8"}).stdout.splitlines()
             if line.startswith("ingest: ")]
    assert [line.split(" (")[0] for line in lines] == [
        "ingest: items 1-2/4 unchanged", f"ingest: item 3/4 {ENGLISH}", f"ingest: item 4/4 {RASSEGNA}"]
    assert "published 4 items" in run(holdings, data, env={"LC_ALL": "C.UTF-8", "LANG": "it_IT.UTF-8"}).stdout


def test_holdings_folder_is_never_written(holdings: Path, tmp_path: Path) -> None:
    before = tree_digest(holdings)
    assert run(holdings, tmp_path / "data").returncode == 0
    assert tree_digest(holdings) == before


def read_items(holdings: Path) -> list[dict[str, str]]:
    import csv
    with open(holdings / "items.csv", encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f, delimiter=";"))


def write_items(holdings: Path, rows: list[dict[str, str]]) -> None:
    """Write items.csv back as Italian Excel does: semicolons, BOM, CRLF."""
    import csv
    fields = list(dict.fromkeys(k for r in rows for k in r))
    with open(holdings / "items.csv", "w", encoding="utf-8-sig", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields, delimiter=";", lineterminator="\r\n")
        w.writeheader()
        w.writerows(rows)


def _break(holdings: Path) -> None:
    """Every kind of bad input at once, in copies of real files broken by hand."""
    items = holdings / "items"
    # a truncated page image
    jpg = items / NORDSTERN / "0012.jpg"
    data = jpg.read_bytes()
    jpg.write_bytes(data[: len(data) // 3])
    # OCR that is not well-formed XML
    xml = items / KANT / "INPUT_0020.xml"
    xml.write_text(xml.read_text(encoding="utf-8")[:5000], encoding="utf-8")
    # OCR with an external entity (XXE) — must be refused, never expanded
    hocr = items / RASSEGNA / "0002.hocr"
    hocr.write_text('<?xml version="1.0"?>\n<!DOCTYPE html [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
                    '<html><body><div class="ocr_page" title="bbox 0 0 10 10"><span class="ocrx_word" '
                    'title="bbox 0 0 5 5">&xxe;</span></div></body></html>', encoding="utf-8")
    # billion laughs
    laughs = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    (items / RASSEGNA / "0003.hocr").write_text(
        f'<?xml version="1.0"?>\n<!DOCTYPE html [<!ENTITY l0 "lol">{laughs}]>\n<html><body>&l9;</body></html>',
        encoding="utf-8")
    # a folder without a row
    shutil.copytree(items / ENGLISH, items / "orphan-folder")
    # rows: without folder, duplicate id, unsafe id, unknown collection, bad date, bad rights, restricted
    rows = read_items(holdings)
    base = {"collection": "emeroteca", "type": "periodical", "title": "X"}
    rows += [
        {**base, "id": "no-folder-item"},
        {**base, "id": ENGLISH, "title": "Duplicato"},
        {**base, "id": "../x"},
        {**base, "id": "unknown-coll", "collection": "nowhere"},
        {**base, "id": "bad-date", "date": "1878-13-45"},
        {**base, "id": "bad-rights", "rights": "all rights reserved"},
        {**base, "id": "secret", "access": "restricted"},
    ]
    write_items(holdings, rows)
    for name in ("unknown-coll", "bad-date", "bad-rights", "secret"):
        shutil.copytree(items / ENGLISH, items / name)


def test_hostile_input_is_reported_and_the_rest_published(holdings: Path, tmp_path: Path) -> None:
    _break(holdings)
    data = tmp_path / "data"
    result = run(holdings, data)
    out = result.stdout
    assert result.returncode == 1, out
    expect = [
        (f"items/{NORDSTERN}/0012.jpg", "ERROR"),
        (f"items/{KANT}/INPUT_0020.xml", "ERROR"),
        (f"items/{RASSEGNA}/0002.hocr", "ERROR"),
        (f"items/{RASSEGNA}/0003.hocr", "ERROR"),
        ("items/orphan-folder", ""),
        ("items.csv:", "no-folder-item"),
        ("items.csv:", "duplicate id"),
        ("items.csv:", "'../x'"),
        ("items.csv:", "nowhere"),
        ("items.csv:", "1878-13-45"),
        ("items.csv:", "all rights reserved"),
    ]
    for where, what in expect:
        assert any(where in line and what in line for line in out.splitlines()), (where, what, out)
    assert "root:" not in out  # the XXE was never expanded
    items = published_items(data)
    # no previous publication: readable pages of the damaged items are still published; the rest too
    assert {RASSEGNA, KANT, NORDSTERN, ENGLISH} <= items
    assert not items & {"secret", "no-folder-item", "unknown-coll", "bad-date", "bad-rights", "orphan-folder"}
    gen = current(data)
    manifest = json.loads((gen / "iiif" / "3" / NORDSTERN / "manifest.json").read_text())
    assert len(manifest["items"]) == 1  # the truncated page is left out, with an error
    listing = "".join(p.read_text() for p in (gen / "iiif" / "3" / "collection").glob("*.json"))
    assert "secret" not in listing


def test_previous_good_state_is_kept(holdings: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert run(holdings, data).returncode == 0
    good = json.loads((current(data) / "iiif" / "3" / NORDSTERN / "manifest.json").read_text())
    _break(holdings)
    result = run(holdings, data)
    assert result.returncode == 1
    assert "kept the previous publication" in result.stdout
    kept = json.loads((current(data) / "iiif" / "3" / NORDSTERN / "manifest.json").read_text())
    assert kept == good and len(kept["items"]) == 2


def test_restricted_item_is_withdrawn_everywhere(holdings: Path, tmp_path: Path, ) -> None:
    data = tmp_path / "data"
    assert run(holdings, data).returncode == 0
    rows = read_items(holdings)
    for r in rows:
        r["access"] = "restricted" if r["id"] == ENGLISH else "public"
    write_items(holdings, rows)
    result = run(holdings, data)
    assert result.returncode == 0, result.stdout
    assert ENGLISH not in published_items(data)
    from server import create_app
    client = create_app({"data": data, "base_url": "http://h.test"}).test_client()
    assert client.get(f"/iiif/3/{ENGLISH}/manifest").status_code == 404
    assert client.get(f"/iiif/3/image/{ENGLISH}~1/info.json").status_code == 404
    assert ENGLISH not in client.get("/iiif/3/collection/english-illustrated-magazine").get_data(as_text=True)


def test_sigkill_mid_ingest_keeps_serving_the_old_publication(holdings: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert run(holdings, data).returncode == 0
    old = current(data)
    change_log = (data / "discovery" / "changes.sqlite").read_bytes()  # IIIF Change Discovery
    # change every master so the next run has real work, then kill it while it works
    import pyvips
    for img in sorted((holdings / "items").glob("*/*")):
        if img.suffix in (".png", ".jpg"):
            pyvips.Image.new_from_file(str(img)).flip("vertical").write_to_file(str(img))
    env = {**os.environ, "HERITAGE_DATA": str(data)}
    proc = subprocess.Popen([sys.executable, "-m", "server.cli", "ingest", str(holdings)], env=env, cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    pyramids = data / "image_cache" / "pyramids"
    before = len(list(pyramids.rglob("*.tif")))
    deadline = time.monotonic() + 60
    while len(list(pyramids.rglob("*.tif"))) == before and time.monotonic() < deadline:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert current(data) == old  # still the old generation
    assert (data / "discovery" / "changes.sqlite").read_bytes() == change_log  # and nothing logged
    from server import create_app
    client = create_app({"data": data, "base_url": "http://h.test"}).test_client()
    assert client.get(f"/iiif/3/{RASSEGNA}/manifest").status_code == 200
    assert client.get(f"/iiif/3/image/{RASSEGNA}~1/full/200,/0/default.jpg").status_code == 200
    # the next run finishes the job
    again = run(holdings, data)
    assert again.returncode == 0, again.stdout + again.stderr
    assert current(data) != old
    assert not list((data / "manifests").glob(".tmp-gen-*"))
