"""Who is signed in, and the headers every response carries."""

from __future__ import annotations

import hmac

from flask import Flask, flash, make_response, redirect, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from werkzeug.wrappers import Response

from .core.inputs import ascii_digits
from .extensions import db, login_manager
from .htmx import is_htmx
from .models import Company, Membership, User

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
    "form-action 'self'; img-src 'self' data:"
)
# Files people uploaded: nothing in them may run, load or be framed.
FILE_CONTENT_SECURITY_POLICY = (
    "default-src 'none'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
    "form-action 'none'; sandbox"
)


@login_manager.user_loader
def _load_user(user_id: str) -> User | None:
    """The signed-in user with their memberships and companies, in one statement.

    Every page needs both (the access check, the organisations list, the
    company switcher); the joins save a round trip per page. Each company comes
    with whether it has a provider account, which its pages need first.
    """
    raw_id, _, token = user_id.partition(":")
    if not ascii_digits(raw_id) or not token:
        return None
    user = db.session.scalars(
        select(User).where(User.id == int(raw_id))
        .options(joinedload(User.memberships).joinedload(Membership.company)
                 .undefer(Company.has_provider_links))
    ).unique().one_or_none()
    if user is None or not hmac.compare_digest(user.session_token, token):
        return None
    if user.suspended_at is not None:  # its token was rotated too; belt and braces
        return None
    return user


@login_manager.unauthorized_handler
def _unauthorized() -> Response:
    login_url = url_for("auth.login", next=request.full_path.rstrip("?"))
    if is_htmx():
        # A fragment cannot show a login form; htmx follows HX-Redirect even on a 401.
        response = make_response("Connexion requise.", 401)
        response.headers["HX-Redirect"] = login_url
        return response
    flash("Connectez-vous pour accéder à cette page.", "info")
    return redirect(login_url)


# Set on every response unless the view chose its own value (downloads set their CSP).
_EVERY_RESPONSE = (
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
    ("X-Frame-Options", "DENY"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()"),
)


def _set_security_headers(response: Response) -> Response:
    headers = response.headers
    present = {name.lower() for name, _value in headers.items()}
    for name, value in _EVERY_RESPONSE:
        if name.lower() not in present:
            headers.add(name, value)
    if request.is_secure:
        headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    if request.endpoint != "static":
        # Dossiers are confidential: no copy in shared caches or the back-forward cache.
        headers["Cache-Control"] = "no-store"
        response.vary.add("HX-Request")
    return response


def init_security(app: Flask) -> None:
    login_manager.login_view = "auth.login"
    # Sessions are bound to the account by its session token, rotated at logout and
    # at password change. Flask-Login's IP and browser fingerprint ("basic") would
    # only mark a session "not fresh", which nothing here reads: it is off.
    login_manager.session_protection = None
    app.after_request(_set_security_headers)
