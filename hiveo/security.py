"""Who is signed in, and the headers every response carries."""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from flask import Flask, Response, flash, make_response, redirect, request, url_for
from flask_login import UserMixin
from sqlalchemy import text

from .extensions import db, login_manager
from .htmx import is_htmx

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
    "form-action 'self'; img-src 'self' data:"
)
# Files people uploaded: nothing in them may run, load or be framed.
FILE_CONTENT_SECURITY_POLICY = (
    "default-src 'none'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
    "form-action 'none'; sandbox"
)


@dataclass(frozen=True, eq=False)
class SignedInUser(UserMixin):
    """Who is signed in, read once per request without the ORM's weight.

    Every page needs it; code that changes the account loads the User row.
    """

    id: int
    email: str
    name: str
    is_operator: bool
    session_token: str

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"


_USER_BY_ID = text(
    "SELECT id, email, name, is_operator, session_token FROM users WHERE id = :id"
)


@login_manager.user_loader
def _load_user(user_id: str) -> SignedInUser | None:
    raw_id, _, token = user_id.partition(":")
    if not raw_id.isdigit() or not token:
        return None
    row = db.session.execute(_USER_BY_ID, {"id": int(raw_id)}).first()
    if row is None or not hmac.compare_digest(row.session_token, token):
        return None
    return SignedInUser(row.id, row.email, row.name, bool(row.is_operator), row.session_token)


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


def _set_security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "same-origin"
    headers.setdefault("X-Frame-Options", "DENY")
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), payment=()"
    if request.is_secure:
        headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    if request.endpoint != "static":
        # Dossiers are confidential: no copy in shared caches or the back-forward cache.
        headers["Cache-Control"] = "no-store"
        response.vary.add("HX-Request")
    return response


def init_security(app: Flask) -> None:
    login_manager.login_view = "auth.login"
    login_manager.session_protection = "basic"
    app.after_request(_set_security_headers)
