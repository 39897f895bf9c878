"""Full page or fragment, and the answers htmx expects after a mutation.

Every fragment is also part of a full page, so a URL always works without
JavaScript. A route returns only the fragment when htmx asked for it and the
request is neither boosted nor a history restore (which want whole pages).
"""

from __future__ import annotations

from typing import Any

from flask import make_response, redirect, render_template, request
from werkzeug.wrappers import Response


def is_htmx() -> bool:
    return request.headers.get("HX-Request") == "true"


def is_partial() -> bool:
    return (
        is_htmx()
        and request.headers.get("HX-Boosted") != "true"
        and request.headers.get("HX-History-Restore-Request") != "true"
    )


def render(
    page_template: str, fragment_template: str, status: int = 200, **context: Any
) -> Response:
    """The fragment for htmx, the page (which includes the fragment) otherwise."""
    if is_partial():
        return render_fragment(fragment_template, status, **context)
    return make_response(render_template(page_template, **context), status)


def render_fragment(fragment_template: str, status: int = 200, **context: Any) -> Response:
    """A fragment with the pending flash messages swapped in out of band."""
    return fragment_response(render_template(fragment_template, **context), status)


def fragment_response(html: str, status: int = 200) -> Response:
    """An already rendered fragment, with the pending flash messages swapped in out of band."""
    return make_response(html + render_template("components/_flash.html", oob=True), status)


def redirect_after_post(location: str) -> Response:
    """303 for a browser; 204 + HX-Redirect for htmx moving to another page."""
    if is_htmx():
        response = make_response("", 204)
        response.headers["HX-Redirect"] = location
        return response
    return redirect(location, code=303)
