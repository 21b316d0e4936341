"""One error type for the whole server: it carries the HTTP status and the offending parameter.

Pure code (parsers, renderers, ingest) raises it; the HTTP layer decides how it looks
(JSON/plain text for API routes, an HTML page for people). Nothing else may reach a user.
"""
from __future__ import annotations


class HeritageError(Exception):
    """An error a client can understand: ``status`` decides the response, ``parameter`` names the culprit."""

    status: int = 400

    def __init__(self, message: str, status: int | None = None, parameter: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status
        self.parameter = parameter

    def __str__(self) -> str:
        if self.parameter:
            return f"{self.parameter}: {self.message}"
        return self.message


class BadRequest(HeritageError):
    status = 400


class NotFound(HeritageError):
    status = 404

    def __init__(self, message: str = "not found", parameter: str | None = None) -> None:
        super().__init__(message, 404, parameter)
