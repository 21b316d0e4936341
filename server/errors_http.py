"""How errors look on the wire: JSON with a one-line reason on API routes, a page elsewhere.

Never a stack trace: unexpected exceptions are logged server-side and answered with a plain 500.
"""
from __future__ import annotations

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response as BaseResponse

from . import headers
from .errors import HeritageError
from .http import add_cors

API_PREFIXES = ("/iiif/", "/search.json", "/api/")


def _is_api() -> bool:
    path = request.path
    return path.startswith(API_PREFIXES) or path.endswith(".json")


def error_response(status: int, title: str, message: str, parameter: str | None = None) -> Response:
    if _is_api():
        body: dict[str, object] = {"status": status, "error": title, "message": message}
        if parameter:
            body["parameter"] = parameter
        response = jsonify(body)
        response.status_code = status
    else:
        response = Response(_html_page(status, title, message), status=status,
                            content_type=headers.HTML)
        response.vary.update(("Accept-Language", "Cookie"))
    response.headers["Cache-Control"] = headers.CACHE_ERRORS
    return response


def _html_page(status: int, title: str, message: str) -> str:
    """The site's localized error page (server.web); a bare page if that cannot render."""
    try:
        from .web.errors import render_error_page
        return render_error_page(status, message)
    except Exception:
        from flask import current_app
        current_app.logger.exception("the error page could not be rendered")
        from markupsafe import escape
        return (f"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{status} {escape(title)}"
                f"</title></head><body><main><h1>{status} {escape(title)}</h1><p>{escape(message)}</p>"
                f"<p><a href=\"{escape(request.script_root or '/')}\">Heritage Lab</a></p></main></body></html>")


def init_app(app: Flask) -> None:
    @app.errorhandler(HeritageError)
    def _heritage(exc: HeritageError) -> Response:
        titles = {400: "Bad Request", 404: "Not Found", 403: "Forbidden", 412: "Precondition Failed",
                  501: "Not Implemented", 503: "Service Unavailable"}
        return error_response(exc.status, titles.get(exc.status, "Error"), str(exc), exc.parameter)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Response | BaseResponse:
        if exc.code is not None and exc.code < 400:
            return exc.get_response()
        status = exc.code or 500
        return error_response(status, exc.name, exc.description or exc.name)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        app.logger.exception("unhandled error on %s", request.path)
        return error_response(500, "Internal Server Error", "The server could not complete this request.")

    app.after_request(add_cors)
