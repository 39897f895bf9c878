"""What every page shares: template helpers, error pages, the home redirect."""

from __future__ import annotations

import functools
import logging

from flask import Flask, current_app, make_response, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from .core.errors import abort_fr
from .core.inputs import CONTROL_REFUSAL, BoundedIntConverter, has_control_characters, parse_id
from .core.tenancy import landing_url
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


def page_number() -> int:
    """The ?page= of a paginated list: a positive number of sane size, else the first."""
    number = parse_id(request.args.get("page"))
    return number if number is not None and number < 1_000_000 else 1




def refuse_control_characters() -> None:
    """400 for a control character in the path, the query string or a form field.

    Once, before every view, for every text a request can bring to the
    database (file names have their own refusal, hiveo/dossier/services.py).
    """
    texts = [request.path, *(text for pair in request.args.items(multi=True) for text in pair)]
    if any(has_control_characters(text) for text in texts):
        abort_fr(400, CONTROL_REFUSAL)
    if request.method != "GET" and request.mimetype in (
        "application/x-www-form-urlencoded", "multipart/form-data"
    ):
        # A multipart part whose name holds a line break has no name (None) for
        # Werkzeug, on which CSRFProtect's search for the token crashed.
        if None in request.files:
            abort_fr(400, CONTROL_REFUSAL)
        for name, value in request.form.items(multi=True):
            if (name is None or has_control_characters(name)
                    or has_control_characters(value, multiline=True)):
                abort_fr(400, CONTROL_REFUSAL)


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
    valid_methods = getattr(error, "valid_methods", None)
    if status == 405 and valid_methods:
        response.headers["Allow"] = ", ".join(valid_methods)
    retry_after = getattr(error, "retry_after", None)
    if status == 429 and retry_after:
        response.headers["Retry-After"] = str(retry_after)
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


def init_web(app: Flask) -> None:
    app.url_map.converters["int"] = BoundedIntConverter
    # First of all hooks: CSRFProtect's reads the form's field names too.
    app.before_request_funcs.setdefault(None, []).insert(0, refuse_control_characters)
    app.jinja_env.filters.update(
        siren=format_siren,
        siret=format_siret,
        date_fr=format_date,
        datetime_fr=format_datetime,
        typo_fr=typo_fr,
        size_fr=size_fr,
    )
    app.jinja_env.globals.update(
        plural=plural,
        # Static files have fixed names: no url_for() per asset on every page.
        static_url=app.static_url_path,
        icon=functools.partial(icon, static_url=app.static_url_path or "/static"),
    )
    app.register_error_handler(CSRFError, _handle_csrf_error)
    app.register_error_handler(HTTPException, _handle_http_exception)
    app.register_error_handler(Exception, _handle_unexpected)

    @app.get("/")
    def index() -> ResponseReturnValue:
        if current_user.is_authenticated:
            return redirect(landing_url(current_user))
        return redirect(url_for("auth.login"))


