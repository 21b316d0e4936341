"""Hostile and broken OCR files: every one is refused quickly with a one-line OCRError that names
the file, and nothing outside the file (``/etc/passwd``, the network) is ever read."""
from __future__ import annotations

import random
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from server.errors import HeritageError
from server.ocr import OCRError, PageText, parse_ocr
from server.ocr.safexml import _check_docinfo, _xml_parser, read_bytes

SAMPLE = Path(__file__).resolve().parent / "fixtures" / "holdings-sample" / "items"
KANT = SAMPLE / "periodical-deu-berlinische-monatsschrift-1784-12" / "INPUT_0017.xml"
NORDSTERN = SAMPLE / "newspaper-deu-der-nordstern-1878-01-03" / "0011.xml"
EIM = SAMPLE / "periodical-eng-english-illustrated-magazine-1884-12" / "sim_english-illustrated-magazine_1884-12_2_15_0000.hocr"

ALTO_HEAD = '<alto xmlns="http://www.loc.gov/standards/alto/ns-v2#"><Layout><Page WIDTH="100" HEIGHT="100"><PrintSpace><TextBlock><TextLine>'
ALTO_TAIL = "</TextLine></TextBlock></PrintSpace></Page></Layout></alto>"

LOL = "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10))
HOSTILE = {
    "xxe": '<?xml version="1.0"?>\n<!DOCTYPE alto [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
           + ALTO_HEAD + '<String CONTENT="&xxe;" HPOS="0" VPOS="0" WIDTH="9" HEIGHT="9"/>' + ALTO_TAIL,
    "xxe_in_text_hocr": '<?xml version="1.0"?>\n<!DOCTYPE html [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
           '<html><body><div class="ocr_page" title="bbox 0 0 9 9"><span class="ocrx_word" title="bbox 0 0 9 9">&xxe;</span></div></body></html>',
    "billion_laughs": '<?xml version="1.0"?>\n<!DOCTYPE alto [<!ENTITY lol0 "lol">' + LOL + "]>\n"
           + ALTO_HEAD + '<String CONTENT="&lol9;" HPOS="0" VPOS="0" WIDTH="9" HEIGHT="9"/>' + ALTO_TAIL,
    "external_dtd": '<?xml version="1.0"?>\n<!DOCTYPE alto SYSTEM "file:///etc/passwd">\n'
           + ALTO_HEAD + '<String CONTENT="x" HPOS="0" VPOS="0" WIDTH="9" HEIGHT="9"/>' + ALTO_TAIL,
    "external_dtd_http": '<?xml version="1.0"?>\n<!DOCTYPE alto PUBLIC "-//EVIL//DTD x//EN" "http://127.0.0.1:9/x.dtd">\n'
           + ALTO_HEAD + ALTO_TAIL,
    "xhtml_public_id_with_file_system_id": '<?xml version="1.0"?>\n<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" "file:///etc/passwd">\n'
           '<html><body><div class="ocr_page" title="bbox 0 0 9 9"/></body></html>',
    "parameter_entity": '<?xml version="1.0"?>\n<!DOCTYPE alto [<!ENTITY % ext SYSTEM "file:///etc/passwd"> %ext;]>\n'
           + ALTO_HEAD + ALTO_TAIL,
    "internal_subset_no_entities": '<!DOCTYPE alto [<!ATTLIST String CONTENT CDATA "default">]>' + ALTO_HEAD + ALTO_TAIL,
    "doctype_after_comment": '<?xml version="1.0"?><!-- hi --><!DOCTYPE alto [<!ENTITY a "b">]>' + ALTO_HEAD + ALTO_TAIL,
    "utf16_xxe": None,  # filled below: the same XXE, UTF-16 with BOM
    "html_xxe": '<!DOCTYPE html [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><html><body>'
           '<div class="ocr_page"><span class="ocrx_word">&xxe;</span></div></body></html>',
}


def hostile_bytes(name: str) -> bytes:
    if name == "utf16_xxe":
        return HOSTILE["xxe"].replace('encoding="UTF-8"', "").encode("utf-16")
    return HOSTILE[name].encode("utf-8")


def assert_refused(path: Path, *fragments: str) -> OCRError:
    start = time.perf_counter()
    with pytest.raises(OCRError) as info:
        parse_ocr(path, 100, 100)
    assert time.perf_counter() - start < 1.0
    err = info.value
    message = str(err)
    assert "\n" not in message
    assert message.startswith(path.name)
    assert "root:" not in message and "/bin/" not in message  # nothing of /etc/passwd
    for fragment in fragments:
        assert fragment in message, message
    assert isinstance(err, HeritageError)
    return err


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_doctypes_refused(tmp_path: Path, name: str) -> None:
    path = tmp_path / f"{name}.xml"
    path.write_bytes(hostile_bytes(name))
    err = assert_refused(path, "refused")
    if "xxe" in name or "laughs" in name or "entity" in name or "comment" in name:
        assert "declares entities" in err.reason


def test_external_dtd_message(tmp_path: Path) -> None:
    path = tmp_path / "ext.xml"
    path.write_bytes(hostile_bytes("external_dtd"))
    assert_refused(path, "external DTD")


@pytest.mark.parametrize("doc", [
    b'<!DOCTYPE alto [<!ENTITY % d SYSTEM "file:///etc/passwd"> %d;]><alto/>',
    b'<!DOCTYPE alto SYSTEM "http://127.0.0.1:9/x.dtd"><alto/>',
    b'<!DOCTYPE alto [<!ELEMENT alto ANY>]><alto/>',
])
def test_after_parse_check_catches_what_the_prolog_scan_might_miss(doc: bytes) -> None:
    # the parser itself is safe (nothing is loaded or expanded); the docinfo check still refuses
    root = etree.fromstring(doc, _xml_parser())
    with pytest.raises(OCRError, match="refused"):
        _check_docinfo(root.getroottree(), Path("x.xml"))


def test_tesseract_xhtml_doctype_is_accepted() -> None:
    assert EIM.read_bytes().count(b"xhtml1-transitional.dtd") == 1
    assert parse_ocr(EIM, 2414, 3560).words


def test_truncated_xml(tmp_path: Path) -> None:
    data = NORDSTERN.read_bytes()
    path = tmp_path / "0011.xml"
    path.write_bytes(data[: len(data) // 2])
    err = assert_refused(path, "not well-formed", "line ")
    assert err.line and err.line > 100


def test_truncated_tesseract_hocr_is_not_rescued_by_the_html_parser(tmp_path: Path) -> None:
    data = EIM.read_bytes()
    path = tmp_path / "eim.hocr"
    path.write_bytes(data[: len(data) // 2])
    assert_refused(path, "not well-formed", "line ")


def test_binary_garbage(tmp_path: Path) -> None:
    rng = random.Random(912)
    path = tmp_path / "garbage.xml"
    path.write_bytes(bytes(rng.randrange(256) for _ in range(4096)))
    assert_refused(path, "line 1")


@pytest.mark.parametrize("content", [b"", b"   \n\t  ", b"\xef\xbb\xbf"])
def test_empty_file(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "empty.xml"
    path.write_bytes(content)
    assert_refused(path)


def test_missing_file(tmp_path: Path) -> None:
    assert_refused(tmp_path / "nowhere.xml", "cannot read")


def test_oversized_file(tmp_path: Path) -> None:
    path = tmp_path / "big.xml"
    path.write_bytes(b"<alto>" + b" " * 2000 + b"</alto>")
    with pytest.raises(OCRError, match="larger than"):
        parse_ocr(path, 100, 100, max_bytes=1000)
    with pytest.raises(OCRError, match="larger than"):
        read_bytes(path, 1000)


def test_deep_nesting_refused(tmp_path: Path) -> None:
    path = tmp_path / "deep.xml"
    path.write_bytes(b"<alto>" + b"<a>" * 100_000 + b"</a>" * 100_000 + b"</alto>")
    assert_refused(path)


def test_not_xml_at_all(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("Just some OCR text, no markup.\n", encoding="utf-8")
    assert_refused(path, "line 1")


# --- fuzzing: a damaged real file is either read or refused, never another exception -----------

def _mutations() -> st.SearchStrategy[tuple[str, int, int, bytes]]:
    return st.tuples(st.sampled_from(["truncate", "flip", "insert"]),
                     st.integers(min_value=0, max_value=10**9), st.integers(0, 255),
                     st.binary(min_size=1, max_size=8))


@pytest.mark.parametrize("source", [KANT, EIM], ids=["alto", "hocr"])
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mutation=_mutations())
def test_damaged_files_read_or_refused(tmp_path: Path, source: Path,
                                       mutation: tuple[str, int, int, bytes]) -> None:
    kind, pos, byte, blob = mutation
    data = bytearray(source.read_bytes())
    pos %= len(data)
    if kind == "truncate":
        data = data[:pos]
    elif kind == "flip":
        data[pos] = byte
    else:
        data[pos:pos] = blob
    path = tmp_path / source.name
    path.write_bytes(bytes(data))
    try:
        page = parse_ocr(path, 1000, 1500)
    except OCRError as err:
        assert "\n" not in str(err)
    else:
        assert isinstance(page, PageText)
        for w in page.words:
            for x, y, bw, bh in w.boxes:
                assert 0 <= x <= x + bw <= 1000 and 0 <= y <= y + bh <= 1500
