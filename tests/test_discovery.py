"""IIIF Change Discovery 1.0: a harvester written from the spec follows the feed across ingests.

https://iiif.io/api/discovery/1.0/ — the harvester starts at the collection's ``last`` page, reads
each page's ``orderedItems`` from the newest, and follows ``prev``; the first activity it meets for
an object decides it (a Delete removes it). After every ingest that adds, changes, restricts or
removes items, what it reconstructs must be exactly the manifests reachable from the top collection.
"""
from __future__ import annotations

import csv
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from server import create_app
from server.discovery import ChangeLog, log_path
from server.discovery import views as discovery_views

from .conftest import DEMO
from .test_ingest import ENGLISH, KANT, NORDSTERN, RASSEGNA, run

BASE = "http://heritage.test"
CONTEXT = "http://iiif.io/api/discovery/1/context.json"


class Harvester:
    """Reads the feed over the app's HTTP interface the way the spec tells a harvester to."""

    def __init__(self, data: Path) -> None:
        self.client = create_app({"data": data, "base_url": BASE}).test_client()

    def get(self, url: str) -> Any:
        assert url.startswith(BASE + "/"), url
        response = self.client.get(url[len(BASE):])
        assert response.status_code == 200, (url, response.status_code, response.get_data(as_text=True))
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        return response.get_json()

    def pages_backwards(self) -> Iterator[dict[str, Any]]:
        feed = self.get(f"{BASE}/iiif/discovery/changes")
        assert feed["@context"] == CONTEXT and feed["type"] == "OrderedCollection"
        assert feed["id"] == f"{BASE}/iiif/discovery/changes"
        assert feed["first"]["type"] == feed["last"]["type"] == "OrderedCollectionPage"
        url: str | None = feed["last"]["id"]
        seen = 0
        while url:
            page = self.get(url)
            assert page["type"] == "OrderedCollectionPage" and page["id"] == url
            assert page["partOf"] == {"id": feed["id"], "type": "OrderedCollection"}
            assert len(page["orderedItems"]) <= discovery_views.PAGE_SIZE
            seen += len(page["orderedItems"])
            yield page
            url = page.get("prev", {}).get("id")
            if url:
                assert self.get(url)["next"]["id"] == page["id"]
        assert seen == feed["totalItems"]

    def harvest(self) -> dict[str, str]:
        """Object id → type of every object the feed says exists now."""
        decided: dict[str, str | None] = {}
        newest = "9999"
        for page in self.pages_backwards():
            for activity in reversed(page["orderedItems"]):
                assert activity["type"] in {"Create", "Update", "Delete"}
                assert activity["endTime"] <= newest  # oldest first, so never newer going back
                newest = activity["endTime"]
                obj = activity["object"]
                if obj["id"] not in decided:
                    decided[obj["id"]] = None if activity["type"] == "Delete" else obj["type"]
        return {k: v for k, v in decided.items() if v is not None}

    def reachable_manifests(self) -> set[str]:
        found: set[str] = set()
        todo = [f"{BASE}/iiif/3/collection/top"]
        while todo:
            for member in self.get(todo.pop()).get("items", []):
                if member["type"] == "Manifest":
                    self.get(member["id"])
                    found.add(member["id"])
                else:
                    todo.append(member["id"])
        return found

    def check(self) -> dict[str, str]:
        harvested = self.harvest()
        assert {k for k, v in harvested.items() if v == "Manifest"} == self.reachable_manifests()
        for url, kind in harvested.items():
            assert self.get(url)["type"] == kind  # everything announced is there
        return harvested


def manifest(item: str) -> str:
    return f"{BASE}/iiif/3/{item}/manifest"


def edit_items(holdings: Path, change: Any) -> None:
    """Rewrite items.csv (semicolons, BOM) after ``change(rows)``."""
    path = holdings / "items.csv"
    with open(path, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f, delimiter=";"))
    rows = change(rows)
    fields = list(dict.fromkeys(k for r in rows for k in r))
    with open(path, "w", encoding="utf-8-sig", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields, delimiter=";")
        writer.writeheader()
        writer.writerows(rows)


def activities(data: Path) -> list[tuple[str, str, str, str]]:
    return [(a.type, a.object_type, a.object_id, a.end_time) for a in ChangeLog(log_path(data)).activities()]


def ingest_ok(holdings: Path, data: Path) -> None:
    result = run(holdings, data, env={"HERITAGE_BASE_URL": BASE})
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture()
def small_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(discovery_views, "PAGE_SIZE", 4)  # several pages from the small demo


def test_feed_follows_adds_changes_restrictions_and_removals(tmp_path: Path, small_pages: None) -> None:
    holdings, data = tmp_path / "holdings", tmp_path / "data"
    shutil.copytree(DEMO, holdings)
    all_rows: list[dict[str, str]] = []

    def without_english(rows: list[dict[str, str]]) -> list[dict[str, str]]:
        all_rows.extend(rows)
        return [r for r in rows if r["id"] != ENGLISH]

    edit_items(holdings, without_english)
    ingest_ok(holdings, data)
    first = Harvester(data).check()
    assert manifest(KANT) in first and manifest(ENGLISH) not in first
    assert {a[0] for a in activities(data)} == {"Create"}

    before = len(activities(data))
    edit_items(holdings, lambda rows: all_rows)  # add
    ingest_ok(holdings, data)
    added = activities(data)[before:]
    assert [a[:3] for a in added if a[1] == "Manifest"] == [("Create", "Manifest", ENGLISH)]
    assert ("Update", "Collection", "english-illustrated-magazine") in {a[:3] for a in added}
    assert len({a[3] for a in added}) == 1  # endTime: the one switch
    assert manifest(ENGLISH) in Harvester(data).check()

    before = len(activities(data))
    edit_items(holdings, lambda rows: [{**r, "title": r["title"] + " (rev.)"} if r["id"] == KANT else r for r in rows])
    ingest_ok(holdings, data)
    changed = activities(data)[before:]
    assert [a[:3] for a in changed if a[1] == "Manifest"] == [("Update", "Manifest", KANT)]
    Harvester(data).check()

    before = len(activities(data))
    edit_items(holdings, lambda rows: [{**r, "access": "restricted" if r["id"] == RASSEGNA else "public"}
                                       for r in rows])
    ingest_ok(holdings, data)
    assert [a[:3] for a in activities(data)[before:] if a[1] == "Manifest"] == [("Delete", "Manifest", RASSEGNA)]
    harvested = Harvester(data).check()
    assert manifest(RASSEGNA) not in harvested

    before = len(activities(data))
    edit_items(holdings, lambda rows: [r for r in rows if r["id"] != NORDSTERN])
    ingest_ok(holdings, data)
    removed = [a[:3] for a in activities(data)[before:]]
    assert ("Delete", "Manifest", NORDSTERN) in removed
    assert ("Delete", "Collection", "der-nordstern") not in removed  # an empty collection is still published
    assert manifest(NORDSTERN) not in Harvester(data).check()

    # a rebuild of the publication from the holdings does not forget history, nor repeat it
    history = activities(data)
    shutil.rmtree(data / "manifests")
    ingest_ok(holdings, data)
    assert activities(data) == history
    Harvester(data).check()


def test_switch_without_append_is_caught_up_once(tmp_path: Path) -> None:
    """A SIGKILL between the switch and the append: the next reader or ingest logs that switch, once."""
    holdings, data = tmp_path / "holdings", tmp_path / "data"
    shutil.copytree(DEMO, holdings)
    ingest_ok(holdings, data)
    saved = tmp_path / "log-before.sqlite"
    shutil.copyfile(log_path(data), saved)
    edit_items(holdings, lambda rows: [r for r in rows if r["id"] != KANT])
    ingest_ok(holdings, data)
    complete = activities(data)
    assert ("Delete", "Manifest", KANT) in {a[:3] for a in complete}

    shutil.copyfile(saved, log_path(data))  # as if killed right after the switch
    assert len(activities(data)) < len(complete)
    assert manifest(KANT) not in Harvester(data).check()  # the feed's view catches up first
    assert activities(data) == complete

    shutil.copyfile(saved, log_path(data))
    ingest_ok(holdings, data)  # or the next ingest does, before its own (empty) change
    assert activities(data) == complete

    (data / "manifests" / ".tmp-gen-1-1").mkdir()  # what a run killed before its switch leaves
    assert ChangeLog(log_path(data)).sync(data / "manifests") == 0
    assert activities(data) == complete


def test_pages_cache_and_errors(tmp_path: Path, small_pages: None) -> None:
    holdings, data = tmp_path / "holdings", tmp_path / "data"
    shutil.copytree(DEMO, holdings)
    client = Harvester(data).client
    empty = client.get("/iiif/discovery/changes").get_json()
    assert empty["totalItems"] == 0 and empty["last"]["id"].endswith("/page/1")
    assert client.get("/iiif/discovery/changes/page/1").get_json()["orderedItems"] == []

    ingest_ok(holdings, data)
    total = client.get("/iiif/discovery/changes").get_json()["totalItems"]
    assert total > 4
    full = client.get("/iiif/discovery/changes/page/1")
    assert len(full.get_json()["orderedItems"]) == 4 and "next" in full.get_json()
    assert "immutable" in full.headers["Cache-Control"] and full.headers["ETag"]
    assert client.get("/iiif/discovery/changes/page/1", headers={"If-None-Match": full.headers["ETag"]}).status_code == 304
    first = full.get_json()["orderedItems"][0]
    assert first["endTime"].endswith("Z")
    assert client.get(first["id"][len(BASE):]).get_json()["object"] == first["object"]
    assert full.get_json()["startIndex"] == 0
    assert client.get("/iiif/discovery/changes/page/2").get_json()["startIndex"] == 4

    last = -(-total // 4)
    assert "immutable" not in client.get(f"/iiif/discovery/changes/page/{last}").headers["Cache-Control"] \
        or total % 4 == 0
    for bad in ("/iiif/discovery/changes/page/0", f"/iiif/discovery/changes/page/{last + 2}",
                "/iiif/discovery/changes/page/x", "/iiif/discovery/activity/999999"):
        response = client.get(bad)
        assert response.status_code == 404, bad
        assert response.get_json()["status"] == 404
