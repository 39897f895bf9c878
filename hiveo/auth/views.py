from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask import session as flask_session
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select

from ..core.tenancy import landing_url, signed_in_user
from ..extensions import db
from ..htmx import redirect_after_post
from ..models import Company, Membership, TokenPurpose, User
from . import tokens
from .forms import (
    ConfirmForm,
    DigestForm,
    EmailChangeForm,
    ForgotPasswordForm,
    LoginForm,
    NameForm,
    NewPasswordForm,
    PasswordChangeForm,
)
from .ratelimit import check_login_rate
from .services import (
    SUSPENDED,
    AccountError,
    TooManyResetRequests,
    authenticate,
    change_name,
    change_password,
    confirm_email_change,
    link_problem_text,
    password_change_errors,
    request_email_change,
    request_password_reset,
    reset_password,
    set_digest,
    token_user,
)

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None, user: User | None = None) -> str:
    """Only a path on this site: never another host, never a scheme. Else the landing page."""
    fallback = landing_url(user) if user is not None else url_for("index")
    if not target:
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return fallback
    if "\\" in target or any(ord(ch) < 32 for ch in target):
        return fallback
    return target


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
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
            elif result.suspended:
                form.form_errors.append(SUSPENDED)
            elif result.user is not None:
                # A fresh session: nothing chosen before login survives it.
                flask_session.clear()
                login_user(result.user)
                flask_session.permanent = True
                return redirect(_safe_next(request.args.get("next"), result.user), code=303)
            else:
                form.form_errors.append("Adresse e-mail ou mot de passe incorrect.")
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
@login_required
def logout() -> ResponseReturnValue:
    # CSRFProtect has checked the token already. Rotating the session token
    # kills every copy of this user's session cookie.
    signed_in_user().rotate_session_token()
    db.session.commit()
    logout_user()
    flask_session.clear()
    flash("Vous êtes déconnecté.", "success")
    return redirect_after_post(url_for("auth.login"))


def _account_page(status: int = 200, **forms) -> tuple[str, int]:
    user = signed_in_user()
    pending = tokens.pending_email_change(user.id)
    context = {"password_form": PasswordChangeForm(formdata=None), "name_form": NameForm(
        formdata=None, data={"name": user.name}), "email_form": EmailChangeForm(formdata=None),
        "user": user, "pending_email": pending,
        "digest_form": DigestForm(formdata=None, data={"receive": not user.digest_opt_out}),
        "follows_suppliers": _follows_suppliers(user)}
    context.update(forms)
    return render_template("auth/account.html", **context), status


@bp.route("/compte", methods=["GET", "POST"])
@login_required
def account() -> ResponseReturnValue:
    """The account page; a POST changes the password, every field's problem shown at once."""
    if request.method == "GET":
        return _account_page()
    form = PasswordChangeForm()
    form.validate()
    user = signed_in_user()
    profile = current_app.config["ARGON2_PROFILE"]
    for name, message in password_change_errors(user, form.current_password.data,
                                                form.new_password.data, profile=profile).items():
        field = getattr(form, name)
        if field.data:  # an empty field already says it is required
            field.errors = [*field.errors, message]
    if form.csrf_token.errors or any(f.errors for f in form if f.name != "csrf_token"):
        db.session.rollback()
        return _account_page(422, password_form=form)
    change_password(user, form.current_password.data, form.new_password.data, profile=profile)
    db.session.commit()
    # Other sessions die with the old token; this one carries the new one.
    login_user(user)
    flash("Votre mot de passe a été modifié. Vos autres sessions ont été fermées.", "success")
    return redirect(url_for("auth.account"), code=303)


@bp.post("/compte/nom")
@login_required
def account_name() -> ResponseReturnValue:
    form = NameForm()
    if form.validate_on_submit():
        try:
            change_name(signed_in_user(), form.name.data)
        except AccountError as error:
            form.name.errors = [str(error)]
        else:
            db.session.commit()
            flash("Votre nom a été modifié.", "success")
            return redirect(url_for("auth.account"), code=303)
    db.session.rollback()
    return _account_page(422, name_form=form)


def _follows_suppliers(user: User) -> bool:
    """The user belongs to a client company: the digest section is shown."""
    return db.session.scalar(
        select(Membership.id).join(Company, Company.id == Membership.company_id)
        .where(Membership.user_id == user.id, Company.is_client.is_(True)).limit(1)) is not None


@bp.post("/compte/recapitulatif")
@login_required
def account_digest() -> ResponseReturnValue:
    form = DigestForm()
    if not form.validate_on_submit():
        db.session.rollback()
        return _account_page(422, digest_form=form)
    set_digest(signed_in_user(), bool(form.receive.data))
    db.session.commit()
    flash("Vous recevrez le récapitulatif hebdomadaire des fournisseurs." if form.receive.data
          else "Vous ne recevrez plus le récapitulatif hebdomadaire des fournisseurs.",
          "success")
    return redirect(url_for("auth.account"), code=303)


@bp.post("/compte/adresse")
@login_required
def email_change() -> ResponseReturnValue:
    form = EmailChangeForm()
    if form.validate_on_submit():
        try:
            address = request_email_change(
                signed_in_user(), form.new_email.data, form.password.data,
                base_url=current_app.config["BASE_URL"],
                profile=current_app.config["ARGON2_PROFILE"])
        except AccountError as error:
            form.form_errors.append(str(error))
        else:
            db.session.commit()
            flash(f"Un lien de confirmation a été envoyé à {address}. Votre adresse change "
                  "quand vous l'ouvrez.", "success")
            return redirect(url_for("auth.account"), code=303)
    db.session.rollback()
    return _account_page(422, email_form=form)


def _link_problem(check) -> tuple[str, int]:
    status = 404 if check.problem == tokens.TokenProblem.UNKNOWN else 410
    return render_template("auth/link_problem.html", text=link_problem_text(check)), status


@bp.route("/compte/adresse/<token>", methods=["GET", "POST"])
def email_confirm(token: str) -> ResponseReturnValue:
    check = tokens.check(TokenPurpose.EMAIL_CHANGE, token)
    if not check.ok:
        return _link_problem(check)
    form = ConfirmForm()
    if request.method == "POST" and form.validate_on_submit():
        try:
            user = confirm_email_change(token)
        except AccountError as error:
            db.session.rollback()
            return render_template("auth/link_problem.html", text=str(error)), 409
        db.session.commit()
        flash(f"L'adresse de votre compte est désormais {user.email}.", "success")
        target = "auth.account" if current_user.is_authenticated else "auth.login"
        return redirect(url_for(target), code=303)
    return render_template("auth/email_confirm.html", form=form, email=check.found.email)


@bp.route("/mot-de-passe-oublie", methods=["GET", "POST"])
def forgot_password() -> ResponseReturnValue:
    form = ForgotPasswordForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            return render_template("auth/forgot.html", form=form), 422
        try:
            request_password_reset(
                form.email.data, request.remote_addr or "unknown",
                max_per_ip=current_app.config["RESET_MAX_PER_IP"],
                max_per_address=current_app.config["RESET_MAX_PER_ADDRESS"],
                base_url=current_app.config["BASE_URL"])
        except TooManyResetRequests as error:
            db.session.commit()  # the counter counts refused requests too
            form.form_errors.append(str(error))
            return render_template("auth/forgot.html", form=form), 429
        db.session.commit()
        return render_template("auth/forgot_sent.html")
    return render_template("auth/forgot.html", form=form)


@bp.route("/mot-de-passe-oublie/<token>", methods=["GET", "POST"])
def reset(token: str) -> ResponseReturnValue:
    check = tokens.check(TokenPurpose.PASSWORD_RESET, token)
    if token_user(check) is None:
        return _link_problem(check if not check.ok else tokens.TokenCheck(
            None, tokens.TokenProblem.UNKNOWN))
    form = NewPasswordForm()
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                user = reset_password(token, form.new_password.data,
                                      profile=current_app.config["ARGON2_PROFILE"])
            except AccountError as error:
                db.session.rollback()
                form.new_password.errors = [*form.new_password.errors, str(error)]
            else:
                db.session.commit()
                flask_session.clear()
                login_user(user)
                flask_session.permanent = True
                flash("Votre mot de passe a été changé. Toutes vos autres sessions ont été "
                      "fermées.", "success")
                return redirect(landing_url(user), code=303)
        return render_template("auth/reset.html", form=form), 422
    return render_template("auth/reset.html", form=form)
