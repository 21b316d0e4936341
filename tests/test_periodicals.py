"""Periodicals in the IIIF tree and on the web: a serial's issues grouped by year.

The IIIF collection of a newspaper or periodical lists one labelled sub-collection per year (oldest
first, ``navDate`` 1 January), each holding that year's issues by date; undated issues stay in the
parent; other collections are unchanged. Every document validates against the Presentation 3.0
schema. The collection page shows the selected year as a calendar whose issue days link to them.
"""
from __future__ import annotations

import json
import re
from typing import Any

import pytest

from server import create_app

from .conftest import FIXTURES, SCHEMA, ingest, write_holdings

BASE = "http://heritage.test"
PNG = FIXTURES / "67352ccc-d1b0-11e1-89ae-279075081939.png"
ISSUES = {"g-1879-01-05": "1879-01-05", "g-1878-10-13": "1878-10-13", "g-1878-10-06": "1878-10-06",
          "g-1878-11": "1878-11", "g-undated": ""}


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Any:
    root = tmp_path_factory.mktemp("serials")
    rows = [{"id": i, "collection": "giornale", "type": "newspaper", "title": f"Il Giornale {d or 's.d.'}", "date": d}
            for i, d in ISSUES.items()]
    rows.append({"id": "libro", "collection": "libri", "type": "book", "title": "Un libro", "date": "1878-10-06"})
    holdings = write_holdings(root / "holdings", rows, {r["id"]: [PNG] for r in rows}, [
        {"id": "giornale", "parent": "", "title": "Il Giornale"}, {"id": "libri", "parent": "", "title": "Libri"}])
    result = ingest(holdings, root / "data", "--workers", "1")
    assert result.returncode == 0, result.stdout + result.stderr
    return create_app({"data": root / "data", "base_url": BASE}).test_client()


def _get(client: Any, url: str) -> dict[str, Any]:
    response = client.get(url.removeprefix(BASE))
    assert response.status_code == 200, url
    doc: dict[str, Any] = response.get_json()
    import jsonschema
    jsonschema.Draft7Validator(json.loads(SCHEMA.read_text())).validate(doc)
    assert doc["id"] == url
    return doc


def test_a_serial_groups_its_issues_by_year(client: Any) -> None:
    serial = _get(client, f"{BASE}/iiif/3/collection/giornale")
    members = [(m["type"], m["id"], m.get("label"), m.get("navDate")) for m in serial["items"]]
    assert members == [
        ("Collection", f"{BASE}/iiif/3/collection/giornale/1878", {"none": ["1878"]}, "1878-01-01T00:00:00Z"),
        ("Collection", f"{BASE}/iiif/3/collection/giornale/1879", {"none": ["1879"]}, "1879-01-01T00:00:00Z"),
        ("Manifest", f"{BASE}/iiif/3/g-undated/manifest", {"it": ["Il Giornale s.d."]}, None),
    ]
    assert all(m.get("thumbnail") for m in serial["items"])

    year = _get(client, f"{BASE}/iiif/3/collection/giornale/1878")
    assert year["label"] == {"none": ["1878"]}
    assert year["partOf"] == [{"id": f"{BASE}/iiif/3/collection/giornale", "type": "Collection"}]
    assert [m["id"].split("/")[-2] for m in year["items"]] == ["g-1878-10-06", "g-1878-10-13", "g-1878-11"]
    assert all(m["type"] == "Manifest" and m["navDate"].startswith("1878-") for m in year["items"])
    assert _get(client, f"{BASE}/iiif/3/g-1878-10-06/manifest")["partOf"] == [
        {"id": f"{BASE}/iiif/3/collection/giornale", "type": "Collection"},
        {"id": f"{BASE}/iiif/3/collection/giornale/1878", "type": "Collection"}]
    assert _get(client, f"{BASE}/iiif/3/g-undated/manifest")["partOf"] == [
        {"id": f"{BASE}/iiif/3/collection/giornale", "type": "Collection"}]
    assert [m["id"].split("/")[-2] for m in _get(client, f"{BASE}/iiif/3/collection/giornale/1879")["items"]] \
        == ["g-1879-01-05"]

    books = _get(client, f"{BASE}/iiif/3/collection/libri")  # not a serial: its items stay direct members
    assert [m["type"] for m in books["items"]] == ["Manifest"]
    for missing in ("/iiif/3/collection/giornale/1880", "/iiif/3/collection/libri/1878",
                    "/iiif/3/collection/giornale/1878/page/1", "/iiif/3/collection/giornale/x"):
        assert client.get(missing).status_code == 404, missing


def test_every_issue_is_reachable_once_from_the_top(client: Any) -> None:
    found: list[str] = []
    todo = [f"{BASE}/iiif/3/collection/top"]
    while todo:
        for member in _get(client, todo.pop())["items"]:
            (found.append if member["type"] == "Manifest" else todo.append)(member["id"])
    assert sorted(found) == sorted(f"{BASE}/iiif/3/{i}/manifest" for i in [*ISSUES, "libro"])


def test_the_year_page_shows_a_calendar_of_issue_days(client: Any) -> None:
    html = client.get("/collection/giornale?year=1878&lang=en").get_data(as_text=True)
    assert "Calendar of 1878" in html
    calendar = html[html.index('class="section calendar"'):]
    calendar = calendar[:calendar.index("</section>")]
    assert calendar.count("<table") == 12
    linked = re.findall(r'<td class="calendar__issue"><a href="([^"]+)"[^>]*>(\d+)</a>', calendar)
    assert linked == [("/item/g-1878-10-06", "6"), ("/item/g-1878-10-13", "13")]  # 1878-11 has no day
    october = calendar[calendar.index("<caption>October"):]
    october = october[:october.index("</table>")]
    assert "<th scope=\"col\">Mon</th>" in october and "2 issues" in october
    assert re.search(r"<tr><td></td><td>1</td>", october)  # 1 October 1878 was a Tuesday

    italian = client.get("/collection/giornale?year=1878&lang=it").get_data(as_text=True)
    assert "Calendario del 1878" in italian and "<caption>Ottobre" in italian and "2 fascicoli" in italian
    assert "calendar__month" not in client.get("/collection/giornale?lang=en").get_data(as_text=True)
    assert "calendar__month" not in client.get("/collection/libri?year=1878").get_data(as_text=True)
    assert client.get("/collection/giornale?year=abc").status_code == 400

