"""The WSGI shortcut for tiles on disk (in the pyramid or the render cache) answers exactly as the
Flask view does; on a miss it hands what it looked up and parsed to the view."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from werkzeug.test import Client, EnvironBuilder

from server import create_app
from server.http import ForwardedHeaders
from server.image import fastpath, views
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
        _compare(app_client, flask_client, url, headers={"If-None-Match": f'W/{etag}, "other"'})
        assert _compare(app_client, flask_client, url, headers={"If-Match": '"other"'}) == 412
        assert _compare(app_client, flask_client, url, headers={"If-Match": etag}) == 200
    assert served == [200] * len(TILES)


def _counting(monkeypatch: pytest.MonkeyPatch, module: Any) -> list[tuple[str, ...]]:
    """Record every call of ``module.parse`` (the real parser still answers)."""
    calls: list[tuple[str, ...]] = []
    real: Callable[..., Any] = module.parse

    def counted(*args: Any) -> Any:
        calls.append(args)
        return real(*args)
    monkeypatch.setattr(module, "parse", counted)
    return calls


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_a_miss_hands_the_parsed_request_to_the_view(demo_data, monkeypatch, method) -> None:  # type: ignore[no-untyped-def]
    """A tile not rendered yet: looked up and parsed once (by the shortcut), rendered by the view,
    which takes the hand-over off the environ; the answer is the one the view gives on its own."""
    app = create_app({"data": demo_data})
    fast = _fast_path(app)
    url = RENDERED[0]
    parts = url.removeprefix("/iiif/3/image/").split("/")
    flask_only = Client(_without_fast_path(create_app({"data": demo_data})))
    _forget(fast, parts)
    alone = flask_only.open(url, method=method)
    _forget(fast, parts)
    fast_calls, view_calls = _counting(monkeypatch, fastpath), _counting(monkeypatch, views)
    environ = EnvironBuilder(url, method=method).get_environ()
    answered: list[str] = []
    body = b"".join(app.wsgi_app(environ, lambda status, headers, *_: answered.append(status)))
    assert answered == ["200 OK"] and len(fast_calls) == 1 and view_calls == []
    assert views.HANDED_OVER not in environ  # taken by the view, not left for anything after it
    assert body == (alone.get_data() if method == "GET" else b"")
    handed = Client(app).open(url, method=method)  # now a render-cache hit: answered by the shortcut,
    assert len(fast_calls) == 1 and view_calls == []  # which remembers what the URL resolved to
    assert {k: v for k, v in handed.headers.items() if k != "Date"} == \
        {k: v for k, v in alone.headers.items() if k != "Date"}


def test_the_view_ignores_a_hand_over_of_another_request(demo_data, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The hand-over counts only for the URL it was parsed from: anything else is parsed again."""
    app = _without_fast_path(create_app({"data": demo_data}))
    fast = _fast_path_of(app)
    other = STORED[0].removeprefix("/iiif/3/image/").split("/")
    pub = fast.store.current()
    record = pub.image(IMG) if pub is not None else None
    assert record is not None
    stale = views.Resolved(tuple(other), record, resolve(parse(3, *other[1:]), record.pyramid.width,
                                                         record.pyramid.height, fast.limits))
    view_calls = _counting(monkeypatch, views)
    environ = EnvironBuilder(STORED[1]).get_environ()
    environ[views.HANDED_OVER] = stale
    body = b"".join(app.wsgi_app(environ, lambda *_: None))
    assert len(view_calls) == 1 and body == Client(app).get(STORED[1]).get_data() != Client(app).get(STORED[0]).get_data()


def _without_fast_path(app):  # type: ignore[no-untyped-def]
    """The same app with the shortcut taken out of its WSGI chain (ForwardedHeaders wraps it)."""
    outer = _fast_path(app)
    assert isinstance(app.wsgi_app, ForwardedHeaders) and app.wsgi_app.app is outer
    app.wsgi_app.app = outer.app
    app.extensions["test.fast_path"] = outer  # still at hand for its store, limits and caches
    return app


def _fast_path_of(app) -> TileFastPath:  # type: ignore[no-untyped-def]
    fast = app.extensions["test.fast_path"]
    assert isinstance(fast, TileFastPath)
    return fast


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
