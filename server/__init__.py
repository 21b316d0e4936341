"""Heritage Lab: an IIIF publishing server for digitized heritage collections."""
from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .config import PROJECT_ROOT, Settings

if TYPE_CHECKING:  # Flask is imported by create_app: ingest workers, which only build pyramids, never load it
    from flask import Flask

__version__ = "0.1.0"


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """The app factory: settings from defaults < environment < ``config``; one blueprint per API."""
    from flask import Flask

    settings = Settings.load(config)
    app = Flask(__name__, template_folder=str(PROJECT_ROOT / "templates"), static_folder=None)
    app.config["SETTINGS"] = settings
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.url_map.merge_slashes = False  # "a//b" is not an IIIF URL: 404, never a redirect elsewhere
    from .image.fastpath import TileFastPath
    from .publication import STORE_EXTENSION, PublicationStore
    app.extensions[STORE_EXTENSION] = PublicationStore(settings.manifests_dir, settings.image_cache_dir)
    from .wholebody import WholeBodies
    app.wsgi_app = TileFastPath(WholeBodies(app.wsgi_app), settings,  # type: ignore[method-assign]
                                app.extensions[STORE_EXTENSION])
    from . import http
    http.init_app(app)  # outermost: X-Forwarded-* only from HERITAGE_TRUSTED_PROXIES

    from . import errors_http
    errors_http.init_app(app)

    from .image.views import image_v2, image_v3
    app.register_blueprint(image_v3)
    app.register_blueprint(image_v2)
    from .presentation.views import presentation
    app.register_blueprint(presentation)
    from .search.views import search
    app.register_blueprint(search)
    from .discovery.views import discovery
    app.register_blueprint(discovery)

    from .web import init_app as init_web  # the public pages (and the i18n every HTML page uses)
    init_web(app)
    return app
