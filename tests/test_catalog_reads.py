"""The catalog's typed reads, on the demo holdings as ingest published them (and on an older,
self-contained catalog, which ingest still reads to carry items over)."""
from __future__ import annotations

from pathlib import Path

import pytest

from server.catalog import CatalogReader, ImageRow, ItemRow, PageRow, create_catalog
from server.publication import Publication, PublicationStore

NORDSTERN = "newspaper-deu-der-nordstern-1878-01-03"
RASSEGNA = "periodical-ita-rassegna-settimanale-1878-10-06"
BERLIN = "periodical-deu-berlinische-monatsschrift-1784-12"
ENGLISH = "periodical-eng-english-illustrated-magazine-1884-12"


@pytest.fixture()
def pub(demo_data: Path) -> Publication:
    found = PublicationStore(demo_data / "manifests", demo_data / "image_cache").current()
    assert found is not None
    return found


def test_items_and_their_pages(pub: Publication) -> None:
    catalog = pub.catalog
    assert catalog.counts() == (4, 8)
    item = catalog.item(NORDSTERN)
    assert item is not None and (item.collection, item.type, item.date) == ("der-nordstern", "newspaper", "1878-01-03")
    assert item.label["en"] == ["Der Nordstern, 3 January 1878"] and item.info["pages"] == 2
    assert catalog.item("no-such-item") is None and not catalog.has_item("no-such-item") and catalog.has_item(NORDSTERN)
    pages = catalog.pages(RASSEGNA)
    assert [p.n for p in pages] == [1, 2, 3] and {p.ocr_format for p in pages} == {"hocr"}
    assert [p.image_id for p in pages] == [f"{RASSEGNA}~{n}" for n in (1, 2, 3)]
    assert catalog.page(RASSEGNA, 2) == pages[1] and catalog.page(RASSEGNA, 4) is None
    assert catalog.first_page(RASSEGNA) == pages[0]
    assert catalog.first_pages([RASSEGNA, NORDSTERN, "no-such-item"]) == {
        RASSEGNA: pages[0], NORDSTERN: catalog.pages(NORDSTERN)[0]}
    assert catalog.first_pages([]) == {}
    assert catalog.page_of_image(f"{NORDSTERN}~2") == catalog.pages(NORDSTERN)[1]
    assert catalog.item_ids() == [BERLIN, NORDSTERN, ENGLISH, RASSEGNA]  # by collection, then position
    assert sorted(r.id for r in catalog.items()) == sorted(r.id for r in catalog.recent(10)) == sorted(catalog.item_ids())
    assert len(catalog.recent(2)) == 2
    fingerprints = catalog.fingerprints()
    assert set(fingerprints) == set(catalog.item_ids()) and all(len(f) == 32 for f in fingerprints.values())


def test_images_resolve_to_the_pyramids_ingest_built(pub: Publication) -> None:
    page = pub.catalog.pages(NORDSTERN)[0]
    row = pub.catalog.image(page.image_id)
    assert row is not None and (row.width, row.height) == (page.width, page.height)
    assert row.level_sizes[0] == (page.width, page.height) and len(row.level_sizes) > 1
    assert (pub.image_cache / row.pyramid).is_file()
    record = pub.image(page.image_id)
    assert record is not None and record.key == row.key and record.pyramid.levels == row.level_sizes
    assert pub.catalog.image(f"{NORDSTERN}~9") is None


def test_collections_and_serial_browsing(pub: Publication) -> None:
    catalog = pub.catalog
    collections = catalog.collections()
    assert [c.id for c in collections] == ["emeroteca", "der-nordstern", "berlinische-monatsschrift",
                                           "english-illustrated-magazine", "rassegna-settimanale"]  # by position
    assert collections[0].parent is None
    assert {c.parent for c in collections[1:]} == {"emeroteca"} and collections[0].info["children"] == 4
    assert catalog.item_counts() == dict.fromkeys(
        ("berlinische-monatsschrift", "der-nordstern", "english-illustrated-magazine", "rassegna-settimanale"), 1)
    assert catalog.first_items()["der-nordstern"] == NORDSTERN
    assert catalog.is_serial("der-nordstern") and not catalog.is_serial("emeroteca")
    total, rows = catalog.items_in("der-nordstern", 0, 10)
    assert total == 1 and [r.id for r in rows] == [NORDSTERN]
    assert catalog.items_in("der-nordstern", 0, 10, 1878, 1)[0] == 1
    assert catalog.items_in("der-nordstern", 0, 10, 1878, 2) == (0, [])
    assert catalog.items_in("der-nordstern", 1, 10) == (1, [])  # past the end: the total, no rows
    assert catalog.years("der-nordstern") == [(1878, 1)]
    assert catalog.months("der-nordstern", 1878) == [(1, 1)]
    assert catalog.months("berlinische-monatsschrift", 1784) == [(12, 1)]
    assert [r.id for r in catalog.items_of_year("rassegna-settimanale", 1878)] == [RASSEGNA]
    assert catalog.items_of_year("rassegna-settimanale", 1879) == []


def test_what_ingest_stored_with_the_generation(pub: Publication) -> None:
    catalog = pub.catalog
    assert catalog.meta("generation") == str(pub.number)
    assert pub.baked_base_url == catalog.meta("base_url") and pub.baked_base_url.startswith("http")
    assert catalog.meta("no-such-key") is None
    inputs = catalog.inputs()
    # one row per item folder: its entries, and a record naming each file with its digest
    mine = [(path, v) for path, v in inputs.items() if path.endswith(f"items/{NORDSTERN}")]
    assert len(mine) == 1 and mine[0][0].startswith("folder:")
    folder = Path(mine[0][0].removeprefix("folder:"))
    assert mine[0][1][0] == len(list(folder.iterdir())) and "/0011.jpg/" in mine[0][1][2]


def test_a_self_contained_catalog_reads_the_same(tmp_path: Path) -> None:
    """Generations written before the shared catalog: ingest reads them to carry items over."""
    db = create_catalog(tmp_path / "catalog.sqlite")
    db.execute("INSERT INTO items VALUES ('a', 'c', 'book', '1900', 0, '{\"label\": {\"en\": [\"A\"]}, \"fingerprint\": \"f\"}')")
    db.execute("INSERT INTO pages VALUES ('a', 1, 'a~1', 30, 40, 'I', 'p.xml', 'alto')")
    db.execute("INSERT INTO images VALUES ('a~1', 'k', 'pyramids/k.tif', 30, 40, '[[30, 40], [15, 20]]')")
    db.execute("INSERT INTO inputs VALUES ('/h/a.tif', 3, 4, 'd')")
    db.commit()
    catalog = CatalogReader(lambda: db)
    assert catalog.item("a") == ItemRow("a", "c", "book", "1900", 0, '{"label": {"en": ["A"]}, "fingerprint": "f"}')
    assert catalog.pages("a") == [PageRow("a", 1, "a~1", 30, 40, "I", "p.xml", "alto")]
    assert catalog.image("a~1") == ImageRow("a~1", "k", "pyramids/k.tif", 30, 40, "[[30, 40], [15, 20]]")
    assert catalog.image("a~1").level_sizes == ((30, 40), (15, 20))  # type: ignore[union-attr]
    assert catalog.fingerprints() == {"a": "f"} and catalog.inputs() == {"/h/a.tif": (3, 4, "d")}
    db.execute("UPDATE items SET data = 'not json'")
    item = catalog.item("a")
    assert item is not None and item.info == {} and item.label == {}  # a page never fails on a bad row
