"""What every page shares: template helpers, error pages, the home redirect."""

from __future__ import annotations

import functools
import logging
from typing import NoReturn

from flask import (
    Flask,
    Response,
    current_app,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, default_exceptions

from .core.text import format_date, format_datetime, plural, size_fr, typo_fr
from .htmx import is_htmx
from .icons import icon
from .identifiers import format_siren, format_siret

log = logging.getLogger("hiveo")

_ERROR_TEXTS = {
    400: ("Requête invalide", "La requête envoyée n'a pas pu être comprise."),
    401: ("Connexion requise", "Connectez-vous pour accéder à cette page."),
    403: ("Accès refusé", "Vous n'avez pas le droit d'effectuer cette action."),
    404: ("Page introuvable", "Cette page n'existe pas ou vous n'y avez pas accès."),
    405: ("Méthode non autorisée", "Cette adresse ne s'utilise pas de cette façon."),
    413: (
        "Fichier trop volumineux",
        "Le fichier envoyé dépasse la taille maximale autorisée.",
    ),
    422: ("Données invalides", "Les données envoyées ne sont pas valides."),
    429: (
        "Trop de tentatives",
        "Trop de requêtes en peu de temps. Patientez un moment puis réessayez.",
    ),
    500: (
        "Erreur interne",
        "Une erreur inattendue s'est produite. Elle a été enregistrée ; réessayez plus tard.",
    ),
}


def abort_fr(status: int, message: str) -> NoReturn:
    """Stop the request with an error page that shows `message` (French)."""
    exception = default_exceptions[status](description=message)
    exception.french = True
    raise exception


def page_number() -> int:
    """The ?page= of a paginated list: a positive number of sane size, else the first."""
    raw = request.args.get("page", "1")
    return int(raw) if raw.isdigit() and 0 < len(raw) < 7 and int(raw) > 0 else 1




def error_response(status: int, message: str | None = None) -> Response:
    title, default_text = _ERROR_TEXTS.get(status, _ERROR_TEXTS[500])
    text = message or default_text
    if is_htmx():
        # htmx does not swap error answers; app.js shows this text as a message.
        response = make_response(text, status)
        response.mimetype = "text/plain"
        return response
    return make_response(
        render_template("errors/error.html", status=status, title=title, text=text), status
    )


def _handle_http_exception(error: HTTPException) -> Response:
    status = error.code or 500
    message = error.description if getattr(error, "french", False) else None
    response = error_response(status, message)
    if status == 405 and error.valid_methods:
        response.headers["Allow"] = ", ".join(error.valid_methods)
    if status == 429 and getattr(error, "retry_after", None):
        response.headers["Retry-After"] = str(error.retry_after)
    return response


def _handle_csrf_error(_error: CSRFError) -> Response:
    return error_response(
        400,
        "Le formulaire a expiré ou n'est pas valide. Rechargez la page puis réessayez.",
    )


def _handle_unexpected(error: Exception) -> Response:
    if current_app.config.get("PROPAGATE_UNEXPECTED_ERRORS"):
        # The test suite wants the real exception, not the page that hides it.
        raise error
    log.exception("unhandled error", exc_info=error)
    return error_response(500)


class _RememberedUrls:
    """url_for() for templates, each address built once per process.

    A page calls url_for a dozen times (menus, tabs, forms, links) and each call
    walks Werkzeug's routing rules: together they cost more than the page's
    queries. An address without `_external` or other options depends only on
    the endpoint, its values and the script root (this app registers no URL
    defaults), so it is remembered under those.
    """

    def __init__(self, capacity: int = 20_000) -> None:
        self._urls: dict[tuple, str] = {}
        self._capacity = capacity

    def __call__(self, endpoint: str, **values) -> str:
        if endpoint.startswith(".") or any(name.startswith("_") for name in values):
            return url_for(endpoint, **values)
        try:
            key = (request.script_root, endpoint, *sorted(values.items()))
            url = self._urls.get(key)
        except TypeError:  # a list or another unhashable value
            return url_for(endpoint, **values)
        if url is None:
            url = url_for(endpoint, **values)
            if len(self._urls) >= self._capacity:
                self._urls.clear()
            self._urls[key] = url
        return url


def init_web(app: Flask) -> None:
    app.jinja_env.filters.update(
        siren=format_siren,
        siret=format_siret,
        date_fr=format_date,
        datetime_fr=format_datetime,
        typo_fr=typo_fr,
        size_fr=size_fr,
    )
    app.jinja_env.globals.update(
        url_for=_RememberedUrls(),
        plural=plural,
        has_endpoint=lambda name: name in app.view_functions,
        # Static files have fixed names: no url_for() per asset on every page.
        static_url=app.static_url_path,
        icon=functools.partial(icon, static_url=app.static_url_path),
    )
    app.register_error_handler(CSRFError, _handle_csrf_error)
    app.register_error_handler(HTTPException, _handle_http_exception)
    app.register_error_handler(Exception, _handle_unexpected)

    @app.get("/")
    def index() -> Response:
        if current_user.is_authenticated:
            return redirect(url_for("organisations.index"))
        return redirect(url_for("auth.login"))
