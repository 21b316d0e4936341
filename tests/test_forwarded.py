"""X-Forwarded-* counts only from trusted proxies, in the Flask views and the tile shortcut alike.

Without ``HERITAGE_BASE_URL`` ids are built from the request; a client that is not a configured
proxy must not be able to plant its host in publicly cacheable responses, and those responses say
(``Vary``) which request headers their body depends on.
"""
from __future__ import annotations

from typing import Any

import pytest
from werkzeug.test import Client

from server import create_app
from server.headers import BASE_VARY
from server.http import is_trusted, proxy_networks

EVIL = {"X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "https", "X-Forwarded-Prefix": "/x"}
TILE = "/iiif/3/image/periodical-ita-rassegna-settimanale-1878-10-06~1/0,0,256,256/256,256/0/default.jpg"
COLLECTION = "/iiif/3/collection/top"


def _client(demo_data: Any, remote: str, **config: Any) -> Client:
    client = create_app({"data": demo_data, **config}).test_client()
    client.environ_base["REMOTE_ADDR"] = remote
    return client  # type: ignore[no-any-return]


def _vary(response: Any) -> set[str]:
    return {v.strip() for v in response.headers.get("Vary", "").split(",") if v.strip()}


@pytest.mark.parametrize("remote, config", [("203.0.113.9", {}),                       # not a proxy
                                            ("127.0.0.1", {"trusted_proxies": "none"}),  # nobody trusted
                                            ("10.0.0.7", {"trusted_proxies": "192.168.0.0/16"})])
def test_untrusted_forwarded_headers_are_ignored(demo_data, remote: str, config: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    client = _client(demo_data, remote, **config)
    doc = client.get(COLLECTION, headers=EVIL)
    assert doc.status_code == 200
    assert "evil.example" not in doc.get_data(as_text=True)
    assert doc.get_json()["id"] == "http://localhost/iiif/3/collection/top"
    page = client.get("/", headers=EVIL)
    assert page.status_code == 200 and "evil.example" not in page.get_data(as_text=True)
    tile = client.get(TILE, headers=EVIL)  # a pre-rendered tile: the WSGI shortcut answers
    assert tile.status_code == 200
    assert "evil.example" not in tile.headers["Link"]
    assert ', <http://localhost/iiif/3/image/' in tile.headers["Link"]


@pytest.mark.parametrize("remote, config", [("127.0.0.1", {}), ("::1", {}),
                                            ("10.1.2.3", {"trusted_proxies": "10.0.0.0/8, 192.0.2.1"}),
                                            ("192.0.2.1", {"trusted_proxies": "10.0.0.0/8, 192.0.2.1"})])
def test_trusted_proxy_headers_are_honoured(demo_data, remote: str, config: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    client = _client(demo_data, remote, **config)
    headers = {"X-Forwarded-Host": "museo.example", "X-Forwarded-Proto": "https", "X-Forwarded-Prefix": "/heritage"}
    doc = client.get(COLLECTION, headers=headers).get_json()
    assert doc["id"] == "https://museo.example/heritage/iiif/3/collection/top"
    tile = client.get(TILE, headers=headers)
    assert ', <https://museo.example/heritage/iiif/3/image/' in tile.headers["Link"]


def test_responses_vary_on_what_builds_their_urls(demo_data) -> None:  # type: ignore[no-untyped-def]
    client = _client(demo_data, "127.0.0.1")
    doc = client.get(COLLECTION)
    assert "public" in doc.headers["Cache-Control"]
    assert _vary(doc) >= {"Accept", *BASE_VARY}
    assert _vary(client.get(TILE)) >= set(BASE_VARY)
    page = client.get("/collections")
    assert "public" in page.headers["Cache-Control"]
    assert _vary(page) >= {"Accept-Language", "Cookie", *BASE_VARY}
    # a 304 carries the same Vary as the 200 it stands for
    again = client.get(COLLECTION, headers={"If-None-Match": doc.headers["ETag"]})
    assert again.status_code == 304 and _vary(again) == _vary(doc)
    tile = client.get(TILE)
    assert _vary(client.get(TILE, headers={"If-None-Match": tile.headers["ETag"]})) == _vary(tile)


def test_configured_base_does_not_vary_on_forwarded_headers(demo_data) -> None:  # type: ignore[no-untyped-def]
    client = _client(demo_data, "127.0.0.1", base_url="https://museo.example.org")
    doc = client.get(COLLECTION, headers=EVIL)
    assert doc.get_json()["id"] == "https://museo.example.org/iiif/3/collection/top"
    assert _vary(doc) == {"Accept"}
    assert not _vary(client.get(TILE, headers=EVIL)) & set(BASE_VARY)


def test_trust_rules() -> None:
    networks = proxy_networks(["127.0.0.1", "::1", "10.0.0.0/8"])
    assert is_trusted("127.0.0.1", networks) and is_trusted("::1", networks) and is_trusted("10.9.9.9", networks)
    assert is_trusted("::ffff:10.0.0.1", networks)  # an IPv4 peer on a dual-stack socket
    assert not is_trusted("203.0.113.9", networks) and not is_trusted("", networks)
    assert not is_trusted("not-an-address", networks) and not is_trusted(None, networks)
    assert proxy_networks(["none"]) == ()
    with pytest.raises(ValueError, match="HERITAGE_TRUSTED_PROXIES"):
        proxy_networks(["example.org"])
