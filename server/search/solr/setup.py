"""``heritage solr-setup``: upload the configset (Configsets API) and create the collection."""
from __future__ import annotations

import io
import time
import zipfile
from pathlib import Path

from server.search.solr.client import SolrClient

CONFIGSET_DIR = Path(__file__).parent / "configset"


def configset_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for path in sorted(CONFIGSET_DIR.rglob("*")):
            if path.is_file():
                z.write(path, path.relative_to(CONFIGSET_DIR).as_posix())
    return buf.getvalue()


def collections(client: SolrClient) -> list[str]:
    return list(client.request("GET", "admin/collections", params={"action": "LIST", "wt": "json"})
                .get("collections") or [])


def setup(client: SolrClient, configset: str | None = None, shards: int = 1, replicas: int = 1,
          wait: float = 120.0) -> bool:
    """Upload (or replace) the configset; create the collection unless it exists (then reload it
    with the new configuration). Returns True when the collection was created."""
    name = configset or client.collection
    client.request("POST", "admin/configs", params={"action": "UPLOAD", "name": name, "overwrite": "true",
                                                    "cleanup": "true", "wt": "json"},
                   data=configset_zip(), headers={"Content-Type": "application/octet-stream"})
    if client.collection in collections(client):
        client.request("GET", "admin/collections", params={"action": "RELOAD", "name": client.collection,
                                                           "wt": "json"})
        return False
    client.request("GET", "admin/collections", params={
        "action": "CREATE", "name": client.collection, "numShards": shards, "replicationFactor": replicas,
        "collection.configName": name, "router.name": "compositeId", "router.field": "item",
        "waitForFinalState": "true", "wt": "json"})
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:  # every replica active before the first ingest
        status = client.request("GET", "admin/collections", params={
            "action": "CLUSTERSTATUS", "collection": client.collection, "wt": "json"})
        shards_state = status["cluster"]["collections"][client.collection]["shards"]
        if all(r.get("state") == "active" for s in shards_state.values() for r in s["replicas"].values()):
            break
        time.sleep(0.5)
    return True
