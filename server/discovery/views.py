"""The Change Discovery 1.0 feed: ``/iiif/discovery/changes`` and its pages, for harvesters.

An ``OrderedCollection`` of ``OrderedCollectionPage``s of ``PAGE_SIZE`` activities, oldest first
(https://iiif.io/api/discovery/1.0/). A full page never changes: it always links a ``next`` page
(empty until the next activity arrives), so it is sent with a long, ``immutable`` lifetime; the
collection and the last page are short-lived. Harvesters start from ``last`` and follow ``prev``.
"""
from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import sqlite3
from typing import Any

from flask import Blueprint, Response, current_app

from ..errors import NotFound
from ..headers import CACHE_FEED_HEAD, CACHE_IMMUTABLE
from ..http import base_url, json_response
from ..presentation.urls import Urls
from ..publication import CURRENT
from .log import Activity, ChangeLog, log_path

DISCOVERY_CONTEXT = "http://iiif.io/api/discovery/1/context.json"
PAGE_SIZE = 100

discovery = Blueprint("discovery", __name__, url_prefix="/iiif/discovery")
log = logging.getLogger(__name__)


def _log() -> ChangeLog:
    """The log, first caught up with ``current`` if an ingest stopped between its switch and its append."""
    settings = current_app.config["SETTINGS"]
    changes = ChangeLog(log_path(settings.data))
    try:
        target = os.readlink(settings.manifests_dir / CURRENT)
    except OSError:
        return changes
    if current_app.extensions.get("heritage.discovery.synced") != target:
        try:
            changes.sync(settings.manifests_dir)
            current_app.extensions["heritage.discovery.synced"] = target
        except (OSError, sqlite3.Error) as exc:  # e.g. a read-only data folder: serve what is logged
            log.warning("could not bring the change log up to date: %s", exc)
    return changes


def _feed_url() -> str:
    return f"{base_url()}/iiif/discovery/changes"


def _page_ref(n: int) -> dict[str, str]:
    return {"id": f"{_feed_url()}/page/{n}", "type": "OrderedCollectionPage"}


def _object_url(urls: Urls, activity: Activity) -> str:
    if activity.object_type == "Manifest":
        return urls.manifest(activity.object_id)
    return urls.collection(activity.object_id)  # "{id}", "{id}/page/{n}", "{id}/{year}" …


def _activity(urls: Urls, activity: Activity) -> dict[str, Any]:
    return {"id": f"{base_url()}/iiif/discovery/activity/{activity.seq}", "type": activity.type,
            "object": {"id": _object_url(urls, activity), "type": activity.object_type},
            "endTime": activity.end_time}


def _send(doc: dict[str, Any], cache_control: str) -> Response:
    body = json.dumps(doc, ensure_ascii=False, indent=1)
    etag = hashlib.sha1(body.encode()).hexdigest()
    return json_response(body, DISCOVERY_CONTEXT, etag, None, cache_control=cache_control)


def _pages(total: int) -> int:
    return max(1, math.ceil(total / PAGE_SIZE))


@discovery.route("/changes")
def changes() -> Response:
    total = _log().count()
    doc = {"@context": DISCOVERY_CONTEXT, "id": _feed_url(), "type": "OrderedCollection", "totalItems": total,
           "first": _page_ref(1), "last": _page_ref(_pages(total))}
    return _send(doc, CACHE_FEED_HEAD)


@discovery.route("/changes/page/<int:n>")
def page(n: int) -> Response:
    changes_log = _log()
    total = changes_log.count()
    # pages 1.._pages(total); after a full last page, its announced (still empty) successor too
    last = _pages(total) + (1 if total and total % PAGE_SIZE == 0 else 0)
    if not 1 <= n <= last:
        raise NotFound(f"the change feed has no page {n}", parameter="page")
    urls = Urls(base_url())
    items = changes_log.activities((n - 1) * PAGE_SIZE, PAGE_SIZE)
    doc: dict[str, Any] = {"@context": DISCOVERY_CONTEXT, "id": _page_ref(n)["id"], "type": "OrderedCollectionPage",
                           "partOf": {"id": _feed_url(), "type": "OrderedCollection"},
                           "startIndex": (n - 1) * PAGE_SIZE}
    if n > 1:
        doc["prev"] = _page_ref(n - 1)
    full = len(items) == PAGE_SIZE
    if full:
        doc["next"] = _page_ref(n + 1)
    doc["orderedItems"] = [_activity(urls, a) for a in items]
    return _send(doc, CACHE_IMMUTABLE if full else CACHE_FEED_HEAD)


@discovery.route("/activity/<int:seq>")
def activity(seq: int) -> Response:
    found = _log().activity(seq)
    if found is None:
        raise NotFound(f"no activity {seq}")
    return _send({"@context": DISCOVERY_CONTEXT, **_activity(Urls(base_url()), found)}, CACHE_IMMUTABLE)
