"""Plain HTTP to Solr (requests): JSON in, JSON out, errors as :class:`SearchUnavailable`.

``HERITAGE_SOLR_URL`` may list several nodes of one cluster, comma-separated: a request that
cannot reach one (connection refused, node restarting) is tried on the next, so losing a node
does not lose search.
"""
from __future__ import annotations

import json
import threading
from typing import Any

import requests

from server.search.engines import SearchUnavailable

TIMEOUT = (3.0, 60.0)
"""Connect, read (seconds)."""
UPDATE_TIMEOUT = (3.0, 600.0)
"""Indexing a batch on a busy machine may take long: ingest waits rather than fails."""


class SolrError(SearchUnavailable):
    """Solr answered with an error (a bad request we built, or a cluster in trouble)."""


class SolrClient:
    def __init__(self, urls: str, collection: str) -> None:
        self.urls = [u.strip().rstrip("/") for u in urls.split(",") if u.strip()]
        if not self.urls:
            raise ValueError("no Solr URL")
        self.collection = collection
        self._local = threading.local()

    def _session(self) -> requests.Session:
        s = getattr(self._local, "session", None)
        if s is None:
            s = requests.Session()
            self._local.session = s
        return s

    def request(self, method: str, path: str, *, params: Any = None, data: Any = None, json_body: Any = None,
                headers: dict[str, str] | None = None, ok_statuses: tuple[int, ...] = (),
                timeout: tuple[float, float] = TIMEOUT) -> dict[str, Any]:
        """``path`` below the Solr root (``{collection}/select``, ``admin/collections`` …)."""
        last: Exception | None = None
        for base in self.urls:
            try:
                r = self._session().request(method, f"{base}/{path}", params=params, data=data, json=json_body,
                                            headers=headers, timeout=timeout)
            except requests.RequestException as exc:
                last = exc
                continue
            if r.status_code in (502, 503, 504):  # that node cannot serve now: another may
                last = SolrError(f"Solr answered {r.status_code}")
                continue
            try:
                body = r.json()
            except ValueError:
                body = {}
            if r.status_code >= 400 and r.status_code not in ok_statuses:
                message = (body.get("error") or {}).get("msg") if isinstance(body, dict) else None
                raise SolrError(f"Solr answered {r.status_code}: {message or r.text[:300]}")
            return body if isinstance(body, dict) else {}
        raise SearchUnavailable(f"search is unavailable: Solr cannot be reached ({_short(last)})")

    def select(self, params: dict[str, Any]) -> dict[str, Any]:
        """A query, POSTed (filters listing item versions are long)."""
        return self.request("POST", f"{self.collection}/select", data={**params, "wt": "json"})

    def update(self, body: Any, **params: Any) -> dict[str, Any]:
        """Documents or commands as JSON, UTF-8 unescaped (a fifth smaller for accented text)."""
        data = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        return self.request("POST", f"{self.collection}/update", params={**params, "wt": "json"}, data=data,
                            headers={"Content-Type": "application/json; charset=utf-8"}, timeout=UPDATE_TIMEOUT)


def _short(exc: Exception | None) -> str:
    text = str(exc) if exc else "no node answered"
    return text if len(text) < 200 else text[:200] + "…"
