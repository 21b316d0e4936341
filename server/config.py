"""The one settings object: paths, public base URL, limits, cache sizes.

Precedence (as in Flask's tutorial): built-in defaults < environment (``HERITAGE_*``) < the
mapping passed to ``create_app(config)``. Every setting is documented in ``docs/configuration.md``
(a test keeps the two in step).
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
APP_DIR_NAME = "heritage-lab"


def user_data_dir(environ: Mapping[str, str] | None = None) -> Path:
    """``$XDG_DATA_HOME/heritage-lab`` (XDG Base Directory spec: a relative value is ignored), else
    ``~/.local/share/heritage-lab``: the same wherever the package is installed."""
    environ = os.environ if environ is None else environ
    xdg = environ.get("XDG_DATA_HOME", "")
    if xdg and Path(xdg).is_absolute():
        return Path(xdg) / APP_DIR_NAME
    home = environ.get("HOME") or str(Path.home())
    return Path(home) / ".local" / "share" / APP_DIR_NAME


def demo_data_dir(environ: Mapping[str, str] | None = None) -> Path:
    """Where ``heritage demo`` publishes when ``HERITAGE_DATA`` is not set: apart from your own data."""
    return user_data_dir(environ) / "demo"


def _bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    """Everything configurable. Field name ``x`` is read from the environment as ``HERITAGE_X``."""

    # where derived artefacts live: manifests/ (publications), image_cache/ (pyramids, render cache);
    # default user_data_dir() (resolved by load(), from the environment it reads)
    data: Path = field(default_factory=user_data_dir)
    # public base URL, e.g. https://museo.example.org/heritage ; empty = derived from the request
    base_url: str = ""
    # peers whose X-Forwarded-Proto/Host/Prefix/For are believed (addresses or CIDR networks)
    trusted_proxies: tuple[str, ...] = ("127.0.0.1", "::1")
    # Image API limits advertised in info.json and enforced on every request
    max_width: int = 10000
    max_height: int = 10000
    max_area: int = 40_000_000
    # tile size of the pyramids built at ingest (256 or 512): the one grid advertised in info.json,
    # whose tiles are served straight from the pyramid's bytes (512: see bench/README.md)
    tile_size: int = 512
    # build each item's PDF at ingest (else on its first request; both cached by content)
    prebuild_pdf: bool = False
    # size cap of the on-demand render cache in image_cache/render (MiB); 0 disables it
    render_cache_mb: int = 2048
    # JPEG quality of rendered derivatives and of the pyramid tiles
    jpeg_quality: int = 85
    # seconds browsers and proxies may cache IIIF responses
    cache_max_age: int = 86400
    # publication defaults for items without their own value
    default_language: str = "it"
    languages: tuple[str, ...] = ("it", "en")
    default_rights: str = "http://rightsstatements.org/vocab/CNE/1.0/"
    default_attribution: str = "Heritage Lab"
    provider_label: str = "Heritage Lab"
    provider_homepage: str = ""
    # ingest parallelism; 0 = one process per core
    workers: int = 0
    # OCR at ingest of pages without an OCR file: "auto" (with Tesseract, when installed) or "off"
    ocr: str = "auto"
    # collections list this many children per page before paging
    collection_page_size: int = 100
    # public pages (server/web): the site's name, and items per page on collection pages
    site_title: str = "Heritage Lab"
    web_page_size: int = 24
    # the embedded viewer: "mirador" or "uv"; its bundle URL (empty = a pinned version on a public
    # CDN, see server/web/viewer.py), UV's stylesheet (empty = beside the bundle), and an optional
    # folder served at /viewer/ for installations that host the bundle themselves
    viewer: str = "mirador"
    viewer_url: str = ""
    viewer_css_url: str = ""
    viewer_dir: str = ""
    # heritage serve/demo: log every request to stdout (Apache combined format + duration in µs)
    access_log: bool = True
    # heritage serve/demo: the HTTP server, "granian", "gthread" or "gunicorn-sync" (bench/README.md)
    server: str = "granian"

    @property
    def manifests_dir(self) -> Path:
        return self.data / "manifests"

    @property
    def image_cache_dir(self) -> Path:
        return self.data / "image_cache"

    @classmethod
    def load(cls, overrides: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None) -> Settings:
        """Defaults, then ``HERITAGE_*`` environment variables, then ``overrides``."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = environ.get(f"HERITAGE_{f.name.upper()}")
            if raw is not None and raw != "":
                values[f.name] = _coerce(f.type, raw)
        values.setdefault("data", user_data_dir(environ))
        settings = replace(cls(), **values)
        if overrides:
            unknown = set(overrides) - {f.name for f in fields(cls)}
            if unknown:
                raise ValueError(f"unknown setting(s): {', '.join(sorted(unknown))}")
            typed = {k: _coerce(next(f.type for f in fields(cls) if f.name == k), v) if isinstance(v, str) else v
                     for k, v in overrides.items()}
            settings = replace(settings, **typed)
        if not isinstance(settings.data, Path):
            settings = replace(settings, data=Path(settings.data))
        return replace(settings, base_url=settings.base_url.rstrip("/"))


def _coerce(type_name: Any, raw: str) -> Any:
    t = str(type_name)
    if t == "Path":
        return Path(raw).expanduser().resolve()
    if t == "int":
        return int(raw)
    if t == "bool":
        return _bool(raw)
    if t.startswith("tuple[int"):
        return tuple(int(p) for p in raw.replace(" ", "").split(",") if p)
    if t.startswith("tuple[str"):
        return tuple(p.strip() for p in raw.split(",") if p.strip())
    return raw
