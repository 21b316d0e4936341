"""Error pages for people: the site's layout, in the visitor's language.

Called by :mod:`server.errors_http` for every non-API error. For a 400 the technical reason
(English, from the code that raised: it names the parameter) is shown small under the localized
explanation; other statuses need no more than the explanation. A 503 is search only
(:class:`~server.search.engines.SearchUnavailable`: Solr unreachable), so its page says so.
"""
from __future__ import annotations

from flask import render_template

from .describe import N_
from .i18n import gettext

TITLES = {
    400: N_("This request cannot be understood"),
    403: N_("Access denied"),
    404: N_("Page not found"),
    405: N_("Method not allowed"),
    500: N_("Something went wrong"),
    501: N_("Not implemented"),
    503: N_("Search is unavailable right now"),
}
EXPLANATIONS = {
    400: N_("Something in the address is not right: check it, or start again from the home page."),
    404: N_("There is nothing at this address. The page may have moved, or the address may be mistyped."),
    500: N_("The server could not complete this request. Please try again in a moment."),
    503: N_("The search service cannot be reached at the moment. Collections, items, pages and images "
            "work as usual: please try your search again in a few minutes."),
}


def render_error_page(status: int, message: str) -> str:
    """The HTML of an error page (raises if templates are broken: the caller falls back)."""
    family = status if status in TITLES else (500 if status >= 500 else 400)
    title = gettext(TITLES[family])
    explanation = gettext(EXPLANATIONS.get(family, EXPLANATIONS[500 if status >= 500 else 400]))
    return render_template("error.html", status=status, title=title, explanation=explanation,
                           detail=message if status == 400 else "", active_page=None)
