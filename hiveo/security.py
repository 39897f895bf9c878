"""Who is signed in, and the headers every response carries."""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from flask import (
    Flask,
    Response,
    current_app,
    flash,
    g,
    make_response,
    redirect,
    request,
    session,
    url_for,
)
from flask.sessions import SecureCookieSessionInterface
from flask_login import UserMixin
from flask_wtf.csrf import generate_csrf

from . import reads
from .extensions import login_manager
from .htmx import is_htmx
from .organisations.services import MEMBERSHIP_COLUMNS, MembershipRef, membership_from_row

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
    """Who is signed in and their companies, read in one query per request.

    Every page needs both (the access check, the organisations list, the company
    switcher): reading them together saves a round trip to the database per page.
    Code that changes the account loads the User row.
    """

    id: int
    email: str
    name: str
    is_operator: bool
    session_token: str
    memberships: tuple[MembershipRef, ...] = ()

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"


_USER_BY_ID = reads.Query(
    f"SELECT u.id, u.email, u.name, u.is_operator, u.session_token, {MEMBERSHIP_COLUMNS} "
    "FROM users u LEFT JOIN memberships m ON m.user_id = u.id "
    "LEFT JOIN companies c ON c.id = m.company_id "
    "WHERE u.id = :id ORDER BY c.name, c.id"
)


@login_manager.user_loader
def _load_user(user_id: str) -> SignedInUser | None:
    raw_id, _, token = user_id.partition(":")
    if not raw_id.isdigit() or not token:
        return None
    rows = reads.rows(_USER_BY_ID, {"id": int(raw_id)})
    if not rows or not hmac.compare_digest(rows[0].session_token, token):
        return None
    user = rows[0]
    memberships = tuple(membership_from_row(row) for row in rows if row.company_id is not None)
    return SignedInUser(user.id, user.email, user.name, bool(user.is_operator),
                        user.session_token, memberships)


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


class _SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, with the cookie's serializer built once per app."""

    def get_signing_serializer(self, app: Flask):
        serializer = app.extensions.get("hiveo_session_serializer")
        if serializer is None:
            serializer = super().get_signing_serializer(app)
            if serializer is not None:
                app.extensions["hiveo_session_serializer"] = serializer
        return serializer


class _SignedTokens:
    """The signed form of each session's CSRF token, signed once per process.

    Flask-WTF signs the session's token anew, with a timestamp, each time a page
    asks for it (every page does: the meta tag and the logout form), which costs
    more than reading the signed-in user. With no time limit on tokens
    (WTF_CSRF_TIME_LIMIT = None: a token lives as long as its session) one
    signature per session is as good as a new one per page.
    """

    def __init__(self, capacity: int = 10_000) -> None:
        self._signed: dict[str, str] = {}
        self._capacity = capacity

    def __call__(self) -> str:
        raw = session.get("csrf_token")
        if raw is None or current_app.config.get("WTF_CSRF_TIME_LIMIT") is not None:
            return generate_csrf()
        signed = self._signed.get(raw)
        if signed is None:
            signed = generate_csrf()
            if len(self._signed) >= self._capacity:
                self._signed.clear()
            self._signed[raw] = signed
        else:
            g.csrf_token = signed  # what generate_csrf() would keep for this request
        return signed


def init_security(app: Flask) -> None:
    # Flask-WTF offers its csrf_token() both as a global and from a context
    # processor; this one runs after it, so templates get the signed-once token.
    signed_tokens = _SignedTokens()
    app.jinja_env.globals["csrf_token"] = signed_tokens
    app.context_processor(lambda: {"csrf_token": signed_tokens})
    login_manager.login_view = "auth.login"
    # Sessions are bound to the account by its session token, rotated at logout and
    # at password change. Flask-Login's IP and browser fingerprint ("basic") would
    # only mark a session "not fresh", which nothing here reads: it is off.
    login_manager.session_protection = None
    app.session_interface = _SessionInterface()
    app.after_request(_set_security_headers)
