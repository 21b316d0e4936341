"""The shared catalog: each generation sees its own items, whatever later runs add, keep or drop."""
from __future__ import annotations

from pathlib import Path

from server.catalog import SharedCatalog, open_generation


def generation(manifests: Path, name: str, current: int | None, items: dict[str, str],
               keep: tuple[str, ...] = ()) -> int:
    """Write a generation showing ``items`` (id → label) as new versions, and ``keep`` as they were."""
    (manifests / name).mkdir(parents=True)
    catalog = SharedCatalog(manifests)
    try:
        g = catalog.begin(current, manifests / name / "catalog.sqlite", name)
        live = catalog.live()
        for position, (item_id, label) in enumerate(items.items()):
            if item_id in live:
                catalog.hide(live[item_id][0])
            vid = catalog.add_version(item_id, "c", "book", None, label, position, f"objects/xx/{item_id}-{g}")
            catalog.add_page(vid, item_id, 1, f"{item_id}~1", 10, 10, None, None, None)
        for item_id in live.keys() - items.keys() - set(keep):
            catalog.hide(live[item_id][0])
        catalog.commit()
    finally:
        catalog.close()
    return g


def shown(manifests: Path, name: str) -> dict[str, str]:
    db = open_generation(manifests / name / "catalog.sqlite")
    try:
        assert db.execute("SELECT COUNT(*) FROM pages").fetchone()[0] == len(db.execute("SELECT id FROM items").fetchall())
        return dict(db.execute("SELECT id, data FROM items ORDER BY position").fetchall())
    finally:
        db.close()


def test_each_generation_sees_exactly_its_items(tmp_path: Path) -> None:
    g1 = generation(tmp_path, "gen-1", None, {"a": "A1", "b": "B1", "c": "C1"})
    g2 = generation(tmp_path, "gen-2", g1, {"b": "B2"}, keep=("a",))  # b changed, a kept, c withdrawn
    assert shown(tmp_path, "gen-1") == {"a": "A1", "b": "B1", "c": "C1"}
    assert shown(tmp_path, "gen-2") == {"a": "A1", "b": "B2"}
    generation(tmp_path, "gen-3", g2, {"c": "C3"}, keep=("a", "b"))
    assert shown(tmp_path, "gen-2") == {"a": "A1", "b": "B2"}
    assert shown(tmp_path, "gen-3") == {"a": "A1", "b": "B2", "c": "C3"}


def test_a_run_that_never_switched_leaves_nothing_behind(tmp_path: Path) -> None:
    g1 = generation(tmp_path, "gen-1", None, {"a": "A1", "b": "B1"})
    killed = generation(tmp_path, "gen-killed", g1, {"a": "A2"})  # committed, but current never pointed at it
    catalog = SharedCatalog(tmp_path)
    (tmp_path / "gen-2").mkdir()
    try:
        g2 = catalog.begin(g1, tmp_path / "gen-2" / "catalog.sqlite", "gen-2")
        assert g2 > killed  # numbers are never reused
        assert catalog.abandoned == {"objects/xx/a-2"}  # its object can go: no remaining version uses it
        assert {k: v[2] for k, v in catalog.live().items()} == {"a": 0, "b": 1}
        catalog.commit()
    finally:
        catalog.close()
    assert shown(tmp_path, "gen-1") == {"a": "A1", "b": "B1"}
    assert shown(tmp_path, "gen-2") == {"a": "A1", "b": "B1"}


def test_collect_forgets_what_only_removed_generations_showed(tmp_path: Path) -> None:
    g1 = generation(tmp_path, "gen-1", None, {"a": "A1", "b": "B1"})
    g2 = generation(tmp_path, "gen-2", g1, {"a": "A2"}, keep=("b",))
    catalog = SharedCatalog(tmp_path)
    try:
        assert catalog.collect(g2) == {f"objects/xx/a-{g1}"}
        assert catalog.db.execute("SELECT COUNT(*) FROM versions").fetchone()[0] == 2
    finally:
        catalog.close()
    assert shown(tmp_path, "gen-2") == {"a": "A2", "b": "B1"}


def test_readers_survive_an_ingest_killed_mid_transaction(tmp_path: Path) -> None:
    """A writer killed with its changes spilled to the file leaves a hot journal; readers roll it back."""
    import subprocess
    import sys
    generation(tmp_path, "gen-1", None, {"a": "A1"})
    code = (f"import os, sqlite3\ndb = sqlite3.connect({str(tmp_path / 'items.sqlite')!r}, isolation_level=None)\n"
            "db.execute('PRAGMA cache_size = 1')\ndb.execute('BEGIN IMMEDIATE')\n"
            "db.execute('UPDATE versions SET data = ?', ('spoilt',))\n"
            "for i in range(5000): db.execute('INSERT INTO pages VALUES (0, ?, ?, ?, 1, 1, NULL, NULL, NULL)', "
            "(str(i), i, 'x' * 300))\nos.kill(os.getpid(), 9)\n")
    subprocess.run([sys.executable, "-c", code], check=False)
    assert (tmp_path / "items.sqlite-journal").stat().st_size > 0
    assert shown(tmp_path, "gen-1") == {"a": "A1"}
