"""Every collection and manifest the sample produces, fetched over HTTP: valid against the official
Presentation 3.0 JSON Schema, ``id`` equal to its URL, CORS, JSON-LD negotiation, 304s."""
from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from .conftest import SAMPLE, SCHEMA, ingest

BASE = "http://heritage.test"


def _validator():  # type: ignore[no-untyped-def]
    import jsonschema  # a test extra: a missing one is a failure, not a skip
    return jsonschema.Draft7Validator(json.loads(SCHEMA.read_text()))


@pytest.fixture(scope="module")
def sample_client(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """The full test sample (5 items, 8 collections, in tests/fixtures)."""
    from server import create_app
    data = tmp_path_factory.mktemp("sample-data")
    result = ingest(SAMPLE, data)
    assert result.returncode == 0, result.stdout + result.stderr
    return create_app({"data": data, "base_url": BASE}).test_client()


def crawl(client) -> Iterator[tuple[str, dict[str, Any]]]:  # type: ignore[no-untyped-def]
    """Walk the published tree from the top collection, yielding every document by URL."""
    todo = [f"{BASE}/iiif/3/collection/top"]
    seen: set[str] = set()
    while todo:
        url = todo.pop()
        if url in seen:
            continue
        seen.add(url)
        r = client.get(url.removeprefix(BASE))
        assert r.status_code == 200, url
        doc = r.get_json()
        yield url, doc
        for child in doc.get("items", []):
            if child.get("type") in ("Collection", "Manifest"):
                todo.append(child["id"])
        if doc.get("type") == "Manifest":
            for canvas in doc["items"]:
                todo.append(canvas["id"])
            for rng in doc.get("structures", []):
                todo.append(rng["id"])


def test_every_document_validates_and_id_equals_url(sample_client) -> None:  # type: ignore[no-untyped-def]
    validator = _validator()
    kinds: dict[str, int] = {}
    for url, doc in crawl(sample_client):
        assert doc["id"] == url
        kinds[doc["type"]] = kinds.get(doc["type"], 0) + 1
        if doc["type"] in ("Collection", "Manifest"):
            errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(doc)]
            assert errors == [], (url, errors[:5])
    assert kinds["Manifest"] >= 4 and kinds["Collection"] >= 5 and kinds["Canvas"] >= 8 and kinds["Range"] >= 1


def test_manifest_content(sample_client) -> None:  # type: ignore[no-untyped-def]
    item = "periodical-ita-rassegna-settimanale-1878-10-06"
    m = sample_client.get(f"/iiif/3/{item}/manifest").get_json()
    assert m["label"]["it"][0].startswith("La Rassegna Settimanale")
    assert m["label"]["en"][0].startswith("La Rassegna Settimanale")
    assert m["navDate"] == "1878-10-06T00:00:00Z"
    assert m["behavior"] == ["paged"]
    assert m["rights"] == "http://creativecommons.org/publicdomain/mark/1.0/"
    assert m["partOf"][0]["id"] == f"{BASE}/iiif/3/collection/rassegna-settimanale"
    assert m["homepage"][0]["id"] == f"{BASE}/item/{item}"
    assert m["items"][0]["label"] in ({"it": ["p. 1"], "en": ["p. 1"]}, {"none": ["p. 1"]})
    canvas = m["items"][0]
    body = canvas["items"][0]["items"][0]["body"]
    assert body["service"][0] == {"id": f"{BASE}/iiif/3/image/{item}~1", "type": "ImageService3",
                                  "profile": "level2"}
    assert (canvas["width"], canvas["height"]) == (2297, 3377)
    assert canvas["seeAlso"][0]["format"] == "text/vnd.hocr+html"
    ocr = sample_client.get(canvas["seeAlso"][0]["id"].removeprefix(BASE))
    assert ocr.status_code == 200 and b"ocrx_word" in ocr.data
    text = sample_client.get(m["rendering"][0]["id"].removeprefix(BASE))
    assert text.status_code == 200 and "Firenze" in text.get_data(as_text=True)
    assert [r["label"]["it"][0][:12] for r in m["structures"]] == ["La questione", "Lettere mili"]


def test_headers(sample_client) -> None:  # type: ignore[no-untyped-def]
    url = "/iiif/3/collection/top"
    r = sample_client.get(url)
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    assert r.content_type == "application/json"
    ld = sample_client.get(url, headers={"Accept": "application/ld+json"})
    assert ld.headers["Content-Type"] == 'application/ld+json;profile="http://iiif.io/api/presentation/3/context.json"'
    assert sample_client.get(url, headers={"If-None-Match": r.headers["ETag"]}).status_code == 304


def test_ids_follow_the_request_base_without_configured_base(tmp_path_factory) -> None:  # type: ignore[no-untyped-def]
    from server import create_app

    from .conftest import DEMO
    data = tmp_path_factory.mktemp("proxy")
    assert ingest(DEMO, data).returncode == 0
    client = create_app({"data": data}).test_client()
    r = client.get("/iiif/3/collection/top", headers={"X-Forwarded-Proto": "https", "X-Forwarded-Host": "museo.example",
                                                     "X-Forwarded-Prefix": "/heritage"})
    doc = r.get_json()
    assert doc["id"] == "https://museo.example/heritage/iiif/3/collection/top"
    assert all(child["id"].startswith("https://museo.example/heritage/") for child in doc["items"])


@pytest.mark.parametrize("url", ["/iiif/3/nope/manifest", "/iiif/3/collection/nope", "/iiif/3/..%2F..%2Fetc/manifest",
                                 "/iiif/3/collection/..%2Fcatalog", "/iiif/3/x/canvas/99", "/iiif/3/x/range/r"])
def test_unknown_is_404(sample_client, url: str) -> None:  # type: ignore[no-untyped-def]
    r = sample_client.get(url)
    assert r.status_code == 404
    assert r.headers["Access-Control-Allow-Origin"] == "*"
