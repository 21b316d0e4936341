"""The WSGI shortcut for tiles on disk (in the pyramid or the render cache) answers exactly as the
Flask view does."""
from __future__ import annotations

import pytest
from werkzeug.test import Client

from server import create_app
from server.http import ForwardedHeaders
from server.image.fastpath import TileFastPath
from server.image.request import parse, resolve
from server.image.tilecache import cache_key

IMG = "periodical-ita-rassegna-settimanale-1878-10-06~1"
STORED = [f"/iiif/3/image/{IMG}/0,0,512,512/512,512/0/default.jpg",
          f"/iiif/3/image/{IMG}/512,1024,512,512/512,/0/default.jpg",     # another spelling of a tile
          f"/iiif/3/image/{IMG}/0,0,2048,2048/512,512/0/default.jpg",     # scale factor 4
          f"/iiif/3/image/{IMG}/2048,3072,249,305/249,305/0/default.jpg"]  # an edge tile, rendered at ingest
RENDERED = [f"/iiif/3/image/{IMG}/0,0,300,300/300,/0/default.jpg",         # not a tile of the grid
            f"/iiif/3/image/{IMG}/768,1024,256,256/256,/0/default.jpg",     # not the pyramid's tile size
            f"/iiif/3/image/{IMG}/full/143,211/0/default.jpg"]
TILES = STORED + RENDERED


def _compare(fast_client: Client, flask_client: Client, url: str, **kw) -> int:  # type: ignore[no-untyped-def]
    a = fast_client.open(url, **kw)
    b = flask_client.open(url, **kw)
    assert a.status_code == b.status_code, url
    ha = {k: v for k, v in a.headers.items() if k != "Date"}
    hb = {k: v for k, v in b.headers.items() if k != "Date"}
    assert ha == hb, url
    assert a.get_data() == b.get_data()
    return a.status_code


@pytest.mark.parametrize("config", [{"base_url": "http://h.test"}, {}])
def test_fast_path_answers_like_flask(demo_data, config) -> None:  # type: ignore[no-untyped-def]
    app_client = Client(create_app({"data": demo_data, **config}))
    flask_app = create_app({"data": demo_data, **config})
    flask_client = Client(_without_fast_path(flask_app))
    served = []
    for url in TILES:
        status = _compare(app_client, flask_client, url)
        etag = app_client.get(url).headers.get("ETag")
        modified = app_client.get(url).headers.get("Last-Modified")
        served.append(status)
        _compare(app_client, flask_client, url, method="HEAD")
        _compare(app_client, flask_client, url, headers={"If-None-Match": etag})
        _compare(app_client, flask_client, url, headers={"If-Modified-Since": modified})
        _compare(app_client, flask_client, url, headers={"X-Forwarded-Host": "museo.example",
                                                         "X-Forwarded-Proto": "https"})
    assert served == [200] * len(TILES)


def _without_fast_path(app):  # type: ignore[no-untyped-def]
    """The same app with the shortcut taken out of its WSGI chain (ForwardedHeaders wraps it)."""
    outer = _fast_path(app)
    assert isinstance(app.wsgi_app, ForwardedHeaders) and app.wsgi_app.app is outer
    app.wsgi_app.app = outer.app
    return app


def _fast_path(app) -> TileFastPath:  # type: ignore[no-untyped-def]
    fast = app.wsgi_app.app
    assert isinstance(fast, TileFastPath)
    return fast


def test_fast_path_serves_only_bytes_on_disk(demo_data) -> None:  # type: ignore[no-untyped-def]
    """Tiles read from the pyramid, and renderings once cached; misses, errors and other versions
    go to Flask (the shortcut returns None for them)."""
    app = create_app({"data": demo_data, "base_url": "http://h.test"})
    fast = _fast_path(app)
    env = {"REQUEST_METHOD": "GET", "wsgi.url_scheme": "http", "HTTP_HOST": "h.test", "SERVER_NAME": "h.test",
           "SERVER_PORT": "80"}
    for url in STORED:
        assert fast._tile(env, url.removeprefix("/iiif/3/image/").split("/")) is not None, url
    client = Client(app)
    for url in RENDERED:
        parts = url.removeprefix("/iiif/3/image/").split("/")
        _forget(fast, parts)
        assert fast._tile(env, parts) is None, url       # not rendered yet: Flask renders it
        assert client.get(url).status_code == 200
        answer = fast._tile(env, parts)                  # now in the render cache
        assert answer is not None and answer[2] == client.get(url).get_data(), url
    for tail in (f"{IMG}/0,0,300,300/300,/0/default.jpg",      # not a grid tile
                 f"{IMG}/0,0,512,512/512,512/0/gray.jpg",      # not stored in the pyramid
                 f"{IMG}/0,0,512,512/512,512/0/default.png",   # not stored in the pyramid
                 f"{IMG}/0,0,512,512/512,512/!0/default.jpg",  # mirrored
                 f"{IMG}/0,0,512,512/512,512/90/default.jpg",  # rotated
                 f"{IMG}/0,0,512,512/512,512/0/bitonal.jpg",   # not rendered yet
                 f"{IMG}/full/99999,/0/default.jpg",           # an error: Flask words it
                 "nope/0,0,512,512/512,512/0/default.jpg",     # unknown image
                 f"{IMG}/0,0,512,512/512,512/0"):               # not an image URL
        if len(tail.split("/")) == 5 and not tail.startswith("nope/") and "99999" not in tail:
            _forget(fast, tail.split("/"))  # another test of the session may have rendered it
        assert fast._tile(env, tail.split("/")) is None, tail


def _forget(fast: TileFastPath, parts: list[str]) -> None:
    """Remove one rendering from the render cache (the demo data is shared by the session)."""
    identifier, region, size, rotation, quality_format = parts
    pub = fast.store.current()
    record = pub.image(identifier) if pub is not None else None
    assert record is not None and fast.rendered is not None
    req = resolve(parse(3, region, size, rotation, quality_format), record.pyramid.width,
                  record.pyramid.height, fast.limits)
    fast.rendered.path(cache_key(record.key, req)).unlink(missing_ok=True)
