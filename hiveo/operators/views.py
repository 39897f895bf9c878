"""Operators: every company and its role, new client companies, suspended accounts."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, render_template, request, url_for
from flask.typing import ResponseReturnValue

from ..auth.services import AccountError, restore_account, suspend_account
from ..core.errors import abort_fr
from ..core.tenancy import signed_in_user
from ..extensions import db
from ..htmx import redirect_after_post, render
from ..members.services import MemberError, invite
from ..models import Role, User
from ..organisations.services import COMPANY_ROLES, OrganisationError, companies_page, make_client
from ..review.views import operator_required
from ..web import page_number
from .forms import ConfirmForm, NewClientForm
from .queries import accounts_page

bp = Blueprint("operators", __name__, url_prefix="/operateur")


@bp.get("/entreprises")
@operator_required
def companies() -> ResponseReturnValue:
    role = request.args.get("role", "")
    role = role if role in COMPANY_ROLES else ""
    page = companies_page(query=request.args.get("q", ""), role=role, page=page_number())
    return render("operators/companies.html", "operators/_companies.html", page=page,
                  role=role, roles=COMPANY_ROLES)


@bp.route("/entreprises/nouveau-client", methods=["GET", "POST"])
@operator_required
def new_client() -> ResponseReturnValue:
    form = NewClientForm()
    if request.method == "GET":
        return render_template("operators/new_client.html", form=form)
    if form.validate_on_submit():
        operator = signed_in_user()
        try:
            company, created = make_client(form.siren.data or "", form.name.data or "",
                                           by=operator)
        except OrganisationError as error:
            message = str(error)
            target = form.name if "nom" in message else form.siren
            target.errors = [*target.errors, message]
        else:
            email = (form.email.data or "").strip()
            try:
                if created and not email:
                    raise MemberError("L'e-mail du premier administrateur est obligatoire "
                                      "pour une entreprise qui n'est pas encore sur hiveo.")
                invitation = invite(company, operator, email, Role.ADMIN.value,
                                    days=current_app.config["INVITATION_DAYS"],
                                    base_url=current_app.config["BASE_URL"]) if email else None
            except MemberError as error:
                form.email.errors = [*form.email.errors, str(error)]
            else:
                what = "créée comme client" if created else "est désormais cliente"
                sent = f" Invitation envoyée à {invitation.email}." if invitation else ""
                name = company.name
                db.session.commit()
                flash(f"{name} {what}.{sent}", "success")
                return redirect_after_post(url_for("operators.companies", q=company.siren))
    db.session.rollback()
    return render_template("operators/new_client.html", form=form), 422


@bp.get("/comptes")
@operator_required
def accounts() -> ResponseReturnValue:
    page = accounts_page(query=request.args.get("q", ""), page=page_number())
    return render("operators/accounts.html", "operators/_accounts.html", page=page)


def _account(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        abort_fr(404, "Ce compte n'existe pas.")
    return user


@bp.route("/comptes/<int:user_id>/suspendre", methods=["GET", "POST"])
@operator_required
def suspend_user(user_id: int) -> ResponseReturnValue:
    user = _account(user_id)
    form = ConfirmForm()
    if request.method == "GET":
        return render_template("operators/suspend.html", account=user, form=form)
    if not form.validate_on_submit():
        return render_template("operators/suspend.html", account=user, form=form), 422
    email = user.email
    try:
        suspend_account(user, signed_in_user())
    except AccountError as error:
        db.session.rollback()
        flash(str(error), "warning")
    else:
        db.session.commit()
        flash(f"Le compte {email} est suspendu\u00a0: il ne peut plus se connecter et ses "
              "sessions ouvertes sont fermées.", "success")
    return redirect_after_post(url_for("operators.accounts", q=email))


@bp.post("/comptes/<int:user_id>/retablir")
@operator_required
def restore_user(user_id: int) -> ResponseReturnValue:
    user = _account(user_id)
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort_fr(400, "Le formulaire a expiré\u00a0: rechargez la page et réessayez.")
    email = user.email
    try:
        restore_account(user, signed_in_user())
    except AccountError as error:
        db.session.rollback()
        flash(str(error), "warning")
    else:
        db.session.commit()
        flash(f"Le compte {email} est rétabli\u00a0: il peut de nouveau se connecter.",
              "success")
    return redirect_after_post(url_for("operators.accounts", q=email))
