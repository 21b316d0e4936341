"""The per-item shortcuts of a re-ingest give what the plain ways give.

A one-item change reads and fingerprints every unchanged item again, so those steps were made
cheaper: a page's repr made without the dataclass's generic one (an item's fingerprint hashes it),
the file digests hashed in one update, a file's previous fingerprint reused as it is, and file
names split inline in the page listing. Each is checked here against the way it replaced.
"""
from __future__ import annotations

import hashlib
import os
import shutil
from dataclasses import fields
from pathlib import Path, PurePosixPath
from typing import Any

import pytest

from server.config import Settings
from server.holdings import read_holdings
from server.holdings.model import Item, Page
from server.holdings.reader import _list_pages, _split_name
from server.ingest.fingerprint import Fingerprints
from server.ingest.publish import item_fingerprint

from .conftest import SAMPLE

PAGES = [
    Page(Path("/h/items/a/0001.tif")),
    Page(Path("/h/items/a/0002.tif"), Path("/h/items/a/0002.xml"), "alto"),
    Page(Path("/h/items/a/it's \"odd\" \\ è.jpg"), Path("/h/items/a/x.hocr"), "hocr", "IV'", "Tesseract 5.3.0"),
    Page(Path("relative/0001.png"), None, None, "p. 1"),
    Page(PurePosixPath("/pure/0001.tif"), PurePosixPath("/pure/0001.xml"), "alto"),  # type: ignore[arg-type]
]


def dataclass_repr(obj: Any) -> str:
    """What ``@dataclass`` generates for ``__repr__``: each field (all have ``repr=True``) by its own repr."""
    return f"{type(obj).__qualname__}({', '.join(f'{f.name}={getattr(obj, f.name)!r}' for f in fields(obj))})"


@pytest.mark.parametrize("page", PAGES)
def test_a_page_repr_is_the_dataclass_repr(page: Page) -> None:
    assert all(f.repr for f in fields(Page))
    assert repr(page) == dataclass_repr(page)


def old_item_fingerprint(item: Item, fps: Fingerprints, settings: Settings) -> str:
    """``item_fingerprint`` as it was: the generated reprs, one update per file digest (as this run took them)."""
    h = hashlib.sha256(repr(item).encode())
    for page in item.pages:
        for path in (page.image, page.ocr):
            if path is not None:
                h.update(fps.digest_of(path).encode())
    h.update(repr((settings.base_url, settings.default_language, settings.languages, settings.default_rights,
                   settings.default_attribution, settings.provider_label, settings.provider_homepage,
                   settings.tile_size)).encode())
    return h.hexdigest()[:32]


def test_item_fingerprints_are_as_before(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    holdings = read_holdings(SAMPLE)
    fps = Fingerprints({})
    items = list(holdings.items.values())
    for item in items[1:]:  # the first item's files are unknown: hashed as "?"
        for page in item.pages:
            fps.master(page.image)
            if page.ocr is not None:
                fps.file(page.ocr)
    settings = Settings.load(environ={"HERITAGE_DATA": str(tmp_path)})
    new = [item_fingerprint(item, fps, settings) for item in items]
    with monkeypatch.context() as m:
        m.setattr(Page, "__repr__", dataclass_repr)
        assert "Page(image=PosixPath(" in repr(items[0])
        old = [old_item_fingerprint(item, fps, settings) for item in items]
    assert new == old and len(set(new)) == len(items)


def test_a_reused_fingerprint_is_the_file_as_it_is_now(tmp_path: Path) -> None:
    image, ocr = tmp_path / "0001.tif", tmp_path / "0001.xml"
    image.write_bytes(b"image")
    ocr.write_text("<alto/>")
    first = Fingerprints({})
    digests = first.master(image), first.file(ocr)
    again = Fingerprints(dict(first.current))
    assert (again.master(image), again.file(ocr)) == digests
    assert again.current == first.current
    ocr.write_text("<alto>changed</alto>")
    os.utime(ocr, ns=(1, 1))
    third = Fingerprints(dict(again.current))
    assert third.file(ocr) != digests[1]
    st = os.stat(ocr)
    assert third.current[str(ocr)] == (st.st_size, st.st_mtime_ns, third.file(ocr))


NAMES = ["0001.tif", "0001.xml", "0002.JPG", "0002.HOCR.HTML", "0003.jpeg", "0003.hocr.html", "0003.html",
         "0004.png", "0004.htm", "noext", ".hidden.tif", "a.b.c.jp2", "a.b.c.xml", "Thumbs.db", "x.hocr",
         "x.tif", ".tif", "..tif", "page.", "5.J2K", "5.Hocr"]


def split_pages(folder: Path) -> list[tuple[str, str | None, str | None]]:
    """The pages ``_list_pages`` finds, derived the plain way (with ``_split_name``) for these names."""
    from server.holdings.model import IMAGE_EXTENSIONS, OCR_FORMATS
    images: dict[str, str] = {}
    ocr: dict[str, list[tuple[str, str]]] = {}
    for name in sorted(NAMES):
        if name.startswith(".") or name.lower() == "thumbs.db":
            continue
        stem, ext = _split_name(name)
        if ext in IMAGE_EXTENSIONS:
            images[stem] = name
        elif ext in OCR_FORMATS:
            ocr.setdefault(stem, []).append((name, OCR_FORMATS[ext]))
    out = []
    for stem in sorted(images, key=lambda s: s):
        side = sorted(ocr.get(stem, []), key=lambda f: (f[1] != "alto", f[0]))
        out.append((images[stem], side[0][0] if side else None, side[0][1] if side else None))
    return out


def test_page_listing_splits_names_as_split_name(tmp_path: Path) -> None:
    folder = tmp_path / "item"
    folder.mkdir()
    for name in NAMES:
        (folder / name).write_bytes(b"")
    errors: list[str] = []
    pages = _list_pages(folder, "item", [], errors)
    assert not errors
    got = sorted((p.image.name, p.ocr.name if p.ocr else None, p.ocr_format) for p in pages)
    assert got == sorted(split_pages(folder))
    assert ("0003.jpeg", "0003.hocr.html", "hocr") in got and ("0002.JPG", "0002.HOCR.HTML", "hocr") in got
    shutil.rmtree(folder)


def test_listed_page_paths_are_the_paths_they_name(tmp_path: Path) -> None:
    """The listing gives each page's path its string up front (see ``_child_known``): it must be the
    string the path makes itself, and the path must behave as a path made the plain way."""
    folder = tmp_path / "item è"
    folder.mkdir()
    for name in NAMES:
        (folder / name).write_bytes(b"")
    pages = _list_pages(folder, "item", [], [])
    assert pages
    for page in pages:
        for path in (page.image, page.ocr):
            if path is not None:
                plain = folder / path.name
                assert str(path) == str(plain) == os.fspath(path) and path == plain and hash(path) == hash(plain)
                assert path.parent == folder and path.suffix == plain.suffix and path.exists()


def test_a_pyramid_or_its_edge_tiles_gone_from_the_cache_is_built_again(tmp_path: Path) -> None:
    """Re-ingest checks each page's pyramid from one listing of its shard folder: a pyramid, or its
    edge tiles, removed from the image cache (a cache may be cleared) is made again."""
    from .test_ingest import run
    holdings = tmp_path / "holdings"
    shutil.copytree(SAMPLE, holdings)
    data = tmp_path / "data"
    assert run(holdings, data).returncode == 0
    pyramids = sorted((data / "image_cache" / "pyramids").glob("*/*.tif"))
    assert len(pyramids) >= 3
    pyramids[0].unlink()
    Path(f"{pyramids[1]}.edges").unlink()
    again = run(holdings, data)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "1 pyramid built" in again.stdout, again.stdout  # the other kept its pyramid: only its edge tiles made
    assert pyramids[0].is_file() and Path(f"{pyramids[1]}.edges").is_file()
    third = run(holdings, data)
    assert "0 pyramids built" in third.stdout


def test_a_pyramid_gone_from_a_shard_the_previous_run_recorded_is_built_again(tmp_path: Path) -> None:
    """A re-ingest trusts the shard folders that have not changed since the previous run recorded
    them (no listing); removing a pyramid changes its folder, so it is found missing and made again."""
    import json
    import time

    from server.catalog import open_generation
    from server.ingest.images import SHARD_STAMPS

    from .test_ingest import current, run
    holdings = tmp_path / "holdings"
    shutil.copytree(SAMPLE, holdings)
    data = tmp_path / "data"
    assert run(holdings, data).returncode == 0
    time.sleep(2.2)  # older than CachedPyramids.RACY_NS: the next run records the shards it listed
    assert run(holdings, data).returncode == 0

    def recorded() -> dict[str, str]:
        db = open_generation(current(data) / "catalog.sqlite")
        try:
            row = db.execute("SELECT value FROM meta WHERE key = ?", (SHARD_STAMPS,)).fetchone()
        finally:
            db.close()
        return json.loads(row[0]) if row else {}
    pyramids = sorted((data / "image_cache" / "pyramids").glob("*/*.tif"))
    stamps = recorded()
    assert {p.parent.name for p in pyramids} <= set(stamps)  # every shard of a page
    pyramids[0].unlink()
    again = run(holdings, data)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "1 pyramid built" in again.stdout, again.stdout
    assert pyramids[0].is_file()
    assert pyramids[0].parent.name not in recorded()  # built into: the next run lists it again
    assert "0 pyramids built" in run(holdings, data).stdout


def test_an_unchanged_shard_is_not_listed_and_a_changed_one_is(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from server.ingest.images import CachedPyramids
    shard = tmp_path / "pyramids" / "ab"
    shard.mkdir(parents=True)
    key, other = "ab" + "0" * 30 + "-p1t512", "ab" + "1" * 30 + "-p1t512"
    (shard / f"{key}.tif").write_bytes(b"")
    (shard / f"{key}.tif.edges").write_bytes(b"")
    first = CachedPyramids(tmp_path)
    assert first.has(key, published=True)
    assert first.stamps() == {}  # changed a moment ago: a later change could keep its timestamps
    monkeypatch.setattr(CachedPyramids, "RACY_NS", -10**12)
    stamps = first.stamps()
    assert set(stamps) == {"ab"}
    listed: list[str] = []
    listdir = os.listdir
    monkeypatch.setattr(os, "listdir", lambda path: listed.append(str(path)) or listdir(path))
    again = CachedPyramids(tmp_path, stamps)
    assert again.has(key, published=True) and listed == []  # unchanged since recorded: not listed
    assert again.stamps() == stamps
    assert not again.has(other) and listed == [str(shard)]  # one the publication did not list: looked up
    assert again.stamps() == {}  # and missing: this run builds it, the next one lists the shard
    (shard / f"{key}.tif.edges").unlink()  # the folder changes
    listed.clear()
    third = CachedPyramids(tmp_path, stamps)
    assert not third.has(key, published=True) and listed == [str(shard)]
    assert third.stamps() == {}  # a pyramid was missing there: never trusted until listed complete
    (shard / f"{key}.tif.edges").write_bytes(b"")  # as a run builds it
    fourth = CachedPyramids(tmp_path, stamps)
    assert fourth.has(key, published=True) and set(fourth.stamps()) == {"ab"} and fourth.stamps() != stamps
    (shard / "new.tif").write_bytes(b"")  # changed after it was looked at: not recorded
    assert fourth.stamps() == {}


def test_the_cache_listing_finds_what_stat_finds(tmp_path: Path) -> None:
    from server.ingest.images import CachedPyramids
    shard = tmp_path / "pyramids" / "ab"
    shard.mkdir(parents=True)
    full, bare = "ab" + "0" * 30 + "-p1t512", "ab" + "1" * 30 + "-p1t512"
    (shard / f"{full}.tif").write_bytes(b"")
    (shard / f"{full}.tif.edges").write_bytes(b"")
    (shard / f"{bare}.tif").write_bytes(b"")  # no edge tiles
    cache = CachedPyramids(tmp_path)
    assert cache.has(full) and not cache.has(bare) and not cache.has("cd" + "0" * 30 + "-p1t512")


def test_a_noted_page_result_is_made_only_when_asked_for() -> None:
    """Re-ingest notes the unchanged pages' pyramids (recorded levels, still cached) and makes their
    results only for the items it publishes again: the same result as the pyramid's own."""
    from server.image.pyramid import pyramid_file
    from server.ingest.images import PageResults
    key = "ab" + "0" * 30 + "-p1t512"
    broken = "ef" + "0" * 30 + "-p1t512"
    results = PageResults("/cache", {key: "[[800, 600], [400, 300]]", broken: "[[800]]"})
    results.note_cached(key, Path("/h/items/a/0001.jpg"))
    assert results.known(key) and results.readable(key) and dict.__len__(results) == 0  # nothing made yet
    made = results[key]
    assert made.master == "/h/items/a/0001.jpg" and not made.built and made.error is None
    assert made.pyramid is not None and made.pyramid.path == pyramid_file("/cache", key) == "/cache/pyramids/ab/" + key + ".tif"
    assert (made.pyramid.width, made.pyramid.height, made.pyramid.levels) == (800, 600, ((800, 600), (400, 300)))
    assert results.get(key) is made and list(results.values()) == [made]
    assert results.get("cd" + "0" * 30) is None and not results.known("cd" + "0" * 30)
    with pytest.raises(KeyError):
        results["cd" + "0" * 30]
    results.note_cached(broken, Path("/h/items/a/0002.jpg"))  # a malformed record: the file is read, and is not there
    assert results[broken].pyramid is None and results[broken].error


RECORDED = [
    [],
    [("0001.tif", None, None)],
    [("0001.jpg", "0001.xml", "alto"), ("0002.jpg", None, None), ("it's \"odd\" \\ è.jpg", "x.hocr", "hocr")],
]


@pytest.mark.parametrize("names", RECORDED)
def test_recorded_pages_answer_as_the_tuple_of_their_pages(names: list[Any]) -> None:
    """An unchanged folder's pages (``RecordedPages``) are made only when asked for; until then their
    repr, count, image paths and pages without OCR are what the made pages would give."""
    from server.holdings.model import RecordedPages, page_image, pages_without_ocr
    folder = Path("/h/items/a")
    made = tuple(Page(folder / image, folder / ocr if ocr else None, fmt) for image, ocr, fmt in names)
    lazy = RecordedPages(folder, names)
    assert repr(lazy) == repr(made) == f"({', '.join(map(dataclass_repr, made))}{',' if len(made) == 1 else ''})"
    assert len(lazy) == len(made)
    assert [page_image(lazy, n) for n in range(len(made))] == [str(p.image) for p in made]
    assert pages_without_ocr(lazy) == pages_without_ocr(made) == [n for n, p in enumerate(made) if p.ocr is None]
    assert lazy._made is None  # nothing above made a page
    assert lazy == made and made == lazy and hash(lazy) == hash(made) and lazy == RecordedPages(folder, names)
    assert lazy != made[:-1] or not made
    assert tuple(lazy) == made and list(lazy) == list(made) and lazy[0:2] == made[0:2]
    assert all(lazy[n] == made[n] and str(lazy[n].image) == str(made[n].image) for n in range(len(made)))
    assert repr(lazy) == repr(made)  # made now: the same


def test_an_unchanged_item_is_read_and_fingerprinted_without_making_its_pages(tmp_path: Path) -> None:
    """What a re-ingest asks of an unchanged item before deciding it is unchanged needs no page made;
    the item and its fingerprint are those of the item read the plain way."""
    from server.holdings.model import RecordedPages
    root = tmp_path / "holdings"
    shutil.copytree(SAMPLE, root)
    settings = Settings.load(environ={"HERITAGE_DATA": str(tmp_path / "data")})
    first = Fingerprints({})
    plain = read_holdings(root, watch=first)
    for item in plain.items.values():
        first.item_files(item.id, [first.master(p.image) for p in item.pages],
                         [first.file(p.ocr) if p.ocr is not None else "" for p in item.pages])
    again = Fingerprints(dict(first.current))
    holdings = read_holdings(root, watch=again)
    lazy = [item for item in holdings.items.values() if isinstance(item.pages, RecordedPages)]
    assert lazy, "no item of the sample was read from its folder's record"
    for item in lazy:
        recorded = again.recorded(item.folder, item.pages)
        assert recorded is not None
        again.item_files(item.id, *recorded)
        assert item_fingerprint(item, again, settings) == item_fingerprint(plain.items[item.id], first, settings)
        assert item.pages._made is None, item.id  # type: ignore[union-attr]
        assert item == plain.items[item.id] and repr(item) == repr(plain.items[item.id])
