"""The public virtual museum: pages for visitors and researchers, in Italian and English.

``init_app(app)`` registers the ``web`` blueprint, the visitor's language (``i18n``) and what every
template may use — including templates of other blueprints (the search page extends ``base.html``):

- variables: ``site_title``, ``locale``, ``languages``, ``has_search``, ``search_url``, ``active_page``
- functions: ``lang_url(code)`` (this page in another language), ``_``/``gettext``/``ngettext``,
  ``thumb(page, box=400)`` (an IIIF thumbnail ``(url, width, height)`` of a catalog page),
  ``type_name(code)`` and ``language_label(code)`` (item types and languages in words)
- filters: ``tr`` (a language map in the visitor's language), ``tr_lang`` (its language, for a
  ``lang`` attribute), ``local_date`` (ISO date → words), ``number``, ``month_name``
"""
from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import Flask, Response, current_app, request

from . import describe, i18n
from .catalog import Page


def _lang_url(code: str, absolute: bool = False) -> str:
    """The current page with ``?lang=code``, other query parameters kept (absolute for hreflang links)."""
    from ..http import base_url
    args = [(k, v) for k, v in request.args.items(multi=True) if k != "lang"]
    args.append(("lang", code))
    root = base_url() if absolute else request.script_root
    return f"{root}{request.path}?{urlencode(args)}"


def _has_search() -> bool:
    """The researchers' search page exists when some blueprint serves ``/search``."""
    found = current_app.extensions.get("heritage.web.has_search")
    if found is None:
        found = any(rule.rule == "/search" for rule in current_app.url_map.iter_rules())
        current_app.extensions["heritage.web.has_search"] = found
    return bool(found)


def _thumb(page: Page | None, box: int = 400) -> tuple[str, int, int] | None:
    """A thumbnail URL that a pyramid level serves as it is (no resampling), with its size."""
    if page is None:
        return None
    from .views import urls
    u = urls(box)
    w, h = u.thumbnail_size(page.width, page.height)
    return u.thumbnail(page.image_id, w, h), w, h


def _still(page: Page | None, box: int = 1200) -> str | None:
    """An Image API rendering of a page at screen size (no-JS and viewer-less pages)."""
    if page is None:
        return None
    from .views import urls
    return f"{urls().image_service(page.image_id)}/full/{describe.fit_size(page.width, page.height, box)}/0/default.jpg"


def _context() -> dict[str, Any]:
    settings = current_app.config["SETTINGS"]
    return {
        "site_title": settings.site_title,
        "locale": i18n.select_locale(),
        "languages": [(code, i18n.language_name(code)) for code in i18n.ui_languages(current_app)],
        "lang_url": _lang_url,
        "has_search": _has_search(),
        "search_url": f"{request.script_root}/search",
        "thumb": _thumb,
        "still": _still,
    }


def _security_headers(response: Response) -> Response:
    if response.mimetype == "text/html":
        from .csp import policy
        from .viewer import assets
        settings = current_app.config["SETTINGS"]
        viewer = assets(settings.viewer, settings.viewer_url, settings.viewer_css_url, request.script_root)
        response.headers.setdefault("Content-Security-Policy",
                                    policy(viewer, settings.base_url, embeddable=request.endpoint == "web.embed"))
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    return response


def init_app(app: Flask) -> None:
    """Wire the public site into ``app`` (call once, from ``create_app``)."""
    from .viewer import assets
    settings = app.config["SETTINGS"]
    assets(settings.viewer, settings.viewer_url, settings.viewer_css_url)  # fail at start on a bad HERITAGE_VIEWER
    i18n.init_app(app)
    app.jinja_env.autoescape = True  # every template, whatever its file name
    app.jinja_env.filters.update(
        tr=lambda m, fallback="": i18n.pick_one(m, fallback),
        tr_list=i18n.pick,
        tr_lang=i18n.pick_lang,
        local_date=i18n.format_iso_date,
        number=i18n.format_number,
        month_name=i18n.month_name,
    )
    app.jinja_env.globals.update(gettext_py=i18n.gettext, type_name=i18n.type_name, language_label=i18n.language_label)
    app.context_processor(_context)
    app.after_request(_security_headers)
    from .views import web
    app.register_blueprint(web)
