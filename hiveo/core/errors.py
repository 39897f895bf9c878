"""Refusals that end a request with a French error page."""

from __future__ import annotations

from typing import NoReturn

from werkzeug.exceptions import default_exceptions


def abort_fr(status: int, message: str) -> NoReturn:
    """Stop the request with an error page that shows `message` (French).

    The error handlers of hiveo/web.py show the description of an exception
    marked `french`, and a generic French text for any other.
    """
    exception = default_exceptions[status](description=message)
    exception.french = True  # type: ignore[attr-defined]
    raise exception
