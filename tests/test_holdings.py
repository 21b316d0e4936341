"""The holdings reader on the real sample, and on broken copies of it: every problem with file and line."""
from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path

import pytest

from server.holdings import DateValue, Holdings, natural_key, normalize_rights, read_holdings
from server.holdings.model import Problem

SAMPLE = Path(__file__).resolve().parent / "fixtures" / "holdings-sample"
DOC = "document-ita-bnf-it-912"
KANT = "periodical-deu-berlinische-monatsschrift-1784-12"
NORD = "newspaper-deu-der-nordstern-1878-01-03"
EIM = "periodical-eng-english-illustrated-magazine-1884-12"
RASS = "periodical-ita-rassegna-settimanale-1878-10-06"
# physical line where each row of the sample items.csv starts (the first row spans lines 2-4)
LINES = {DOC: 2, KANT: 5, NORD: 6, EIM: 7, RASS: 8}


@pytest.fixture(scope="module")
def sample() -> Holdings:
    return read_holdings(SAMPLE)


@pytest.fixture()
def copy(tmp_path: Path) -> Path:
    """The sample's CSV files, and empty placeholders for its images and OCR (the reader never opens them)."""
    root = tmp_path / "holdings"
    root.mkdir()
    for name in ("collections.csv", "items.csv"):
        (root / name).write_bytes((SAMPLE / name).read_bytes())
    for folder in (SAMPLE / "items").iterdir():
        target = root / "items" / folder.name
        target.mkdir(parents=True)
        for f in folder.iterdir():
            if f.name == "structure.csv":
                (target / f.name).write_bytes(f.read_bytes())
            else:
                (target / f.name).touch()
    return root


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8-sig")
    assert old in text, old
    path.write_text("\ufeff" + text.replace(old, new, 1), encoding="utf-8")


def rows(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with open(path, encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f, delimiter=";" if path.name == "items.csv" else ",")
        return list(reader.fieldnames or []), list(reader)


def write_rows(path: Path, fields: list[str], data: list[dict[str, str]], delimiter: str = ";",
               bom: bool = True) -> None:
    out = io.StringIO()
    w = csv.DictWriter(out, fieldnames=fields, delimiter=delimiter, lineterminator="\r\n")
    w.writeheader()
    w.writerows(data)
    path.write_text(("\ufeff" if bom else "") + out.getvalue(), encoding="utf-8")


def find(h: Holdings, severity: str, text: str) -> list[Problem]:
    return [p for p in h.problems if p.severity == severity and text in p.message]


def one(h: Holdings, severity: str, text: str) -> Problem:
    found = find(h, severity, text)
    assert len(found) == 1, (text, h.problems)
    return found[0]


# --- the real sample ------------------------------------------------------------------------------

def test_sample_reads_without_problems(sample: Holdings) -> None:
    assert sample.problems == []
    assert list(sample.collections) == ["archivio", "manoscritti", "emeroteca", "der-nordstern",
                                        "berlinische-monatsschrift", "english-illustrated-magazine",
                                        "rassegna-settimanale"]
    assert list(sample.items) == [DOC, KANT, NORD, EIM, RASS]
    assert sample.collections["manoscritti"].parent == "archivio"
    assert sample.collections["emeroteca"].description["en"] == [
        "Digitized newspapers and magazines, with searchable OCR text."]
    assert [c.id for c in sample.child_collections(None)] == ["archivio", "emeroteca"]
    assert [i.id for i in sample.items_in("der-nordstern")] == [NORD]


def test_sample_pages_in_natural_order_with_ocr(sample: Holdings) -> None:
    doc = sample.items[DOC]
    assert [p.image.name for p in doc.pages] == [f"btv1b52501692k_f{n}.jpg" for n in range(9, 15)]
    assert [p.ocr.name for p in doc.pages if p.ocr] == [f"btv1b52501692k_f{n}.xml" for n in range(9, 15)]
    assert {p.ocr_format for p in doc.pages} == {"alto"}
    assert doc.pages[0].image == SAMPLE / "items" / DOC / "btv1b52501692k_f9.jpg"
    eim = sample.items[EIM].pages
    assert len(eim) == 1 and eim[0].image.suffix == ".jp2" and eim[0].ocr_format == "hocr"
    assert [p.ocr_format for p in sample.items[RASS].pages] == ["hocr"] * 3
    assert len(sample.items[NORD].pages) == 4 and len(sample.items[KANT].pages) == 2


def test_sample_metadata(sample: Holdings) -> None:
    doc = sample.items[DOC]
    assert doc.type == "document" and doc.collection == "manoscritti" and doc.line == 2
    assert doc.title == {"it": ["Cataloghi di prezzi delle merci (cc. 9–14)"],
                         "en": ["Price lists of goods (ff. 9–14)"]}
    assert doc.subject == {"it": ["Commercio", "Prezzi", "Mercanti"]}
    assert doc.description["it"] == ["Manoscritto mercantile del XIV secolo.\nTrascrizione diplomatica riga per riga."]
    # a quoted cell with the delimiter inside
    assert doc.attribution == {"it": ["Source gallica.bnf.fr / BnF; trascrizione HTRomance (CC BY 4.0)"]}
    assert doc.rights == "http://rightsstatements.org/vocab/NoC-NC/1.0/"
    assert doc.language == ("it",)
    assert doc.date is not None and doc.date.display == "1300–1399"
    assert doc.date.nav_date == datetime(1300, 1, 1, tzinfo=UTC)
    nord = sample.items[NORD]
    assert nord.creator == {} and nord.subject == {} and nord.description == {}  # empty cells are absent
    assert nord.date is not None and nord.date.nav_date == datetime(1878, 1, 3, tzinfo=UTC)
    assert nord.date.label("it") == "3 gennaio 1878" and nord.date.label("en") == "3 January 1878"
    assert nord.reference_code == {"it": ["LCCN sn83045350"]}
    # https pasted from a browser becomes the canonical http URI the IIIF schema expects
    assert sample.items[KANT].rights == "http://creativecommons.org/licenses/by-sa/4.0/"
    assert sample.items[KANT].creator == {"it": ["Immanuel Kant"]}


def test_sample_ranges(sample: Holdings) -> None:
    doc = sample.items[DOC].ranges
    assert [(r.id, r.parent, r.first_page, r.last_page) for r in doc] == [
        ("cataloghi", None, 1, 6), ("parte-1", "cataloghi", 1, 3), ("parte-2", "cataloghi", 4, 6)]
    assert doc[1].title == {"it": ["Prima parte (cc. 9–11)"], "en": ["Part one (ff. 9–11)"]}
    assert [r.id for r in sample.items[RASS].ranges] == ["questione-firenze", "lettere-militari"]
    assert sample.items[NORD].ranges == ()


def test_reader_writes_nothing(copy: Path) -> None:
    before = sorted((str(p), p.stat().st_mtime_ns) for p in copy.rglob("*"))
    read_holdings(copy)
    assert sorted((str(p), p.stat().st_mtime_ns) for p in copy.rglob("*")) == before


def test_placeholder_copy_reads_like_the_sample(copy: Path, sample: Holdings) -> None:
    h = read_holdings(copy)
    assert h.problems == []
    assert list(h.items) == list(sample.items)


# --- spreadsheet dialects -------------------------------------------------------------------------

def test_comma_without_bom_reads_the_same(copy: Path) -> None:
    fields, data = rows(copy / "items.csv")
    write_rows(copy / "items.csv", fields, data, delimiter=",", bom=False)
    h = read_holdings(copy)
    assert h.problems == []
    assert h.items[DOC].attribution == {"it": ["Source gallica.bnf.fr / BnF; trascrizione HTRomance (CC BY 4.0)"]}
    assert h.items[DOC].description["en"] == [
        "Fourteenth-century merchant manuscript.\nLine-by-line diplomatic transcription."]
    assert h.items[RASS].line == 8  # the quoted newlines still count


def test_semicolon_collections_and_column_order(copy: Path) -> None:
    fields, data = rows(copy / "collections.csv")
    write_rows(copy / "collections.csv", list(reversed(fields)), data, delimiter=";")
    h = read_holdings(copy)
    assert h.problems == []
    assert h.collections["emeroteca"].title == {"it": ["Emeroteca"], "en": ["Newspapers and periodicals"]}


def test_extra_columns_and_translations(copy: Path) -> None:
    fields, data = rows(copy / "items.csv")
    for row in data:
        row.update({"Notes": "", "notes_en": "", "ref_no": "", "Title_DE": ""})
    data[0].update({"Notes": "nota", "notes_en": "note", "ref_no": "A | B", "Title_DE": "Preislisten"})
    write_rows(copy / "items.csv", fields + ["Notes", "notes_en", "ref_no", "Title_DE"], data)
    h = read_holdings(copy, default_language="it")
    doc = h.items[DOC]
    assert doc.title["de"] == ["Preislisten"]  # header case does not matter
    assert [(e.name, e.value) for e in doc.extra] == [("Notes", {"it": ["nota"], "en": ["note"]}),
                                                       ("ref_no", {"it": ["A", "B"]})]
    assert h.items[NORD].extra == ()  # empty cells are absent


def test_default_language_names_plain_columns(copy: Path) -> None:
    h = read_holdings(copy, default_language="de")
    assert h.items[NORD].title == {"de": ["Der Nordstern, 3 gennaio 1878"], "en": ["Der Nordstern, 3 January 1878"]}


def test_not_utf8(copy: Path) -> None:
    data = (copy / "items.csv").read_bytes().replace(b"Firenze", "Citt\xe0".encode("latin-1"))
    (copy / "items.csv").write_bytes(data)
    h = read_holdings(copy)
    p = one(h, "error", "not UTF-8")
    assert (p.file, p.line) == ("items.csv", 8)
    assert h.items == {}


def test_row_with_too_many_cells(copy: Path) -> None:
    edit(copy / "items.csv", "LCCN sn83045350;", "LCCN sn83045350;extra;")
    h = read_holdings(copy)
    p = one(h, "error", "cells but the header has")
    assert (p.file, p.line) == ("items.csv", LINES[NORD])
    assert NORD not in h.items and len(h.items) == 4


# --- problems: each with file and line --------------------------------------------------------------

def test_row_without_folder(copy: Path) -> None:
    for f in (copy / "items" / NORD).iterdir():
        f.unlink()
    (copy / "items" / NORD).rmdir()
    h = read_holdings(copy)
    p = one(h, "error", f"no folder items/{NORD}/")
    assert (p.file, p.line, p.item_id) == ("items.csv", LINES[NORD], NORD)
    assert NORD not in h.items and NORD in h.rejected and len(h.items) == 4


def test_folder_without_row(copy: Path) -> None:
    (copy / "items" / "stray").mkdir()
    (copy / "items" / "stray" / "0001.tif").touch()
    (copy / "items" / ".hidden").mkdir()
    h = read_holdings(copy)
    p = one(h, "warning", "folder without a row")
    assert (p.file, p.line, p.item_id) == ("items/stray", None, "stray")
    assert len(h.items) == 5 and not h.errors


def test_duplicate_id(copy: Path) -> None:
    text = (copy / "items.csv").read_text(encoding="utf-8-sig")
    last = text.rstrip("\n").rsplit("\n", 1)[1]
    (copy / "items.csv").write_text(text + last.replace("(vol. 2", "(copia") + "\n", encoding="utf-8")
    h = read_holdings(copy)
    p = one(h, "error", f"duplicate id {RASS!r} (first on line 8)")
    assert (p.file, p.line) == ("items.csv", 9)
    assert "copia" not in h.items[RASS].title["it"][0]  # the first row wins


@pytest.mark.parametrize("bad", ["../x", "a b", "a/b", "caffè", "x.y"])
def test_id_not_url_safe(copy: Path, bad: str) -> None:
    edit(copy / "items.csv", f"{NORD};", f"{bad};")
    h = read_holdings(copy)
    p = one(h, "error", "is not URL-safe")
    assert (p.file, p.line) == ("items.csv", LINES[NORD])
    assert bad not in h.items and len(h.items) == 4
    assert one(h, "warning", "folder without a row").file == f"items/{NORD}"



@pytest.mark.parametrize("bad", ["a b", "x.y"])
def test_folder_of_a_row_with_an_unsafe_id_belongs_to_that_row(copy: Path, bad: str) -> None:
    """The folder is named as the rejected row says: it is that row's, not a folder "without a row"."""
    edit(copy / "items.csv", f"{NORD};", f"{bad};")
    (copy / "items" / NORD).rename(copy / "items" / bad)
    h = read_holdings(copy)
    one(h, "error", "is not URL-safe")
    p = one(h, "warning", f"folder of the rejected row on line {LINES[NORD]} of items.csv: not published")
    assert (p.file, p.item_id) == (f"items/{bad}", bad)
    assert not find(h, "warning", "without a row")


def test_folder_of_a_row_with_too_many_cells_belongs_to_that_row(copy: Path) -> None:
    """A date typed with the delimiter (1878;01;03) gives the row more cells than the header: the row is
    rejected whole, its folder is reported as that row's, and an earlier publication of it is kept."""
    edit(copy / "items.csv", ";1878-01-03;", ";1878;01;03;")
    h = read_holdings(copy)
    assert one(h, "error", "cells but the header has").line == LINES[NORD]
    p = one(h, "warning", f"folder of the rejected row on line {LINES[NORD]} of items.csv")
    assert p.file == f"items/{NORD}"
    assert not find(h, "warning", "without a row")
    assert NORD in h.rejected and NORD not in h.items

def test_unknown_collection(copy: Path) -> None:
    edit(copy / "items.csv", ";der-nordstern;", ";der-nordsten;")
    h = read_holdings(copy)
    p = one(h, "error", "unknown collection 'der-nordsten'")
    assert (p.file, p.line, p.item_id) == ("items.csv", LINES[NORD], NORD)
    assert NORD not in h.items


def test_unknown_parent_collection(copy: Path) -> None:
    edit(copy / "collections.csv", "der-nordstern,emeroteca,", "der-nordstern,emerotca,")
    h = read_holdings(copy)
    p = one(h, "error", "unknown parent collection 'emerotca'")
    assert (p.file, p.line) == ("collections.csv", 5)
    assert "der-nordstern" not in h.collections
    item = one(h, "error", "collection 'der-nordstern' was rejected (collections.csv line 5)")
    assert (item.file, item.line) == ("items.csv", LINES[NORD])


def test_collection_cycle(copy: Path) -> None:
    edit(copy / "collections.csv", "emeroteca,,Emeroteca", "emeroteca,rassegna-settimanale,Emeroteca")
    h = read_holdings(copy)
    cycle = find(h, "error", "collections form a cycle")
    assert sorted(p.line for p in cycle) == [4, 8]
    assert "emeroteca" not in h.collections and "rassegna-settimanale" not in h.collections
    # the other children of the cycle are not published either, and say why
    assert {p.line for p in find(h, "error", "parent collection 'emeroteca' is not published")} == {5, 6, 7}
    assert list(h.items) == [DOC]


def test_collection_without_title(copy: Path) -> None:
    edit(copy / "collections.csv", "manoscritti,archivio,Manoscritti,Manuscripts,,", "manoscritti,archivio,,,,")
    h = read_holdings(copy)
    assert one(h, "error", "collection 'manoscritti' has no title").line == 3
    item = one(h, "error", "collection 'manoscritti' was rejected (collections.csv line 3)")
    assert (item.line, item.item_id) == (LINES[DOC], DOC)


def test_collection_is_its_own_parent(copy: Path) -> None:
    edit(copy / "collections.csv", "archivio,,", "archivio,archivio,")
    h = read_holdings(copy)
    assert one(h, "error", "cycle (archivio → archivio)").line == 2
    assert "manoscritti" not in h.collections and DOC not in h.items


@pytest.mark.parametrize("bad", ["3 gennaio 1878", "1878-02-30", "1878-13", "1925/1921", "78", "1878-1-3", "1921/"])
def test_bad_date(copy: Path, bad: str) -> None:
    edit(copy / "items.csv", ";1878-01-03;", f";{bad};")
    h = read_holdings(copy)
    p = one(h, "error", "bad date")
    assert (p.file, p.line, p.item_id) == ("items.csv", LINES[NORD], NORD)
    assert NORD not in h.items


@pytest.mark.parametrize("text,display,nav", [
    ("1878-01-03", "1878-01-03", "1878-01-03"), ("1784-12", "1784-12", "1784-12-01"), ("1784", "1784", "1784-01-01"),
    ("1921/1925", "1921–1925", "1921-01-01"), ("1300/1399", "1300–1399", "1300-01-01"),
    ("1921-03/1921-04-15", "1921-03–1921-04-15", "1921-03-01")])
def test_dates(text: str, display: str, nav: str) -> None:
    value = DateValue.parse(text)
    assert value.display == display
    assert value.nav_date.isoformat() == f"{nav}T00:00:00+00:00"


@pytest.mark.parametrize("bad", ["CC BY 4.0", "https://example.org/licence", "creativecommons.org/licenses/by/4.0/",
                                 "http://creativecommons.org/licenses/",
                                 "http://rightsstatements.org/page/InC/1.0/?x=1"])
def test_bad_rights(copy: Path, bad: str) -> None:
    edit(copy / "items.csv", ';http://creativecommons.org/publicdomain/mark/1.0/;"Library',
         f';{bad};"Library')
    h = read_holdings(copy)
    p = one(h, "error", "rights must be a Creative Commons or RightsStatements.org URI")
    assert (p.file, p.line) == ("items.csv", LINES[NORD])
    assert NORD not in h.items


@pytest.mark.parametrize("value,canonical", [
    ("https://creativecommons.org/licenses/by/4.0", "http://creativecommons.org/licenses/by/4.0/"),
    ("http://www.creativecommons.org/publicdomain/zero/1.0/", "http://creativecommons.org/publicdomain/zero/1.0/"),
    ("https://rightsstatements.org/vocab/InC/1.0/", "http://rightsstatements.org/vocab/InC/1.0/"),
    ("http://creativecommons.org/licenses/by-nc-sa/3.0/it/", "http://creativecommons.org/licenses/by-nc-sa/3.0/it/")])
def test_rights_canonical(value: str, canonical: str) -> None:
    assert normalize_rights(value) == canonical


def test_unknown_type(copy: Path) -> None:
    edit(copy / "items.csv", ";newspaper;", ";giornale;")
    h = read_holdings(copy)
    p = one(h, "error", "unknown type 'giornale'")
    assert (p.file, p.line) == ("items.csv", LINES[NORD])


def test_type_is_case_insensitive(copy: Path) -> None:
    edit(copy / "items.csv", ";newspaper;", ";Newspaper;")
    assert read_holdings(copy).items[NORD].type == "newspaper"


def test_missing_required_column(copy: Path) -> None:
    edit(copy / "items.csv", "id;collection;type;title;", "id;collection;kind;title;")
    h = read_holdings(copy)
    p = one(h, "error", "missing required column: type")
    assert (p.file, p.line) == ("items.csv", 1)
    assert h.items == {}


def test_missing_required_values(copy: Path) -> None:
    edit(copy / "items.csv", ";der-nordstern;newspaper;Der Nordstern, 3 gennaio 1878;Der Nordstern, 3 January 1878;",
         ";;newspaper;;;")
    h = read_holdings(copy)
    assert {p.message for p in h.errors} == {f"item {NORD!r}: no collection", f"item {NORD!r}: no title"}
    assert {p.line for p in h.errors} == {LINES[NORD]}


def test_row_without_id(copy: Path) -> None:
    edit(copy / "items.csv", f"{NORD};", ";")
    h = read_holdings(copy)
    assert one(h, "error", "row without an id").line == LINES[NORD]


def test_missing_files(tmp_path: Path) -> None:
    h = read_holdings(tmp_path)
    assert {p.file for p in h.errors} == {"collections.csv", "items.csv", "items"}
    assert h.items == {} and h.collections == {}


def test_folder_with_no_images(copy: Path) -> None:
    for f in (copy / "items" / NORD).glob("*.jpg"):
        f.unlink()
    h = read_holdings(copy)
    p = one(h, "error", "has no page images")
    assert (p.file, p.line, p.item_id) == ("items.csv", LINES[NORD], NORD)
    assert NORD not in h.items
    assert h.warnings == []  # one error says it all: no "OCR without image" for each file


def test_two_images_for_one_page(copy: Path) -> None:
    (copy / "items" / NORD / "0012.tif").touch()
    h = read_holdings(copy)
    assert one(h, "error", "page '0012' has more than one image (0012.jpg, 0012.tif)").line == LINES[NORD]


def test_folder_listing_details(copy: Path) -> None:
    folder = copy / "items" / NORD
    for name in (".DS_Store", "._0011.jpg", "Thumbs.db", "notes.txt", "0015.JPG", "0015.hocr.html", "0016.TIFF",
                 "0016.xml", "0016.hocr", "0099.xml"):
        (folder / name).touch()
    (folder / "scans").mkdir()
    h = read_holdings(copy)
    pages = h.items[NORD].pages
    assert [p.image.name for p in pages] == ["0011.jpg", "0012.jpg", "0013.jpg", "0014.jpg", "0015.JPG", "0016.TIFF"]
    assert (pages[4].ocr.name, pages[4].ocr_format) == ("0015.hocr.html", "hocr")  # type: ignore[union-attr]
    assert (pages[5].ocr.name, pages[5].ocr_format) == ("0016.xml", "alto")  # type: ignore[union-attr]
    assert one(h, "warning", "more than one OCR file").file == f"items/{NORD}/0016.xml"
    assert one(h, "warning", "OCR file without a page image").file == f"items/{NORD}/0099.xml"


def test_natural_key() -> None:
    names = ["f10.jpg", "f9.jpg", "F11.jpg", "f1.jpg", "f100.jpg", "a.jpg"]
    assert sorted(names, key=natural_key) == ["a.jpg", "f1.jpg", "f9.jpg", "f10.jpg", "F11.jpg", "f100.jpg"]


def test_restricted_item_is_left_out(copy: Path) -> None:
    fields, data = rows(copy / "items.csv")
    for row in data:
        row["access"] = "restricted" if row["id"] == NORD else ("PUBLIC" if row["id"] == DOC else "")
    write_rows(copy / "items.csv", fields + ["access"], data)
    h = read_holdings(copy)
    assert NORD not in h.items and NORD in h.restricted and len(h.items) == 4
    p = one(h, "info", "restricted")
    assert (p.file, p.line, p.item_id) == ("items.csv", LINES[NORD], NORD)
    assert not h.errors and not h.warnings  # its folder is not "without a row"


def test_duplicate_row_that_is_restricted_wins(copy: Path) -> None:
    fields, data = rows(copy / "items.csv")
    data.append({**data[2], "access": "restricted"})
    write_rows(copy / "items.csv", fields + ["access"], data)
    h = read_holdings(copy)
    assert one(h, "error", f"duplicate id {NORD!r}").line == 9
    assert NORD not in h.items and NORD in h.restricted


def test_unknown_access_value_is_not_published(copy: Path) -> None:
    fields, data = rows(copy / "items.csv")
    for row in data:
        row["access"] = "riservato" if row["id"] == NORD else ""
    write_rows(copy / "items.csv", fields + ["access"], data)
    h = read_holdings(copy)
    assert one(h, "error", "access must be 'public' or 'restricted'").line == LINES[NORD]
    assert NORD not in h.items and NORD in h.rejected


def test_language_codes(copy: Path) -> None:
    edit(copy / "items.csv", ";St. Cloud, Minn.;de;", ";St. Cloud, Minn.;de | ENG | Tedesco;")
    h = read_holdings(copy)
    assert h.items[NORD].language == ("de", "eng", "tedesco")
    assert one(h, "warning", "language 'Tedesco' is not an ISO 639 code").line == LINES[NORD]


# --- structure.csv ----------------------------------------------------------------------------------

def structure(copy: Path, text: str) -> tuple[Holdings, str]:
    (copy / "items" / DOC / "structure.csv").write_text(text, encoding="utf-8")
    return read_holdings(copy), f"items/{DOC}/structure.csv"


def test_structure_problems(copy: Path) -> None:
    rows = [
        "id,parent,title,title_en,first_page,last_page",
        "all,,Tutto,All,1,6",          # 2 ok
        "a,all,Prima,First,1,3",       # 3 ok
        "b,all,Fuori,Outside,4,7",     # 4 page 7 of 6
        "c,nowhere,Orfano,Orphan,1,1",  # 5 unknown parent
        "d,e,D,D,1,1",                 # 6 cycle d -> e -> d
        "e,d,E,E,1,1",                 # 7
        "f,all,F,F,3,2",               # 8 first after last
        "g,all,G,G,x,2",               # 9 not a number
        "a,,Doppio,Twice,1,1",         # 10 duplicate
        ",all,Senza id,No id,1,1",     # 11
        "h,all,,,1,1",                 # 12 no title
        "i,c,Sotto orfano,Under orphan,1,1",  # 13 parent rejected
        "j,a,Fuori dal padre,Outside parent,2,5",  # 14 warning only
        "k,all,\"Con a capo\nnel titolo\",Multi-line,5,6",  # 15-16 ok
        "l,all,Dopo,After,6,x",       # 17 bad last page
    ]
    h, file = structure(copy, "\n".join(rows) + "\n")
    assert [r.id for r in h.items[DOC].ranges] == ["all", "a", "j", "k"]
    got = {(p.line, p.severity) for p in h.problems}
    assert got == {(4, "error"), (5, "error"), (6, "error"), (7, "error"), (8, "error"), (9, "error"), (10, "error"),
                   (11, "error"), (12, "error"), (13, "error"), (14, "warning"), (17, "error")}
    assert all(p.file == file and p.item_id == DOC for p in h.problems)
    assert "outside the item's 6 pages" in one(h, "error", "range 'b':").message
    assert "unknown parent range 'nowhere'" in one(h, "error", "range 'c':").message
    assert "ranges form a cycle" in one(h, "error", "range 'd':").message
    assert "parent range 'c' is not published" in one(h, "error", "range 'i':").message
    assert DOC in h.items  # a bad range never costs the item


def test_structure_missing_column(copy: Path) -> None:
    h, file = structure(copy, "id,title,first_page\nall,Tutto,1\n")
    p = one(h, "error", "missing required column: last_page")
    assert (p.file, p.line) == (file, 1)
    assert h.items[DOC].ranges == ()


def test_the_listing_tells_when_a_structure_sheet_may_be_there() -> None:
    from types import SimpleNamespace

    from server.holdings.reader import _may_hold_sheet

    def names(*n: str) -> list:  # type: ignore[type-arg]
        return [SimpleNamespace(name=x) for x in n]

    assert not _may_hold_sheet(names("0001.jpg", "0001.xml", "structure.txt", "xstructure.csv"), "structure")  # type: ignore[arg-type]
    assert _may_hold_sheet(names("0001.jpg", "structure.csv"), "structure")  # type: ignore[arg-type]
    assert _may_hold_sheet(names("Structure.XLSX", "0001.jpg"), "structure")  # type: ignore[arg-type]
    assert not _may_hold_sheet(names(), "structure")  # type: ignore[arg-type]
    assert _may_hold_sheet(None, "structure") and _may_hold_sheet(OSError(), "structure")
