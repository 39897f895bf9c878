from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask import session as flask_session
from flask_login import current_user, login_required, login_user, logout_user

from ..extensions import db
from ..htmx import redirect_after_post
from ..models import User
from .forms import LoginForm, PasswordChangeForm
from .ratelimit import check_login_rate
from .services import AccountError, authenticate, change_password

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    """Only a path on this site: never another host, never a scheme."""
    if not target:
        return url_for("organisations.index")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("organisations.index")
    if "\\" in target or any(ord(ch) < 32 for ch in target):
        return url_for("organisations.index")
    return target


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | str:
    if request.method == "POST":
        check_login_rate()  # per IP; CSRFProtect has checked the token already
    if current_user.is_authenticated and request.method == "GET":
        return redirect(_safe_next(request.args.get("next")))
    form = LoginForm()
    status = 200
    if request.method == "POST":
        status = 422
        if form.validate_on_submit():
            result = authenticate(
                form.email.data,
                form.password.data,
                max_failures=current_app.config["LOGIN_MAX_FAILURES"],
                window_seconds=current_app.config["LOGIN_FAILURE_WINDOW_SECONDS"],
                profile=current_app.config["ARGON2_PROFILE"],
            )
            db.session.commit()
            if result.locked:
                status = 429
                form.form_errors.append(
                    "Trop de tentatives de connexion pour cette adresse. "
                    "Patientez quelques minutes puis réessayez."
                )
            elif result.user is not None:
                # A fresh session: nothing chosen before login survives it.
                flask_session.clear()
                login_user(result.user)
                flask_session.permanent = True
                return redirect(_safe_next(request.args.get("next")), code=303)
            else:
                form.form_errors.append("Adresse e-mail ou mot de passe incorrect.")
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
@login_required
def logout() -> Response:
    # CSRFProtect has checked the token already. Rotating the session token
    # kills every copy of this user's session cookie.
    db.session.get(User, current_user.id).rotate_session_token()
    db.session.commit()
    logout_user()
    flask_session.clear()
    flash("Vous êtes déconnecté.", "success")
    return redirect_after_post(url_for("auth.login"))


@bp.route("/compte", methods=["GET", "POST"])
@login_required
def account() -> Response | str:
    form = PasswordChangeForm()
    status = 200
    if request.method == "POST":
        status = 422
        if form.validate_on_submit():
            user = db.session.get(User, current_user.id)
            try:
                change_password(
                    user,
                    form.current_password.data,
                    form.new_password.data,
                    profile=current_app.config["ARGON2_PROFILE"],
                )
            except AccountError as error:
                db.session.rollback()
                form.form_errors.append(str(error))
            else:
                db.session.commit()
                # Other sessions die with the old token; this one carries the new one.
                login_user(user)
                flash(
                    "Votre mot de passe a été modifié. Vos autres sessions ont été fermées.",
                    "success",
                )
                return redirect(url_for("auth.account"), code=303)
    return render_template("auth/account.html", form=form), status
